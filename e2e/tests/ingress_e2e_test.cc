// The operator on a real Swarm, end to end: the operator runs as a Swarm
// service (charts/swarmgate), `swarmgate apply` stores resources, and real
// requests go through the proxies' host-mode ports on each proxy node.
//
// The suite shares one ServiceCluster with two backends and their routes
// (a.e2e.test -> A, b.e2e.test/api -> B), served before the first test runs.
// A test that changes something creates it itself (a route to delete), or
// uses what SetUpTestSuite made for it alone (a backend to scale, a second
// cluster to remove), so the tests run in any order.

#include <cstdio>
#include <fstream>
#include <future>
#include <set>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "e2e/harness/e2e_fixture.h"
#include "e2e/harness/harness.h"
#include "e2e/harness/loadgen_runner.h"
#include "e2e/harness/swarmgate_env.h"

namespace sg::e2e {
namespace {

using namespace std::chrono_literals;

struct IngressShared {
  ScopedCluster cluster;
  ScopedService svc_a, svc_b;
  ScopedRoute route_a, route_b;
  // Used only by EndpointsFollowScaling, which scales it: scale.e2e.test.
  ScopedService scaled;
  ScopedRoute scaled_route;
  // A second cluster set up like the first, which only
  // DeletingTheClusterRemovesWhatItOwned uses (and deletes); made here so its
  // proxies start alongside the first cluster's.
  ScopedCluster doomed;
  ScopedService doomed_backend;
  ScopedRoute doomed_route;

  std::string SetUp() {
    cluster = ScopedCluster::Create({"e2e", 20000, 24000});
    if (!cluster.ok()) return cluster.error();
    doomed = ScopedCluster::Create({"e2e-del", 20000, 24000});
    if (!doomed.ok()) return doomed.error();
    svc_a = ScopedService::Echo(cluster, UniqueName("e2e-a"));
    if (!svc_a.ok()) return svc_a.error();
    svc_b = ScopedService::Echo(cluster, UniqueName("e2e-b"));
    if (!svc_b.ok()) return svc_b.error();
    scaled = ScopedService::Echo(cluster, UniqueName("e2e-scale"));
    if (!scaled.ok()) return scaled.error();
    doomed_backend = ScopedService::Echo(doomed, UniqueName("e2e-del"));
    if (!doomed_backend.ok()) return doomed_backend.error();
    route_a = ScopedRoute::Apply(
        RouteYaml(UniqueName("e2e-a"), cluster.name(), "a.e2e.test", "/", svc_a.name()));
    if (!route_a.ok()) return route_a.error();
    route_b = ScopedRoute::Apply(
        RouteYaml(UniqueName("e2e-b"), cluster.name(), "b.e2e.test", "/api", svc_b.name()));
    if (!route_b.ok()) return route_b.error();
    scaled_route = ScopedRoute::Apply(
        RouteYaml(UniqueName("e2e-scale"), cluster.name(), "scale.e2e.test", "/", scaled.name()));
    if (!scaled_route.ok()) return scaled_route.error();
    doomed_route = ScopedRoute::Apply(RouteYaml(UniqueName("e2e-del"), doomed.name(),
                                                "del.e2e.test", "/", doomed_backend.name()));
    if (!doomed_route.ok()) return doomed_route.error();
    auto a = cluster.WaitServed("a.e2e.test", "/hello", svc_a.name(), 90s);
    if (!a.ok) return a.message + cluster.Diagnose({route_a.name()});
    auto b = cluster.WaitServed("b.e2e.test", "/api/x", svc_b.name(), 30s);
    if (!b.ok) return b.message + cluster.Diagnose({route_b.name()});
    return "";
  }
};

class IngressE2E : public SuiteFixture<IngressShared> {
 protected:
  static HttpResponse Get(int node, const std::string& host, const std::string& target = "/") {
    return S().cluster.Get(node, host, target, 3s);
  }
  static std::string Condition(const std::string& kind, const std::string& name) {
    return Sg().Ready(kind, name);
  }
  static std::string Route(const std::string& name, const std::string& host,
                           const std::string& path, const std::string& service) {
    return RouteYaml(name, S().cluster.name(), host, path, service);
  }
};

TEST_F(IngressE2E, RequestsReachTheRightServiceOnEveryProxyNode) {
  const auto& s = S();
  for (int node : ProxyNodes()) {
    auto w =
        WaitUntil("a.e2e.test via node " + std::to_string(node), 90s, [&](std::string& observed) {
          auto r = Get(node, "a.e2e.test", "/hello");
          observed = r.Describe();
          return r.status == 200 && JsonField(r.body, "service") == s.svc_a.name();
        });
    ASSERT_TRUE(w.ok) << w.message << "\nroute: " << Condition("route", s.route_a.name())
                      << "\ncluster: " << Condition("servicecluster", s.cluster.name());
    auto b = WaitUntil("b.e2e.test/api via node " + std::to_string(node), 30s,
                       [&](std::string& observed) {
                         auto r = Get(node, "b.e2e.test", "/api/x");
                         observed = r.Describe();
                         return r.status == 200 && JsonField(r.body, "service") == s.svc_b.name() &&
                                JsonField(r.body, "path") == "/api/x";
                       });
    EXPECT_TRUE(b.ok) << b.message;
    // b.e2e.test only routes /api: the root is not found.
    EXPECT_EQ(Get(node, "b.e2e.test", "/").status, 404);
    EXPECT_EQ(Get(node, "unknown.e2e.test", "/").status, 404);
  }
  auto ready = Sg().WaitCondition("route", s.route_a.name(), "Ready", "True/", 30s);
  EXPECT_TRUE(ready.ok) << ready.message;
}

TEST_F(IngressE2E, EndpointsFollowScaling) {
  const auto& svc = S().scaled;
  int node = ProxyNodes().front();
  auto served = S().cluster.WaitServed("scale.e2e.test", "/who", svc.name(), 60s, {node});
  ASSERT_TRUE(served.ok) << served.message << S().cluster.Diagnose({S().scaled_route.name()});

  auto distinct_tasks = [&](int requests) {
    std::set<std::string> seen;
    for (int i = 0; i < requests; ++i) {
      auto r = Get(node, "scale.e2e.test", "/who");
      if (r.status == 200) seen.insert(JsonField(r.body, "task"));
    }
    return seen;
  };
  ASSERT_TRUE(C().Docker("service scale -d " + svc.name() + "=3").ok());
  auto up = WaitUntil("3 tasks answer", 90s, [&](std::string& observed) {
    auto seen = distinct_tasks(30);
    observed = std::to_string(seen.size()) + " distinct tasks";
    return seen.size() == 3;
  });
  EXPECT_TRUE(up.ok) << up.message;
  ASSERT_TRUE(C().Docker("service scale -d " + svc.name() + "=1").ok());
  auto down = WaitUntil("only 1 task answers", 90s, [&](std::string& observed) {
    auto seen = distinct_tasks(30);
    observed = std::to_string(seen.size()) + " distinct tasks";
    return seen.size() == 1;
  });
  EXPECT_TRUE(down.ok) << down.message;
}

TEST_F(IngressE2E, BadRoutesGetReasonsWhileGoodTrafficFlows) {
  const auto& s = S();
  int node = ProxyNodes().front();
  std::string url = "--url http://" + Addr(node) + ":" + std::to_string(s.cluster.http_port()) +
                    "/load --host a.e2e.test --concurrency 4 --keepalive --rate 200 --duration 8s"
                    " --resend-idempotent";
  auto load = std::async(std::launch::async, [&] { return RunLoadgen(SG_LOADGEN_PATH, url); });

  std::string missing_name = UniqueName("e2e-missing"), dup_name = UniqueName("e2e-dup");
  ScopedRoute bad =
      ScopedRoute::Apply(Route(missing_name, "missing.e2e.test", "/", "no-such-service-e2e") +
                         "---\n" + Route(dup_name, "a.e2e.test", "/", s.svc_b.name()));
  EXPECT_TRUE(bad.ok()) << bad.error();
  auto missing = Sg().WaitCondition("route", missing_name, "Ready", "False/BackendNotFound", 30s);
  EXPECT_TRUE(missing.ok) << missing.message;
  auto dup = WaitUntil("Conflict", 30s, [&](std::string& observed) {
    observed = Condition("route", dup_name);
    return observed.rfind("False/Conflict", 0) == 0 &&
           observed.find(s.route_a.name()) != std::string::npos;
  });
  EXPECT_TRUE(dup.ok) << dup.message;
  // The older route keeps its traffic.
  auto r = Get(node, "a.e2e.test", "/");
  EXPECT_EQ(JsonField(r.body, "service"), s.svc_a.name()) << r.Describe();

  auto rep = load.get();
  ASSERT_TRUE(rep.parsed()) << rep.raw;
  // The route without a backend is served (503), so applying it reloads
  // the proxies. An nginx reload closes idle client keep-alive connections:
  // a request crossing such a close fails for a client that never resends,
  // so on nginx what is asserted is zero failures after resending idempotent
  // requests once (the non-resending count is printed). HAProxy keeps idle
  // connections until their next response: zero for every client.
  const bool nginx = E2eEngine() == "nginx";
  std::printf("[ bad routes ] load on a.e2e.test: %s; %s\n", rep.Summary().c_str(),
              nginx ? "NOT asserted zero for a client that never resends (nginx engine)"
                    : "asserted zero for a client that never resends");
  std::fflush(stdout);
  EXPECT_GT(rep.requests, 500) << rep.raw;
  EXPECT_EQ(rep.failures_after_resend, 0) << rep.raw;
  if (!nginx) {
    EXPECT_EQ(rep.failures, 0) << rep.raw;
  }
}

TEST_F(IngressE2E, OperatorRestartCreatesNoDuplicates) {
  const auto& c = C();
  const auto& s = S();
  auto count = [&](const std::string& what) {
    auto r =
        c.Docker(what + " ls -q --filter label=swarmgate.io/owner=cluster/" + s.cluster.name());
    return static_cast<int>(Lines(TrimRight(r.out)).size());
  };
  int services = count("service"), networks = count("network"), secrets = count("secret");
  EXPECT_EQ(services, 2);  // the proxies and the listener holding their host ports
  EXPECT_EQ(networks, 1);
  EXPECT_EQ(secrets, 1);
  // A served route stays Ready through the restart: the new operator keeps
  // the stored statuses until it hears from the proxies, which it recognises
  // by the hash of what they serve.
  std::string flipped;  // the first Ready of route a that was not True
  int looked = 0;
  auto watch = [&] {
    const std::string ready = Condition("route", s.route_a.name());
    ++looked;
    if (flipped.empty() && ready.rfind("False", 0) == 0) flipped = ready;
  };
  // The fixture waits for traffic, not for the status: the pass that writes
  // Ready may still be on its way when this test runs first.
  auto ready = Sg().WaitCondition("route", s.route_a.name(), "Ready", "True", 30s);
  ASSERT_TRUE(ready.ok) << ready.message;
  auto ps = c.Docker("ps -q --filter label=com.docker.swarm.service.name=swarmgate_operator");
  ASSERT_TRUE(ps.ok() && !TrimRight(ps.out).empty()) << ps.Describe();
  ASSERT_TRUE(c.Docker("kill " + TrimRight(ps.out)).ok());
  auto back = WaitUntil("operator ready again", 90s, [&](std::string& observed) {
    watch();
    auto now = c.Docker("ps -q --filter label=com.docker.swarm.service.name=swarmgate_operator");
    auto r = HttpGet(c.node(1).addr, kOperatorPort, "/readyz");
    observed = r.Describe() + " container=" + TrimRight(now.out);
    return r.status == 200 && TrimRight(now.out) != TrimRight(ps.out);
  });
  ASSERT_TRUE(back.ok) << back.message;
  // A change after the restart still converges, and nothing was duplicated.
  ScopedRoute route =
      ScopedRoute::Apply(Route(UniqueName("e2e-c"), "c.e2e.test", "/", s.svc_b.name()));
  ASSERT_TRUE(route.ok()) << route.error();
  auto w = WaitUntil("c.e2e.test served", 60s, [&](std::string& observed) {
    watch();
    auto r = Get(ProxyNodes().front(), "c.e2e.test", "/");
    observed = r.Describe();
    return r.status == 200;
  });
  EXPECT_TRUE(w.ok) << w.message;
  // The new route's status is written by the new operator: its passes have
  // written statuses by then.
  auto written = Sg().WaitCondition("route", route.name(), "Ready", "True", 30s);
  EXPECT_TRUE(written.ok) << written.message;
  watch();
  std::printf("[ restart  ] route a's Ready looked at %d times: %s\n", looked,
              flipped.empty() ? "always True" : flipped.c_str());
  EXPECT_EQ(flipped, "") << "a served route's Ready turned False across the operator restart";
  // Both phases vary between runs (about 4 to 45 s), so say which one took it.
  std::printf("[ restart  ] operator ready again after %.1f s, new route served %.1f s later\n",
              back.elapsed.count() / 1000.0, w.elapsed.count() / 1000.0);
  EXPECT_EQ(count("service"), services);
  EXPECT_EQ(count("network"), networks);
  EXPECT_EQ(count("secret"), secrets);
}

TEST_F(IngressE2E, DeletedRouteAnswers404) {
  ScopedRoute route =
      ScopedRoute::Apply(Route(UniqueName("e2e-d"), "d.e2e.test", "/", S().svc_b.name()));
  ASSERT_TRUE(route.ok()) << route.error();
  int node = ProxyNodes().front();
  auto up = WaitUntil("d.e2e.test served", 60s, [&](std::string& observed) {
    auto r = Get(node, "d.e2e.test");
    observed = r.Describe();
    return r.status == 200;
  });
  ASSERT_TRUE(up.ok) << up.message;
  ASSERT_TRUE(route.Delete().ok());
  auto gone = WaitUntil("d.e2e.test 404", 30s, [&](std::string& observed) {
    auto r = Get(node, "d.e2e.test");
    observed = r.Describe();
    return r.status == 404;
  });
  EXPECT_TRUE(gone.ok) << gone.message;
}

TEST_F(IngressE2E, PrometheusScrapesConvergence) {
  const auto& c = C();
  // A convergence of its own, so the histogram has a sample whatever ran
  // before (an operator restart starts it empty).
  ScopedRoute route =
      ScopedRoute::Apply(Route(UniqueName("e2e-p"), "p.e2e.test", "/", S().svc_b.name()));
  ASSERT_TRUE(route.ok()) << route.error();
  auto served = S().cluster.WaitServed("p.e2e.test", "/", S().svc_b.name(), 60s);
  ASSERT_TRUE(served.ok) << served.message;

  int port = UniquePort(30000, 32000);
  std::string dir = Sg().dir() + "/" + UniqueName("prometheus");
  std::string cfg =
      Sg().WriteFile(UniqueName("prometheus") + ".yml",
                     "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                     "scrape_configs:\n  - job_name: swarmgate\n    static_configs:\n"
                     "      - targets: ['" +
                         c.node(1).addr + ":" + std::to_string(kOperatorPort) + "']\n");
  auto started = Sh("prometheus --config.file=" + ShellQuote(cfg) +
                    " --storage.tsdb.path=" + ShellQuote(dir + "-data") +
                    " --web.listen-address=127.0.0.1:" + std::to_string(port) + " >" +
                    ShellQuote(dir + ".log") + " 2>&1 & echo $!");
  ASSERT_TRUE(started.ok()) << started.Describe();
  std::string pid = TrimRight(started.out);
  ScopeGuard stop([pid] {
    if (!pid.empty())
      (void)Sh("kill " + pid + "; sleep 0.5; kill -9 " + pid + " 2>/dev/null; true");
  });
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
  stop.Run();
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
  auto imported = Sg().Swarmgate("import interlock");
  ASSERT_TRUE(imported.ok()) << imported.Describe();
  ASSERT_NE(imported.out.find("il.e2e.test"), std::string::npos) << imported.out;
  std::string file = Sg().WriteFile(UniqueName("imported") + ".yaml", imported.out);
  // Whatever was applied goes, and its cluster's services with it, before
  // `res` removes the backend and the network.
  auto cluster_gone = [&](Duration deadline) {
    return WaitUntil("imported cluster removed", deadline, [&](std::string& observed) {
      auto r = c.Docker("service ls -q --filter label=swarmgate.io/owner=cluster/" + cluster);
      observed = r.out;
      return r.ok() && TrimRight(r.out).empty();
    });
  };
  ScopeGuard cleanup([&] {
    (void)Sg().Swarmgate("delete -f " + ShellQuote(file));
    (void)cluster_gone(90s);
  });
  auto applied = Sg().Swarmgate("apply -f " + file);
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
  auto deleted = Sg().Swarmgate("delete -f " + file);
  EXPECT_TRUE(deleted.ok()) << deleted.Describe();
  auto gone = cluster_gone(90s);
  EXPECT_TRUE(gone.ok) << gone.message;
  cleanup.Dismiss();
}

// Removing a cluster removes its proxy service, listener, network, token and
// configs. The cluster is the suite's second one, set up like the first.
TEST_F(IngressE2E, DeletingTheClusterRemovesWhatItOwned) {
  auto& s = S();
  ASSERT_FALSE(s.doomed.name().empty()) << "the second cluster is gone already";
  auto served = s.doomed.WaitServed("del.e2e.test", "/", s.doomed_backend.name(), 90s);
  ASSERT_TRUE(served.ok) << served.message << s.doomed.Diagnose({s.doomed_route.name()});
  const std::string name = s.doomed.name();
  for (const char* what : {"service", "network", "secret"}) {
    auto r =
        C().Docker(std::string(what) + " ls -q --filter label=swarmgate.io/owner=cluster/" + name);
    EXPECT_FALSE(TrimRight(r.out).empty()) << "no " << what << " owned by " << name;
  }

  (void)s.doomed_route.Delete();
  s.doomed_backend.Remove();  // backends leave the network first
  auto gone = s.doomed.Delete(90s);
  EXPECT_TRUE(gone.ok) << gone.message;
}

}  // namespace
}  // namespace sg::e2e
