// End-to-end checks of the test cluster itself: that the namespace-node Swarm
// behaves like a real multi-node cluster for everything later tests rely on
// (overlay task IPs across nodes, host-mode ports, images on every node), and
// that the load generator's failure counter is real.
//
// Needs a cluster that is up with images loaded: e2e/run, or
//   e2e/cluster up && e2e/images/build --build-dir BUILD

#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "e2e/harness/harness.h"
#include "e2e/harness/loadgen_runner.h"
#include "e2e/harness/swarmgate_env.h"  // EchoEnv

namespace sg::e2e {
namespace {

using namespace std::chrono_literals;

const char* const kImages[] = {"swarmgate/proxy:dev", "swarmgate/operator:dev",
                               "swarmgate/echo:dev"};

std::string DescribeTasks(const std::vector<TaskInfo>& tasks) {
  std::string s;
  for (const auto& t : tasks) {
    s += t.name + "@" + t.node + "[";
    for (const auto& a : t.addrs) s += a + " ";
    s += "] ";
  }
  return s.empty() ? "no running tasks" : s;
}

class ClusterE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { loaded_ = new Cluster::Loaded(Cluster::Load()); }
  static void TearDownTestSuite() {
    delete spread_;
    spread_ = nullptr;
    delete loaded_;
    loaded_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(loaded_->ok()) << loaded_->error; }
  static const Cluster& cluster() { return **loaded_; }

  // One echo service with a task on every node (max one per node), on an
  // attachable overlay, in dnsrr mode (no IPVS needed), publishing a
  // host-mode port. Shared by the tests that only read from it.
  struct Spread {
    std::unique_ptr<Resources> res;
    std::string net, svc, error;
    int port = 0;
    std::vector<TaskInfo> tasks;
  };
  static const Spread& EchoOnEveryNode() {
    if (spread_) return *spread_;
    spread_ = new Spread;
    auto& s = *spread_;
    const auto& c = cluster();
    s.res = std::make_unique<Resources>(c);
    s.net = s.res->Network(UniqueName("sge2e-net"));
    s.port = UniquePort();
    if (s.net.empty()) {
      s.error = s.res->last_error();
      return s;
    }
    s.svc =
        s.res->Service(UniqueName("sge2e-echo"),
                       "--replicas " + std::to_string(c.size()) + " --replicas-max-per-node 1" +
                           " --endpoint-mode dnsrr --network " + s.net + " " + EchoEnv() +
                           " --publish mode=host,target=8080,published=" + std::to_string(s.port) +
                           " swarmgate/echo:dev");
    if (s.svc.empty()) {
      s.error = s.res->last_error();
      return s;
    }
    auto w = WaitUntil(std::to_string(c.size()) + " echo tasks running on distinct nodes", 60s,
                       [&](std::string& observed) {
                         s.tasks = RunningTasks(c, s.svc, s.net);
                         observed = DescribeTasks(s.tasks);
                         std::set<int> nodes;
                         for (const auto& t : s.tasks) {
                           if (!t.addrs.empty()) nodes.insert(t.node_index);
                         }
                         return static_cast<int>(nodes.size()) == c.size();
                       });
    if (!w.ok) s.error = w.message;
    return s;
  }

 private:
  static Cluster::Loaded* loaded_;
  static Spread* spread_;
};
Cluster::Loaded* ClusterE2E::loaded_ = nullptr;
ClusterE2E::Spread* ClusterE2E::spread_ = nullptr;

TEST_F(ClusterE2E, AllNodesReady) {
  auto r = cluster().Docker("node ls --format '{{.Hostname}} {{.Status}} {{.Availability}}'");
  ASSERT_TRUE(r.ok()) << r.Describe();
  auto lines = Lines(r.out);
  EXPECT_EQ(static_cast<int>(lines.size()), cluster().size()) << r.out;
  for (const auto& l : lines) EXPECT_NE(l.find(" Ready Active"), std::string::npos) << l;
}

TEST_F(ClusterE2E, ImagesPresentOnEveryNode) {
  for (const auto& n : cluster().nodes()) {
    for (const char* img : kImages) {
      auto r = cluster().Docker(std::string("image inspect --format '{{.Id}}' ") + img, n.index);
      EXPECT_TRUE(r.ok()) << img << " missing on node" << n.index
                          << " (run e2e/images/build): " << r.Describe();
    }
  }
}

TEST_F(ClusterE2E, CapsReportsIpvsWithReason) {
  auto r = Sh(ShellQuote(SourceDir() + "/e2e/cluster") + " caps");
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_TRUE(r.out.rfind("ipvs=yes reason=", 0) == 0 || r.out.rfind("ipvs=no reason=", 0) == 0)
      << r.out;
}

// Busybox 1.35's `wget -T` crashes (SIGSEGV), so client containers bound
// wget with the `timeout` applet instead.

// A client container on node 1 reaches every task (two of them on other
// nodes) by task IP over the overlay, and `tasks.<service>` lists them all.
TEST_F(ClusterE2E, EchoTasksAnswerOverOverlayFromAnotherNode) {
  const auto& s = EchoOnEveryNode();
  ASSERT_TRUE(s.error.empty()) << s.error;
  std::string script = "nslookup tasks." + s.svc + " 2>&1; ";
  for (const auto& t : s.tasks) {
    script += "echo @@" + t.addrs.at(0) + "; timeout 5 wget -qO- http://" + t.addrs.at(0) +
              ":8080/overlay; ";
  }
  auto r =
      cluster().Docker("run --rm --network " + s.net +
                           " --entrypoint /bin/sh swarmgate/proxy:dev -c " + ShellQuote(script),
                       1, 60s);
  ASSERT_TRUE(r.ok()) << r.Describe() << "\n" << r.out;
  std::set<std::string> slots;
  for (const auto& t : s.tasks) {
    const std::string& ip = t.addrs.at(0);
    auto at = r.out.find("@@" + ip + "\n");
    ASSERT_NE(at, std::string::npos) << r.out;
    auto body = r.out.substr(at + ip.size() + 3,
                             r.out.find('\n', at + ip.size() + 3) - (at + ip.size() + 3));
    EXPECT_EQ(JsonField(body, "service"), s.svc)
        << "task " << t.name << " on node" << t.node_index << ": " << body;
    EXPECT_EQ(JsonField(body, "path"), "/overlay") << body;
    // The answer comes from the task that owns this IP.
    EXPECT_EQ(JsonField(body, "task"), t.name + "." + t.id) << body;
    slots.insert(JsonField(body, "slot"));
  }
  EXPECT_EQ(static_cast<int>(slots.size()), cluster().size()) << r.out;
  // The DNS answer (before the first @@ marker) names every task IP.
  std::string dns = r.out.substr(0, r.out.find("@@"));
  for (const auto& t : s.tasks) EXPECT_NE(dns.find(t.addrs.at(0)), std::string::npos) << dns;
}

// Host-mode published ports answer on each node's own address, from the
// host, served by the task on that node.
TEST_F(ClusterE2E, HostModePortAnswersOnEveryNode) {
  const auto& s = EchoOnEveryNode();
  ASSERT_TRUE(s.error.empty()) << s.error;
  for (const auto& n : cluster().nodes()) {
    HttpResponse res;
    auto w = WaitUntil(
        "node" + std::to_string(n.index) + " answers on host port " + std::to_string(s.port), 15s,
        [&](std::string& observed) {
          res = HttpGet(n.addr, s.port, "/host?x=1", "echo.test");
          observed = res.Describe();
          return res.ok();
        });
    ASSERT_TRUE(w.ok) << w.message;
    EXPECT_EQ(JsonField(res.body, "service"), s.svc);
    EXPECT_EQ(JsonField(res.body, "query"), "x=1");
    // The answering task is the one scheduled on this node.
    std::string local;
    for (const auto& t : s.tasks) {
      if (t.node_index == n.index) local = t.name + "." + t.id;
    }
    EXPECT_EQ(JsonField(res.body, "task"), local)
        << "node" << n.index << "; tasks: " << DescribeTasks(s.tasks);
  }
}

LoadReport RunLoadgen(const std::string& args) {
  return sg::e2e::RunLoadgen(SG_LOADGEN_PATH, args);
}

// At a modest paced rate the path host -> host-mode port -> task loses
// nothing, for a client that never resends (sg-loadgen's default); once the
// service is gone the same run counts failures.
TEST_F(ClusterE2E, LoadgenCountsZeroThenRealFailures) {
  const auto& c = cluster();
  int node = c.size() >= 2 ? 2 : 1;
  Resources res(c);
  int port = UniquePort();
  std::string svc = res.Service(
      UniqueName("sge2e-load"),
      "--replicas 1 --constraint node.hostname==" + c.node(node).hostname + " " + EchoEnv() +
          " --publish mode=host,target=8080,published=" + std::to_string(port) +
          " swarmgate/echo:dev");
  ASSERT_FALSE(svc.empty()) << res.last_error();
  auto w = WaitUntil("load target answers", 60s, [&](std::string& observed) {
    auto r = HttpGet(c.node(node).addr, port, "/healthz");
    observed = r.Describe();
    return r.ok();
  });
  ASSERT_TRUE(w.ok) << w.message;

  std::string url = "--url http://" + c.node(node).addr + ":" + std::to_string(port) + "/load";
  auto ok = RunLoadgen(url + " --concurrency 4 --rate 200 --duration 3s --timeout 2s");
  ASSERT_GT(ok.requests, 0) << ok.raw;
  EXPECT_EQ(ok.failures, 0) << ok.raw;
  EXPECT_GE(ok.requests, 500) << "paced at 200 req/s for 3 s" << ok.raw;
  EXPECT_LE(ok.requests, 640) << ok.raw;

  auto rm = c.Docker("service rm " + svc);
  ASSERT_TRUE(rm.ok()) << rm.Describe();
  w = WaitUntil("load target gone", 30s, [&](std::string& observed) {
    auto r = HttpGet(c.node(node).addr, port, "/healthz", "", 1s);
    observed = r.Describe();
    return !r.error.empty();
  });
  ASSERT_TRUE(w.ok) << w.message;
  auto bad = RunLoadgen(url + " --concurrency 4 --rate 200 --duration 1s --timeout 1s");
  EXPECT_GT(bad.failures, 0) << bad.raw;
  EXPECT_EQ(bad.ok, 0) << bad.raw;
  EXPECT_GT(bad.connect, 0) << "a removed backend refuses connections" << bad.raw;
}

// Swarm VIPs need IPVS in the kernel; where it is missing the traffic path
// cannot work, so the test says so instead of faking it.
TEST_F(ClusterE2E, VipServiceReachableThroughVip) {
  auto caps = DetectCapabilities();
  if (!caps.ipvs)
    GTEST_SKIP() << "no IPVS, Swarm VIPs cannot carry traffic here: " << caps.ipvs_reason;
  const auto& c = cluster();
  Resources res(c);
  std::string net = res.Network(UniqueName("sge2e-vipnet"));
  ASSERT_FALSE(net.empty()) << res.last_error();
  std::string svc =
      res.Service(UniqueName("sge2e-vip"), "--replicas 2 --endpoint-mode vip --network " + net +
                                               " " + EchoEnv() + " swarmgate/echo:dev");
  ASSERT_FALSE(svc.empty()) << res.last_error();
  auto w = WaitUntil("2 vip tasks running", 60s, [&](std::string& observed) {
    auto tasks = RunningTasks(c, svc, net);
    observed = DescribeTasks(tasks);
    return tasks.size() == 2;
  });
  ASSERT_TRUE(w.ok) << w.message;
  auto r = c.Docker("run --rm --network " + net +
                        " --entrypoint timeout swarmgate/proxy:dev 5 wget -qO- http://" + svc +
                        ":8080/vip",
                    1, 60s);
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_EQ(JsonField(Lines(r.out).at(0), "service"), svc) << r.out;
}

}  // namespace
}  // namespace sg::e2e
