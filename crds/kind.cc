#include "crds/kind.h"

#include <cctype>
#include <string>

namespace sg::crds {

const char* KindName(Kind kind) {
  return kind == Kind::kServiceCluster ? "ServiceCluster" : "Route";
}

const char* KindStorageName(Kind kind) {
  return kind == Kind::kServiceCluster ? "cluster" : "route";
}

std::optional<Kind> ParseKind(std::string_view text) {
  std::string lower;
  for (char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "servicecluster" || lower == "serviceclusters" || lower == "sc") {
    return Kind::kServiceCluster;
  }
  if (lower == "route" || lower == "routes") return Kind::kRoute;
  return std::nullopt;
}

std::optional<Kind> KindFromField(std::string_view text) {
  if (text == "ServiceCluster") return Kind::kServiceCluster;
  if (text == "Route") return Kind::kRoute;
  return std::nullopt;
}

}  // namespace sg::crds
