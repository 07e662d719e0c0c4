#include "reconcilers/lost_nodes.h"

namespace sg::reconcilers {

bool NodeLost(const docker::Node& node) {
  return node.state == "down" || node.manager_reachability == "unreachable";
}

std::set<std::string> LostNodes(const std::vector<docker::Node>& nodes) {
  std::set<std::string> out;
  for (const auto& n : nodes) {
    if (NodeLost(n)) out.insert(n.id);
  }
  return out;
}

}  // namespace sg::reconcilers
