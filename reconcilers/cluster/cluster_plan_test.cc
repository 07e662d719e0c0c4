// PlanCluster is pure: snapshots written by hand, expected plans in a table
// (the shape of Traefik's provider tests).
#include "reconcilers/cluster/cluster_plan.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "crds/loader.h"

namespace sg::reconcilers {
namespace {

store::CachedResource Decode(const std::string& yaml, int64_t generation = 1,
                             const std::string& created = "2026-01-01T00:00:00Z") {
  auto loaded = crds::LoadText(yaml, "plan.yaml");
  EXPECT_TRUE(loaded.ok()) << yaml;
  store::CachedResource r;
  if (!loaded.ok() || loaded.resources.empty()) return r;
  const auto& res = loaded.resources.front();
  r.stored.kind = res.kind;
  r.stored.name = res.name;
  r.stored.generation = generation;
  r.stored.created_at = created;
  r.stored.data = res.canonical_json;
  if (res.route()) r.route = std::make_shared<const crds::Route>(*res.route());
  if (res.cluster()) r.cluster = std::make_shared<const crds::ServiceCluster>(*res.cluster());
  return r;
}

std::string Cluster(const std::string& proxy_extra = "") {
  return "apiVersion: swarmgate.io/v1alpha1\nkind: ServiceCluster\nmetadata: {name: public}\n"
         "spec:\n  proxy:\n    replicas: 2\n" +
         proxy_extra;
}

std::string Route(const std::string& name, const std::string& host, const std::string& extra = "",
                  const std::string& backend = "app") {
  return "apiVersion: swarmgate.io/v1alpha1\nkind: Route\nmetadata: {name: " + name +
         "}\nspec:\n  serviceCluster: public\n  hosts: [" + host +
         "]\n  backends: [{service: " + backend + ", port: 8080}]\n" + extra;
}

std::shared_ptr<const docker::Service> Service(const std::string& id, const std::string& name,
                                               bool healthcheck = false) {
  auto s = std::make_shared<docker::Service>();
  s->id = id;
  s->name = name;
  s->has_healthcheck = healthcheck;
  s->network_targets = {"net1"};
  return s;
}

docker::Task Running(const std::string& id, const std::string& ip) {
  docker::Task t;
  t.id = id;
  t.desired_state = "running";
  t.state = "running";
  t.networks.push_back({"net1", "sg-public", {ip + "/24"}});
  return t;
}

std::shared_ptr<const docker::Secret> Secret(const std::string& name) {
  auto secret = std::make_shared<docker::Secret>();
  secret->id = "sec1";
  secret->name = name;
  return secret;
}

const std::string kTerminate = "  tls: {mode: terminate, secret: shop-tls}\n";

// A snapshot of cluster "public" on network net1 with service "app" running one task.
ClusterSnapshot Base() {
  ClusterSnapshot s;
  s.name = "public";
  s.cluster = Decode(Cluster());
  auto net = std::make_shared<docker::Network>();
  net->id = "net1";
  net->name = "sg-public";
  s.network = net;
  s.services["app"] = Service("svc-app", "app");
  s.tasks["svc-app"] =
      std::make_shared<const store::TaskList>(store::TaskList{Running("t1", "10.0.1.7")});
  return s;
}

struct PlanCase {
  std::string description;
  std::function<ClusterSnapshot()> snapshot;
  std::map<std::string, std::string> reasons;  // route -> outcome reason
  std::map<std::string, bool> degraded;        // route -> has a degraded message
  std::set<std::string> used_services;
  bool listener = true;
  crds::UpdateOrder proxy_order = crds::UpdateOrder::kStartFirst;
};

class PlanTable : public ::testing::TestWithParam<PlanCase> {};

TEST_P(PlanTable, Plans) {
  const PlanCase& c = GetParam();
  ClusterPlan plan = PlanCluster(c.snapshot(), PlanOptions{});
  std::map<std::string, std::string> reasons;
  for (const auto& [name, outcome] : plan.built.routes) reasons[name] = outcome.reason;
  EXPECT_EQ(reasons, c.reasons) << c.description;
  std::map<std::string, bool> degraded;
  for (const auto& [name, message] : plan.degraded) degraded[name] = !message.empty();
  EXPECT_EQ(degraded, c.degraded) << c.description;
  EXPECT_EQ(plan.used_services, c.used_services) << c.description;
  EXPECT_EQ(plan.desired.listener, c.listener) << c.description;
  EXPECT_EQ(plan.desired.proxy_cluster.spec.proxy.update_policy.order, c.proxy_order)
      << c.description;
  EXPECT_EQ(plan.desired.network_name, "sg-public");
  EXPECT_EQ(plan.route_inputs.size(), plan.route_names.size());
}

INSTANTIATE_TEST_SUITE_P(
    Cases, PlanTable,
    ::testing::Values(
        PlanCase{"no routes", Base, {}, {}, {}},
        PlanCase{"a route with a running backend is ready",
                 [] {
                   auto s = Base();
                   s.routes = {Decode(Route("shop", "shop.example.com"))};
                   return s;
                 },
                 {{"shop", kReasonReady}},
                 {},
                 {"app"}},
        PlanCase{"a missing backend service",
                 [] {
                   auto s = Base();
                   s.routes = {Decode(Route("shop", "shop.example.com", "", "gone"))};
                   return s;
                 },
                 {{"shop", kReasonBackendNotFound}},
                 {},
                 {"gone"}},
        PlanCase{"the older route keeps a contested host",
                 [] {
                   auto s = Base();
                   s.routes = {Decode(Route("new", "shop.example.com"), 1, "2026-02-01T00:00:00Z"),
                               Decode(Route("old", "shop.example.com"), 1, "2026-01-01T00:00:00Z")};
                   return s;
                 },
                 {{"new", kReasonConflict}, {"old", kReasonReady}},
                 {},
                 {"app"}},
        PlanCase{"a TLS secret that does not exist",
                 [] {
                   auto s = Base();
                   s.routes = {Decode(Route("shop", "shop.example.com", kTerminate))};
                   return s;
                 },
                 {{"shop", kReasonSecretNotFound}},
                 {},
                 {"app"}},
        PlanCase{"a TLS secret the running proxies have not mounted yet",
                 [] {
                   auto s = Base();
                   s.secrets["shop-tls"] = Secret("shop-tls");
                   s.routes = {Decode(Route("shop", "shop.example.com", kTerminate))};
                   return s;
                 },
                 {{"shop", kReasonSecretMounting}},
                 {},
                 {"app"}},
        PlanCase{"a TLS secret every proxy mounts is served",
                 [] {
                   auto s = Base();
                   s.secrets["shop-tls"] = Secret("shop-tls");
                   auto proxy = Service("svc-proxy", "sg-proxy-public");
                   std::const_pointer_cast<docker::Service>(proxy)->secret_names = {"shop-tls"};
                   s.services["sg-proxy-public"] = proxy;
                   s.routes = {Decode(Route("shop", "shop.example.com", kTerminate))};
                   return s;
                 },
                 {{"shop", kReasonReady}},
                 {},
                 {"app"}},
        PlanCase{"an update policy needing a health check the backend lacks",
                 [] {
                   auto s = Base();
                   s.routes = {Decode(Route("shop", "shop.example.com",
                                            "  updatePolicy: {requireHealthcheck: true}\n"))};
                   return s;
                 },
                 {{"shop", kReasonReady}},
                 {{"shop", true}},
                 {"app"}},
        PlanCase{"proxies that still publish host ports are replaced stop-first",
                 [] {
                   auto s = Base();
                   auto proxy = Service("svc-proxy", "sg-proxy-public");
                   std::const_pointer_cast<docker::Service>(proxy)->publishes_host_ports = true;
                   s.services["sg-proxy-public"] = proxy;
                   return s;
                 },
                 {},
                 {},
                 {},
                 true,
                 crds::UpdateOrder::kStopFirst},
        PlanCase{"ingress publish mode has no listener",
                 [] {
                   auto s = Base();
                   s.cluster = Decode(Cluster("    publishMode: ingress\n"));
                   return s;
                 },
                 {},
                 {},
                 {},
                 false}),
    [](const ::testing::TestParamInfo<PlanCase>& info) {
      std::string name;
      for (char ch : info.param.description) name += std::isalnum(ch) ? ch : '_';
      return name;
    });

TEST(PlanTest, WithoutTheNetworkRoutesHaveNoEndpointsYet) {
  auto s = Base();
  s.network = nullptr;
  s.routes = {Decode(Route("shop", "shop.example.com"))};
  ClusterPlan plan = PlanCluster(s, PlanOptions{});
  EXPECT_EQ(plan.built.routes.at("shop").reason, kReasonBackendNotAttached);
}

docker::Node SwarmNode(const std::string& id, const std::string& state,
                       const std::string& reachability = "") {
  docker::Node n;
  n.id = id;
  n.state = state;
  n.manager_reachability = reachability;
  return n;
}

docker::Task RunningOn(const std::string& node, const std::string& ip) {
  docker::Task t = Running("t-" + node, ip);
  t.node_id = node;
  return t;
}

std::vector<std::string> ServersOf(const ClusterPlan& plan, const std::string& upstream) {
  std::vector<std::string> out;
  for (const auto& u : plan.built.model.upstreams) {
    if (u.name != upstream) continue;
    for (const auto& sv : u.servers) out.push_back(sv.address);
  }
  return out;
}

TEST(PlanTest, TasksOnNodesSwarmReportsLostLeaveTheConfiguration) {
  auto s = Base();
  s.routes = {Decode(Route("shop", "shop.example.com"))};
  s.nodes = std::make_shared<const store::NodeList>(store::NodeList{
      SwarmNode("ready", "ready"), SwarmNode("down", "down"), SwarmNode("unknown", "unknown"),
      SwarmNode("disconnected", "disconnected"), SwarmNode("mgr", "ready", "reachable"),
      SwarmNode("mgr-cut", "ready", "unreachable")});
  s.tasks["svc-app"] = std::make_shared<const store::TaskList>(
      store::TaskList{RunningOn("ready", "10.0.1.1"), RunningOn("down", "10.0.1.2"),
                      RunningOn("unknown", "10.0.1.3"), RunningOn("disconnected", "10.0.1.4"),
                      RunningOn("mgr", "10.0.1.5"), RunningOn("mgr-cut", "10.0.1.6"),
                      RunningOn("not-listed", "10.0.1.7")});
  ClusterPlan plan = PlanCluster(s, PlanOptions{});
  // Down nodes and unreachable managers only: "unknown" and "disconnected"
  // are what every healthy node passes through at a leader election, and a
  // node missing from the listing is not known to be lost.
  EXPECT_EQ(ServersOf(plan, UpstreamName("shop", 0)),
            (std::vector<std::string>{"10.0.1.1:8080", "10.0.1.3:8080", "10.0.1.4:8080",
                                      "10.0.1.5:8080", "10.0.1.7:8080"}));
  const RouteOutcome& shop = plan.built.routes.at("shop");
  // The other tasks still serve the route: it stays Ready.
  EXPECT_EQ(shop.reason, kReasonReady);
  EXPECT_EQ(shop.endpoints.size(), 5u);
  ASSERT_EQ(plan.route_inputs.size(), 1u);
  EXPECT_EQ(plan.route_inputs[0].backends.at(0).on_lost_nodes, 2);

  // Every task lost: as when none runs, the route answers 503 and says why.
  auto all_lost = s;
  all_lost.tasks["svc-app"] = std::make_shared<const store::TaskList>(
      store::TaskList{RunningOn("down", "10.0.1.2"), RunningOn("mgr-cut", "10.0.1.6")});
  plan = PlanCluster(all_lost, PlanOptions{});
  EXPECT_TRUE(ServersOf(plan, UpstreamName("shop", 0)).empty());
  EXPECT_EQ(plan.built.routes.at("shop").reason, kReasonNoEndpoints);
  EXPECT_NE(plan.built.routes.at("shop").message.find("down or unreachable"), std::string::npos)
      << plan.built.routes.at("shop").message;

  // No node listing (a snapshot written by hand, a relist not done yet):
  // every running task is an endpoint.
  auto unlisted = s;
  unlisted.nodes = nullptr;
  EXPECT_EQ(ServersOf(PlanCluster(unlisted, PlanOptions{}), UpstreamName("shop", 0)).size(), 7u);
}

TEST(PlanTest, TlsSecretsToMountNamesOnlyExistingSecrets) {
  auto s = Base();
  s.secrets["shop-tls"] = Secret("shop-tls");
  auto refs = TlsSecretsToMount(s, {"shop-tls", "missing"});
  ASSERT_EQ(refs.size(), 1u);
  EXPECT_EQ(refs[0].id, "sec1");
  EXPECT_EQ(refs[0].target, "shop-tls");
}

}  // namespace
}  // namespace sg::reconcilers

namespace sg::reconcilers {
namespace {

TEST(PlanTest, ModelInputFingerprintFollowsWhatTheModelIsBuiltFrom) {
  auto s = Base();
  s.routes = {Decode(Route("shop", "shop.example.com"))};
  const std::string first = ModelInputFingerprint(PlanCluster(s, PlanOptions{}));
  EXPECT_EQ(ModelInputFingerprint(PlanCluster(s, PlanOptions{})), first);

  auto moved = s;
  moved.tasks["svc-app"] =
      std::make_shared<const store::TaskList>(store::TaskList{Running("t2", "10.0.1.8")});
  EXPECT_NE(ModelInputFingerprint(PlanCluster(moved, PlanOptions{})), first);

  auto changed = s;
  changed.routes = {Decode(Route("shop", "shop.example.com"), 2)};
  EXPECT_NE(ModelInputFingerprint(PlanCluster(changed, PlanOptions{})), first);

  auto cluster_changed = s;
  cluster_changed.cluster->stored.generation = 2;
  EXPECT_NE(ModelInputFingerprint(PlanCluster(cluster_changed, PlanOptions{})), first);

  // A node going down changes the endpoints, and so the fingerprint.
  auto on_node = s;
  docker::Task t = Running("t1", "10.0.1.7");
  t.node_id = "n1";
  on_node.tasks["svc-app"] = std::make_shared<const store::TaskList>(store::TaskList{t});
  docker::Node n;
  n.id = "n1";
  n.state = "ready";
  on_node.nodes = std::make_shared<const store::NodeList>(store::NodeList{n});
  const std::string ready = ModelInputFingerprint(PlanCluster(on_node, PlanOptions{}));
  n.state = "down";
  on_node.nodes = std::make_shared<const store::NodeList>(store::NodeList{n});
  EXPECT_NE(ModelInputFingerprint(PlanCluster(on_node, PlanOptions{})), ready);
}

TEST(PlanTest, TheDefaultBackendServiceIsResolvedAndWatched) {
  auto s = Base();
  s.cluster = Decode(Cluster() + "  defaultBackend: {service: fallback, port: 8081}\n");
  s.services["fallback"] = Service("svc-fb", "fallback");
  s.tasks["svc-fb"] =
      std::make_shared<const store::TaskList>(store::TaskList{Running("f1", "10.0.1.9")});
  ClusterPlan plan = PlanCluster(s, PlanOptions{});
  EXPECT_EQ(plan.used_services.count("fallback"), 1u);
  EXPECT_EQ(plan.default_backend_problem, "");
  EXPECT_EQ(ServersOf(plan, kDefaultBackendUpstream), std::vector<std::string>{"10.0.1.9:8081"});
  ASSERT_TRUE(plan.built.model.fallback.location);

  // Its tasks are part of what the model is built from.
  const std::string first = ModelInputFingerprint(plan);
  auto moved = s;
  moved.tasks["svc-fb"] =
      std::make_shared<const store::TaskList>(store::TaskList{Running("f2", "10.0.1.10")});
  EXPECT_NE(ModelInputFingerprint(PlanCluster(moved, PlanOptions{})), first);
}

TEST(PlanTest, AMissingDefaultBackendServiceIsReportedAndAnswers503) {
  auto s = Base();
  s.cluster = Decode(Cluster() + "  defaultBackend: {service: fallback, port: 8081}\n");
  ClusterPlan plan = PlanCluster(s, PlanOptions{});
  EXPECT_EQ(plan.used_services.count("fallback"), 1u);
  EXPECT_NE(plan.default_backend_problem.find("spec.defaultBackend: "), std::string::npos)
      << plan.default_backend_problem;
  EXPECT_NE(plan.default_backend_problem.find("fallback"), std::string::npos)
      << plan.default_backend_problem;
  ASSERT_TRUE(plan.built.model.fallback.location);
  EXPECT_TRUE(plan.built.model.fallback.location->selection.split.empty());

  auto idle = s;
  idle.services["fallback"] = Service("svc-fb", "fallback");
  ClusterPlan no_tasks = PlanCluster(idle, PlanOptions{});
  EXPECT_EQ(no_tasks.default_backend_problem,
            "spec.defaultBackend: no running task of service \"fallback\" yet: requests no "
            "route claims get 503");
}

}  // namespace
}  // namespace sg::reconcilers
