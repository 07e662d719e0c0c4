// SwarmCache against the in-memory FakeDockerClient: relists, event
// refreshes, write-through and the route-by-cluster index.
#include "operator/store/swarm_cache.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "operator/testing/fake_swarm_fixture.h"

namespace sg::store {
namespace {

using crds::Kind;

std::string RouteJson(const std::string& name, const std::string& cluster, int port = 8080) {
  return R"({"apiVersion":"swarmgate.io/v1alpha1","kind":"Route","metadata":{"name":")" + name +
         R"("},"spec":{"backends":[{"port":)" + std::to_string(port) +
         R"(,"service":"app"}],"hosts":["a.example.com"],"serviceCluster":")" + cluster + R"("}})";
}

std::string ClusterJson(const std::string& name) {
  return R"({"apiVersion":"swarmgate.io/v1alpha1","kind":"ServiceCluster","metadata":{"name":")" +
         name + R"("},"spec":{"proxy":{"replicas":1}}})";
}

std::vector<std::string> Names(const std::vector<CachedResource>& rs) {
  std::vector<std::string> out;
  for (const auto& r : rs) out.push_back(r.stored.name);
  return out;
}

docker::Event ConfigEvent(const std::string& action, const std::string& config_name) {
  docker::Event e;
  e.type = "config";
  e.action = action;
  e.attributes["name"] = config_name;
  return e;
}

using SwarmCacheTest = sg::testing::FakeSwarmFixture;

TEST_F(SwarmCacheTest, RelistFillsEveryKindAndIndexesRoutesByCluster) {
  EXPECT_FALSE(cache_.synced());
  Apply(Kind::kServiceCluster, "public", ClusterJson("public"));
  Apply(Kind::kRoute, "shop", RouteJson("shop", "public"));
  Apply(Kind::kRoute, "blog", RouteJson("blog", "public"));
  Apply(Kind::kRoute, "intra", RouteJson("intra", "private"));
  std::string app = CreateService("app");
  docker::Task t;
  t.id = "t1";
  t.desired_state = "running";
  t.state = "running";
  docker_.SetTasks(app, {t});
  CreateSecret("shop-tls");
  CreateNetwork("sg-public");

  ASSERT_TRUE(cache_.Relist().ok());
  EXPECT_TRUE(cache_.synced());
  EXPECT_EQ(Names(cache_.RoutesOfCluster("public")), (std::vector<std::string>{"blog", "shop"}));
  EXPECT_EQ(Names(cache_.RoutesOfCluster("private")), std::vector<std::string>{"intra"});
  EXPECT_TRUE(cache_.RoutesOfCluster("none").empty());
  auto cluster = cache_.Resource(Kind::kServiceCluster, "public");
  ASSERT_TRUE(cluster.has_value());
  ASSERT_NE(cluster->cluster, nullptr);
  EXPECT_EQ(cluster->route, nullptr);
  EXPECT_EQ(cluster->cluster->spec.proxy.replicas, 1);
  auto shop = cache_.Resource(Kind::kRoute, "shop");
  ASSERT_TRUE(shop.has_value());
  ASSERT_NE(shop->route, nullptr);
  EXPECT_EQ(shop->route->spec.backends.at(0).port, 8080);
  ASSERT_NE(cache_.Service("app"), nullptr);
  EXPECT_EQ(cache_.TasksOf(app)->size(), 1u);
  EXPECT_TRUE(cache_.TasksOf("nope")->empty());
  EXPECT_NE(cache_.Secret("shop-tls"), nullptr);
  EXPECT_NE(cache_.Network("sg-public"), nullptr);
  EXPECT_EQ(cache_.Resources(Kind::kRoute).size(), 3u);
  EXPECT_EQ(cache_.Resources(std::nullopt).size(), 4u);
  ASSERT_EQ(cache_.Nodes()->size(), 1u);  // the fake's one manager
  EXPECT_EQ(cache_.Nodes()->front().state, "ready");
}

TEST_F(SwarmCacheTest, NodeEventsListTheNodesAgain) {
  EXPECT_TRUE(cache_.Nodes()->empty());
  docker::Node worker;
  worker.hostname = "node-2";
  worker.role = "worker";
  worker.availability = "active";
  worker.state = "ready";
  std::string id = docker_.AddNode(worker);
  ASSERT_TRUE(cache_.Relist().ok());
  ASSERT_EQ(cache_.Nodes()->size(), 2u);

  ASSERT_TRUE(docker_.SetNodeStatus(id, "down"));
  docker::Event e;
  e.type = "node";
  e.action = "update";
  e.actor_id = id;
  e.attributes = {{"name", "node-2"}, {"state.old", "ready"}, {"state.new", "down"}};
  cache_.OnEvent(e);
  std::string state;
  for (const auto& n : *cache_.Nodes()) {
    if (n.id == id) state = n.state;
  }
  EXPECT_EQ(state, "down");

  // A failed listing keeps what was known; the next relist repairs it.
  docker_.FailNext("ListNodes", Unavailable("boom"));
  ASSERT_TRUE(docker_.SetNodeStatus(id, "ready"));
  cache_.OnEvent(e);
  EXPECT_EQ(cache_.Nodes()->size(), 2u);
}

TEST_F(SwarmCacheTest, ConfigEventsRefreshOneResourceAndSkipLabelUpdates) {
  Apply(Kind::kRoute, "shop", RouteJson("shop", "public"));
  ASSERT_TRUE(cache_.Relist().ok());

  // A new generation that moves the route to another cluster.
  Apply(Kind::kRoute, "shop", RouteJson("shop", "private", 9090));
  cache_.OnEvent(ConfigEvent("create", ConfigName(Kind::kRoute, "shop", 2)));
  auto shop = cache_.Resource(Kind::kRoute, "shop");
  ASSERT_TRUE(shop.has_value());
  EXPECT_EQ(shop->stored.generation, 2);
  EXPECT_EQ(shop->route->spec.backends.at(0).port, 9090);
  EXPECT_TRUE(cache_.RoutesOfCluster("public").empty());
  EXPECT_EQ(Names(cache_.RoutesOfCluster("private")), std::vector<std::string>{"shop"});

  // Status-label updates cost nothing: the writer notes them.
  docker_.ResetCounters();
  cache_.OnEvent(ConfigEvent("update", ConfigName(Kind::kRoute, "shop", 2)));
  EXPECT_EQ(docker_.CallLog().size(), 0u) << ::testing::PrintToString(docker_.CallLog());
  // Configs that are not resources are ignored.
  cache_.OnEvent(ConfigEvent("create", "sg.proxy.public.abc"));
  cache_.OnEvent(ConfigEvent("create", "unrelated"));
  EXPECT_EQ(docker_.CallLog().size(), 0u) << ::testing::PrintToString(docker_.CallLog());

  ASSERT_TRUE(store_.Delete(Kind::kRoute, "shop").ok());
  cache_.OnEvent(ConfigEvent("remove", ConfigName(Kind::kRoute, "shop", 2)));
  EXPECT_FALSE(cache_.Resource(Kind::kRoute, "shop").has_value());
  EXPECT_TRUE(cache_.RoutesOfCluster("private").empty());
}

TEST_F(SwarmCacheTest, ServiceEventsRefreshAndRemoveWithTheirTasks) {
  ASSERT_TRUE(cache_.Relist().ok());
  std::string app = CreateService("app");
  docker::Event created;
  created.type = "service";
  created.action = "create";
  created.actor_id = app;
  created.attributes["name"] = "app";
  cache_.OnEvent(created);
  ASSERT_NE(cache_.Service("app"), nullptr);
  EXPECT_EQ(cache_.Service("app")->id, app);

  docker::Task t;
  t.id = "t1";
  t.service_id = app;
  cache_.ReplaceServicesAndTasks({*cache_.Service("app")}, {t});
  EXPECT_EQ(cache_.TasksOf(app)->size(), 1u);

  ASSERT_TRUE(docker_.RemoveService(app).ok());
  docker::Event removed = created;
  removed.action = "remove";
  cache_.OnEvent(removed);
  EXPECT_EQ(cache_.Service("app"), nullptr);
  EXPECT_TRUE(cache_.TasksOf(app)->empty());
}

TEST_F(SwarmCacheTest, NoteStatusUpdatesOnlyTheCurrentGeneration) {
  Apply(Kind::kRoute, "shop", RouteJson("shop", "public"));
  ASSERT_TRUE(cache_.Relist().ok());
  cache_.NoteStatus(Kind::kRoute, "shop", 2, "{\"stale\":true}");
  EXPECT_EQ(cache_.Resource(Kind::kRoute, "shop")->stored.status_json, "");
  cache_.NoteStatus(Kind::kRoute, "shop", 1, "{\"observedGeneration\":1}");
  EXPECT_EQ(cache_.Resource(Kind::kRoute, "shop")->stored.status_json,
            "{\"observedGeneration\":1}");
}

TEST_F(SwarmCacheTest, WriteThroughIsSeenBeforeAnyEvent) {
  ASSERT_TRUE(cache_.Relist().ok());
  docker::Network n;
  n.id = "n1";
  n.name = "sg-public";
  cache_.PutNetwork(n);
  EXPECT_EQ(cache_.Network("sg-public")->id, "n1");
  cache_.ForgetNetwork("n1");
  EXPECT_EQ(cache_.Network("sg-public"), nullptr);
  docker::Secret s;
  s.id = "s1";
  s.name = "sg-token-public";
  cache_.PutSecret(s);
  EXPECT_NE(cache_.Secret("sg-token-public"), nullptr);
  cache_.ForgetSecret("sg-token-public");
  EXPECT_EQ(cache_.Secret("sg-token-public"), nullptr);
  docker::Service svc;
  svc.id = "x1";
  svc.name = "old";
  cache_.PutService(svc);
  svc.name = "renamed";
  cache_.PutService(svc);
  EXPECT_EQ(cache_.Service("old"), nullptr);
  EXPECT_NE(cache_.Service("renamed"), nullptr);
}

}  // namespace
}  // namespace sg::store
