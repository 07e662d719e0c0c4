// End-to-end checks of the fault library (e2e/harness/faults.h over
// `e2e/cluster fault`): each fault does to a real node what it says, and is
// undone, by its scope, by undo-all, or by the next test's set-up when a test
// process died with a fault in effect.
//
// The faulted node is a worker when the cluster has one, so the cluster keeps
// its manager; with three managers it is the last manager (quorum survives
// one). Node 1 is never faulted: the tests observe the swarm through it.
//
// Needs a cluster that is up with images loaded: e2e/run, or
//   e2e/cluster up && e2e/images/build --build-dir BUILD

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "e2e/harness/faults.h"
#include "e2e/harness/harness.h"
#include "e2e/harness/swarmgate_env.h"  // EchoEnv

namespace sg::e2e {
namespace {

using namespace std::chrono_literals;

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : "; ") + x;
  return s.empty() ? "(none)" : s;
}

class FaultLibraryE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { loaded_ = new Cluster::Loaded(Cluster::Load()); }
  static void TearDownTestSuite() {
    delete loaded_;
    loaded_ = nullptr;
  }

  void SetUp() override {
    ASSERT_TRUE(loaded_->ok()) << loaded_->error;
    // A test process that was killed leaves its faults recorded; undo them
    // so that this test starts from a healthy cluster.
    auto list = faults_.List();
    ASSERT_TRUE(list.ok()) << list.error().ToString();
    if (!list->empty()) {
      std::cerr << "[ faults   ] left by an earlier run, undoing: " << Join(*list) << "\n";
      auto st = faults_.UndoAll();
      ASSERT_TRUE(st.ok()) << st.error().ToString();
    }
  }

  void TearDown() override {
    auto list = faults_.List();
    ASSERT_TRUE(list.ok()) << list.error().ToString();
    EXPECT_TRUE(list->empty()) << "faults still in effect after the test: " << Join(*list);
  }

  static const Cluster& cluster() { return **loaded_; }

  // See the file comment; 0 when no node can be faulted safely.
  static int FaultNode() {
    const auto& c = cluster();
    if (c.size() > c.managers()) return c.size();
    if (c.managers() >= 3) return c.size();
    return 0;
  }

  // "<Status> <ManagerStatus>" of `node` as node 1 (a manager) reports it.
  static std::string SwarmView(int node) {
    auto r =
        cluster().Docker("node ls --format '{{.Hostname}} {{.Status}} {{.ManagerStatus}}'", 1, 10s);
    if (!r.ok()) return "node ls on node1: " + r.Describe();
    for (const auto& l : Lines(r.out)) {
      if (l.rfind(cluster().node(node).hostname + " ", 0) == 0) {
        return l.substr(cluster().node(node).hostname.size() + 1);
      }
    }
    return "node" + std::to_string(node) + " not listed: " + r.out;
  }

  // Ready, and for a manager back in the raft group.
  static WaitResult WaitReady(int node, Duration deadline) {
    bool manager = node <= cluster().managers();
    return WaitUntil(
        "node" + std::to_string(node) + " Ready in the swarm", deadline,
        [&](std::string& observed) {
          observed = SwarmView(node);
          if (observed.rfind("Ready", 0) != 0) return false;
          return !manager || observed.find("Reachable") != std::string::npos ||
                 observed.find("Leader") != std::string::npos;
        },
        500ms);
  }

  // One echo task pinned to `node`, answering on a host-mode port of that
  // node's address. Returns the port, or 0 with a failure recorded.
  static int EchoOn(Resources& res, int node, std::string* service = nullptr) {
    int port = UniquePort();
    std::string svc =
        res.Service(UniqueName("sgf-echo"),
                    "--replicas 1 --restart-delay 1s --constraint node.hostname==" +
                        cluster().node(node).hostname + " " + EchoEnv() +
                        " --publish mode=host,target=8080,published=" + std::to_string(port) +
                        " swarmgate/echo:dev");
    if (svc.empty()) {
      ADD_FAILURE() << res.last_error();
      return 0;
    }
    if (service) *service = svc;
    auto w =
        WaitUntil("echo answers on node" + std::to_string(node), 60s, [&](std::string& observed) {
          auto r = HttpGet(cluster().node(node).addr, port, "/healthz", "", 1s);
          observed = r.Describe();
          return r.ok();
        });
    if (!w.ok) {
      ADD_FAILURE() << w.message;
      return 0;
    }
    return port;
  }

  Faults faults_;

 private:
  static Cluster::Loaded* loaded_;
};
Cluster::Loaded* FaultLibraryE2E::loaded_ = nullptr;

#define SKIP_WITHOUT_FAULT_NODE(node)                                                       \
  if ((node) == 0)                                                                          \
  GTEST_SKIP() << "no node can be faulted: a " << cluster().size() << "-node cluster with " \
               << cluster().managers() << " manager(s) has no worker and no spare manager"

// Wrong requests fail with a reason and change nothing; undoing what is not
// in effect succeeds.
TEST_F(FaultLibraryE2E, RefusesBadRequestsAndUndoesIdempotently) {
  const int n = cluster().size();
  for (int bad : {0, n + 1}) {
    auto st = faults_.Partition(bad);
    ASSERT_FALSE(st.ok()) << "partition of node " << bad;
    EXPECT_TRUE(st.error().Is(ErrorCode::kInvalidArgument)) << st.error().ToString();
    EXPECT_NE(st.error().message.find("unknown node"), std::string::npos) << st.error().message;
  }
  auto r = Sh(ShellQuote(SourceDir() + "/e2e/cluster") + " fault flood 1", 30s);
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_NE(r.err.find("unknown fault 'flood'"), std::string::npos) << r.err;

  auto task = faults_.KillTask(UniqueName("sgf-none"));
  ASSERT_FALSE(task.ok());
  EXPECT_TRUE(task.error().Is(ErrorCode::kNotFound)) << task.error().ToString();

  int node = FaultNode();
  SKIP_WITHOUT_FAULT_NODE(node);
  auto heal = faults_.Heal(node);
  EXPECT_TRUE(heal.ok()) << heal.error().ToString();
  auto resume = faults_.ResumeDaemon(node);
  EXPECT_TRUE(resume.ok()) << resume.error().ToString();
  auto restart = faults_.RestartDaemon(node);
  EXPECT_TRUE(restart.ok()) << restart.error().ToString();
  auto undo = faults_.UndoAll();
  EXPECT_TRUE(undo.ok()) << undo.error().ToString();
  auto list = faults_.List();
  ASSERT_TRUE(list.ok()) << list.error().ToString();
  EXPECT_TRUE(list->empty()) << Join(*list);
}

// A partitioned node stops answering the host on its published port and the
// manager loses it (Down for a worker, Unreachable for a manager); healed, it
// is Ready again and answers.
TEST_F(FaultLibraryE2E, PartitionCutsNodeOffUntilHealed) {
  int node = FaultNode();
  SKIP_WITHOUT_FAULT_NODE(node);
  const auto& addr = cluster().node(node).addr;
  Resources res(cluster());
  int port = EchoOn(res, node);
  ASSERT_NE(port, 0);

  auto cut = ScopedFault::Apply(FaultKind::kPartition, node);
  ASSERT_TRUE(cut.ok()) << cut.error().ToString();
  // Applying it twice is no error and records it once.
  auto again = faults_.Partition(node);
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  auto list = faults_.List();
  ASSERT_TRUE(list.ok()) << list.error().ToString();
  EXPECT_EQ(*list, std::vector<std::string>{"partition " + std::to_string(node)});

  auto w = WaitUntil(
      "node" + std::to_string(node) + " port " + std::to_string(port) + " stops answering the host",
      10s, [&](std::string& observed) {
        auto r = HttpGet(addr, port, "/healthz", "", 1s);
        observed = r.Describe();
        return !r.error.empty();
      });
  EXPECT_TRUE(w.ok) << w.message;
  bool manager = node <= cluster().managers();
  w = WaitUntil(
      std::string("node1 sees node") + std::to_string(node) + (manager ? " Unreachable" : " Down"),
      60s,
      [&](std::string& observed) {
        observed = SwarmView(node);
        return manager ? observed.find("Unreachable") != std::string::npos
                       : observed.rfind("Down", 0) == 0;
      },
      500ms);
  EXPECT_TRUE(w.ok) << w.message;
  if (w.ok) std::cerr << "[ fault    ] partition seen after " << w.elapsed.count() << " ms\n";

  auto heal = cut->Undo();
  ASSERT_TRUE(heal.ok()) << heal.error().ToString();
  list = faults_.List();
  ASSERT_TRUE(list.ok()) << list.error().ToString();
  EXPECT_TRUE(list->empty()) << Join(*list);
  // Three managers: the healed one ran elections of its own while cut off,
  // and its return costs the swarm a new election (about 10 s each).
  w = WaitReady(node, 120s);
  ASSERT_TRUE(w.ok) << w.message;
  std::cerr << "[ fault    ] Ready " << w.elapsed.count() << " ms after heal\n";
  w = WaitUntil("node" + std::to_string(node) + " answers again", 30s, [&](std::string& observed) {
    auto r = HttpGet(addr, port, "/healthz", "", 1s);
    observed = r.Describe();
    return r.ok();
  });
  EXPECT_TRUE(w.ok) << w.message;
}

// A paused daemon's API times out while its containers keep serving; resumed,
// it answers. A second pause is undone by UndoAll.
TEST_F(FaultLibraryE2E, PausedDaemonTimesOutWhileContainersServe) {
  int node = FaultNode();
  SKIP_WITHOUT_FAULT_NODE(node);
  const auto& addr = cluster().node(node).addr;
  Resources res(cluster());
  int port = EchoOn(res, node);
  ASSERT_NE(port, 0);

  {
    auto pause = ScopedFault::Apply(FaultKind::kPauseDaemon, node);
    ASSERT_TRUE(pause.ok()) << pause.error().ToString();
    auto v = cluster().Docker("version --format '{{.Server.Version}}'", node, 3s);
    EXPECT_TRUE(v.timed_out) << "a stopped daemon answered: " << v.Describe() << " " << v.out;
    auto r = HttpGet(addr, port, "/healthz", "", 2s);
    EXPECT_TRUE(r.ok()) << "the task of a paused daemon stopped serving: " << r.Describe();
  }  // resumed here
  auto w = WaitUntil("node" + std::to_string(node) + "'s daemon answers after resume", 10s,
                     [&](std::string& observed) {
                       auto v =
                           cluster().Docker("version --format '{{.Server.Version}}'", node, 2s);
                       observed = v.ok() ? TrimRight(v.out) : v.Describe();
                       return v.ok();
                     });
  EXPECT_TRUE(w.ok) << w.message;

  ASSERT_TRUE(faults_.PauseDaemon(node).ok());
  auto list = faults_.List();
  ASSERT_TRUE(list.ok()) << list.error().ToString();
  EXPECT_TRUE(Contains(*list, "pause-daemon " + std::to_string(node))) << Join(*list);
  auto undo = faults_.UndoAll();
  ASSERT_TRUE(undo.ok()) << undo.error().ToString();
  auto v = cluster().Docker("version --format '{{.Server.Version}}'", node, 5s);
  EXPECT_TRUE(v.ok()) << "after undo-all: " << v.Describe();
}

// A killed daemon refuses connections; undo-all starts it again from the same
// data root: the same swarm node, Ready, with its images.
TEST_F(FaultLibraryE2E, KilledDaemonComesBackWithItsData) {
  int node = FaultNode();
  SKIP_WITHOUT_FAULT_NODE(node);
  const auto& c = cluster();
  const std::string image = "swarmgate/echo:dev";
  auto id_before = c.Docker("info --format '{{.Swarm.NodeID}}'", node, 10s);
  ASSERT_TRUE(id_before.ok()) << id_before.Describe();
  auto img = c.Docker("image inspect --format '{{.Id}}' " + image, node, 10s);
  ASSERT_TRUE(img.ok()) << image << " missing on node" << node
                        << " (run e2e/images/build): " << img.Describe();

  auto kill = ScopedFault::Apply(FaultKind::kKillDaemon, node);
  ASSERT_TRUE(kill.ok()) << kill.error().ToString();
  auto v = c.Docker("version --format '{{.Server.Version}}'", node, 5s);
  EXPECT_FALSE(v.ok()) << "a killed daemon answered: " << v.out;
  EXPECT_FALSE(v.timed_out) << "a killed daemon should refuse at once, not hang";
  auto list = faults_.List();
  ASSERT_TRUE(list.ok()) << list.error().ToString();
  EXPECT_TRUE(Contains(*list, "kill-daemon " + std::to_string(node))) << Join(*list);

  auto undo = faults_.UndoAll();
  ASSERT_TRUE(undo.ok()) << undo.error().ToString();
  // Already undone: the scope's own undo finds the daemon running.
  auto again = kill->Undo();
  EXPECT_TRUE(again.ok()) << again.error().ToString();

  auto w = WaitReady(node, 60s);
  ASSERT_TRUE(w.ok) << w.message;
  auto id_after = c.Docker("info --format '{{.Swarm.NodeID}}'", node, 10s);
  ASSERT_TRUE(id_after.ok()) << id_after.Describe();
  EXPECT_EQ(TrimRight(id_after.out), TrimRight(id_before.out)) << "the node lost its identity";
  auto img_after = c.Docker("image inspect --format '{{.Id}}' " + image, node, 10s);
  ASSERT_TRUE(img_after.ok()) << img_after.Describe();
  EXPECT_EQ(TrimRight(img_after.out), TrimRight(img.out));
}

// kill-task kills the task's container on its node, and Swarm starts a new
// one in its place.
TEST_F(FaultLibraryE2E, KilledTaskIsReplacedBySwarm) {
  int node = FaultNode();
  SKIP_WITHOUT_FAULT_NODE(node);
  const auto& c = cluster();
  Resources res(c);
  std::string svc;
  ASSERT_NE(EchoOn(res, node, &svc), 0);
  const std::string running =
      "ps -q --no-trunc --filter status=running --filter "
      "label=com.docker.swarm.service.name=" +
      svc;
  auto before = c.Docker(running, node, 10s);
  ASSERT_TRUE(before.ok()) << before.Describe();
  ASSERT_EQ(Lines(before.out).size(), 1u) << before.out;

  auto killed = faults_.KillTask(svc);
  ASSERT_TRUE(killed.ok()) << killed.error().ToString();
  EXPECT_EQ(killed->node, node);
  EXPECT_EQ(killed->container, TrimRight(before.out));
  EXPECT_EQ(killed->task.rfind(svc + ".1.", 0), 0u) << killed->task;
  auto state = c.Docker("inspect --format '{{.State.Running}}' " + killed->container, node, 10s);
  EXPECT_TRUE(!state.ok() || TrimRight(state.out) == "false")
      << "killed container still running: " << state.out;

  auto w = WaitUntil("a new task container of " + svc + " on node" + std::to_string(node), 30s,
                     [&](std::string& observed) {
                       auto r = c.Docker(running, node, 10s);
                       observed = r.ok() ? TrimRight(r.out) : r.Describe();
                       return r.ok() && Lines(r.out).size() == 1 &&
                              TrimRight(r.out) != killed->container;
                     });
  EXPECT_TRUE(w.ok) << w.message;
}

}  // namespace
}  // namespace sg::e2e
