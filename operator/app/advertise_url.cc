#include "operator/app/advertise_url.h"

namespace sg::app {

Result<std::string> AdvertiseUrlOfTask(docker::DockerClient& docker, const std::string& hostname,
                                       const std::string& control_network, int port) {
  if (hostname.empty()) return NotFound("no host name");
  auto tasks = docker.ListTasks({{"desired-state", {"running"}}});
  if (!tasks.ok()) return tasks.error();
  for (const auto& t : *tasks) {
    if (t.container_id.rfind(hostname, 0) != 0) continue;
    for (const auto& n : t.networks) {
      if (n.network_name != control_network || n.addresses.empty()) continue;
      const std::string& cidr = n.addresses.front();
      return "http://" + cidr.substr(0, cidr.find('/')) + ":" + std::to_string(port);
    }
    return NotFound("task " + t.id + " is not attached to " + control_network);
  }
  return NotFound("no running task with container " + hostname);
}

}  // namespace sg::app
