#include "reconcilers/endpoint_resolver.h"

#include <algorithm>

namespace sg::reconcilers {

std::string StripCidr(const std::string& addr) { return addr.substr(0, addr.find('/')); }

namespace {

bool AttachedTo(const docker::Service& service, const ClusterNetwork& network) {
  for (const auto& target : service.network_targets) {
    if (target == network.id || (!network.name.empty() && target == network.name)) return true;
  }
  return false;
}

}  // namespace

ResolvedBackend ResolveBackend(const std::string& service_name, const docker::Service* service,
                               const std::vector<docker::Task>& tasks, int port,
                               const ClusterNetwork& network, bool vip_mode,
                               const std::set<std::string>& lost_nodes) {
  ResolvedBackend out;
  if (service == nullptr) {
    out.problem = BackendProblem::kNotFound;
    out.message = "service \"" + service_name + "\" not found";
    return out;
  }
  if (!AttachedTo(*service, network)) {
    out.problem = BackendProblem::kNotAttached;
    out.message = "service \"" + service_name + "\" is not attached to network \"" + network.name +
                  "\"; add it with: docker service update --network-add " + network.name + " " +
                  service_name;
    return out;
  }
  if (vip_mode) {
    for (const auto& vip : service->virtual_ips) {
      if (vip.network_id == network.id && !vip.addr.empty()) {
        out.endpoints.push_back({StripCidr(vip.addr), port, "", 0, ""});
      }
    }
    return out;
  }
  for (const auto& task : tasks) {
    if (task.desired_state != "running" || task.state != "running") continue;
    const bool lost = lost_nodes.count(task.node_id) > 0;
    for (const auto& att : task.networks) {
      if (att.network_id != network.id) continue;
      for (const auto& addr : att.addresses) {
        if (lost) {
          ++out.on_lost_nodes;
          continue;
        }
        out.endpoints.push_back({StripCidr(addr), port, task.id, task.slot, task.node_id});
      }
    }
  }
  std::sort(out.endpoints.begin(), out.endpoints.end(), [](const Endpoint& a, const Endpoint& b) {
    return std::tie(a.ip, a.port, a.task_id) < std::tie(b.ip, b.port, b.task_id);
  });
  return out;
}

}  // namespace sg::reconcilers
