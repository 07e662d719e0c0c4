// Zero-drop under change: keep-alive load (about 250 req/s) runs through a
// proxy node's http port while the Swarm and the routes change underneath,
// and every request is counted by sg-loadgen. A failure is a non-2xx status,
// a reset, a timeout, a refused connect or an early close that was not resent
// (sg-loadgen resends an idempotent request once when a reused keep-alive
// connection is closed before any response byte, as HTTP clients do; those
// are reported as "retried").
//
// Scenarios (declaration order, sharing one operator and ServiceCluster):
//   a) rolling update (start-first, health check) of a 3-replica backend
//   b) scale down 3 -> 1
//   c) 50 applies and 50 removals of unrelated routes
//   d) the route switched to another backend service
//   e) rolling update of the proxy service itself (host-mode ports held by
//      the listener service)
//   f) a backend task's container killed hard: measured (0 is not required)
//
// Every scenario prints one "[zero-drop]" line with its counts.

#include <algorithm>
#include <cstdio>
#include <future>
#include <map>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "e2e/harness/harness.h"
#include "e2e/harness/loadgen_runner.h"
#include "e2e/harness/swarmgate_env.h"

namespace sg::e2e {
namespace {

using namespace std::chrono_literals;

constexpr int kRate = 250;       // requests per second through the proxy
constexpr int kConcurrency = 8;  // keep-alive connections
constexpr const char* kHost = "zd.e2e.test";

// What one sg-loadgen run counted.
struct Counts {
  long requests = -1, ok = 0, failures = 0, retried = 0;
  std::map<std::string, long> errors;  // connect, reset, closed, timeout, other
  std::map<std::string, long> status;  // by code
  double first_failure_s = -1, last_failure_s = -1;
  std::string raw;
  bool parsed() const { return requests >= 0; }
  long NonConnectFailures() const {
    return failures - (errors.count("connect") ? errors.at("connect") : 0);
  }
  std::string Summary() const {
    std::ostringstream o;
    o << "requests=" << requests << " ok=" << ok << " failures=" << failures
      << " retried=" << retried;
    for (const auto& [k, v] : errors) {
      if (v) o << " " << k << "=" << v;
    }
    for (const auto& [k, v] : status) {
      if (k.empty() || k[0] != '2') o << " status_" << k << "=" << v;
    }
    if (failures > 0) {
      char buf[96];
      std::snprintf(buf, sizeof buf, " failures_between=%.2fs..%.2fs", first_failure_s,
                    last_failure_s);
      o << buf;
    }
    return o.str();
  }
};

Counts Parse(const LoadReport& rep) {
  Counts c;
  c.raw = rep.raw;
  rapidjson::Document d;
  d.Parse<rapidjson::kParseStopWhenDoneFlag>(rep.raw.c_str());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("requests")) return c;
  c.requests = d["requests"].GetInt64();
  c.ok = d["ok"].GetInt64();
  c.failures = d["failures"].GetInt64();
  // errors.retried is not a failure: it is reported on its own.
  for (const auto& m : d["errors"].GetObject()) {
    if (std::string(m.name.GetString()) == "retried") {
      c.retried = m.value.GetInt64();
    } else {
      c.errors[m.name.GetString()] = m.value.GetInt64();
    }
  }
  for (const auto& m : d["status"].GetObject()) c.status[m.name.GetString()] = m.value.GetInt64();
  if (d["first_failure_s"].IsNumber()) c.first_failure_s = d["first_failure_s"].GetDouble();
  if (d["last_failure_s"].IsNumber()) c.last_failure_s = d["last_failure_s"].GetDouble();
  return c;
}

void Print(const std::string& scenario, const Counts& c, const std::string& extra = "") {
  std::printf("[zero-drop] %s: %s%s\n", scenario.c_str(), c.Summary().c_str(), extra.c_str());
  std::fflush(stdout);
}

class ZeroDropE2E : public ::testing::Test {
 protected:
  struct Shared {
    explicit Shared(Cluster::Loaded l) : loaded(std::move(l)) {}
    Cluster::Loaded loaded;
    std::unique_ptr<SwarmgateEnv> env;
    std::unique_ptr<Resources> res;
    std::string cluster, network;
    std::string svc_a, svc_b;
    int http_port = 0, https_port = 0;
    std::vector<int> proxy_nodes;
    std::string error;
  };
  static Shared* s_;

  static const Cluster& C() { return *s_->loaded; }

  static ShResult Swarmgate(const std::string& args, Duration timeout = 60s) {
    return s_->env->Swarmgate(args, timeout);
  }

  static std::string Route(const std::string& name, const std::string& host,
                           const std::string& service) {
    return RouteYaml(name, s_->cluster, host, "/", service);
  }

  // A backend the way zero-drop needs it: start-first updates gated by a
  // health check, and a stop grace period in which sg-echo drains.
  static std::string Backend(const std::string& prefix, int replicas) {
    return s_->res->Service(
        UniqueName(prefix),
        "--replicas " + std::to_string(replicas) + " --network " + s_->network +
            " --update-order start-first --update-parallelism 1 --update-monitor 2s"
            " --stop-grace-period 10s"
            " --health-cmd 'wget -q -O /dev/null http://127.0.0.1:8080/healthz'"
            " --health-interval 1s --health-timeout 2s --health-retries 2"
            " --health-start-period 1s " +
            EchoEnv() + " swarmgate/echo:dev");
  }

  static std::string LoadArgs(int node, int seconds, int rate = kRate) {
    return "--url http://" + C().node(node).addr + ":" + std::to_string(s_->http_port) +
           "/zd --host " + kHost + " --concurrency " + std::to_string(kConcurrency) +
           " --keepalive --rate " + std::to_string(rate) + " --duration " +
           std::to_string(seconds) + "s --timeout 2s";
  }

  static std::future<Counts> StartLoad(int node, int seconds, int rate = kRate) {
    std::string args = LoadArgs(node, seconds, rate);
    return std::async(std::launch::async,
                      [args] { return Parse(RunLoadgen(SG_LOADGEN_PATH, args)); });
  }

  // The service (echo's "service" field) answering kHost on every proxy node.
  static WaitResult ServedBy(const std::string& service, Duration deadline = 60s) {
    return WaitUntil(std::string(kHost) + " served by " + service, deadline,
                     [&](std::string& observed) {
                       observed.clear();
                       for (int node : s_->proxy_nodes) {
                         auto r = HttpGet(C().node(node).addr, s_->http_port, "/", kHost, 3s);
                         observed += "node" + std::to_string(node) + ": " + r.Describe() + "; ";
                         if (r.status != 200 || JsonField(r.body, "service") != service) {
                           return false;
                         }
                       }
                       return true;
                     });
  }

  static std::string UpdateState(const std::string& service) {
    auto r = C().Docker(
        "service inspect --format '{{if .UpdateStatus}}{{.UpdateStatus.State}}"
        "{{end}}' " +
        service);
    return TrimRight(r.out);
  }

  static std::string OperatorLogs() {
    return C().Docker("service logs --tail 60 swarmgate_operator 2>&1").out;
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

    s_->cluster = UniqueName("zd");
    s_->network = "sg-" + s_->cluster;
    s_->http_port = UniquePort(24000, 26000);
    s_->https_port = s_->http_port + 1;
    s_->error = s_->env->CreateCluster(s_->cluster, kGlobalProxies, s_->http_port, s_->https_port);
    if (!s_->error.empty()) return;
    s_->svc_a = Backend("zd-a", 3);
    s_->svc_b = Backend("zd-b", 2);
    if (s_->svc_a.empty() || s_->svc_b.empty()) {
      s_->error = "backend services: " + s_->res->last_error();
      return;
    }
    auto applied = s_->env->Apply("main.yaml", Route("zd-main", kHost, s_->svc_a));
    if (!applied.ok()) {
      s_->error = "apply route: " + applied.Describe();
      return;
    }
    auto served = ServedBy(s_->svc_a, 120s);
    if (!served.ok) {
      s_->error = served.message + "\nroute: " + s_->env->Ready("route", "zd-main");
      return;
    }
    // Every backend task running and healthy before load starts.
    auto all = WaitUntil("3 + 2 backend tasks running", 60s, [&](std::string& observed) {
      size_t a = RunningTasks(c, s_->svc_a).size(), b = RunningTasks(c, s_->svc_b).size();
      observed = std::to_string(a) + "+" + std::to_string(b);
      return a == 3 && b == 2;
    });
    if (!all.ok) s_->error = all.message;
  }

  static void TearDownTestSuite() {
    if (s_ && s_->loaded.ok()) {
      if (!s_->cluster.empty()) {
        (void)Swarmgate("delete route zd-main");
        s_->env->DeleteCluster(s_->cluster);
      }
      s_->res.reset();
    }
    delete s_;
    s_ = nullptr;
  }

  void SetUp() override {
    ASSERT_TRUE(s_->loaded.ok()) << s_->loaded.error;
    ASSERT_TRUE(s_->error.empty()) << s_->error;
  }
};

ZeroDropE2E::Shared* ZeroDropE2E::s_ = nullptr;

// (a) docker service update --force rolls every task: the new one starts and
// turns healthy before the old one gets SIGTERM.
TEST_F(ZeroDropE2E, RollingUpdateOfABackendDropsNothing) {
  const auto& c = C();
  auto load = StartLoad(s_->proxy_nodes.front(), 40);
  std::this_thread::sleep_for(2s);
  ASSERT_TRUE(c.Docker("service update -d --force " + s_->svc_a).ok());
  auto done = WaitUntil("rolling update completed", 36s, [&](std::string& observed) {
    observed = UpdateState(s_->svc_a);
    return observed == "completed";
  });
  auto counts = load.get();
  ASSERT_TRUE(counts.parsed()) << counts.raw;
  Print("a rolling update", counts, " update=" + done.observed);
  EXPECT_TRUE(done.ok) << done.message;
  EXPECT_GE(counts.requests, 200L * 30) << counts.raw;
  EXPECT_EQ(counts.failures, 0) << counts.raw << "\n" << OperatorLogs();
}

// (b) scale 3 -> 1: the removed tasks leave nginx's upstream while they drain.
TEST_F(ZeroDropE2E, ScaleDownDropsNothing) {
  const auto& c = C();
  auto load = StartLoad(s_->proxy_nodes.front(), 16);
  std::this_thread::sleep_for(2s);
  ASSERT_TRUE(c.Docker("service scale -d " + s_->svc_a + "=1").ok());
  auto one = WaitUntil("1 task left", 14s, [&](std::string& observed) {
    auto n = RunningTasks(c, s_->svc_a).size();
    observed = std::to_string(n) + " running";
    return n == 1;
  });
  auto counts = load.get();
  ASSERT_TRUE(counts.parsed()) << counts.raw;
  Print("b scale 3->1", counts);
  EXPECT_TRUE(one.ok) << one.message;
  EXPECT_GE(counts.requests, 200L * 14) << counts.raw;
  EXPECT_EQ(counts.failures, 0) << counts.raw << "\n" << OperatorLogs();
}

// (c) unrelated routes come and go: every change reloads nginx on every proxy.
TEST_F(ZeroDropE2E, FiftyUnrelatedRouteChangesDropNothing) {
  constexpr int kChanges = 50;
  auto load = StartLoad(s_->proxy_nodes.front(), 30);
  std::this_thread::sleep_for(1s);
  auto t0 = std::chrono::steady_clock::now();
  int applied = 0, removed = 0;
  std::string last_error;
  for (int i = 0; i < kChanges && std::chrono::steady_clock::now() - t0 < 27s; ++i) {
    std::string name = "zd-x" + std::to_string(i);
    auto a = s_->env->Apply(name + ".yaml",
                            Route(name, "x" + std::to_string(i) + ".zd.e2e.test", s_->svc_b));
    if (a.ok()) {
      applied++;
    } else {
      last_error = a.Describe();
    }
    // Give the proxies a reload with the route in it before it goes again.
    std::this_thread::sleep_for(150ms);
    auto d = Swarmgate("delete route " + name);
    if (d.ok()) {
      removed++;
    } else {
      last_error = d.Describe();
    }
  }
  auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto counts = load.get();
  ASSERT_TRUE(counts.parsed()) << counts.raw;
  Print("c 50 route applies+removals", counts,
        " applies=" + std::to_string(applied) + " removals=" + std::to_string(removed) +
            " changes_took_s=" + std::to_string(elapsed));
  EXPECT_EQ(applied, kChanges) << last_error;
  EXPECT_EQ(removed, kChanges) << last_error;
  EXPECT_GE(counts.requests, 200L * 28) << counts.raw;
  EXPECT_EQ(counts.failures, 0) << counts.raw << "\n" << OperatorLogs();
  // The last removal reached the proxies.
  auto gone = WaitUntil("last route 404", 30s, [&](std::string& observed) {
    auto r = HttpGet(C().node(s_->proxy_nodes.front()).addr, s_->http_port, "/",
                     "x" + std::to_string(kChanges - 1) + ".zd.e2e.test", 3s);
    observed = r.Describe();
    return r.status == 404;
  });
  EXPECT_TRUE(gone.ok) << gone.message;
}

// (d) the same route applied with another backend, and back.
TEST_F(ZeroDropE2E, SwitchingARouteToAnotherServiceDropsNothing) {
  auto load = StartLoad(s_->proxy_nodes.front(), 16);
  std::this_thread::sleep_for(2s);
  auto applied = s_->env->Apply("main-b.yaml", Route("zd-main", kHost, s_->svc_b));
  ASSERT_TRUE(applied.ok()) << applied.Describe();
  auto to_b = ServedBy(s_->svc_b, 10s);
  std::this_thread::sleep_for(2s);
  applied = s_->env->Apply("main-a.yaml", Route("zd-main", kHost, s_->svc_a));
  ASSERT_TRUE(applied.ok()) << applied.Describe();
  auto to_a = ServedBy(s_->svc_a, 10s);
  auto counts = load.get();
  ASSERT_TRUE(counts.parsed()) << counts.raw;
  Print("d route switched to another service and back", counts,
        " to_b_s=" + std::to_string(to_b.elapsed.count() / 1000.0) +
            " to_a_s=" + std::to_string(to_a.elapsed.count() / 1000.0));
  EXPECT_TRUE(to_b.ok) << to_b.message;
  EXPECT_TRUE(to_a.ok) << to_a.message;
  EXPECT_GE(counts.requests, 200L * 14) << counts.raw;
  EXPECT_EQ(counts.failures, 0) << counts.raw << "\n" << OperatorLogs();
}

// (e) A rolling update of the proxy service itself, triggered through the
// ServiceCluster (a new stop grace period changes the task spec), under load
// on every proxy node. The proxies run one per ingress node (mode: global)
// and take the node's host ports from the cluster's listener service, so
// Swarm starts each replacement beside the task it replaces (start-first)
// and both accept from the same socket until the old one has drained.
// Asserted: 0 failures of any kind on every node, the update completes, every
// proxy task was replaced, and the listener tasks were not.
TEST_F(ZeroDropE2E, RollingUpdateOfTheProxyServiceDropsNothing) {
  const auto& c = C();
  const std::string proxy = "sg-proxy-" + s_->cluster;
  const std::string listener = "sg-listen-" + s_->cluster;
  auto task_ids = [&](const std::string& service) {
    return TrimRight(
        c.Docker("service ps -q --filter desired-state=running " + service + " | sort").out);
  };
  const std::string proxies_before = task_ids(proxy);
  const std::string listeners_before = task_ids(listener);
  ASSERT_FALSE(listeners_before.empty()) << "no listener task for " << listener;

  std::vector<std::future<Counts>> loads;
  for (int node : s_->proxy_nodes) loads.push_back(StartLoad(node, 40, kRate / 2 + 10));
  std::this_thread::sleep_for(2s);
  auto applied = s_->env->Apply(
      "cluster-grace.yaml", ClusterYaml(s_->cluster, kGlobalProxies, s_->http_port, s_->https_port,
                                        "    stopGracePeriod: 11s\n"));
  EXPECT_TRUE(applied.ok()) << applied.Describe();
  auto done = WaitUntil("proxy update completed", 36s, [&](std::string& observed) {
    observed = UpdateState(proxy);
    return observed == "completed";
  });
  const std::string proxies_after = task_ids(proxy);
  long requests = 0;
  for (size_t i = 0; i < loads.size(); ++i) {
    auto counts = loads[i].get();
    ASSERT_TRUE(counts.parsed()) << counts.raw;
    Print("e proxy service rolled, load on node" + std::to_string(s_->proxy_nodes[i]), counts);
    requests += counts.requests;
    EXPECT_EQ(counts.failures, 0) << counts.raw << "\n" << OperatorLogs();
    EXPECT_GE(counts.requests, 100L * 38) << counts.raw;
  }
  std::printf("[zero-drop] e total: requests=%ld update=%s after %.1fs\n", requests,
              done.observed.c_str(), done.elapsed.count() / 1000.0);
  std::fflush(stdout);
  EXPECT_TRUE(done.ok) << done.message;
  // Every proxy task is new; the listeners kept the ports throughout.
  for (const auto& id : Lines(proxies_after)) {
    EXPECT_EQ(proxies_before.find(id), std::string::npos)
        << "proxy task " << id << " was not replaced\nbefore:\n"
        << proxies_before << "\nafter:\n"
        << proxies_after;
  }
  EXPECT_EQ(task_ids(listener), listeners_before);
  auto served = ServedBy(s_->svc_a, 30s);
  EXPECT_TRUE(served.ok) << served.message;
}

// (f) A backend task's container killed hard (SIGKILL, no drain): requests in
// flight on it fail until the proxies stop using it. Measured, not zero.
TEST_F(ZeroDropE2E, HardKilledBackendTaskIsMeasured) {
  const auto& c = C();
  ASSERT_TRUE(c.Docker("service scale -d " + s_->svc_a + "=3").ok());
  auto three = WaitUntil("3 tasks running", 60s, [&](std::string& observed) {
    auto n = RunningTasks(c, s_->svc_a).size();
    observed = std::to_string(n);
    return n == 3;
  });
  ASSERT_TRUE(three.ok) << three.message;
  std::this_thread::sleep_for(3s);  // new tasks healthy and in every proxy
  auto tasks = RunningTasks(c, s_->svc_a);
  ASSERT_FALSE(tasks.empty());
  const auto& victim = tasks.front();
  auto cid = c.Docker("ps -q --filter label=com.docker.swarm.task.id=" + victim.id,
                      victim.node_index > 0 ? victim.node_index : 1);
  ASSERT_TRUE(cid.ok() && !TrimRight(cid.out).empty()) << cid.Describe();

  auto load = StartLoad(s_->proxy_nodes.front(), 20);
  std::this_thread::sleep_for(3s);
  auto killed = c.Docker("kill " + TrimRight(cid.out), victim.node_index);
  ASSERT_TRUE(killed.ok()) << killed.Describe();
  auto counts = load.get();
  ASSERT_TRUE(counts.parsed()) << counts.raw;
  char extra[160];
  std::snprintf(extra, sizeof extra,
                " killed_at_s=3.0 failures_until_s=%.2f (%.2fs after the kill)",
                counts.last_failure_s, counts.failures ? counts.last_failure_s - 3.0 : 0.0);
  Print("f backend task killed hard", counts, extra);
  EXPECT_GE(counts.requests, 200L * 18) << counts.raw;
}

}  // namespace
}  // namespace sg::e2e
