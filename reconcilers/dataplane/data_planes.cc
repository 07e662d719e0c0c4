#include "reconcilers/dataplane/data_planes.h"

namespace sg::dataplane {

std::string EngineOf(const crds::ServiceCluster&) { return "nginx"; }

DataPlane* DataPlanes::For(const crds::ServiceCluster& cluster) const {
  return ByName(EngineOf(cluster));
}

}  // namespace sg::dataplane
