#include "reconcilers/lost_nodes.h"

#include <gtest/gtest.h>

namespace sg::reconcilers {
namespace {

docker::Node NodeIn(std::string id, std::string state, std::string reachability = "") {
  docker::Node n;
  n.id = std::move(id);
  n.state = std::move(state);
  n.manager_reachability = std::move(reachability);
  return n;
}

TEST(LostNodes, DownOrUnreachableManagersAreLost) {
  struct Case {
    docker::Node node;
    bool lost;
  };
  const std::vector<Case> cases = {
      {NodeIn("w", "ready"), false},
      {NodeIn("w", "down"), true},
      // What healthy nodes pass through at a leader election.
      {NodeIn("w", "unknown"), false},
      {NodeIn("w", "disconnected"), false},
      {NodeIn("w", ""), false},
      {NodeIn("m", "ready", "reachable"), false},
      {NodeIn("m", "ready", "unreachable"), true},
      {NodeIn("m", "ready", "unknown"), false},
      {NodeIn("m", "down", "reachable"), true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(NodeLost(c.node), c.lost)
        << "state=" << c.node.state << " reachability=" << c.node.manager_reachability;
  }
}

TEST(LostNodes, CollectsTheIdsOfLostNodes) {
  EXPECT_EQ(LostNodes({NodeIn("a", "ready"), NodeIn("b", "down"), NodeIn("c", "unknown"),
                       NodeIn("d", "ready", "unreachable")}),
            (std::set<std::string>{"b", "d"}));
  EXPECT_TRUE(LostNodes({}).empty());
}

}  // namespace
}  // namespace sg::reconcilers
