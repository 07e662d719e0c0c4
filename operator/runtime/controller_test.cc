#include "operator/runtime/controller.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

namespace sg::runtime {
namespace {

using namespace std::chrono_literals;

// A reconciler whose answers are scripted per key; once a key's script is
// exhausted it succeeds. Records every call.
class ScriptedReconciler : public Reconciler {
 public:
  void Script(const std::string& key, std::deque<Result<ReconcileResult>> answers) {
    std::lock_guard<std::mutex> l(mu_);
    scripts_[key] = std::move(answers);
  }

  Result<ReconcileResult> Reconcile(const std::string& key, const Trigger& trigger) override {
    std::lock_guard<std::mutex> l(mu_);
    ++calls_[key];
    triggers_[key].push_back(trigger);
    cv_.notify_all();
    auto& s = scripts_[key];
    if (s.empty()) return ReconcileResult{};
    auto r = std::move(s.front());
    s.pop_front();
    return r;
  }

  // Waits until `key` was reconciled at least `n` times.
  bool WaitCalls(const std::string& key, int n, std::chrono::seconds deadline = 10s) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, deadline, [&] { return calls_[key] >= n; });
  }
  int Calls(const std::string& key) {
    std::lock_guard<std::mutex> l(mu_);
    return calls_[key];
  }
  std::vector<Trigger> Triggers(const std::string& key) {
    std::lock_guard<std::mutex> l(mu_);
    return triggers_[key];
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::deque<Result<ReconcileResult>>> scripts_;
  std::map<std::string, int> calls_;
  std::map<std::string, std::vector<Trigger>> triggers_;
};

class ControllerTest : public ::testing::Test {
 protected:
  ControllerOptions Options() {
    ControllerOptions o;
    o.name = "route";
    o.workers = 2;
    o.rate_limit.base_delay = 1ms;
    o.rate_limit.qps = 0;
    return o;
  }

  double Total(const std::string& result) {
    return metrics_.reconcile_total.WithLabels({"route", result}).Value();
  }
  double Errors() { return metrics_.reconcile_errors_total.WithLabels({"route"}).Value(); }
  std::uint64_t Reconciles() {
    return metrics_.reconcile_duration_seconds.WithLabels({"route"}).Snap().count;
  }

  // Waits for a condition that the workers make true shortly.
  template <class F>
  bool Eventually(F f, std::chrono::seconds deadline = 10s) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (!f()) {
      if (std::chrono::steady_clock::now() > end) return false;
      std::this_thread::sleep_for(1ms);
    }
    return true;
  }

  RealClock clock_;
  metrics::Registry registry_;
  metrics::SwarmgateMetrics metrics_{registry_};
  ScriptedReconciler reconciler_;
};

TEST_F(ControllerTest, SuccessIsCountedAndForgotten) {
  Controller c(Options(), reconciler_, clock_, metrics_);
  c.Start();
  c.Enqueue("route/shop", Trigger{"route", clock_.Now()});
  ASSERT_TRUE(reconciler_.WaitCalls("route/shop", 1));
  ASSERT_TRUE(Eventually([&] { return Total("success") == 1; }));
  c.Stop();
  EXPECT_EQ(Total("error"), 0);
  EXPECT_EQ(Total("requeue"), 0);
  EXPECT_EQ(Errors(), 0);
  EXPECT_EQ(Reconciles(), 1u);
  EXPECT_EQ(reconciler_.Triggers("route/shop").at(0).name, "route");
  EXPECT_EQ(c.queue().NumRequeues("route/shop"), 0);
}

TEST_F(ControllerTest, ErrorIsRetriedWithBackoffAndKeepsTrigger) {
  reconciler_.Script("route/shop", {Unavailable("docker down"), Unavailable("docker down")});
  Controller c(Options(), reconciler_, clock_, metrics_);
  c.Start();
  const auto t = clock_.Now();
  c.Enqueue("route/shop", Trigger{"service", t});
  ASSERT_TRUE(reconciler_.WaitCalls("route/shop", 3));
  ASSERT_TRUE(Eventually([&] { return Total("success") == 1; }));
  c.Stop();
  EXPECT_EQ(Total("error"), 2);
  EXPECT_EQ(Errors(), 2);
  EXPECT_EQ(Reconciles(), 3u);
  // Retries still measure convergence from the original change.
  for (const auto& tr : reconciler_.Triggers("route/shop")) {
    EXPECT_EQ(tr.name, "service");
    EXPECT_EQ(tr.time, t);
  }
  EXPECT_EQ(c.queue().NumRequeues("route/shop"), 0);  // forgotten on success
}

// With one worker, keys run in order: once a key queued later has run, any
// retry the controller scheduled before it, and that is due, has run too.
void ExpectNoRetry(Controller& c, FakeClock& clock, ScriptedReconciler& r, const std::string& key) {
  c.Enqueue("marker1");
  ASSERT_TRUE(r.WaitCalls("marker1", 1));
  EXPECT_EQ(c.queue().NumRequeues(key), 0);
  clock.Advance(1h);  // past any backoff
  c.Enqueue("marker2");
  ASSERT_TRUE(r.WaitCalls("marker2", 1));
  c.Enqueue("marker3");
  ASSERT_TRUE(r.WaitCalls("marker3", 1));
  EXPECT_EQ(r.Calls(key), 1);
}

TEST_F(ControllerTest, TerminalErrorIsCountedNotRetried) {
  reconciler_.Script("route/bad", {InvalidArgument("hosts: empty")});
  FakeClock clock;
  auto o = Options();
  o.workers = 1;
  Controller c(o, reconciler_, clock, metrics_);
  c.Start();
  c.Enqueue("route/bad");
  ASSERT_TRUE(reconciler_.WaitCalls("route/bad", 1));
  ExpectNoRetry(c, clock, reconciler_, "route/bad");
  c.Stop();
  EXPECT_EQ(Total("error"), 1);
  EXPECT_EQ(Errors(), 1);
}

TEST_F(ControllerTest, CustomTerminalPredicate) {
  FakeClock clock;
  auto o = Options();
  o.workers = 1;
  o.is_terminal = [](const Error& e) { return e.Is(ErrorCode::kNotFound); };
  reconciler_.Script("route/gone", {NotFound("no such config")});
  Controller c(o, reconciler_, clock, metrics_);
  c.Start();
  c.Enqueue("route/gone");
  ASSERT_TRUE(reconciler_.WaitCalls("route/gone", 1));
  ExpectNoRetry(c, clock, reconciler_, "route/gone");
  c.Stop();
  EXPECT_EQ(Errors(), 1);
}

TEST_F(ControllerTest, RequeueAfterRunsAgainLater) {
  FakeClock clock;
  reconciler_.Script("cluster/public", {ReconcileResult{std::chrono::milliseconds(500)}});
  auto o = Options();
  o.name = "route";
  Controller c(o, reconciler_, clock, metrics_);
  c.Start();
  c.Enqueue("cluster/public", Trigger{"servicecluster", clock.Now()});
  ASSERT_TRUE(reconciler_.WaitCalls("cluster/public", 1));
  ASSERT_TRUE(Eventually([&] { return Total("requeue") == 1; }));
  EXPECT_EQ(reconciler_.Calls("cluster/public"), 1);
  clock.Advance(500ms);
  ASSERT_TRUE(reconciler_.WaitCalls("cluster/public", 2));
  ASSERT_TRUE(Eventually([&] { return Total("success") == 1; }));
  c.Stop();
  // The periodic requeue is not a change: no trigger to measure from.
  EXPECT_TRUE(reconciler_.Triggers("cluster/public").at(1).empty());
}

TEST_F(ControllerTest, ThrowingReconcilerIsAnErrorNotACrash) {
  class Throwing : public Reconciler {
   public:
    Result<ReconcileResult> Reconcile(const std::string&, const Trigger&) override {
      if (calls_++ == 0) throw std::runtime_error("boom");
      return ReconcileResult{};
    }
    std::atomic<int> calls_{0};
  } throwing;
  Controller c(Options(), throwing, clock_, metrics_);
  c.Start();
  c.Enqueue("k");
  ASSERT_TRUE(Eventually([&] { return Total("success") == 1; }));
  c.Stop();
  EXPECT_EQ(Errors(), 1);
}

TEST_F(ControllerTest, StopFinishesInFlightReconcile) {
  class Slow : public Reconciler {
   public:
    Result<ReconcileResult> Reconcile(const std::string&, const Trigger&) override {
      {
        std::lock_guard<std::mutex> l(mu);
        started = true;
      }
      cv.notify_all();
      std::unique_lock<std::mutex> l(mu);
      cv.wait(l, [&] { return release; });
      finished = true;
      return ReconcileResult{};
    }
    std::mutex mu;
    std::condition_variable cv;
    bool started = false, release = false;
    std::atomic<bool> finished{false};
  } slow;
  Controller c(Options(), slow, clock_, metrics_);
  c.Start();
  c.Enqueue("k");
  {
    std::unique_lock<std::mutex> l(slow.mu);
    ASSERT_TRUE(slow.cv.wait_for(l, 10s, [&] { return slow.started; }));
  }
  std::thread stopper([&] { c.Stop(); });
  {
    std::lock_guard<std::mutex> l(slow.mu);
    slow.release = true;
  }
  slow.cv.notify_all();
  stopper.join();
  EXPECT_TRUE(slow.finished.load());
  EXPECT_EQ(Total("success"), 1);
}

TEST_F(ControllerTest, DepthGaugeTracksQueue) {
  Controller c(Options(), reconciler_, clock_, metrics_);
  // Not started: keys pile up.
  c.Enqueue("a");
  c.Enqueue("b");
  c.Enqueue("a");
  EXPECT_EQ(metrics_.workqueue_depth.WithLabels({"route"}).Value(), 2);
  c.Start();
  ASSERT_TRUE(Eventually([&] { return Total("success") == 2; }));
  EXPECT_EQ(metrics_.workqueue_depth.WithLabels({"route"}).Value(), 0);
  c.Stop();
}

}  // namespace
}  // namespace sg::runtime
