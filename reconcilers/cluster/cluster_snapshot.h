#pragma once
// What the Swarm holds for one ServiceCluster at the start of a pass: the
// cluster's resource, the routes that name it, the Docker objects they refer
// to, and the Swarm's nodes (whose state decides which tasks are reachable).
// A plain value read from the cache (Observe) and consumed by the
// pure plan step, so plans are tested by writing snapshots by hand.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "operator/docker/docker_types.h"
#include "operator/store/swarm_cache.h"

namespace sg::reconcilers {

struct ClusterSnapshot {
  std::string name;
  // Absent: the cluster was deleted (or never applied).
  std::optional<store::CachedResource> cluster;
  // Routes whose spec.serviceCluster names this cluster, by name.
  std::vector<store::CachedResource> routes;
  // Services the cluster uses (route backends, its proxy and listener), by
  // name; a name without an entry does not exist.
  std::map<std::string, std::shared_ptr<const docker::Service>> services;
  // Tasks of those services, by service id (any state).
  std::map<std::string, std::shared_ptr<const store::TaskList>> tasks;
  // Secrets the cluster names (TLS secrets of its routes, the agents' token), by name.
  std::map<std::string, std::shared_ptr<const docker::Secret>> secrets;
  // The cluster's overlay and the control overlay, when they exist.
  std::shared_ptr<const docker::Network> network;
  std::shared_ptr<const docker::Network> control_network;
  // Every node of the Swarm; null reads as none known.
  std::shared_ptr<const store::NodeList> nodes;

  const docker::Service* FindService(const std::string& name) const {
    auto it = services.find(name);
    return it == services.end() ? nullptr : it->second.get();
  }
  const store::TaskList& TasksOf(const std::string& service_id) const {
    static const store::TaskList kNone;
    auto it = tasks.find(service_id);
    return it == tasks.end() || !it->second ? kNone : *it->second;
  }
  const docker::Secret* FindSecret(const std::string& name) const {
    auto it = secrets.find(name);
    return it == secrets.end() ? nullptr : it->second.get();
  }
};

}  // namespace sg::reconcilers
