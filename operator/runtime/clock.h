#pragma once
// Time as a side effect behind a small interface, so the work queue, the
// controllers and the reconnect loops can be tested with a clock that only
// moves when a test says so.
//
// Thread-safety: every method of every Clock is safe to call concurrently.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>

namespace sg::runtime {

class Clock {
 public:
  using Duration = std::chrono::steady_clock::duration;
  using TimePoint = std::chrono::steady_clock::time_point;
  using WallTimePoint = std::chrono::system_clock::time_point;

  virtual ~Clock() = default;

  // Monotonic time: use it for every delay, deadline and duration.
  virtual TimePoint Now() const = 0;
  // Calendar time: only for what is shown to people or compared with
  // timestamps from elsewhere (Docker events, condition transition times).
  virtual WallTimePoint WallNow() const = 0;

  // Blocks on `cv` (whose mutex `lock` holds) until it is notified or Now()
  // reaches `deadline`. Like condition_variable::wait_until it may return
  // early, so callers re-check their predicate in a loop.
  virtual void WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                         TimePoint deadline) = 0;

  // Maps a wall-clock timestamp (e.g. a Docker event's timeNano) onto this
  // clock's monotonic timeline, so the time of a change observed elsewhere
  // can be compared with Now().
  TimePoint FromWall(WallTimePoint wall) const {
    const auto age = WallNow() - wall;
    return Now() - std::chrono::duration_cast<Duration>(age);
  }
};

// The process clock. Stateless; one instance can be shared by everything.
class RealClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
  WallTimePoint WallNow() const override { return std::chrono::system_clock::now(); }
  void WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                 TimePoint deadline) override {
    cv.wait_until(lock, deadline);
  }
};

// A clock for tests: time stands still until Advance() or Set(). Waiters
// blocked in WaitUntil() are woken by Advance(); as the notification cannot
// take the waiter's mutex without inverting lock order, waiters also poll on
// a short real-time interval so a wake-up lost in that gap costs at most
// kPollInterval.
class FakeClock final : public Clock {
 public:
  static constexpr std::chrono::milliseconds kPollInterval{1};

  explicit FakeClock(TimePoint start = TimePoint(std::chrono::hours(1)),
                     WallTimePoint wall_start = WallTimePoint(std::chrono::hours(24 * 365 * 50)))
      : steady_ns_(start.time_since_epoch().count()),
        wall_ns_(std::chrono::duration_cast<Duration>(wall_start.time_since_epoch()).count()) {}

  TimePoint Now() const override { return TimePoint(Duration(steady_ns_.load())); }
  WallTimePoint WallNow() const override {
    return WallTimePoint(
        std::chrono::duration_cast<WallTimePoint::duration>(Duration(wall_ns_.load())));
  }

  // Moves both timelines forward by `d` and wakes every waiter.
  void Advance(Duration d) {
    std::lock_guard<std::mutex> g(mu_);
    steady_ns_ += d.count();
    wall_ns_ += d.count();
    for (auto* cv : waiters_) cv->notify_all();
  }

  void WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                 TimePoint deadline) override {
    {
      std::lock_guard<std::mutex> g(mu_);
      if (Now() >= deadline) return;
      waiters_.insert(&cv);
    }
    cv.wait_for(lock, kPollInterval);
    std::lock_guard<std::mutex> g(mu_);
    waiters_.erase(waiters_.find(&cv));  // this thread's entry only
  }

 private:
  std::atomic<Duration::rep> steady_ns_;
  std::atomic<Duration::rep> wall_ns_;
  std::mutex mu_;  // guards waiters_ and serializes Advance()
  // Condition variables of threads inside WaitUntil(), one entry per waiting
  // thread (several threads may wait on the same cv).
  std::multiset<std::condition_variable*> waiters_;
};

}  // namespace sg::runtime
