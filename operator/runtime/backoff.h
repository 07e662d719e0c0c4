#pragma once
// Exponential backoff with jitter for reconnect loops (the Docker event
// stream watcher, task pollers, proxy agents), plus an interruptible sleep so
// such loops stop promptly on shutdown.
//
//   Backoff backoff(opts);
//   while (!stop.IsStopped()) {
//     if (Status s = WatchOnce(); s.ok() ... ) backoff.Reset();
//     if (stop.WaitFor(clock, backoff.Next())) break;
//   }

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <random>

#include "operator/runtime/clock.h"

namespace sg::runtime {

struct BackoffOptions {
  std::chrono::milliseconds initial{200};
  std::chrono::milliseconds max{30000};
  double multiplier = 2.0;
  // Each delay is spread uniformly over [d * (1 - jitter), d * (1 + jitter)],
  // then capped at max, so reconnecting clients do not stampede together.
  double jitter = 0.2;
};

// Not thread-safe: one instance per loop.
class Backoff {
 public:
  explicit Backoff(BackoffOptions options = {}, std::uint64_t seed = std::random_device{}());

  // The delay before the next attempt; each call grows the base delay.
  Clock::Duration Next();
  // Back to the initial delay (after a successful connection).
  void Reset() { attempt_ = 0; }
  int attempts() const { return attempt_; }

 private:
  BackoffOptions options_;
  int attempt_ = 0;
  std::mt19937_64 rng_;
};

// A one-way stop flag that sleepers can wait on. Thread-safe.
class StopSignal {
 public:
  void Stop();
  bool IsStopped() const;
  // Sleeps for `d` on `clock`; returns true early (and at once) if stopped.
  bool WaitFor(Clock& clock, Clock::Duration d);

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
};

}  // namespace sg::runtime
