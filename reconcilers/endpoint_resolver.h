#pragma once
// Resolves a route backend (a Swarm service) to the addresses the proxy sends
// traffic to. Pure: takes what the watcher read from Docker, decides nothing
// about time or I/O.
//
// task mode: one endpoint per task that Swarm reports running on the cluster
//   network and that is meant to keep running. Swarm only moves a task with a
//   health check to "running" after the check passes, so "running" already
//   means healthy. A task whose desired state left "running" (Swarm told it to
//   shut down: rolling update, scale down, removal) is dropped at once, before
//   its container stops, so no request is sent to a draining task. So is a
//   task on a node Swarm reports lost (lost_nodes.h): Swarm keeps listing it
//   running until it reschedules it, but connections to it cannot succeed.
// vip mode: the service's virtual IP on the cluster network.

#include <set>
#include <string>
#include <vector>

#include "operator/docker/docker_types.h"

namespace sg::reconcilers {

struct Endpoint {
  std::string ip;
  int port = 0;
  std::string task_id;  // empty in vip mode
  int64_t slot = 0;
  std::string node_id;

  std::string Address() const { return ip + ":" + std::to_string(port); }
  bool operator==(const Endpoint& o) const {
    return ip == o.ip && port == o.port && task_id == o.task_id;
  }
};

enum class BackendProblem { kNone, kNotFound, kNotAttached };

struct ResolvedBackend {
  BackendProblem problem = BackendProblem::kNone;
  std::string message;              // what is wrong and how to fix it
  std::vector<Endpoint> endpoints;  // sorted by ip, then port
  // Endpoints of running tasks left out because their node is lost.
  int on_lost_nodes = 0;
};

struct ClusterNetwork {
  std::string id;
  std::string name;
};

// `service` is null when no service of that name exists; `tasks` are the
// tasks of that service (any state); `lost_nodes` the ids of the nodes Swarm
// reports lost (LostNodes).
ResolvedBackend ResolveBackend(const std::string& service_name, const docker::Service* service,
                               const std::vector<docker::Task>& tasks, int port,
                               const ClusterNetwork& network, bool vip_mode,
                               const std::set<std::string>& lost_nodes);

// "10.0.1.5/24" -> "10.0.1.5".
std::string StripCidr(const std::string& addr);

}  // namespace sg::reconcilers
