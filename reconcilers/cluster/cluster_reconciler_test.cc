#include "reconcilers/cluster/cluster_reconciler.h"

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "crds/loader.h"
#include "crds/status.h"
#include "operator/metrics/registry.h"
#include "operator/testing/fake_docker_client.h"
#include "operator/testing/fake_nginx_validator.h"
#include "reconcilers/dataplane/nginx_data_plane.h"
#include "reconcilers/model/model_builder.h"
#include "reconcilers/proxy_service_spec.h"

namespace sg::reconcilers {
namespace {

// Records what the reconciler publishes; the test decides what the proxies serve.
class FakePublisher : public ConfigPublisher {
 public:
  struct Published {
    std::string cluster;
    std::string text;
    std::string trigger;
  };

  int64_t Publish(const std::string& cluster, const std::string& text, const std::string& trigger,
                  TimePoint) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto& c = clusters_[cluster];
    if (c.generation == 0 || c.text != text) {
      c.text = text;
      ++c.generation;
      // Proxies that pick up every new generation at once, unless a test
      // wants to hold them back.
      if (auto_serve) served_[cluster] = c.generation;
    }
    published_.push_back({cluster, text, trigger});
    return c.generation;
  }
  void SetToken(const std::string& cluster, const std::string& digest) override {
    std::lock_guard<std::mutex> lock(mu_);
    tokens_[cluster] = digest;
  }
  void SetExpectedProxies(const std::string& cluster, std::vector<std::string> ids) override {
    std::lock_guard<std::mutex> lock(mu_);
    expected_[cluster] = std::move(ids);
  }
  int64_t ServedGeneration(const std::string& cluster) override {
    std::lock_guard<std::mutex> lock(mu_);
    return served_[cluster];
  }
  int64_t CurrentGeneration(const std::string& cluster) override {
    std::lock_guard<std::mutex> lock(mu_);
    return clusters_[cluster].generation;
  }
  bool AwaitingProxies(const std::string&) override {
    std::lock_guard<std::mutex> lock(mu_);
    return awaiting_;
  }
  void SetAwaiting(bool awaiting) {
    std::lock_guard<std::mutex> lock(mu_);
    awaiting_ = awaiting;
  }
  // By default the proxies serve something once they served a generation of
  // this publisher; a test sets it for texts of an earlier process.
  bool EveryProxyServes(const std::string& cluster) override {
    std::lock_guard<std::mutex> lock(mu_);
    return every_serves_.value_or(served_[cluster] > 0);
  }
  void SetEveryProxyServes(std::optional<bool> serves) {
    std::lock_guard<std::mutex> lock(mu_);
    every_serves_ = serves;
  }
  void Forget(const std::string& cluster) override {
    std::lock_guard<std::mutex> lock(mu_);
    clusters_.erase(cluster);
    forgotten_.push_back(cluster);
  }

  bool auto_serve = true;

  void SetServed(const std::string& cluster, int64_t generation) {
    std::lock_guard<std::mutex> lock(mu_);
    served_[cluster] = generation;
  }
  std::vector<Published> published() const {
    std::lock_guard<std::mutex> lock(mu_);
    return published_;
  }
  std::string LastText() const {
    std::lock_guard<std::mutex> lock(mu_);
    return published_.empty() ? "" : published_.back().text;
  }
  std::string Token(const std::string& cluster) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = tokens_.find(cluster);
    return it == tokens_.end() ? "" : it->second;
  }
  std::vector<std::string> Expected(const std::string& cluster) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = expected_.find(cluster);
    return it == expected_.end() ? std::vector<std::string>{} : it->second;
  }
  std::vector<std::string> forgotten() const {
    std::lock_guard<std::mutex> lock(mu_);
    return forgotten_;
  }

 private:
  struct ClusterState {
    std::string text;
    int64_t generation = 0;
  };
  mutable std::mutex mu_;
  bool awaiting_ = false;
  std::optional<bool> every_serves_;
  std::map<std::string, ClusterState> clusters_;
  std::map<std::string, std::string> tokens_;
  std::map<std::string, std::vector<std::string>> expected_;
  std::map<std::string, int64_t> served_;
  std::vector<Published> published_;
  std::vector<std::string> forgotten_;
};

// Rejects every configuration that contains route `route`, pointing nginx's
// error line at that route's first comment, as `nginx -t` would.
class RejectRouteValidator : public nginx::NginxValidator {
 public:
  explicit RejectRouteValidator(std::string route) : marker_("# route " + route + "\n") {}
  Status Validate(const std::string& config,
                  const std::map<std::string, std::string>&) const override {
    std::lock_guard<std::mutex> lock(mu_);
    ++calls_;
    auto pos = config.find(marker_);
    if (pos == std::string::npos) return OkStatus();
    int line = 1;
    for (size_t i = 0; i < pos; ++i) line += config[i] == '\n';
    // The directive after the comment is what nginx would complain about.
    return InvalidArgument("nginx: [emerg] invalid parameter \"x\" in nginx.conf:" +
                           std::to_string(line + 1));
  }
  int calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

 private:
  std::string marker_;
  mutable std::mutex mu_;
  mutable int calls_ = 0;
};

std::string ClusterYaml(const std::string& name, const std::string& proxy_extra = "") {
  return "apiVersion: swarmgate.io/v1alpha1\n"
         "kind: ServiceCluster\n"
         "metadata: {name: " +
         name +
         "}\n"
         "spec:\n"
         "  proxy:\n"
         "    image: swarmgate/proxy:test\n"
         "    replicas: 2\n" +
         proxy_extra;
}

std::string RouteYaml(const std::string& name, const std::string& host, const std::string& backend,
                      const std::string& extra = "", const std::string& cluster = "public") {
  return "apiVersion: swarmgate.io/v1alpha1\n"
         "kind: Route\n"
         "metadata: {name: " +
         name +
         "}\n"
         "spec:\n"
         "  serviceCluster: " +
         cluster + "\n  hosts: [" + host + "]\n  backends: [{service: " + backend +
         ", port: 8080}]\n" + extra;
}

class ClusterReconcilerTest : public ::testing::Test {
 protected:
  ClusterReconcilerTest() : ClusterReconcilerTest(nullptr) {}
  explicit ClusterReconcilerTest(nginx::NginxValidator* validator)
      : metrics_(registry_),
        plane_(validator ? *validator : fake_validator_),
        rec_(docker_, store_, cache_, Planes(plane_, &planes_), publisher_, index_, metrics_,
             clock_) {}

  static const dataplane::DataPlanes& Planes(dataplane::DataPlane& plane,
                                             dataplane::DataPlanes* planes) {
    planes->Register(plane);
    return *planes;
  }

  void Apply(const std::string& yaml) {
    auto loaded = crds::LoadText(yaml, "test.yaml");
    std::string diags;
    for (const auto& d : loaded.diagnostics) diags += d.ToString() + "\n";
    ASSERT_TRUE(loaded.ok()) << diags;
    for (const auto& r : loaded.resources) {
      auto applied = store_.Apply(r.kind, r.name, r.canonical_json);
      ASSERT_TRUE(applied.ok()) << applied.error().ToString();
    }
  }

  runtime::ReconcileResult Pass(const std::string& cluster = "public",
                                const std::string& trigger = "servicecluster") {
    // Passes read the cache; the operator keeps it current from events.
    auto synced = cache_.Relist();
    EXPECT_TRUE(synced.ok()) << synced.error().ToString();
    auto r = rec_.Reconcile("cluster/" + cluster, {trigger, clock_.Now()});
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? *r : runtime::ReconcileResult{};
  }

  // A ready, active worker node; returns its id.
  std::string AddReadyWorker(const std::string& hostname) {
    docker::Node worker;
    worker.hostname = hostname;
    worker.role = "worker";
    worker.availability = "active";
    worker.state = "ready";
    return docker_.AddNode(worker);
  }

  std::string NetworkId(const std::string& name) {
    auto n = docker_.InspectNetwork(name);
    EXPECT_TRUE(n.ok()) << name;
    return n.ok() ? n->id : "";
  }

  // A backend service attached to `network` (none when empty).
  std::string CreateBackend(const std::string& name, const std::string& network = "sg-public",
                            bool healthcheck = false) {
    std::string spec =
        R"({"Name":")" + name + R"(","TaskTemplate":{"ContainerSpec":{"Image":")" + name + R"(:1")";
    if (healthcheck) spec += R"(,"Healthcheck":{"Test":["CMD","true"]})";
    spec += "}";
    if (!network.empty()) spec += R"(,"Networks":[{"Target":")" + network + R"("}])";
    spec += "}}";
    auto id = docker_.CreateService(spec);
    EXPECT_TRUE(id.ok()) << id.error().ToString();
    return id.ok() ? *id : "";
  }

  docker::Task RunningTask(const std::string& id, const std::string& network_id,
                           const std::string& ip, const std::string& desired = "running") {
    docker::Task t;
    t.id = id;
    t.desired_state = desired;
    t.state = "running";
    t.node_id = "node-1";
    if (!network_id.empty()) t.networks.push_back({network_id, "", {ip + "/24"}});
    return t;
  }

  crds::ResourceStatus Status(crds::Kind kind, const std::string& name) {
    auto stored = store_.Get(kind, name);
    EXPECT_TRUE(stored.ok()) << name;
    if (!stored.ok() || stored->status_json.empty()) return {};
    auto status = crds::DecodeStatus(stored->status_json);
    EXPECT_TRUE(status.ok()) << stored->status_json;
    return status.ok() ? *status : crds::ResourceStatus{};
  }

  crds::Condition Cond(crds::Kind kind, const std::string& name, const char* type) {
    auto status = Status(kind, name);
    const auto* c = status.FindCondition(type);
    EXPECT_NE(c, nullptr) << name << " has no condition " << type;
    return c ? *c : crds::Condition{};
  }

  std::vector<std::string> OwnedConfigNames(const std::string& cluster) {
    auto configs =
        docker_.ListConfigs({{"label", {std::string(kLabelOwner) + "=" + OwnerValue(cluster)}}});
    EXPECT_TRUE(configs.ok());
    std::vector<std::string> out;
    if (configs.ok()) {
      for (const auto& c : *configs) out.push_back(c.spec.name);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  docker::FakeDockerClient docker_;
  store::ResourceStore store_{docker_};
  store::SwarmCache cache_{docker_, store_};
  nginx::FakeNginxValidator fake_validator_;
  FakePublisher publisher_;
  ClusterIndex index_;
  metrics::Registry registry_;
  metrics::SwarmgateMetrics metrics_;
  runtime::FakeClock clock_;
  dataplane::NginxDataPlane plane_;
  dataplane::DataPlanes planes_;
  ClusterReconciler rec_;
};

TEST_F(ClusterReconcilerTest, FirstPassCreatesNetworkTokenServiceAndPublishes) {
  Apply(ClusterYaml("public"));
  auto result = Pass();

  auto net = docker_.InspectNetwork("sg-public");
  ASSERT_TRUE(net.ok());
  EXPECT_EQ(net->driver, "overlay");
  EXPECT_TRUE(net->attachable);
  EXPECT_EQ(net->labels[kLabelOwner], "cluster/public");
  EXPECT_EQ(net->labels[kLabelManagedBy], "swarmgate");
  auto control = docker_.InspectNetwork("sg-control");
  ASSERT_TRUE(control.ok());

  auto secret = docker_.InspectSecret("sg-token-public");
  ASSERT_TRUE(secret.ok());
  EXPECT_EQ(secret->labels[kLabelOwner], "cluster/public");
  const std::string digest = secret->labels[kLabelTokenHash];
  EXPECT_EQ(digest.size(), 64u);
  EXPECT_EQ(publisher_.Token("public"), digest);

  auto svc = docker_.InspectService("sg-proxy-public");
  ASSERT_TRUE(svc.ok());
  EXPECT_EQ(svc->labels[kLabelOwner], "cluster/public");
  EXPECT_EQ(svc->labels[kLabelManagedBy], "swarmgate");
  EXPECT_FALSE(svc->labels[kLabelSpecHash].empty());
  EXPECT_EQ(svc->replicas, 2u);
  EXPECT_NE(std::find(svc->network_targets.begin(), svc->network_targets.end(), net->id),
            svc->network_targets.end());
  EXPECT_NE(std::find(svc->network_targets.begin(), svc->network_targets.end(), control->id),
            svc->network_targets.end());
  EXPECT_NE(svc->spec_json.find("sg-token-public"), std::string::npos);

  auto published = publisher_.published();
  ASSERT_EQ(published.size(), 1u);
  EXPECT_EQ(published[0].cluster, "public");
  EXPECT_EQ(published[0].trigger, "servicecluster");
  EXPECT_NE(published[0].text.find("worker_connections"), std::string::npos);
  ASSERT_EQ(fake_validator_.configs().size(), 1u);
  // No proxy serves yet: look again soon.
  EXPECT_GT(result.requeue_after.count(), 0);
  EXPECT_EQ(Cond(crds::Kind::kServiceCluster, "public", crds::kConditionReady).status,
            crds::kConditionFalse);
}

TEST_F(ClusterReconcilerTest, SecondPassWithNothingChangedWritesNothing) {
  Apply(ClusterYaml("public"));
  Apply(RouteYaml("shop", "shop.example.com", "shop"));
  Pass();
  std::string shop = CreateBackend("shop");
  docker_.SetTasks(shop, {RunningTask("t1", NetworkId("sg-public"), "10.0.1.7")});
  Pass();
  const std::string first = publisher_.LastText();
  const int64_t generation = publisher_.CurrentGeneration("public");
  const size_t validations = fake_validator_.configs().size();
  const auto renders = metrics_.render_duration_seconds.WithLabels({}).Snap().count;

  docker_.ResetCounters();
  Pass();
  EXPECT_EQ(docker_.WriteCount(), 0) << ::testing::PrintToString(docker_.CallLog());
  // Unchanged statuses are not even read back (one read per route per pass
  // dominated a pass at 1000 routes).
  EXPECT_EQ(docker_.CallCount("InspectConfig"), 0) << ::testing::PrintToString(docker_.CallLog());
  EXPECT_EQ(publisher_.LastText(), first);
  EXPECT_EQ(publisher_.CurrentGeneration("public"), generation);
  // An unchanged configuration is not validated again either.
  EXPECT_EQ(fake_validator_.configs().size(), validations);
  // Nor built or rendered: the model's inputs are compared first.
  EXPECT_EQ(metrics_.render_duration_seconds.WithLabels({}).Snap().count, renders);
}

TEST_F(ClusterReconcilerTest, DriftOfTheProxyServiceIsRepaired) {
  Apply(ClusterYaml("public"));
  Pass();
  auto svc = docker_.InspectService("sg-proxy-public");
  ASSERT_TRUE(svc.ok());
  const std::string hash = svc->labels[kLabelSpecHash];
  ASSERT_FALSE(hash.empty());

  // Somebody edits the service by hand: other replicas, other hash label.
  std::string tampered = svc->spec_json;
  auto replace = [&](const std::string& from, const std::string& to) {
    auto pos = tampered.find(from);
    ASSERT_NE(pos, std::string::npos) << from << " in " << tampered;
    tampered.replace(pos, from.size(), to);
  };
  replace("\"Replicas\":2", "\"Replicas\":5");
  replace(hash, "0000000000000000");
  ASSERT_TRUE(docker_.UpdateService(svc->id, svc->version, tampered).ok());
  ASSERT_EQ(docker_.InspectService("sg-proxy-public")->replicas, 5u);

  docker_.ResetCounters();
  Pass();
  EXPECT_EQ(docker_.CallCount("UpdateService"), 1);
  auto repaired = docker_.InspectService("sg-proxy-public");
  ASSERT_TRUE(repaired.ok());
  EXPECT_EQ(repaired->replicas, 2u);
  EXPECT_EQ(repaired->labels[kLabelSpecHash], hash);
  EXPECT_EQ(repaired->id, svc->id);
}

TEST_F(ClusterReconcilerTest, ClusterSpecChangeUpdatesTheService) {
  Apply(ClusterYaml("public"));
  Pass();
  auto before = docker_.InspectService("sg-proxy-public");
  ASSERT_TRUE(before.ok());

  std::string yaml = ClusterYaml("public");
  yaml.replace(yaml.find("replicas: 2"), 11, "replicas: 3");
  Apply(yaml);
  docker_.ResetCounters();
  Pass();
  EXPECT_EQ(docker_.CallCount("UpdateService"), 1);
  EXPECT_EQ(docker_.CallCount("CreateService"), 0);
  auto after = docker_.InspectService("sg-proxy-public");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->id, before->id);
  EXPECT_EQ(after->replicas, 3u);
  EXPECT_NE(after->labels[kLabelSpecHash], before->labels[kLabelSpecHash]);
  auto status = Status(crds::Kind::kServiceCluster, "public");
  ASSERT_TRUE(status.proxy_replicas.has_value());
  EXPECT_EQ(status.proxy_replicas->desired, 3);
  EXPECT_EQ(status.observed_generation, 2);
}

// Host publish mode: a listener service holds the ports; the proxies have
// none. A new proxy image rolls the proxies only: restarting the listeners
// would close the node's ports.
TEST_F(ClusterReconcilerTest, HostModeListenerHoldsThePortsAndKeepsItsImage) {
  Apply(ClusterYaml("public", "    ports: {http: 8080, https: 8443}\n"));
  Pass();
  auto listener = docker_.InspectService("sg-listen-public");
  ASSERT_TRUE(listener.ok());
  EXPECT_EQ(listener->labels[kLabelOwner], "cluster/public");
  EXPECT_EQ(listener->labels[kLabelImage], "swarmgate/proxy:test");
  // On the host network, holding the ports itself: nothing published.
  EXPECT_EQ(listener->spec_json.find("PublishedPort"), std::string::npos) << listener->spec_json;
  EXPECT_NE(listener->spec_json.find("\"--port\",\"8080\""), std::string::npos);
  auto proxy = docker_.InspectService("sg-proxy-public");
  ASSERT_TRUE(proxy.ok());
  EXPECT_EQ(proxy->spec_json.find("PublishedPort"), std::string::npos) << proxy->spec_json;
  EXPECT_NE(proxy->spec_json.find("\"Order\":\"start-first\""), std::string::npos);

  std::string yaml = ClusterYaml("public", "    ports: {http: 8080, https: 8443}\n");
  yaml.replace(yaml.find("proxy:test"), 10, "proxy:next");
  Apply(yaml);
  docker_.ResetCounters();
  Pass();
  EXPECT_EQ(docker_.CallCount("UpdateService"), 1) << ::testing::PrintToString(docker_.CallLog());
  EXPECT_EQ(docker_.InspectService("sg-listen-public")->version, listener->version);
  EXPECT_NE(docker_.InspectService("sg-proxy-public")->spec_json.find("proxy:next"),
            std::string::npos);

  // New ports: the listeners must change, and take the current image.
  yaml.replace(yaml.find("http: 8080"), 10, "http: 8081");
  Apply(yaml);
  Pass();
  auto moved = docker_.InspectService("sg-listen-public");
  ASSERT_TRUE(moved.ok());
  EXPECT_NE(moved->spec_json.find("\"--port\",\"8081\""), std::string::npos);
  EXPECT_EQ(moved->labels[kLabelImage], "swarmgate/proxy:next");
}

TEST_F(ClusterReconcilerTest, IngressModeHasNoListener) {
  Apply(ClusterYaml("public"));
  Pass();
  ASSERT_TRUE(docker_.InspectService("sg-listen-public").ok());
  Apply(ClusterYaml("public", "    publishMode: ingress\n"));
  Pass();
  EXPECT_TRUE(docker_.InspectService("sg-listen-public").error().Is(ErrorCode::kNotFound));
  auto proxy = docker_.InspectService("sg-proxy-public");
  ASSERT_TRUE(proxy.ok());
  EXPECT_NE(proxy->spec_json.find("\"PublishMode\":\"ingress\""), std::string::npos);
}

// Proxies created before the listener service publish the host ports
// themselves; a start-first replacement would wait for a listener that
// cannot bind until they are gone, so that one update is stop-first.
TEST_F(ClusterReconcilerTest, ProxiesThatStillHoldHostPortsAreReplacedStopFirst) {
  auto id = docker_.CreateService(
      R"({"Name":"sg-proxy-public","Labels":{"swarmgate.io/owner":"cluster/public"},)"
      R"("TaskTemplate":{"ContainerSpec":{"Image":"swarmgate/proxy:old"}},)"
      R"("EndpointSpec":{"Mode":"dnsrr","Ports":[{"Protocol":"tcp","TargetPort":80,)"
      R"("PublishedPort":80,"PublishMode":"host"}]}})");
  ASSERT_TRUE(id.ok());
  Apply(ClusterYaml("public"));
  Pass();
  auto migrated = docker_.InspectService("sg-proxy-public");
  ASSERT_TRUE(migrated.ok());
  EXPECT_NE(migrated->spec_json.find("\"Order\":\"stop-first\""), std::string::npos);
  Pass();  // from now on the policy of the cluster applies
  EXPECT_NE(docker_.InspectService("sg-proxy-public")->spec_json.find("\"Order\":\"start-first\""),
            std::string::npos);
}

TEST_F(ClusterReconcilerTest, GlobalModeWantsAProxyOnEveryNodeSwarmChose) {
  Apply(
      "apiVersion: swarmgate.io/v1alpha1\nkind: ServiceCluster\nmetadata: {name: public}\n"
      "spec:\n  proxy: {image: swarmgate/proxy:test, mode: global}\n");
  Pass();
  auto proxy = docker_.InspectService("sg-proxy-public");
  ASSERT_TRUE(proxy.ok());
  EXPECT_NE(proxy->spec_json.find("\"Global\":{}"), std::string::npos) << proxy->spec_json;
  auto on = [&](const std::string& id, const std::string& node, const std::string& state) {
    docker::Task t = RunningTask(id, "", "");
    t.node_id = node;
    t.state = state;
    return t;
  };
  docker_.SetTasks(proxy->id, {on("p1", "node-1", "running"), on("p2", "node-2", "starting")});
  Pass();
  auto status = Status(crds::Kind::kServiceCluster, "public");
  ASSERT_TRUE(status.proxy_replicas.has_value());
  EXPECT_EQ(status.proxy_replicas->desired, 2);
  EXPECT_EQ(status.proxy_replicas->running, 1);
  EXPECT_EQ(Cond(crds::Kind::kServiceCluster, "public", crds::kConditionReady).status,
            crds::kConditionFalse);
}

TEST_F(ClusterReconcilerTest, TaskChangesReachTheConfigAndTheRouteStatus) {
  Apply(ClusterYaml("public"));
  Apply(RouteYaml("shop", "shop.example.com", "shop"));
  Pass();
  EXPECT_EQ(Cond(crds::Kind::kRoute, "shop", crds::kConditionReady).reason, kReasonBackendNotFound);

  std::string shop = CreateBackend("shop");
  const std::string net = NetworkId("sg-public");
  docker_.SetTasks(shop, {RunningTask("t1", net, "10.0.1.7"), RunningTask("t2", net, "10.0.1.8")});
  Pass("public", "task");
  std::string text = publisher_.LastText();
  EXPECT_NE(text.find("10.0.1.7:8080"), std::string::npos) << text;
  EXPECT_NE(text.find("10.0.1.8:8080"), std::string::npos) << text;
  EXPECT_EQ(publisher_.published().back().trigger, "task");
  auto status = Status(crds::Kind::kRoute, "shop");
  EXPECT_EQ(status.endpoints, (std::vector<std::string>{"10.0.1.7:8080", "10.0.1.8:8080"}));
  const auto* ready = status.FindCondition(crds::kConditionReady);
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ(ready->status, crds::kConditionTrue);
  EXPECT_EQ(ready->reason, kReasonReady);
  EXPECT_EQ(metrics_.routes.WithLabels({"public", "true"}).Value(), 1);
  EXPECT_EQ(metrics_.routes.WithLabels({"public", "false"}).Value(), 0);
  EXPECT_EQ(metrics_.route_ready.WithLabels({"public", "shop"}).Value(), 1);

  // t2 is told to shut down: it leaves the configuration at once.
  docker_.SetTasks(
      shop, {RunningTask("t1", net, "10.0.1.7"), RunningTask("t2", net, "10.0.1.8", "shutdown")});
  Pass("public", "task");
  text = publisher_.LastText();
  EXPECT_NE(text.find("10.0.1.7:8080"), std::string::npos);
  EXPECT_EQ(text.find("10.0.1.8:8080"), std::string::npos) << text;
  EXPECT_EQ(Status(crds::Kind::kRoute, "shop").endpoints,
            std::vector<std::string>{"10.0.1.7:8080"});

  // The index tells watchers which services and routes the cluster depends on.
  EXPECT_EQ(index_.ClustersUsingService("shop"), std::vector<std::string>{"public"});
  EXPECT_EQ(index_.ClustersOfRoute("shop"), std::vector<std::string>{"public"});
}

TEST_F(ClusterReconcilerTest, ANodeGoingDownTakesItsTasksOutAtOnce) {
  Apply(ClusterYaml("public"));
  Apply(RouteYaml("shop", "shop.example.com", "shop"));
  Pass();
  std::string shop = CreateBackend("shop");
  const std::string net = NetworkId("sg-public");
  const std::string node2 = AddReadyWorker("node-2");
  docker::Task on_node2 = RunningTask("t2", net, "10.0.1.8");
  on_node2.node_id = node2;
  docker_.SetTasks(shop, {RunningTask("t1", net, "10.0.1.7"), on_node2});
  Pass("public", "task");
  EXPECT_NE(publisher_.LastText().find("10.0.1.8:8080"), std::string::npos);
  const std::string ready_since =
      Cond(crds::Kind::kRoute, "shop", crds::kConditionReady).last_transition_time;

  // Swarm still lists t2 running; its node is down: it leaves the
  // configuration, and the route, served by t1, stays Ready.
  ASSERT_TRUE(docker_.SetNodeStatus(node2, "down"));
  clock_.Advance(std::chrono::seconds(1));
  Pass("public", "task");
  std::string text = publisher_.LastText();
  EXPECT_NE(text.find("10.0.1.7:8080"), std::string::npos) << text;
  EXPECT_EQ(text.find("10.0.1.8:8080"), std::string::npos) << text;
  auto status = Status(crds::Kind::kRoute, "shop");
  EXPECT_EQ(status.endpoints, std::vector<std::string>{"10.0.1.7:8080"});
  const auto* ready = status.FindCondition(crds::kConditionReady);
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ(ready->status, crds::kConditionTrue);
  EXPECT_EQ(ready->last_transition_time, ready_since);

  // Back up: back in.
  ASSERT_TRUE(docker_.SetNodeStatus(node2, "ready"));
  Pass("public", "task");
  EXPECT_NE(publisher_.LastText().find("10.0.1.8:8080"), std::string::npos);
}

TEST_F(ClusterReconcilerTest, RouteStatusesNameWhatIsWrong) {
  Apply(ClusterYaml("public"));
  Pass();
  const std::string net = NetworkId("sg-public");
  docker_.SetTasks(CreateBackend("web"), {RunningTask("t1", net, "10.0.1.7")});
  CreateBackend("offnet", "");
  Apply(RouteYaml("first", "same.example.com", "web"));
  Apply(RouteYaml("second", "same.example.com", "web"));
  Apply(RouteYaml("missing", "missing.example.com", "nosuchservice"));
  Apply(RouteYaml("detached", "detached.example.com", "offnet"));
  Apply(RouteYaml("nosecret", "secure.example.com", "web",
                  "  tls: {mode: terminate, secret: absent-tls}\n"));
  Apply(RouteYaml("other", "other.example.com", "web", "", "elsewhere"));
  Pass();

  struct Case {
    std::string route;
    std::string status;
    std::string reason;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {"first", crds::kConditionTrue, kReasonReady, "1 endpoints"},
      {"second", crds::kConditionFalse, kReasonConflict, "\"first\""},
      {"missing", crds::kConditionFalse, kReasonBackendNotFound, "nosuchservice"},
      {"detached", crds::kConditionFalse, kReasonBackendNotAttached, "--network-add sg-public"},
      {"nosecret", crds::kConditionFalse, kReasonSecretNotFound, "absent-tls"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.route);
    auto ready = Cond(crds::Kind::kRoute, c.route, crds::kConditionReady);
    EXPECT_EQ(ready.status, c.status);
    EXPECT_EQ(ready.reason, c.reason);
    EXPECT_NE(ready.message.find(c.message_part), std::string::npos) << ready.message;
    EXPECT_EQ(Status(crds::Kind::kRoute, c.route).observed_generation, 1);
  }
  // A route of another cluster is left to that cluster.
  EXPECT_TRUE(Status(crds::Kind::kRoute, "other").conditions.empty());
  const std::string text = publisher_.LastText();
  EXPECT_EQ(text.find("secure.example.com"), std::string::npos);
  EXPECT_NE(text.find("missing.example.com"), std::string::npos);
  EXPECT_EQ(metrics_.routes.WithLabels({"public", "true"}).Value(), 1);
  EXPECT_EQ(metrics_.routes.WithLabels({"public", "false"}).Value(), 4);
}

TEST_F(ClusterReconcilerTest, TlsSecretsOfRoutesAreMountedInTheProxy) {
  Apply(ClusterYaml("public"));
  Pass();
  docker::SecretSpec secret;
  secret.name = "shop-tls";
  secret.data = "pem";
  auto secret_id = docker_.CreateSecret(secret);
  ASSERT_TRUE(secret_id.ok());
  docker_.SetTasks(CreateBackend("shop"), {RunningTask("t1", NetworkId("sg-public"), "10.0.1.7")});
  Apply(RouteYaml("shop", "shop.example.com", "shop",
                  "  tls: {mode: terminate, secret: shop-tls}\n"));
  Pass();
  // First the proxies mount the secret; the route waits so that no proxy is
  // handed a config naming a file it lacks.
  EXPECT_EQ(Cond(crds::Kind::kRoute, "shop", crds::kConditionReady).reason, kReasonSecretMounting);
  auto svc = docker_.InspectService("sg-proxy-public");
  ASSERT_TRUE(svc.ok());
  EXPECT_NE(svc->spec_json.find("\"SecretID\":\"" + *secret_id + "\""), std::string::npos)
      << svc->spec_json;
  EXPECT_EQ(publisher_.LastText().find("/run/secrets/shop-tls"), std::string::npos);
  // While Swarm rolls the proxies the route keeps waiting.
  docker_.SetServiceUpdateState(svc->id, "updating");
  Pass();
  EXPECT_EQ(Cond(crds::Kind::kRoute, "shop", crds::kConditionReady).reason, kReasonSecretMounting);
  // Rolled: every proxy has it, the route is served.
  docker_.SetServiceUpdateState(svc->id, "completed");
  Pass();
  EXPECT_EQ(Cond(crds::Kind::kRoute, "shop", crds::kConditionReady).reason, kReasonReady);
  EXPECT_NE(publisher_.LastText().find("/run/secrets/shop-tls"), std::string::npos);
}

class RejectingClusterReconcilerTest : public ClusterReconcilerTest {
 protected:
  static RejectRouteValidator& Validator() {
    static RejectRouteValidator v("broken");
    return v;
  }
  RejectingClusterReconcilerTest() : ClusterReconcilerTest(&Validator()) {}
};

TEST_F(RejectingClusterReconcilerTest, RouteNginxRejectsIsLeftOutAndTheOthersPublished) {
  Apply(ClusterYaml("public"));
  Pass();
  docker_.SetTasks(CreateBackend("web"), {RunningTask("t1", NetworkId("sg-public"), "10.0.1.7")});
  Apply(RouteYaml("broken", "broken.example.com", "web"));
  Apply(RouteYaml("good", "good.example.com", "web"));
  const int calls_before = Validator().calls();
  Pass();
  // Rejected with the route, accepted without it.
  EXPECT_EQ(Validator().calls() - calls_before, 2);

  const std::string text = publisher_.LastText();
  EXPECT_NE(text.find("good.example.com"), std::string::npos) << text;
  EXPECT_EQ(text.find("broken.example.com"), std::string::npos) << text;
  auto broken = Status(crds::Kind::kRoute, "broken");
  const auto* ready = broken.FindCondition(crds::kConditionReady);
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ(ready->status, crds::kConditionFalse);
  EXPECT_EQ(ready->reason, kReasonInvalidConfig);
  EXPECT_NE(ready->message.find("invalid parameter"), std::string::npos) << ready->message;
  const auto* degraded = broken.FindCondition(crds::kConditionDegraded);
  ASSERT_NE(degraded, nullptr);
  EXPECT_EQ(degraded->status, crds::kConditionTrue);
  EXPECT_EQ(degraded->reason, kReasonInvalidConfig);
  EXPECT_EQ(Cond(crds::Kind::kRoute, "good", crds::kConditionReady).status, crds::kConditionTrue);
  EXPECT_EQ(Cond(crds::Kind::kRoute, "good", crds::kConditionDegraded).status,
            crds::kConditionFalse);
}

TEST_F(ClusterReconcilerTest, ConfigWithoutACulpritIsNeverPublished) {
  Apply(ClusterYaml("public"));
  Pass();
  const auto before = publisher_.published().size();
  fake_validator_.SetResult(InvalidArgument("nginx: [emerg] something global"));
  Apply(RouteYaml("shop", "shop.example.com", "shop"));
  ASSERT_TRUE(cache_.Relist().ok());
  auto r = rec_.Reconcile("cluster/public", {"route", clock_.Now()});
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(publisher_.published().size(), before);
}

TEST_F(ClusterReconcilerTest, MissingHealthcheckDegradesTheRoute) {
  Apply(ClusterYaml("public"));
  Pass();
  const std::string net = NetworkId("sg-public");
  docker_.SetTasks(CreateBackend("bare"), {RunningTask("t1", net, "10.0.1.7")});
  docker_.SetTasks(CreateBackend("checked", "sg-public", true),
                   {RunningTask("t2", net, "10.0.1.8")});
  const std::string policy = "  updatePolicy: {requireHealthcheck: true}\n";
  Apply(RouteYaml("bare", "bare.example.com", "bare", policy));
  Apply(RouteYaml("checked", "checked.example.com", "checked", policy));
  Apply(RouteYaml("relaxed", "relaxed.example.com", "bare"));
  Pass();

  auto bare = Cond(crds::Kind::kRoute, "bare", crds::kConditionDegraded);
  EXPECT_EQ(bare.status, crds::kConditionTrue);
  EXPECT_EQ(bare.reason, kReasonHealthcheckMissing);
  EXPECT_NE(bare.message.find("--health-cmd"), std::string::npos) << bare.message;
  // Degraded, still served.
  EXPECT_EQ(Cond(crds::Kind::kRoute, "bare", crds::kConditionReady).status, crds::kConditionTrue);
  EXPECT_EQ(Cond(crds::Kind::kRoute, "checked", crds::kConditionDegraded).status,
            crds::kConditionFalse);
  EXPECT_EQ(Cond(crds::Kind::kRoute, "relaxed", crds::kConditionDegraded).status,
            crds::kConditionFalse);
}

TEST_F(ClusterReconcilerTest, RouteIsConvergingUntilEveryProxyServesIt) {
  publisher_.auto_serve = false;
  Apply(ClusterYaml("public"));
  Apply(RouteYaml("shop", "shop.example.com", "shop"));
  Pass();
  std::string shop = CreateBackend("shop");
  docker_.SetTasks(shop, {RunningTask("t1", NetworkId("sg-public"), "10.0.1.7")});
  Pass();
  auto ready = *Status(crds::Kind::kRoute, "shop").FindCondition(crds::kConditionReady);
  EXPECT_EQ(ready.status, crds::kConditionFalse);
  EXPECT_EQ(ready.reason, "Converging");
  publisher_.SetServed("public", publisher_.CurrentGeneration("public"));
  Pass();
  ready = *Status(crds::Kind::kRoute, "shop").FindCondition(crds::kConditionReady);
  EXPECT_NE(ready.reason, "Converging") << ready.message;
}

// Enough routes that their statuses are written several at a time: each is
// written, once, with the outcome of its own route.
TEST_F(ClusterReconcilerTest, EveryRouteStatusOfABulkApplyIsWritten) {
  Apply(ClusterYaml("public"));
  Pass();
  std::string shop = CreateBackend("shop");
  docker_.SetTasks(shop, {RunningTask("t1", NetworkId("sg-public"), "10.0.1.7")});
  constexpr int kRoutes = 40;
  for (int i = 0; i < kRoutes; ++i) {
    const std::string name = "r" + std::to_string(i);
    Apply(RouteYaml(name, name + ".example.com", i % 10 == 9 ? "missing" : "shop"));
  }
  Pass();
  for (int i = 0; i < kRoutes; ++i) {
    const std::string name = "r" + std::to_string(i);
    auto status = Status(crds::Kind::kRoute, name);
    const auto* ready = status.FindCondition(crds::kConditionReady);
    ASSERT_NE(ready, nullptr) << name;
    EXPECT_EQ(status.observed_generation, 1) << name;
    if (i % 10 == 9) {
      EXPECT_EQ(ready->status, crds::kConditionFalse) << name << ": " << ready->message;
      EXPECT_NE(ready->message.find("missing"), std::string::npos)
          << name << ": " << ready->message;
    } else {
      EXPECT_EQ(ready->status, crds::kConditionTrue) << name << ": " << ready->message;
      EXPECT_EQ(status.endpoints, std::vector<std::string>{"10.0.1.7:8080"}) << name;
    }
  }
}

// A just-started operator that has not heard from every proxy yet does not
// know what they serve: the statuses a previous operator wrote stay.
TEST_F(ClusterReconcilerTest, StatusesStayUntilEveryProxyIsHeardFrom) {
  Apply(ClusterYaml("public"));
  Pass();
  std::string shop = CreateBackend("shop");
  docker_.SetTasks(shop, {RunningTask("t1", NetworkId("sg-public"), "10.0.1.7")});
  Apply(RouteYaml("shop", "shop.example.com", "shop"));
  Pass();
  ASSERT_EQ(Status(crds::Kind::kRoute, "shop").FindCondition(crds::kConditionReady)->status,
            crds::kConditionTrue);
  const auto cluster_before = Status(crds::Kind::kServiceCluster, "public");

  // A new version of the route, which the proxies do not serve yet, while
  // the operator has not heard from them: nothing is written.
  publisher_.auto_serve = false;
  publisher_.SetAwaiting(true);
  Apply(RouteYaml("shop", "shop2.example.com", "shop"));
  const auto route_before = Status(crds::Kind::kRoute, "shop");
  auto result = Pass();
  EXPECT_EQ(result.requeue_after, std::chrono::milliseconds(500));
  auto status = Status(crds::Kind::kRoute, "shop");
  EXPECT_EQ(status.observed_generation, route_before.observed_generation);
  EXPECT_EQ(status.conditions.size(), route_before.conditions.size());
  EXPECT_EQ(status.FindCondition(crds::kConditionReady) == nullptr,
            route_before.FindCondition(crds::kConditionReady) == nullptr)
      << "the pass wrote the route's status";
  const auto cluster_after = Status(crds::Kind::kServiceCluster, "public");
  EXPECT_EQ(cluster_after.FindCondition(crds::kConditionReady)->status,
            cluster_before.FindCondition(crds::kConditionReady)->status);
  EXPECT_EQ(cluster_after.FindCondition(crds::kConditionReady)->message,
            cluster_before.FindCondition(crds::kConditionReady)->message);

  // Heard from: the new version is not served yet, and the status says so.
  publisher_.SetAwaiting(false);
  Pass();
  status = Status(crds::Kind::kRoute, "shop");
  ASSERT_NE(status.FindCondition(crds::kConditionReady), nullptr);
  const auto ready = *status.FindCondition(crds::kConditionReady);
  EXPECT_EQ(status.observed_generation, 2);
  EXPECT_EQ(ready.status, crds::kConditionFalse);
  EXPECT_EQ(ready.reason, "Converging");
}

// Nothing was written before: there is nothing to keep, and the first
// status is written at once.
TEST_F(ClusterReconcilerTest, ANewClusterGetsItsFirstStatusWhileProxiesAreAwaited) {
  publisher_.SetAwaiting(true);
  Apply(ClusterYaml("public"));
  Pass();
  const auto status = Status(crds::Kind::kServiceCluster, "public");
  EXPECT_EQ(status.observed_generation, 1);
  EXPECT_NE(status.FindCondition(crds::kConditionReady), nullptr);
}

TEST_F(ClusterReconcilerTest, ReadyOnlyWhenEveryProxyServesTheGeneration) {
  Apply(ClusterYaml("public"));
  Pass();
  auto svc = docker_.InspectService("sg-proxy-public");
  ASSERT_TRUE(svc.ok());
  const std::string net = NetworkId("sg-public");

  // One proxy of two is running.
  docker_.SetTasks(svc->id, {RunningTask("p1", net, "10.0.1.2")});
  publisher_.SetServed("public", publisher_.CurrentGeneration("public"));
  auto result = Pass();
  EXPECT_GT(result.requeue_after.count(), 0);
  auto status = Status(crds::Kind::kServiceCluster, "public");
  ASSERT_TRUE(status.proxy_replicas.has_value());
  EXPECT_EQ(status.proxy_replicas->desired, 2);
  EXPECT_EQ(status.proxy_replicas->running, 1);
  EXPECT_EQ(status.FindCondition(crds::kConditionReady)->status, crds::kConditionFalse);

  // Both run, neither serves the current generation yet.
  docker_.SetTasks(svc->id,
                   {RunningTask("p1", net, "10.0.1.2"), RunningTask("p2", net, "10.0.1.3")});
  publisher_.SetServed("public", 0);
  result = Pass();
  EXPECT_GT(result.requeue_after.count(), 0);
  EXPECT_EQ(publisher_.Expected("public"), (std::vector<std::string>{"p1", "p2"}));
  status = Status(crds::Kind::kServiceCluster, "public");
  EXPECT_EQ(status.proxy_replicas->running, 2);
  EXPECT_EQ(status.FindCondition(crds::kConditionReady)->status, crds::kConditionFalse);
  EXPECT_EQ(status.FindCondition(crds::kConditionProgressing)->status, crds::kConditionTrue);

  publisher_.SetServed("public", publisher_.CurrentGeneration("public"));
  result = Pass();
  EXPECT_EQ(result.requeue_after.count(), 0);
  status = Status(crds::Kind::kServiceCluster, "public");
  EXPECT_EQ(status.FindCondition(crds::kConditionReady)->status, crds::kConditionTrue);
  EXPECT_EQ(status.FindCondition(crds::kConditionProgressing)->status, crds::kConditionFalse);
  EXPECT_EQ(status.observed_generation, 1);
}

// A proxy on a node Swarm reports lost can neither fetch nor report: it is
// not waited for, so the routes it cannot serve stay Ready on the others.
TEST_F(ClusterReconcilerTest, AProxyOnALostNodeIsNotWaitedFor) {
  Apply(ClusterYaml("public"));
  Pass();
  auto svc = docker_.InspectService("sg-proxy-public");
  ASSERT_TRUE(svc.ok());
  const std::string net = NetworkId("sg-public");
  const std::string node2 = AddReadyWorker("node-2");
  docker::Task p2 = RunningTask("p2", net, "10.0.1.3");
  p2.node_id = node2;
  docker_.SetTasks(svc->id, {RunningTask("p1", net, "10.0.1.2"), p2});
  Pass();
  EXPECT_EQ(publisher_.Expected("public"), (std::vector<std::string>{"p1", "p2"}));

  ASSERT_TRUE(docker_.SetNodeStatus(node2, "down"));
  Pass();
  EXPECT_EQ(publisher_.Expected("public"), (std::vector<std::string>{"p1"}));
  ASSERT_TRUE(docker_.SetNodeStatus(node2, "ready"));
  Pass();
  EXPECT_EQ(publisher_.Expected("public"), (std::vector<std::string>{"p1", "p2"}));
}

// An operator that takes the lead (or restarts) while a change is on its
// way: a route the proxies served before keeps Ready, only the change waits.
TEST_F(ClusterReconcilerTest, ARouteServedBeforeTheLeadStaysReadyWhileAChangeConverges) {
  Apply(ClusterYaml("public"));
  Apply(RouteYaml("shop", "shop.example.com", "shop"));
  Pass();
  const std::string net = NetworkId("sg-public");
  docker_.SetTasks(CreateBackend("shop"), {RunningTask("t1", net, "10.0.1.7")});
  Pass("public", "task");
  ASSERT_EQ(Cond(crds::Kind::kRoute, "shop", crds::kConditionReady).status, crds::kConditionTrue);

  rec_.ForgetMemories();  // a new leader's passes know nothing yet
  publisher_.auto_serve = false;
  Apply(RouteYaml("other", "other.example.com", "shop"));
  Pass("public", "route");
  EXPECT_EQ(Cond(crds::Kind::kRoute, "shop", crds::kConditionReady).status, crds::kConditionTrue);
  EXPECT_EQ(Cond(crds::Kind::kRoute, "other", crds::kConditionReady).status, crds::kConditionFalse);

  publisher_.SetServed("public", publisher_.CurrentGeneration("public"));
  Pass("public", "route");
  EXPECT_EQ(Cond(crds::Kind::kRoute, "other", crds::kConditionReady).status, crds::kConditionTrue);
}

// A restarted operator whose first text differs from the one the proxies
// serve (an endpoint changed meanwhile): its generations number none of what
// they serve, yet a route they served before stays Ready while the new text
// reaches them; a route is not live while a proxy serves nothing at all.
TEST_F(ClusterReconcilerTest, ARouteServedBeforeARestartStaysReadyWhileTheProxiesServeAnOldText) {
  Apply(ClusterYaml("public"));
  Apply(RouteYaml("shop", "shop.example.com", "shop"));
  Pass();
  const std::string net = NetworkId("sg-public");
  const std::string shop = CreateBackend("shop");
  docker_.SetTasks(shop, {RunningTask("t1", net, "10.0.1.7")});
  Pass("public", "task");
  ASSERT_EQ(Cond(crds::Kind::kRoute, "shop", crds::kConditionReady).status, crds::kConditionTrue);

  rec_.ForgetMemories();
  publisher_.auto_serve = false;
  publisher_.SetServed("public", 0);  // the new process's generations: none served
  publisher_.SetEveryProxyServes(true);
  docker_.SetTasks(shop, {RunningTask("t1", net, "10.0.1.7"), RunningTask("t2", net, "10.0.1.8")});
  Pass("public", "task");
  const auto ready = Cond(crds::Kind::kRoute, "shop", crds::kConditionReady);
  EXPECT_EQ(ready.status, crds::kConditionTrue) << ready.reason << ": " << ready.message;

  publisher_.SetEveryProxyServes(false);  // a new proxy, serving nothing yet
  Pass("public", "task");
  EXPECT_EQ(Cond(crds::Kind::kRoute, "shop", crds::kConditionReady).status, crds::kConditionFalse);

  publisher_.SetEveryProxyServes(std::nullopt);
  publisher_.SetServed("public", publisher_.CurrentGeneration("public"));
  Pass("public", "task");
  EXPECT_EQ(Cond(crds::Kind::kRoute, "shop", crds::kConditionReady).status, crds::kConditionTrue);
}

// One readiness series per route, removed with the route and with its cluster.
TEST_F(ClusterReconcilerTest, RouteReadySeriesFollowTheRoutes) {
  Apply(ClusterYaml("public"));
  Apply(RouteYaml("shop", "shop.example.com", "shop"));
  Apply(RouteYaml("blog", "blog.example.com", "blog"));
  Pass();
  // No backend service: served as 503, not Ready.
  EXPECT_EQ(metrics_.route_ready.WithLabels({"public", "shop"}).Value(), 0);
  ASSERT_TRUE(store_.Delete(crds::Kind::kRoute, "blog").ok());
  Pass();
  EXPECT_FALSE(metrics_.route_ready.Remove({"public", "blog"}));
  ASSERT_TRUE(store_.Delete(crds::Kind::kServiceCluster, "public").ok());
  Pass("public");
  EXPECT_FALSE(metrics_.route_ready.Remove({"public", "shop"}));
}

TEST_F(ClusterReconcilerTest, DeletedClusterIsTornDown) {
  Apply(ClusterYaml("public"));
  Apply(ClusterYaml("keep"));
  Pass("public");
  Pass("keep");
  ASSERT_TRUE(docker_.InspectService("sg-proxy-public").ok());

  ASSERT_TRUE(store_.Delete(crds::Kind::kServiceCluster, "public").ok());
  Pass("public");
  EXPECT_TRUE(docker_.InspectService("sg-proxy-public").error().Is(ErrorCode::kNotFound));
  EXPECT_TRUE(docker_.InspectNetwork("sg-public").error().Is(ErrorCode::kNotFound));
  EXPECT_TRUE(docker_.InspectSecret("sg-token-public").error().Is(ErrorCode::kNotFound));
  EXPECT_EQ(publisher_.forgotten(), std::vector<std::string>{"public"});
  // Shared and other clusters' objects stay.
  EXPECT_TRUE(docker_.InspectNetwork("sg-control").ok());
  EXPECT_TRUE(docker_.InspectService("sg-proxy-keep").ok());
  EXPECT_TRUE(docker_.InspectNetwork("sg-keep").ok());
  EXPECT_TRUE(docker_.InspectSecret("sg-token-keep").ok());

  // Nothing left: a second pass is a no-op.
  docker_.ResetCounters();
  Pass("public");
  EXPECT_EQ(docker_.WriteCount(), 0);
}

TEST_F(ClusterReconcilerTest, CollectGarbageRemovesOnlyOrphans) {
  Apply(ClusterYaml("gone", "    delivery: rolling\n"));
  Apply(ClusterYaml("keep"));
  Pass("gone");
  Pass("keep");
  ASSERT_FALSE(OwnedConfigNames("gone").empty());
  docker::NetworkSpec foreign;
  foreign.name = "app-net";
  ASSERT_TRUE(docker_.CreateNetwork(foreign).ok());

  // Deleted while the operator was not looking: no reconcile of "gone".
  ASSERT_TRUE(store_.Delete(crds::Kind::kServiceCluster, "gone").ok());
  ASSERT_TRUE(rec_.CollectGarbage().ok());
  EXPECT_FALSE(docker_.InspectService("sg-proxy-gone").ok());
  EXPECT_FALSE(docker_.InspectNetwork("sg-gone").ok());
  EXPECT_TRUE(OwnedConfigNames("gone").empty());
  EXPECT_TRUE(docker_.InspectService("sg-proxy-keep").ok());
  EXPECT_TRUE(docker_.InspectNetwork("sg-keep").ok());
  EXPECT_TRUE(docker_.InspectSecret("sg-token-keep").ok());
  EXPECT_TRUE(docker_.InspectNetwork("sg-control").ok());
  EXPECT_TRUE(docker_.InspectNetwork("app-net").ok());
  EXPECT_TRUE(store_.Get(crds::Kind::kServiceCluster, "keep").ok());

  // Nothing orphaned any more.
  docker_.ResetCounters();
  ASSERT_TRUE(rec_.CollectGarbage().ok());
  EXPECT_EQ(docker_.WriteCount(), 0);
}

TEST_F(ClusterReconcilerTest, RollingDeliveryMountsADockerConfigAndRemovesOldOnes) {
  std::string yaml = ClusterYaml("public", "    delivery: rolling\n");
  yaml.replace(yaml.find("replicas: 2"), 11, "replicas: 1");
  Apply(yaml);
  Pass();
  EXPECT_TRUE(publisher_.published().empty());
  auto first = OwnedConfigNames("public");
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].rfind("sg.proxy.public.", 0), 0u) << first[0];
  EXPECT_EQ(first[0].size(), std::string("sg.proxy.public.").size() + 12);
  auto config = docker_.InspectConfig(first[0]);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(first[0], "sg.proxy.public." + Sha256Hex(config->spec.data).substr(0, 12));
  EXPECT_NE(config->spec.data.find("worker_connections"), std::string::npos);
  auto svc = docker_.InspectService("sg-proxy-public");
  ASSERT_TRUE(svc.ok());
  EXPECT_NE(svc->spec_json.find("\"ConfigName\":\"" + first[0] + "\""), std::string::npos);
  EXPECT_NE(svc->spec_json.find(kProxyConfigPath), std::string::npos);
  EXPECT_FALSE(docker_.InspectSecret("sg-token-public").ok());

  // A new route: a new config, the service rolls to it, the old one stays
  // until the roll is over.
  Apply(RouteYaml("shop", "shop.example.com", "shop"));
  docker_.SetServiceUpdateState(svc->id, "updating");
  auto result = Pass();
  EXPECT_GT(result.requeue_after.count(), 0);
  auto both = OwnedConfigNames("public");
  ASSERT_EQ(both.size(), 2u);
  std::string second = both[0] == first[0] ? both[1] : both[0];
  svc = docker_.InspectService("sg-proxy-public");
  ASSERT_TRUE(svc.ok());
  EXPECT_NE(svc->spec_json.find("\"ConfigName\":\"" + second + "\""), std::string::npos);
  EXPECT_EQ(svc->spec_json.find(first[0]), std::string::npos);

  // Rolled and running: the old config goes.
  docker_.SetServiceUpdateState(svc->id, "completed");
  docker_.SetTasks(svc->id, {RunningTask("p1", NetworkId("sg-public"), "10.0.1.2")});
  result = Pass();
  EXPECT_EQ(result.requeue_after.count(), 0);
  EXPECT_EQ(OwnedConfigNames("public"), std::vector<std::string>{second});
  EXPECT_EQ(Cond(crds::Kind::kServiceCluster, "public", crds::kConditionReady).status,
            crds::kConditionTrue);
  EXPECT_NE(registry_.Serialize().find("swarmgate_convergence_seconds_count{cluster=\"public\""),
            std::string::npos);

  // Deleting the cluster removes its configs too.
  ASSERT_TRUE(store_.Delete(crds::Kind::kServiceCluster, "public").ok());
  Pass();
  EXPECT_TRUE(OwnedConfigNames("public").empty());
}

}  // namespace
}  // namespace sg::reconcilers
