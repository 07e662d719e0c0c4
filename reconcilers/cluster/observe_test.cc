// Observe reads one cluster's snapshot from the cache: its own routes and the
// Docker objects they name, nothing of other clusters.
#include "reconcilers/cluster/observe.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "operator/testing/fake_swarm_fixture.h"
#include "reconcilers/proxy_service_spec.h"

namespace sg::reconcilers {
namespace {

using crds::Kind;

std::string RouteJson(const std::string& name, const std::string& cluster,
                      const std::string& service, const std::string& tls_secret = "") {
  std::string tls =
      tls_secret.empty() ? "" : R"(,"tls":{"mode":"terminate","secret":")" + tls_secret + R"("})";
  return R"({"apiVersion":"swarmgate.io/v1alpha1","kind":"Route","metadata":{"name":")" + name +
         R"("},"spec":{"backends":[{"port":8080,"service":")" + service + R"("}],"hosts":[")" +
         name + R"(.example.com"],"serviceCluster":")" + cluster + "\"" + tls + "}}";
}

std::string ClusterJson(const std::string& name, const std::string& network = "") {
  std::string net = network.empty() ? "" : R"(,"network":")" + network + "\"";
  return R"({"apiVersion":"swarmgate.io/v1alpha1","kind":"ServiceCluster","metadata":{"name":")" +
         name + R"("},"spec":{"proxy":{"replicas":1})" + net + "}}";
}

template <class Map>
std::vector<std::string> Keys(const Map& map) {
  std::vector<std::string> out;
  for (const auto& [k, v] : map) out.push_back(k);
  return out;
}

using ObserveTest = sg::testing::FakeSwarmFixture;

TEST_F(ObserveTest, TakesTheClusterRoutesAndWhatTheyNameOnly) {
  Apply(Kind::kServiceCluster, "public", ClusterJson("public"));
  Apply(Kind::kServiceCluster, "private", ClusterJson("private"));
  Apply(Kind::kRoute, "shop", RouteJson("shop", "public", "shop-svc", "shop-tls"));
  Apply(Kind::kRoute, "blog", RouteJson("blog", "public", "missing-svc"));
  Apply(Kind::kRoute, "intra", RouteJson("intra", "private", "intra-svc", "intra-tls"));
  std::string shop = CreateService("shop-svc");
  CreateService("intra-svc");
  std::string proxy = CreateService(ProxyServiceName("public"));
  docker::Task t;
  t.id = "t1";
  t.desired_state = "running";
  t.state = "running";
  docker_.SetTasks(shop, {t});
  CreateSecret("shop-tls");
  CreateSecret("intra-tls");
  CreateSecret(TokenSecretName("public"));
  CreateNetwork("sg-public");
  CreateNetwork("sg-private");
  CreateNetwork("sg-control");
  ASSERT_TRUE(cache_.Relist().ok());

  ClusterSnapshot s = Observe(cache_, "public", "sg-control");

  EXPECT_EQ(s.name, "public");
  ASSERT_TRUE(s.cluster.has_value());
  ASSERT_NE(s.cluster->cluster, nullptr);
  std::vector<std::string> routes;
  for (const auto& r : s.routes) routes.push_back(r.stored.name);
  EXPECT_EQ(routes, (std::vector<std::string>{"blog", "shop"}));
  // A backend that does not exist has no entry; the listener was never made.
  EXPECT_EQ(Keys(s.services), (std::vector<std::string>{ProxyServiceName("public"), "shop-svc"}));
  ASSERT_NE(s.FindService("shop-svc"), nullptr);
  EXPECT_EQ(s.TasksOf(shop).size(), 1u);
  EXPECT_TRUE(s.TasksOf(proxy).empty());
  EXPECT_EQ(Keys(s.secrets), (std::vector<std::string>{"sg-token-public", "shop-tls"}));
  ASSERT_NE(s.network, nullptr);
  EXPECT_EQ(s.network->name, "sg-public");
  ASSERT_NE(s.control_network, nullptr);
  EXPECT_EQ(s.control_network->name, "sg-control");
  // Every node: which tasks are reachable depends on the state of theirs.
  ASSERT_NE(s.nodes, nullptr);
  EXPECT_EQ(s.nodes->size(), 1u);
}

TEST_F(ObserveTest, UsesTheNetworkTheClusterNames) {
  Apply(Kind::kServiceCluster, "edge", ClusterJson("edge", "shared-net"));
  CreateNetwork("shared-net");
  CreateNetwork("sg-edge");
  ASSERT_TRUE(cache_.Relist().ok());

  ClusterSnapshot s = Observe(cache_, "edge", "sg-control");
  ASSERT_NE(s.network, nullptr);
  EXPECT_EQ(s.network->name, "shared-net");
  EXPECT_EQ(s.control_network, nullptr);  // not created yet
}

TEST_F(ObserveTest, ADeletedClusterStillShowsItsRoutesAndObjects) {
  // The cluster resource is gone but its routes remain: the pass must see
  // them (to report ClusterNotFound) and the proxy it must tear down.
  Apply(Kind::kRoute, "orphan", RouteJson("orphan", "gone", "svc"));
  CreateService(ProxyServiceName("gone"));
  ASSERT_TRUE(cache_.Relist().ok());

  ClusterSnapshot s = Observe(cache_, "gone", "sg-control");
  EXPECT_FALSE(s.cluster.has_value());
  ASSERT_EQ(s.routes.size(), 1u);
  EXPECT_EQ(s.routes[0].stored.name, "orphan");
  EXPECT_NE(s.FindService(ProxyServiceName("gone")), nullptr);
  EXPECT_EQ(s.network, nullptr);
}

}  // namespace
}  // namespace sg::reconcilers
