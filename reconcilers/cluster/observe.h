#pragma once
// Observe: the first step of a cluster pass. Reads one snapshot of what the
// Swarm holds for a cluster from the cache, touching only the cluster's own
// objects (its routes, their backend services and tasks, its secrets and
// networks) and the Swarm's node list, shared, not copied.
//
// Thread-safety: a free function over the thread-safe cache.

#include <string>

#include "operator/store/swarm_cache.h"
#include "reconcilers/cluster/cluster_snapshot.h"

namespace sg::reconcilers {

ClusterSnapshot Observe(const store::SwarmCache& cache, const std::string& cluster,
                        const std::string& control_network);

// The cluster's overlay: spec.network, else sg-<name>.
std::string ClusterNetworkName(const crds::ServiceCluster& cluster);
// The Docker secret holding a cluster's agent token.
std::string TokenSecretName(const std::string& cluster);

}  // namespace sg::reconcilers
