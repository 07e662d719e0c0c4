#include "operator/runtime/backoff.h"

#include <future>
#include <thread>

#include <gtest/gtest.h>

namespace sg::runtime {
namespace {

using namespace std::chrono_literals;

TEST(BackoffTest, GrowsExponentiallyWithinJitterAndCaps) {
  BackoffOptions o;
  o.initial = 100ms;
  o.max = 1s;
  o.multiplier = 2;
  o.jitter = 0.2;
  Backoff b(o, /*seed=*/42);
  const double bases[] = {100, 200, 400, 800, 1000, 1000, 1000};
  for (double base : bases) {
    const double ms = std::chrono::duration<double, std::milli>(b.Next()).count();
    EXPECT_GE(ms, base * 0.8 - 1e-6);
    EXPECT_LE(ms, std::min(1000.0, base * 1.2) + 1e-6);
  }
  EXPECT_EQ(b.attempts(), 7);
}

TEST(BackoffTest, NoJitterIsExact) {
  BackoffOptions o;
  o.initial = 10ms;
  o.max = 50ms;
  o.jitter = 0;
  Backoff b(o, 1);
  EXPECT_EQ(b.Next(), 10ms);
  EXPECT_EQ(b.Next(), 20ms);
  EXPECT_EQ(b.Next(), 40ms);
  EXPECT_EQ(b.Next(), 50ms);
  b.Reset();
  EXPECT_EQ(b.Next(), 10ms);
}

TEST(BackoffTest, JitterSpreadsDelays) {
  BackoffOptions o;
  o.initial = 1s;
  o.max = 10s;
  o.jitter = 0.5;
  Backoff a(o, 1), b(o, 2);
  // Two clients seeded differently do not retry in lockstep.
  bool differ = false;
  for (int i = 0; i < 3; ++i) differ |= a.Next() != b.Next();
  EXPECT_TRUE(differ);
}

TEST(BackoffTest, ManyAttemptsDoNotOverflow) {
  BackoffOptions o;
  o.initial = 1ms;
  o.max = 30s;
  o.jitter = 0;
  Backoff b(o, 1);
  for (int i = 0; i < 1000; ++i) {
    auto d = b.Next();
    ASSERT_GT(d, 0ms);
    ASSERT_LE(d, 30s);
  }
}

TEST(StopSignalTest, WaitForTimesOutOnFakeClock) {
  FakeClock clock;
  StopSignal stop;
  auto f = std::async(std::launch::async, [&] { return stop.WaitFor(clock, 5s); });
  EXPECT_EQ(f.wait_for(30ms), std::future_status::timeout);
  // The waiter may start after an advance on a busy machine (its deadline is
  // then later): advance until it has seen five seconds pass, bounded.
  for (int i = 0; i < 500 && f.wait_for(10ms) != std::future_status::ready; ++i) {
    clock.Advance(5s);
  }
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  EXPECT_FALSE(f.get());
}

TEST(StopSignalTest, StopInterruptsWait) {
  RealClock clock;
  StopSignal stop;
  auto f = std::async(std::launch::async, [&] { return stop.WaitFor(clock, 1h); });
  stop.Stop();
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(f.get());
  EXPECT_TRUE(stop.IsStopped());
  EXPECT_TRUE(stop.WaitFor(clock, 1h));  // at once once stopped
}

}  // namespace
}  // namespace sg::runtime
