#include "reconcilers/dataplane/checked_config.h"

#include <chrono>

#include "operator/common/hash.h"

namespace sg::dataplane {

Result<CheckedConfig> BuildCheckedConfig(const ModelBuilder& build, DataPlane& plane,
                                         const CheckOptions& options) {
  CheckedConfig out;
  for (int attempt = 0;; ++attempt) {
    auto t0 = std::chrono::steady_clock::now();
    out.built = build(out.excluded);
    out.config = plane.Render(out.built.model);
    if (options.on_render) {
      options.on_render(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    out.hash = Sha256Hex(out.config.text);
    // What the engine cannot express is refused even when the text is one
    // it already checked: a renderer leaves out what it cannot do (a mirror
    // on HAProxy), so the text would not show it.
    CheckOutcome checked = plane.CheckModel(out.built.model);
    if (checked.status.ok()) {
      if (!options.known_good_hash.empty() && out.hash == options.known_good_hash) return out;
      if (options.known_good && plane.CoveredByCheckOf(*options.known_good, out.config)) {
        return out;
      }
      checked = plane.Check(out.built.model, out.config);
    }
    if (checked.status.ok()) {
      out.checked = true;
      return out;
    }
    const std::string& message = checked.status.error().message;
    if (checked.route.empty() || out.excluded.count(checked.route) ||
        attempt >= options.max_exclusions) {
      // Nothing (more) to blame: the caller keeps the last good one serving.
      return InvalidArgument(plane.Engine() + " rejected the configuration: " + message);
    }
    out.excluded[checked.route] = message;
  }
}

}  // namespace sg::dataplane
