#pragma once
// The data-plane seam: an engine turns the engine-neutral traffic model into
// its own configuration, validates it with its own checker, and maps a
// rejection back to the route it came from. Reconcilers and the CLI know only
// this interface; adding an engine means adding an implementation and
// registering it (DataPlanes), not touching the reconcilers.

#include <map>
#include <string>
#include <vector>

#include "operator/common/result.h"
#include "reconcilers/model/rendered_config.h"
#include "reconcilers/model/traffic_model.h"

namespace sg::dataplane {

using model::TrafficModel;

// What an engine renders: its configuration file, and which route each of
// its lines belongs to, so a checker's "line N" names a route without
// parsing the text.
using EngineConfig = model::RenderedConfig;

struct CheckOutcome {
  Status status;      // ok, or InvalidArgument with the engine's own message
  std::string route;  // the route the failing line belongs to; "" when none
};

// Thread-safety: implementations must allow concurrent calls (workers of
// different clusters share one instance).
class DataPlane {
 public:
  virtual ~DataPlane() = default;
  virtual std::string Engine() const = 0;
  // Pure: the same model gives the same bytes.
  virtual EngineConfig Render(const TrafficModel& model) const = 0;
  // What the engine cannot express in `model`, whatever the text rendered
  // from it (a renderer may leave out what it cannot do, so the text alone
  // does not tell). Cheap: no process runs. Default: everything.
  virtual CheckOutcome CheckModel(const TrafficModel& model) {
    (void)model;
    return {OkStatus(), ""};
  }
  // CheckModel, then the engine's validator on `config` (rendered from `model`).
  virtual CheckOutcome Check(const TrafficModel& model, const EngineConfig& config) = 0;
  // Whether `next` differs from `checked` (a configuration that passed
  // Check) only where the engine's validator cannot refuse anything, so that
  // `next` needs no check of its own. HAProxy: server additions, removals
  // and weights, which its runtime API changes in place. Default: never.
  virtual bool CoveredByCheckOf(const EngineConfig& checked, const EngineConfig& next) const {
    (void)checked;
    (void)next;
    return false;
  }
};

}  // namespace sg::dataplane
