#include "reconcilers/endpoint_resolver.h"

#include <gtest/gtest.h>

namespace sg::reconcilers {
namespace {

const ClusterNetwork kNet{"net1", "sg-public"};

docker::Service Service(std::vector<std::string> networks) {
  docker::Service s;
  s.id = "svc1";
  s.name = "shop";
  s.network_targets = std::move(networks);
  s.virtual_ips = {{"ingress", "10.0.0.2/24"}, {"net1", "10.1.0.2/24"}};
  return s;
}

docker::Task Task(std::string id, std::string desired, std::string state, std::string ip,
                  std::string network = "net1", std::string node = "n1") {
  docker::Task t;
  t.id = std::move(id);
  t.node_id = std::move(node);
  t.desired_state = std::move(desired);
  t.state = std::move(state);
  t.networks.push_back({std::move(network), "", {ip + "/24"}});
  return t;
}

TEST(EndpointResolver, MissingServiceIsNotFound) {
  auto r = ResolveBackend("shop", nullptr, {}, 8080, kNet, false, {});
  EXPECT_EQ(r.problem, BackendProblem::kNotFound);
  EXPECT_NE(r.message.find("\"shop\" not found"), std::string::npos) << r.message;
}

TEST(EndpointResolver, ServiceOffTheNetworkSaysWhichNetworkToAdd) {
  auto svc = Service({"othernet"});
  auto r = ResolveBackend("shop", &svc, {}, 8080, kNet, false, {});
  EXPECT_EQ(r.problem, BackendProblem::kNotAttached);
  EXPECT_NE(r.message.find("--network-add sg-public shop"), std::string::npos) << r.message;
}

TEST(EndpointResolver, AttachedByNetworkNameCounts) {
  auto svc = Service({"sg-public"});
  auto r = ResolveBackend("shop", &svc, {}, 8080, kNet, false, {});
  EXPECT_EQ(r.problem, BackendProblem::kNone);
}

TEST(EndpointResolver, OnlyRunningTasksMeantToRunOnTheClusterNetwork) {
  auto svc = Service({"net1"});
  std::vector<docker::Task> tasks = {
      Task("a", "running", "running", "10.1.0.9"),
      Task("b", "running", "starting", "10.1.0.8"),      // health check not passed yet
      Task("c", "shutdown", "running", "10.1.0.7"),      // told to stop: drop at once
      Task("d", "running", "running", "10.9.0.7", "x"),  // other network
      Task("e", "running", "running", "10.1.0.3"),
      Task("f", "shutdown", "complete", "10.1.0.4"),
  };
  auto r = ResolveBackend("shop", &svc, tasks, 8080, kNet, false, {});
  ASSERT_EQ(r.endpoints.size(), 2u);
  EXPECT_EQ(r.endpoints[0].Address(), "10.1.0.3:8080");
  EXPECT_EQ(r.endpoints[1].Address(), "10.1.0.9:8080");
  EXPECT_EQ(r.endpoints[1].task_id, "a");
}

TEST(EndpointResolver, TasksOnLostNodesAreLeftOutAndCounted) {
  auto svc = Service({"net1"});
  std::vector<docker::Task> tasks = {
      Task("a", "running", "running", "10.1.0.9", "net1", "n1"),
      Task("b", "running", "running", "10.1.0.8", "net1", "lost"),
      Task("c", "running", "starting", "10.1.0.7", "net1", "lost"),  // not counted: not running
  };
  auto r = ResolveBackend("shop", &svc, tasks, 8080, kNet, false, {"lost"});
  EXPECT_EQ(r.problem, BackendProblem::kNone);
  ASSERT_EQ(r.endpoints.size(), 1u);
  EXPECT_EQ(r.endpoints[0].task_id, "a");
  EXPECT_EQ(r.on_lost_nodes, 1);

  // Every task lost: no endpoint, as when none runs.
  r = ResolveBackend("shop", &svc, tasks, 8080, kNet, false, {"n1", "lost"});
  EXPECT_TRUE(r.endpoints.empty());
  EXPECT_EQ(r.on_lost_nodes, 2);

  // The VIP is Swarm's own load balancer, on no one node.
  r = ResolveBackend("shop", &svc, tasks, 80, kNet, true, {"n1", "lost"});
  ASSERT_EQ(r.endpoints.size(), 1u);
  EXPECT_EQ(r.on_lost_nodes, 0);
}

TEST(EndpointResolver, VipModeUsesTheVirtualIpOnTheClusterNetwork) {
  auto svc = Service({"net1"});
  auto r = ResolveBackend("shop", &svc, {Task("a", "running", "running", "10.1.0.9")}, 80, kNet,
                          true, {});
  ASSERT_EQ(r.endpoints.size(), 1u);
  EXPECT_EQ(r.endpoints[0].Address(), "10.1.0.2:80");
  EXPECT_TRUE(r.endpoints[0].task_id.empty());
}

TEST(EndpointResolver, StripCidr) {
  EXPECT_EQ(StripCidr("10.0.0.1/24"), "10.0.0.1");
  EXPECT_EQ(StripCidr("10.0.0.1"), "10.0.0.1");
}

}  // namespace
}  // namespace sg::reconcilers
