#include "reconcilers/dataplane/data_planes.h"

namespace sg::dataplane {

std::string EngineOf(const crds::ServiceCluster& cluster) {
  return crds::ToString(cluster.spec.proxy.engine);
}

DataPlane* DataPlanes::For(const crds::ServiceCluster& cluster) const {
  return ByName(EngineOf(cluster));
}

}  // namespace sg::dataplane
