#pragma once
// The two resource kinds of swarmgate.io/v1alpha1 and their spellings.

#include <optional>
#include <string_view>

namespace sg::crds {

inline constexpr const char* kApiVersion = "swarmgate.io/v1alpha1";

enum class Kind { kServiceCluster, kRoute };

// "ServiceCluster" / "Route": the spelling of the `kind` field.
const char* KindName(Kind kind);
// "cluster" / "route": the <kind> in Docker config names sg.<kind>.<name>.<gen>.
const char* KindStorageName(Kind kind);
// The CLI spellings: servicecluster(s)|sc|route(s), case-insensitive.
std::optional<Kind> ParseKind(std::string_view text);
// Exactly the `kind` field spelling ("ServiceCluster" or "Route").
std::optional<Kind> KindFromField(std::string_view text);

}  // namespace sg::crds
