// The operator on a real Swarm, end to end: the operator runs as a Swarm
// service (charts/swarmgate), `swarmgate apply` stores resources, and real
// requests go through the proxies' host-mode ports on each proxy node.
//
// The tests of this file share one operator, one ServiceCluster and its
// backends, and run in declaration order (the last one deletes the cluster).

#include <fstream>
#include <future>
#include <set>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "e2e/harness/harness.h"
#include "e2e/harness/loadgen_runner.h"
#include "e2e/harness/swarmgate_env.h"

namespace sg::e2e {
namespace {

using namespace std::chrono_literals;

class IngressE2E : public ::testing::Test {
 protected:
  struct Shared {
    explicit Shared(Cluster::Loaded l) : loaded(std::move(l)) {}
    Cluster::Loaded loaded;
    std::unique_ptr<SwarmgateEnv> env;
    std::unique_ptr<Resources> res;
    std::string cluster;  // ServiceCluster name
    std::string network;
    std::string svc_a, svc_b;
    int http_port = 0, https_port = 0;
    std::vector<int> proxy_nodes;  // node indexes with swarmgate.ingress=true
    std::string error;
  };
  static Shared* s_;

  static const Cluster& C() { return *s_->loaded; }

  static ShResult Swarmgate(const std::string& args, Duration timeout = 60s) {
    return s_->env->Swarmgate(args, timeout);
  }
  static std::string WriteFile(const std::string& name, const std::string& text) {
    return s_->env->WriteFile(name, text);
  }
  static std::string RouteYaml(const std::string& name, const std::string& host,
                               const std::string& path, const std::string& service) {
    return sg::e2e::RouteYaml(name, s_->cluster, host, path, service);
  }
  static std::string Condition(const std::string& kind, const std::string& name) {
    return s_->env->Ready(kind, name);
  }

  static HttpResponse Get(int node, const std::string& host, const std::string& target = "/") {
    return HttpGet(C().node(node).addr, s_->http_port, target, host, 3s);
  }

  static void SetUpTestSuite() {
    s_ = new Shared(Cluster::Load());
    if (!s_->loaded.ok()) return;
    const auto& c = C();
    s_->res = std::make_unique<Resources>(c);
    s_->env = std::make_unique<SwarmgateEnv>(c, SG_SWARMGATE_PATH);
    s_->proxy_nodes = s_->env->ProxyNodes();
    s_->error = s_->env->DeployOperator();
    if (!s_->error.empty()) return;

    s_->cluster = UniqueName("e2e");
    s_->network = "sg-" + s_->cluster;
    s_->http_port = UniquePort(20000, 24000);
    s_->https_port = s_->http_port + 1;
    s_->error = s_->env->CreateCluster(s_->cluster, static_cast<int>(s_->proxy_nodes.size()),
                                       s_->http_port, s_->https_port);
    if (!s_->error.empty()) return;
    s_->svc_a = s_->res->Service(UniqueName("e2e-a"), "--replicas 1 --network " + s_->network +
                                                          " " + EchoEnv() + " swarmgate/echo:dev");
    s_->svc_b = s_->res->Service(UniqueName("e2e-b"), "--replicas 1 --network " + s_->network +
                                                          " " + EchoEnv() + " swarmgate/echo:dev");
    if (s_->svc_a.empty() || s_->svc_b.empty()) {
      s_->error = "backend services: " + s_->res->last_error();
      return;
    }
    std::string routes = RouteYaml("e2e-a", "a.e2e.test", "/", s_->svc_a) + "---\n" +
                         RouteYaml("e2e-b", "b.e2e.test", "/api", s_->svc_b);
    auto applied = Swarmgate("apply -f " + WriteFile("routes.yaml", routes));
    if (!applied.ok()) s_->error = "apply routes: " + applied.Describe();
  }

  static void TearDownTestSuite() {
    if (s_ && s_->loaded.ok()) {
      if (!s_->cluster.empty()) {
        (void)Swarmgate("delete route e2e-a");
        (void)Swarmgate("delete route e2e-b");
        s_->env->DeleteCluster(s_->cluster);
      }
      s_->res.reset();
      // The operator stays deployed for the other suites; the cluster's
      // teardown removes it.
    }
    delete s_;
    s_ = nullptr;
  }

  void SetUp() override {
    ASSERT_TRUE(s_->loaded.ok()) << s_->loaded.error;
    ASSERT_TRUE(s_->error.empty()) << s_->error;
  }
};

IngressE2E::Shared* IngressE2E::s_ = nullptr;

TEST_F(IngressE2E, RequestsReachTheRightServiceOnEveryProxyNode) {
  for (int node : s_->proxy_nodes) {
    auto w =
        WaitUntil("a.e2e.test via node " + std::to_string(node), 90s, [&](std::string& observed) {
          auto r = Get(node, "a.e2e.test", "/hello");
          observed = r.Describe();
          return r.status == 200 && JsonField(r.body, "service") == s_->svc_a;
        });
    ASSERT_TRUE(w.ok) << w.message << "\nroute: " << Condition("route", "e2e-a")
                      << "\ncluster: " << Condition("servicecluster", s_->cluster);
    auto b = WaitUntil("b.e2e.test/api via node " + std::to_string(node), 30s,
                       [&](std::string& observed) {
                         auto r = Get(node, "b.e2e.test", "/api/x");
                         observed = r.Describe();
                         return r.status == 200 && JsonField(r.body, "service") == s_->svc_b &&
                                JsonField(r.body, "path") == "/api/x";
                       });
    EXPECT_TRUE(b.ok) << b.message;
    // b.e2e.test only routes /api: the root is not found.
    EXPECT_EQ(Get(node, "b.e2e.test", "/").status, 404);
    EXPECT_EQ(Get(node, "unknown.e2e.test", "/").status, 404);
  }
  auto ready = WaitUntil("route Ready", 30s, [&](std::string& observed) {
    observed = Condition("route", "e2e-a");
    return observed.rfind("True/", 0) == 0;
  });
  EXPECT_TRUE(ready.ok) << ready.message;
}

TEST_F(IngressE2E, EndpointsFollowScaling) {
  const auto& c = C();
  int node = s_->proxy_nodes.front();
  auto distinct_tasks = [&](int requests) {
    std::set<std::string> seen;
    for (int i = 0; i < requests; ++i) {
      auto r = Get(node, "a.e2e.test", "/who");
      if (r.status == 200) seen.insert(JsonField(r.body, "task"));
    }
    return seen;
  };
  ASSERT_TRUE(c.Docker("service scale -d " + s_->svc_a + "=3").ok());
  auto up = WaitUntil("3 tasks answer", 90s, [&](std::string& observed) {
    auto seen = distinct_tasks(30);
    observed = std::to_string(seen.size()) + " distinct tasks";
    return seen.size() == 3;
  });
  EXPECT_TRUE(up.ok) << up.message;
  ASSERT_TRUE(c.Docker("service scale -d " + s_->svc_a + "=1").ok());
  auto down = WaitUntil("only 1 task answers", 90s, [&](std::string& observed) {
    auto seen = distinct_tasks(30);
    observed = std::to_string(seen.size()) + " distinct tasks";
    return seen.size() == 1;
  });
  EXPECT_TRUE(down.ok) << down.message;
}

TEST_F(IngressE2E, BadRoutesGetReasonsWhileGoodTrafficFlows) {
  int node = s_->proxy_nodes.front();
  std::string url = "--url http://" + C().node(node).addr + ":" + std::to_string(s_->http_port) +
                    "/load --host a.e2e.test --concurrency 4 --keepalive --rate 200 --duration 8s";
  auto load = std::async(std::launch::async, [&] { return RunLoadgen(SG_LOADGEN_PATH, url); });

  std::string bad = RouteYaml("e2e-missing", "missing.e2e.test", "/", "no-such-service-e2e") +
                    "---\n" + RouteYaml("e2e-dup", "a.e2e.test", "/", s_->svc_b);
  auto applied = Swarmgate("apply -f " + WriteFile("bad.yaml", bad));
  EXPECT_TRUE(applied.ok()) << applied.Describe();
  auto missing = WaitUntil("BackendNotFound", 30s, [&](std::string& observed) {
    observed = Condition("route", "e2e-missing");
    return observed.rfind("False/BackendNotFound", 0) == 0;
  });
  EXPECT_TRUE(missing.ok) << missing.message;
  auto dup = WaitUntil("Conflict", 30s, [&](std::string& observed) {
    observed = Condition("route", "e2e-dup");
    return observed.rfind("False/Conflict", 0) == 0 && observed.find("e2e-a") != std::string::npos;
  });
  EXPECT_TRUE(dup.ok) << dup.message;
  // The older route keeps its traffic.
  auto r = Get(node, "a.e2e.test", "/");
  EXPECT_EQ(JsonField(r.body, "service"), s_->svc_a) << r.Describe();

  auto rep = load.get();
  ASSERT_TRUE(rep.parsed()) << rep.raw;
  EXPECT_GT(rep.requests, 500) << rep.raw;
  EXPECT_EQ(rep.failures, 0) << rep.raw;
  (void)Swarmgate("delete route e2e-missing");
  (void)Swarmgate("delete route e2e-dup");
}

TEST_F(IngressE2E, OperatorRestartCreatesNoDuplicates) {
  const auto& c = C();
  auto count = [&](const std::string& what) {
    auto r = c.Docker(what + " ls -q --filter label=swarmgate.io/owner=cluster/" + s_->cluster);
    return static_cast<int>(Lines(TrimRight(r.out)).size());
  };
  int services = count("service"), networks = count("network"), secrets = count("secret");
  EXPECT_EQ(services, 2);  // the proxies and the listener holding their host ports
  EXPECT_EQ(networks, 1);
  EXPECT_EQ(secrets, 1);
  auto ps = c.Docker("ps -q --filter label=com.docker.swarm.service.name=swarmgate_operator");
  ASSERT_TRUE(ps.ok() && !TrimRight(ps.out).empty()) << ps.Describe();
  ASSERT_TRUE(c.Docker("kill " + TrimRight(ps.out)).ok());
  auto back = WaitUntil("operator ready again", 90s, [&](std::string& observed) {
    auto now = c.Docker("ps -q --filter label=com.docker.swarm.service.name=swarmgate_operator");
    auto r = HttpGet(c.node(1).addr, kOperatorPort, "/readyz");
    observed = r.Describe() + " container=" + TrimRight(now.out);
    return r.status == 200 && TrimRight(now.out) != TrimRight(ps.out);
  });
  ASSERT_TRUE(back.ok) << back.message;
  // A change after the restart still converges, and nothing was duplicated.
  auto applied = Swarmgate("apply -f " +
                           WriteFile("c.yaml", RouteYaml("e2e-c", "c.e2e.test", "/", s_->svc_b)));
  ASSERT_TRUE(applied.ok()) << applied.Describe();
  auto w = WaitUntil("c.e2e.test served", 60s, [&](std::string& observed) {
    auto r = Get(s_->proxy_nodes.front(), "c.e2e.test", "/");
    observed = r.Describe();
    return r.status == 200;
  });
  EXPECT_TRUE(w.ok) << w.message;
  EXPECT_EQ(count("service"), services);
  EXPECT_EQ(count("network"), networks);
  EXPECT_EQ(count("secret"), secrets);
  (void)Swarmgate("delete route e2e-c");
}

TEST_F(IngressE2E, DeletedRouteAnswers404) {
  auto applied = Swarmgate("apply -f " +
                           WriteFile("d.yaml", RouteYaml("e2e-d", "d.e2e.test", "/", s_->svc_b)));
  ASSERT_TRUE(applied.ok()) << applied.Describe();
  int node = s_->proxy_nodes.front();
  auto up = WaitUntil("d.e2e.test served", 60s, [&](std::string& observed) {
    auto r = Get(node, "d.e2e.test");
    observed = r.Describe();
    return r.status == 200;
  });
  ASSERT_TRUE(up.ok) << up.message;
  ASSERT_TRUE(Swarmgate("delete route e2e-d").ok());
  auto gone = WaitUntil("d.e2e.test 404", 30s, [&](std::string& observed) {
    auto r = Get(node, "d.e2e.test");
    observed = r.Describe();
    return r.status == 404;
  });
  EXPECT_TRUE(gone.ok) << gone.message;
}

TEST_F(IngressE2E, PrometheusScrapesConvergence) {
  const auto& c = C();
  int port = UniquePort(30000, 32000);
  std::string cfg = WriteFile("prometheus.yml",
                              "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                              "scrape_configs:\n  - job_name: swarmgate\n    static_configs:\n"
                              "      - targets: ['" +
                                  c.node(1).addr + ":" + std::to_string(kOperatorPort) + "']\n");
  std::string data = s_->env->dir() + "/prometheus-data";
  auto started = Sh("prometheus --config.file=" + ShellQuote(cfg) + " --storage.tsdb.path=" +
                    ShellQuote(data) + " --web.listen-address=127.0.0.1:" + std::to_string(port) +
                    " >" + ShellQuote(s_->env->dir() + "/prometheus.log") + " 2>&1 & echo $! > " +
                    ShellQuote(s_->env->dir() + "/prometheus.pid"));
  ASSERT_TRUE(started.ok()) << started.Describe();
  std::string pid = TrimRight(Sh("cat " + ShellQuote(s_->env->dir() + "/prometheus.pid")).out);
  std::string query =
      "/api/v1/query?query=histogram_quantile(0.99,%20sum%20by%20(le)%20(swarmgate_convergence_"
      "seconds_bucket))";
  auto w = WaitUntil("p99 convergence from Prometheus", 60s, [&](std::string& observed) {
    auto r = HttpGet("127.0.0.1", port, query, "", 3s);
    observed = r.Describe();
    // {"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[t,"0.12"]}]}}
    return r.status == 200 && r.body.find("\"value\":[") != std::string::npos &&
           r.body.find("NaN") == std::string::npos;
  });
  if (!pid.empty()) (void)Sh("kill " + pid + "; sleep 0.5; kill -9 " + pid + " 2>/dev/null; true");
  EXPECT_TRUE(w.ok) << w.message;
}

// A service labelled the Interlock way is imported, applied and served.
TEST_F(IngressE2E, InterlockLabelledServiceIsImportedAndServed) {
  const auto& c = C();
  Resources res(c);
  std::string cluster = UniqueName("il");
  std::string net = res.Network(UniqueName("il-net"));
  ASSERT_FALSE(net.empty()) << res.last_error();
  std::string svc =
      res.Service(UniqueName("il-app"),
                  "--replicas 1 --network " + net + " " + EchoEnv() +
                      " --label com.docker.lb.hosts=il.e2e.test --label com.docker.lb.port=8080" +
                      " --label com.docker.lb.network=" + net +
                      " --label com.docker.lb.service_cluster=" + cluster + " swarmgate/echo:dev");
  ASSERT_FALSE(svc.empty()) << res.last_error();
  auto imported = Swarmgate("import interlock");
  ASSERT_TRUE(imported.ok()) << imported.Describe();
  ASSERT_NE(imported.out.find("il.e2e.test"), std::string::npos) << imported.out;
  std::string file = WriteFile("imported.yaml", imported.out);
  auto applied = Swarmgate("apply -f " + file);
  ASSERT_TRUE(applied.ok()) << applied.Describe() << "\n" << imported.out;
  // The imported cluster uses the defaults (port 80, two proxies anywhere).
  auto w = WaitUntil("il.e2e.test served on port 80", 90s, [&](std::string& observed) {
    observed.clear();
    for (const auto& n : c.nodes()) {
      auto r = HttpGet(n.addr, 80, "/il", "il.e2e.test", 3s);
      observed += "node" + std::to_string(n.index) + ": " + r.Describe() + "; ";
      if (r.status == 200 && JsonField(r.body, "service") == svc) return true;
    }
    return false;
  });
  EXPECT_TRUE(w.ok) << w.message << "\n" << imported.out;
  auto deleted = Swarmgate("delete -f " + file);
  EXPECT_TRUE(deleted.ok()) << deleted.Describe();
  auto gone = WaitUntil("imported cluster removed", 90s, [&](std::string& observed) {
    auto r = c.Docker("service ls -q --filter label=swarmgate.io/owner=cluster/" + cluster);
    observed = r.out;
    return r.ok() && TrimRight(r.out).empty();
  });
  EXPECT_TRUE(gone.ok) << gone.message;
}

// Last: removing the cluster removes its proxy service, network, token and configs.
TEST_F(IngressE2E, DeletingTheClusterRemovesWhatItOwned) {
  const auto& c = C();
  (void)Swarmgate("delete route e2e-a");
  (void)Swarmgate("delete route e2e-b");
  s_->res.reset();  // backends leave the network first
  ASSERT_TRUE(Swarmgate("delete servicecluster " + s_->cluster).ok());
  auto gone = WaitUntil("owned objects gone", 90s, [&](std::string& observed) {
    observed.clear();
    int left = 0;
    for (const char* what : {"service", "network", "secret", "config"}) {
      auto r = c.Docker(std::string(what) + " ls -q --filter label=swarmgate.io/owner=cluster/" +
                        s_->cluster);
      std::string out = TrimRight(r.out);
      if (!out.empty()) {
        left++;
        observed += std::string(what) + ": " + out + "; ";
      }
    }
    return left == 0;
  });
  EXPECT_TRUE(gone.ok) << gone.message;
  s_->cluster.clear();
}

}  // namespace
}  // namespace sg::e2e
