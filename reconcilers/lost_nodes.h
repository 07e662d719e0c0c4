#pragma once
// Which nodes Swarm reports lost: tasks on them are no longer sent traffic,
// though Swarm still lists them running until it reschedules them. A pure
// reading of the node listing.
//
// Lost: Status.State "down" (the managers stopped hearing the node's
// heartbeats), or a manager whose ManagerStatus.Reachability is
// "unreachable" (raft cannot reach it). Not lost: "unknown" and
// "disconnected". A new leader marks every node that is not down "unknown"
// until its next heartbeat, and a node that registers with the leader again
// (or whose leader steps down) is "disconnected" for a moment: healthy
// nodes pass through both at every leader election, and leaving their tasks
// out would empty every upstream of every cluster for seconds. A node the
// listing does not have is not lost either (it just joined, or the listing
// failed): nothing says its tasks are unreachable.

#include <set>
#include <string>
#include <vector>

#include "operator/docker/docker_types.h"

namespace sg::reconcilers {

bool NodeLost(const docker::Node& node);

// The ids of the lost nodes among `nodes`.
std::set<std::string> LostNodes(const std::vector<docker::Node>& nodes);

}  // namespace sg::reconcilers
