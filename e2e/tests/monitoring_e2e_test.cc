// Monitoring on a real Swarm: the charts/monitoring stack with a Prometheus
// built from this machine's Debian package scrapes the operator over
// sg-control, and every query of the Grafana dashboard returns data; the
// operator's status page renders in headless Chromium.
//
// The tests of this file share one ServiceCluster, one backend and one Route
// (so convergence, reload and route samples exist); the test that deploys the
// monitoring stack removes it when it ends.

#include <sys/stat.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "e2e/harness/e2e_fixture.h"
#include "e2e/harness/harness.h"
#include "e2e/harness/swarmgate_env.h"

namespace sg::e2e {
namespace {

using namespace std::chrono_literals;

constexpr const char kStack[] = "monitoring";
constexpr const char kPromService[] = "monitoring_prometheus";
constexpr const char kGrafanaService[] = "monitoring_grafana";
constexpr const char kPromImage[] = "swarmgate/prometheus:dev";
constexpr const char kGrafanaImage[] = "grafana/grafana:10.4.2";  // the stack's default
constexpr int kPromPort = 9091;                                   // the stack's default

std::string ChromiumPath() {
  if (const char* p = std::getenv("SG_E2E_CHROMIUM"); p && *p) return p;
  return TrimRight(Sh("command -v chromium || command -v chromium-browser").out);
}

long FileSize(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? static_cast<long>(st.st_size) : -1;
}

// GET against Prometheus' HTTP API; the parsed body, or an error.
struct PromAnswer {
  rapidjson::Document doc;
  std::string error;
};
PromAnswer PromGet(const std::string& addr, const std::string& target) {
  PromAnswer a;
  auto r = HttpGet(addr, kPromPort, target, "", 5s);
  if (r.status != 200) {
    a.error = r.Describe();
    return a;
  }
  a.doc.Parse(r.body.c_str());
  if (a.doc.HasParseError() || !a.doc.IsObject() || !a.doc.HasMember("data")) {
    a.error = "unexpected body: " + r.body.substr(0, 300);
  }
  return a;
}

std::string UrlEncode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += hex[ch >> 4];
      out += hex[ch & 15];
    }
  }
  return out;
}

// One cluster, backend and Route, Ready before the first test, so
// convergence, reload and route samples exist.
struct MonitoringShared {
  ScopedCluster cluster;
  ScopedService backend;
  ScopedRoute route;

  std::string SetUp() {
    cluster = ScopedCluster::Create({"mon", 24000, 26000});
    if (!cluster.ok()) return cluster.error();
    backend = ScopedService::Echo(cluster, UniqueName("mon-echo"));
    if (!backend.ok()) return backend.error();
    route = ScopedRoute::Apply(
        RouteYaml(cluster.name() + "-route", cluster.name(), "mon.e2e.test", "/", backend.name()));
    if (!route.ok()) return route.error();
    auto ready =
        OperatorEnv::Get().sg().WaitCondition("route", route.name(), "Ready", "True/", 90s);
    if (!ready.ok) return ready.message + cluster.Diagnose({route.name()});
    return "";
  }
};

class MonitoringE2E : public SuiteFixture<MonitoringShared> {
 protected:
  // `docker stack rm`, then waits for the services to go and removes the
  // stack's volumes (created on the node that ran the task).
  static void RemoveStack() {
    const auto& c = C();
    (void)c.Docker(std::string("stack rm ") + kStack, 1, 60s);
    auto gone = WaitUntil("monitoring services gone", 60s, [&](std::string& observed) {
      auto r = c.Docker(std::string("service ls -q --filter label=com.docker.stack.namespace=") +
                        kStack);
      observed = r.out;
      return r.ok() && TrimRight(r.out).empty();
    });
    if (!gone.ok) return;
    for (const auto& n : c.nodes()) {
      // The task's container can linger a moment after its service.
      (void)WaitUntil(
          "volumes removable on node " + std::to_string(n.index), 20s,
          [&](std::string& observed) {
            auto ls = c.Docker(std::string("volume ls -q --filter label=com.docker."
                                           "stack.namespace=") +
                                   kStack,
                               n.index);
            observed = ls.out;
            if (!ls.ok() || TrimRight(ls.out).empty()) return true;
            std::string names;
            for (const auto& v : Lines(ls.out)) names += " " + ShellQuote(v);
            return c.Docker("volume rm" + names, n.index).ok();
          },
          1s);
    }
  }

  // Runs headless Chromium with `args` against the operator's /ui.
  static ShResult Chromium(const std::string& chromium, const std::string& args) {
    auto dir = TrimRight(Sh("mktemp -d /tmp/sge2e-chromium-XXXXXX").out);
    std::string url = "http://" + C().node(1).addr + ":" + std::to_string(kOperatorPort) + "/ui";
    auto r = Sh("HOME=" + ShellQuote(dir) + " " + ShellQuote(chromium) +
                    " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
                    " --disable-background-networking --disable-component-update --disable-sync"
                    " --user-data-dir=" +
                    ShellQuote(dir) + " --virtual-time-budget=8000 " + args + " " + ShellQuote(url),
                90s);
    (void)Sh("rm -rf " + ShellQuote(dir));
    return r;
  }
};

// The page fetches /v1/status and /metrics and builds the tables with
// script: the dumped DOM (after 8 s of virtual time) must show the route
// with its Ready condition, and a screenshot of the page is saved.
TEST_F(MonitoringE2E, StatusPageShowsTheRouteInHeadlessChromium) {
  const std::string chromium = ChromiumPath();
  if (chromium.empty()) {
    GTEST_SKIP() << "no chromium on PATH (apt-get install chromium, or set SG_E2E_CHROMIUM)";
  }
  const auto& r = S().route.name();
  auto dom = Chromium(chromium, "--dump-dom");
  ASSERT_TRUE(dom.ok()) << dom.Describe();

  // <tr id="route-NAME"><td>NAME</td><td>hosts</td><td>path</td><td>cluster</td>
  // <td><span class="badge ok">True · Ready</span>...</td>...
  std::smatch row;
  ASSERT_TRUE(std::regex_search(dom.out, row, std::regex("<tr id=\"route-" + r + "\">(.*?)</tr>")))
      << "no row for route " << r << " in the DOM; routes table:\n"
      << dom.out.substr(
             dom.out.find("routes-body") == std::string::npos ? 0 : dom.out.find("routes-body"),
             2000);
  std::vector<std::string> cells;
  const std::string tr = row[1].str();
  std::regex td("<td[^>]*>(.*?)</td>");
  for (auto it = std::sregex_iterator(tr.begin(), tr.end(), td); it != std::sregex_iterator();
       ++it) {
    cells.push_back((*it)[1].str());
  }
  ASSERT_EQ(cells.size(), 8u) << tr;
  EXPECT_NE(cells[0].find(r), std::string::npos) << tr;
  EXPECT_NE(cells[1].find("mon.e2e.test"), std::string::npos) << tr;
  EXPECT_NE(cells[3].find(S().cluster.name()), std::string::npos) << tr;
  EXPECT_TRUE(std::regex_search(cells[4], std::regex("class=\"badge ok\"[^>]*>True")))
      << "Ready cell: " << cells[4];
  EXPECT_NE(dom.out.find("<tr id=\"cluster-" + S().cluster.name() + "\">"), std::string::npos);
  EXPECT_NE(dom.out.find(">live<"), std::string::npos) << "connection badge not live";

  const std::string png = SG_STATUS_PAGE_PNG;
  (void)std::remove(png.c_str());
  auto shot = Chromium(chromium, "--window-size=1280,900 --screenshot=" + ShellQuote(png));
  ASSERT_TRUE(shot.ok()) << shot.Describe();
  long size = FileSize(png);
  EXPECT_GT(size, 10 * 1024) << png;
  std::ifstream in(png, std::ios::binary);
  char magic[8] = {};
  in.read(magic, sizeof(magic));
  EXPECT_EQ(std::string(magic + 1, 3), "PNG") << png;
  std::printf("status page screenshot: %s (%ld bytes)\n", png.c_str(), size);
}

// charts/monitoring deployed as documented, with the locally built Prometheus
// image; Grafana's image is not reachable without a registry.
TEST_F(MonitoringE2E, PrometheusScrapesTheOperatorAndEveryDashboardQueryHasData) {
  const auto& c = C();
  if (!c.Docker(std::string("image inspect ") + kPromImage).ok()) {
    if (Sh("test -x /usr/bin/prometheus").exit_code != 0) {
      GTEST_SKIP() << kPromImage << " not built and /usr/bin/prometheus missing "
                   << "(apt-get install prometheus)";
    }
    auto t0 = std::chrono::steady_clock::now();
    auto built = Sh("SG_E2E_STATE=" + ShellQuote(StateDir()) + " " +
                        ShellQuote(SourceDir() + "/e2e/images/build") + " --build-dir " +
                        ShellQuote(SG_BUILD_DIR) + " --only prometheus",
                    180s);
    ASSERT_TRUE(built.ok()) << built.Describe();
    std::printf("built %s in %.1fs\n", kPromImage,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }

  // A stack left by an interrupted run would keep its old (immutable) configs.
  if (!TrimRight(c.Docker("stack ls --format '{{.Name}}' | grep -x monitoring || true").out)
           .empty()) {
    RemoveStack();
  }
  // Host-mode port: this kernel may have no IPVS for the routing mesh.
  auto deploy =
      Sh("PROMETHEUS_IMAGE=" + std::string(kPromImage) + " PROMETHEUS_PORT=" +
             std::to_string(kPromPort) + " PROMETHEUS_PORT_MODE=host docker -H " +
             ShellQuote(c.node(1).docker_host()) + " stack deploy --resolve-image never -c " +
             ShellQuote(SourceDir() + "/charts/monitoring/stack.yml") + " " + kStack,
         60s);
  ScopeGuard remove_stack(&MonitoringE2E::RemoveStack);
  ASSERT_TRUE(deploy.ok()) << deploy.Describe();

  int prom_node = 0;
  auto running = WaitUntil("prometheus task running and ready", 60s, [&](std::string& observed) {
    auto tasks = RunningTasks(c, kPromService);
    if (tasks.empty() || tasks[0].node_index == 0) {
      observed = c.Docker(std::string("service ps --no-trunc --format '{{.CurrentState}} "
                                      "{{.Error}}' ") +
                          kPromService)
                     .out;
      return false;
    }
    prom_node = tasks[0].node_index;
    auto r = HttpGet(c.node(prom_node).addr, kPromPort, "/-/ready");
    observed = "node " + std::to_string(prom_node) + ": " + r.Describe();
    return r.status == 200;
  });
  ASSERT_TRUE(running.ok) << running.message << "\n"
                          << c.Docker(std::string("service logs --tail 30 ") + kPromService).out;
  const std::string prom = c.node(prom_node).addr;
  std::printf("prometheus: ready on node %d (http://%s:%d) after %.1fs\n", prom_node, prom.c_str(),
              kPromPort, running.elapsed.count() / 1000.0);

  // Grafana: run it when its image is on the manager, otherwise its task is
  // rejected ("No such image") and the service stays without a running task.
  if (c.Docker(std::string("image inspect ") + kGrafanaImage).ok()) {
    auto g = WaitUntil("grafana running", 60s, [&](std::string& observed) {
      observed = std::to_string(RunningTasks(c, kGrafanaService).size()) + " running";
      return !RunningTasks(c, kGrafanaService).empty();
    });
    EXPECT_TRUE(g.ok) << g.message;
  } else {
    auto g = WaitUntil("grafana task rejected", 30s, [&](std::string& observed) {
      observed = TrimRight(c.Docker(std::string("service ps --no-trunc --format "
                                                "'{{.CurrentState}}: {{.Error}}' ") +
                                    kGrafanaService)
                               .out);
      return observed.find("No such image") != std::string::npos ||
             observed.find("Rejected") != std::string::npos;
    });
    EXPECT_TRUE(RunningTasks(c, kGrafanaService).empty());
    std::string first = Lines(g.observed).empty() ? "no task yet" : Lines(g.observed)[0];
    std::printf("grafana: no image in reach, provisioning validated by dashboards_test (%s)\n",
                first.c_str());
  }

  // Every operator replica is a target, found over sg-control by the alias
  // (DNS answers each replica's address), and exactly one of them leads.
  auto up = WaitUntil("operator targets up, one leader", 60s, [&](std::string& observed) {
    auto a = PromGet(prom, "/api/v1/targets?state=active");
    if (!a.error.empty()) {
      observed = a.error;
      return false;
    }
    observed.clear();
    int targets = 0, healthy = 0;
    const std::string suffix = ":" + std::to_string(kOperatorPort) + "/metrics";
    for (const auto& t : a.doc["data"]["activeTargets"].GetArray()) {
      if (std::string(t["labels"]["job"].GetString()) != "swarmgate-operator") continue;
      const std::string url = t["scrapeUrl"].GetString();
      observed += url + " health=" + t["health"].GetString() +
                  " lastError=" + t["lastError"].GetString() + "; ";
      ++targets;
      if (std::string(t["health"].GetString()) == "up" && url.rfind("http://", 0) == 0 &&
          url.size() > suffix.size() &&
          url.compare(url.size() - suffix.size(), suffix.size(), suffix) == 0) {
        ++healthy;
      }
    }
    if (targets == 0) observed = "no swarmgate-operator target";
    if (targets == 0 || healthy != targets) return false;
    auto q = PromGet(prom, "/api/v1/query?query=sum(swarmgate_leader)");
    if (!q.error.empty()) {
      observed += q.error;
      return false;
    }
    const auto& result = q.doc["data"]["result"];
    const std::string leaders =
        result.IsArray() && result.Size() == 1 ? result[0]["value"][1].GetString() : "none";
    observed += "leaders=" + leaders;
    return leaders == "1";
  });
  ASSERT_TRUE(up.ok) << up.message;
  std::printf("prometheus: %s after %.1fs\n", up.observed.c_str(), up.elapsed.count() / 1000.0);

  // Traffic through the cluster's HAProxy proxies reaches Prometheus per
  // route, from every proxy task (found over sg-control by the alias).
  if (E2eEngine() == "haproxy") {
    constexpr int kRequests = 20;
    // A route added at run time is counted under a spare backend until the
    // proxies consolidate (a reload once changes pause): requests are sent
    // again while the route's own series has fewer than kRequests.
    auto send = [&]() -> std::string {
      for (int i = 0; i < kRequests; ++i) {
        const int node = ProxyNodes()[static_cast<size_t>(i) % ProxyNodes().size()];
        auto r = S().cluster.Get(node, "mon.e2e.test", "/");
        if (r.status != 200) return r.Describe();
      }
      return "";
    };
    std::string failed = send();
    ASSERT_EQ(failed, "");
    auto proxies = WaitUntil("swarmgate-proxies targets up", 60s, [&](std::string& observed) {
      auto a = PromGet(prom, "/api/v1/targets?state=active");
      if (!a.error.empty()) {
        observed = a.error;
        return false;
      }
      int up_targets = 0;
      observed.clear();
      for (const auto& t : a.doc["data"]["activeTargets"].GetArray()) {
        if (std::string(t["labels"]["job"].GetString()) != "swarmgate-proxies") continue;
        observed += std::string(t["scrapeUrl"].GetString()) + " health=" + t["health"].GetString() +
                    " lastError=" + t["lastError"].GetString() + "; ";
        up_targets += std::string(t["health"].GetString()) == "up";
      }
      return up_targets >= S().cluster.replicas();
    });
    ASSERT_TRUE(proxies.ok) << proxies.message;
    const std::string answered =
        "/api/v1/query?query=" + UrlEncode("sum(haproxy_backend_http_responses_total{route=\"" +
                                           S().route.name() + "\",code=\"2xx\"})");
    auto counted = WaitUntil("2xx responses of " + S().route.name() + " in Prometheus", 60s,
                             [&](std::string& observed) {
                               auto a = PromGet(prom, answered);
                               if (!a.error.empty()) {
                                 observed = a.error;
                                 return false;
                               }
                               const auto& result = a.doc["data"]["result"];
                               if (result.Size() == 0) {
                                 observed = "no series";
                                 if (failed.empty()) failed = send();
                                 return false;
                               }
                               observed = result[0]["value"][1].GetString();
                               if (std::stod(observed) >= kRequests) return true;
                               if (failed.empty()) failed = send();
                               return false;
                             });
    EXPECT_EQ(failed, "") << "a request through the proxies failed";
    ASSERT_TRUE(counted.ok) << counted.message;
    std::printf("prometheus: %s 2xx responses of route %s through %d proxies\n",
                counted.observed.c_str(), S().route.name().c_str(), S().cluster.replicas());
  }

  // This suite's cluster has convergence samples in Prometheus.
  const std::string conv =
      "/api/v1/query?query=" +
      UrlEncode("swarmgate_convergence_seconds_count{cluster=\"" + S().cluster.name() + "\"}");
  auto samples =
      WaitUntil("convergence samples of " + S().cluster.name(), 45s, [&](std::string& observed) {
        auto a = PromGet(prom, conv);
        if (!a.error.empty()) {
          observed = a.error;
          return false;
        }
        observed = std::to_string(a.doc["data"]["result"].Size()) + " series";
        return a.doc["data"]["result"].Size() > 0;
      });
  ASSERT_TRUE(samples.ok) << samples.message;

  // Every dashboard query parses and returns data. rate() needs two scrapes
  // (15 s apart), so the first runs may list some without data; a query that
  // Prometheus rejects fails at once.
  const std::string check =
      ShellQuote(SourceDir() + "/charts/monitoring/check_queries.sh") + " --require-data " +
      ShellQuote(SourceDir() + "/charts/monitoring/grafana/dashboards/swarmgate.json") +
      " http://" + prom + ":" + std::to_string(kPromPort);
  ShResult last;
  auto all = WaitUntil(
      "every dashboard query with data", 75s,
      [&](std::string& observed) {
        last = Sh(check, 60s);
        auto lines = Lines(last.out);
        observed = lines.empty() ? last.Describe() : lines.back();
        return last.ok() || last.out.find("ERROR") != std::string::npos;
      },
      3s);
  EXPECT_EQ(last.out.find("ERROR"), std::string::npos) << last.out << last.err;
  ASSERT_TRUE(all.ok && last.ok()) << all.message << "\n" << last.out << last.err;
  std::printf("%s", last.out.c_str());
}

}  // namespace
}  // namespace sg::e2e
