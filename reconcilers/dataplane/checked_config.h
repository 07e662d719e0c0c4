#pragma once
// Build -> render -> check, the one sequence behind both the operator's
// cluster pass and `swarmgate render --check`. A route whose lines the engine
// rejects is left out (and reported through its outcome) and the rest is
// built again, a bounded number of times; a configuration is returned only
// once the engine accepted it.

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "operator/common/result.h"
#include "reconcilers/dataplane/data_plane.h"
#include "reconcilers/model/model_builder.h"

namespace sg::dataplane {

// Builds the model with `excluded` (route -> the engine's message) left out.
using ModelBuilder =
    std::function<reconcilers::BuildResult(const std::map<std::string, std::string>& excluded)>;

struct CheckedConfig {
  reconcilers::BuildResult built;
  EngineConfig config;
  std::string hash;  // SHA-256 of config.text
  std::map<std::string, std::string> excluded;
  // false: the check was skipped (a known good hash, or covered by the
  // known good configuration's check)
  bool checked = false;
};

struct CheckOptions {
  // A configuration with this hash passed the check before: not run again.
  std::string known_good_hash;
  // The last configuration that passed the check, if any: a configuration
  // it covers (DataPlane::CoveredByCheckOf) is not checked again.
  std::shared_ptr<const EngineConfig> known_good;
  int max_exclusions = 3;
  // Called with the seconds each build + render took.
  std::function<void(double)> on_render;
};

// InvalidArgument when the engine rejects a configuration and no route can
// be blamed (or too many were), carrying the engine's message.
Result<CheckedConfig> BuildCheckedConfig(const ModelBuilder& build, DataPlane& plane,
                                         const CheckOptions& options = {});

}  // namespace sg::dataplane
