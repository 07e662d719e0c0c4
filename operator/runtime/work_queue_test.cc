#include "operator/runtime/work_queue.h"

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace sg::runtime {
namespace {

using namespace std::chrono_literals;

// Runs Get() on another thread so a test can assert it blocks, then unblocks.
std::future<std::optional<WorkItem>> AsyncGet(WorkQueue& q) {
  return std::async(std::launch::async, [&q] { return q.Get(); });
}

// Generous: the machine is shared, so only the upper bound of a wait that
// must end is asserted, never how fast something happened.
constexpr auto kDeadline = 10s;

TEST(WorkQueueTest, AddDeduplicatesAndKeepsFifoOrder) {
  FakeClock clock;
  WorkQueue q(clock);
  q.Add("route/a");
  q.Add("route/b");
  q.Add("route/a");
  q.Add("route/a");
  EXPECT_EQ(q.Len(), 2u);
  auto a = q.Get();
  auto b = q.Get();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->key, "route/a");
  EXPECT_EQ(b->key, "route/b");
  EXPECT_EQ(q.Len(), 0u);
}

TEST(WorkQueueTest, KeyAddedWhileProcessingIsRequeuedAfterDone) {
  FakeClock clock;
  WorkQueue q(clock);
  q.Add("route/a");
  auto item = q.Get();
  ASSERT_TRUE(item);
  q.Add("route/a");
  q.Add("route/a");
  // Not handed out again while processing.
  EXPECT_EQ(q.Len(), 0u);
  auto next = AsyncGet(q);
  EXPECT_EQ(next.wait_for(50ms), std::future_status::timeout);
  q.Done("route/a");
  ASSERT_EQ(next.wait_for(kDeadline), std::future_status::ready);
  auto again = next.get();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->key, "route/a");
  q.Done("route/a");
  EXPECT_EQ(q.Len(), 0u);
}

TEST(WorkQueueTest, DoneWithoutNewAddDoesNotRequeue) {
  FakeClock clock;
  WorkQueue q(clock);
  q.Add("k");
  auto item = q.Get();
  q.Done("k");
  EXPECT_EQ(q.Len(), 0u);
}

TEST(WorkQueueTest, KeepsEarliestPendingTrigger) {
  FakeClock clock;
  WorkQueue q(clock);
  const auto t0 = clock.Now();
  q.Add("route/shop", Trigger{"service", t0 + 2s});
  q.Add("route/shop", Trigger{"route", t0 + 1s});
  q.Add("route/shop", Trigger{"task", t0 + 3s});
  q.Add("route/shop");  // untriggered add does not erase the trigger
  auto item = q.Get();
  ASSERT_TRUE(item);
  EXPECT_EQ(item->trigger.name, "route");
  EXPECT_EQ(item->trigger.time, t0 + 1s);

  // A change during processing starts a new measurement for the next run.
  q.Add("route/shop", Trigger{"task", t0 + 5s});
  q.Done("route/shop");
  auto next = q.Get();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->trigger.name, "task");
  EXPECT_EQ(next->trigger.time, t0 + 5s);
}

TEST(WorkQueueTest, AddAfterWaitsForTheClock) {
  FakeClock clock;
  WorkQueue q(clock);
  q.AddAfter("cluster/public", 100ms, Trigger{"resync", clock.Now()});
  EXPECT_EQ(q.Len(), 0u);
  auto got = AsyncGet(q);
  EXPECT_EQ(got.wait_for(50ms), std::future_status::timeout);
  clock.Advance(99ms);
  EXPECT_EQ(got.wait_for(20ms), std::future_status::timeout);
  clock.Advance(1ms);
  ASSERT_EQ(got.wait_for(kDeadline), std::future_status::ready);
  auto item = got.get();
  ASSERT_TRUE(item);
  EXPECT_EQ(item->key, "cluster/public");
  EXPECT_EQ(item->trigger.name, "resync");
}

TEST(WorkQueueTest, AddAfterKeepsEarlierReadyTime) {
  FakeClock clock;
  WorkQueue q(clock);
  q.AddAfter("k", 10s);
  q.AddAfter("k", 1s);
  q.AddAfter("k", 5s);
  clock.Advance(1s);
  auto item = AsyncGet(q);
  ASSERT_EQ(item.wait_for(kDeadline), std::future_status::ready);
  EXPECT_EQ(item.get()->key, "k");
  q.Done("k");
  // The stale 5 s and 10 s entries do not produce extra runs.
  clock.Advance(10s);
  auto none = AsyncGet(q);
  EXPECT_EQ(none.wait_for(50ms), std::future_status::timeout);
  q.ShutDown();
  ASSERT_EQ(none.wait_for(kDeadline), std::future_status::ready);
  EXPECT_FALSE(none.get().has_value());
}

TEST(WorkQueueTest, AddAfterWithRealClockDelivers) {
  RealClock clock;
  WorkQueue q(clock);
  const auto start = clock.Now();
  q.AddAfter("k", 20ms);
  auto got = AsyncGet(q);
  ASSERT_EQ(got.wait_for(kDeadline), std::future_status::ready);
  EXPECT_EQ(got.get()->key, "k");
  EXPECT_GE(clock.Now() - start, 20ms);  // never early
}

TEST(WorkQueueTest, RateLimitedBackoffGrowsAndForgetResets) {
  FakeClock clock;
  WorkQueueOptions opts;
  opts.rate_limit.base_delay = 5ms;
  opts.rate_limit.max_delay = 100ms;
  opts.rate_limit.qps = 0;  // isolate the per-key backoff
  WorkQueue q(clock, opts);
  EXPECT_EQ(q.AddRateLimited("k"), 5ms);
  EXPECT_EQ(q.AddRateLimited("k"), 10ms);
  EXPECT_EQ(q.AddRateLimited("k"), 20ms);
  EXPECT_EQ(q.AddRateLimited("k"), 40ms);
  EXPECT_EQ(q.AddRateLimited("k"), 80ms);
  EXPECT_EQ(q.AddRateLimited("k"), 100ms);  // capped
  EXPECT_EQ(q.AddRateLimited("k"), 100ms);
  EXPECT_EQ(q.NumRequeues("k"), 7);
  EXPECT_EQ(q.AddRateLimited("other"), 5ms);  // per key
  q.Forget("k");
  EXPECT_EQ(q.NumRequeues("k"), 0);
  EXPECT_EQ(q.AddRateLimited("k"), 5ms);
}

TEST(WorkQueueTest, TokenBucketLimitsBurstsOfRateLimitedAdds) {
  FakeClock clock;
  WorkQueueOptions opts;
  opts.rate_limit.base_delay = 1ms;
  opts.rate_limit.qps = 10;
  opts.rate_limit.burst = 2;
  WorkQueue q(clock, opts);
  EXPECT_EQ(q.AddRateLimited("a"), 1ms);
  EXPECT_EQ(q.AddRateLimited("b"), 1ms);
  // Bucket empty: the third waits for one token (100 ms at 10 qps), the
  // fourth for two.
  EXPECT_EQ(q.AddRateLimited("c"), 100ms);
  EXPECT_EQ(q.AddRateLimited("d"), 200ms);
  clock.Advance(1s);  // refills up to the burst
  EXPECT_EQ(q.AddRateLimited("e"), 1ms);
}

TEST(WorkQueueTest, RateLimitedKeyKeepsItsTrigger) {
  FakeClock clock;
  WorkQueue q(clock);
  const auto t = clock.Now();
  q.AddRateLimited("k", Trigger{"route", t});
  clock.Advance(1s);
  auto item = q.Get();
  ASSERT_TRUE(item);
  EXPECT_EQ(item->trigger.name, "route");
  EXPECT_EQ(item->trigger.time, t);
}

TEST(WorkQueueTest, ShutDownWakesAllWaiters) {
  RealClock clock;
  WorkQueue q(clock);
  std::vector<std::future<std::optional<WorkItem>>> waiters;
  for (int i = 0; i < 4; ++i) waiters.push_back(AsyncGet(q));
  q.ShutDown();
  for (auto& w : waiters) {
    ASSERT_EQ(w.wait_for(kDeadline), std::future_status::ready);
    EXPECT_FALSE(w.get().has_value());
  }
  q.Add("late");
  EXPECT_EQ(q.Len(), 0u);
  EXPECT_TRUE(q.ShuttingDown());
}

TEST(WorkQueueTest, DepthHookFollowsReadyKeys) {
  FakeClock clock;
  std::atomic<std::size_t> depth{99};
  WorkQueueOptions opts;
  opts.on_depth_change = [&depth](std::size_t n) { depth = n; };
  WorkQueue q(clock, opts);
  q.Add("a");
  q.Add("b");
  EXPECT_EQ(depth.load(), 2u);
  auto item = q.Get();
  EXPECT_EQ(depth.load(), 1u);
}

// Several workers hammer a few keys while producers keep adding them: a key
// must never be processed by two workers at once, and every add made before
// the end is processed at least once afterwards.
TEST(WorkQueueTest, NoConcurrentProcessingOfAKey) {
  RealClock clock;
  WorkQueue q(clock);
  constexpr int kKeys = 5;
  constexpr int kWorkers = 4;
  std::atomic<int> in_flight[kKeys];
  for (auto& f : in_flight) f = 0;
  std::atomic<int> violations{0};
  std::atomic<int> processed{0};

  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&] {
      while (auto item = q.Get()) {
        const int k = item->key.back() - '0';
        if (in_flight[k].fetch_add(1) != 0) ++violations;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        in_flight[k].fetch_sub(1);
        ++processed;
        q.Done(item->key);
      }
    });
  }
  std::vector<std::thread> producers;
  for (int p = 0; p < 2; ++p) {
    producers.emplace_back([&] {
      // Yield now and then so adds land while keys are being processed.
      for (int i = 0; i < 2000; ++i) {
        q.Add("k" + std::to_string(i % kKeys));
        if (i % 8 == 0) std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
    });
  }
  for (auto& p : producers) p.join();
  // Drain: wait until the queue is empty and nothing is in flight.
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  auto idle = [&] {
    if (q.Len() != 0) return false;
    for (auto& f : in_flight)
      if (f.load() != 0) return false;
    return true;
  };
  while (!idle() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  q.ShutDown();
  for (auto& w : workers) w.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_GE(processed.load(), kKeys);
  EXPECT_LE(processed.load(), 4000);
}

TEST(FakeClockTest, AdvanceMovesBothTimelinesAndFromWallMaps) {
  FakeClock clock;
  const auto s = clock.Now();
  const auto w = clock.WallNow();
  clock.Advance(1500ms);
  EXPECT_EQ(clock.Now() - s, 1500ms);
  EXPECT_EQ(clock.WallNow() - w, 1500ms);
  // A change stamped 2 s ago on the wall clock happened 2 s ago here.
  EXPECT_EQ(clock.Now() - clock.FromWall(clock.WallNow() - 2s), 2s);
}

}  // namespace
}  // namespace sg::runtime
