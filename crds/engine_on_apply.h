#pragma once
// Which proxy engine a ServiceCluster document that names none is stored
// with. A new cluster gets HAProxy (kNewClusterEngine), the engine that
// reconfigures without failing a request; an update keeps the engine the
// stored cluster has, so re-applying a file that names no engine, or
// upgrading the operator, never moves a running cluster to another engine.
// A stored cluster that names none decodes to nginx (ProxyEngine's default),
// as it always did.
//
// Thread-safe: pure functions.

#include <optional>
#include <string>
#include <string_view>

#include "operator/common/result.h"

namespace sg::crds {

inline constexpr const char* kNewClusterEngine = "haproxy";

// `document` (a ServiceCluster's canonical JSON, as applied) with
// spec.proxy.engine filled in when it names none: kNewClusterEngine when
// `stored` is empty (no such cluster yet), else the stored cluster's engine
// if it names one. Canonical JSON again; unchanged when it names an engine.
Result<std::string> WithEngineOnApply(std::string_view document,
                                      const std::optional<std::string>& stored);

}  // namespace sg::crds
