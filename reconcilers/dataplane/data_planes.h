#pragma once
// The engines a cluster may choose from (spec.proxy.engine), by name.
//
// Thread-safety: register every engine before sharing; lookups are then
// read-only.

#include <map>
#include <string>

#include "crds/types.h"
#include "reconcilers/dataplane/data_plane.h"

namespace sg::dataplane {

class DataPlanes {
 public:
  // `plane` must outlive this registry.
  void Register(DataPlane& plane) { planes_[plane.Engine()] = &plane; }
  // The engine a cluster asked for; null when it is not registered.
  DataPlane* For(const crds::ServiceCluster& cluster) const;
  DataPlane* ByName(const std::string& engine) const {
    auto it = planes_.find(engine);
    return it == planes_.end() ? nullptr : it->second;
  }

 private:
  std::map<std::string, DataPlane*> planes_;
};

// The engine name of a cluster (spec.proxy.engine).
std::string EngineOf(const crds::ServiceCluster& cluster);

}  // namespace sg::dataplane
