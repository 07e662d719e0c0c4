#pragma once
// Edits of a Docker ServiceSpec (JSON as the engine returned it), so callers
// outside the Docker layer change typed settings instead of JSON text.
// Pure functions.

#include <cstdint>
#include <optional>
#include <string>

namespace sg::docker {

// Update settings of a service; unset fields are left as they are.
struct UpdateSettings {
  std::optional<std::string> order;      // UpdateConfig.Order: start-first | stop-first
  std::optional<int64_t> delay_ns;       // UpdateConfig.Delay
  std::optional<int64_t> stop_grace_ns;  // TaskTemplate.ContainerSpec.StopGracePeriod
};

// Returns true and rewrites *spec_json when a setting differs from the spec
// (Docker's defaults count: an absent Order is stop-first, an absent
// duration is zero). False when nothing changes or the JSON is not an object.
bool ApplyUpdateSettings(const UpdateSettings& settings, std::string* spec_json);

}  // namespace sg::docker
