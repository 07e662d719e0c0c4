#pragma once
// The controllers' work queue, after client-go's rate-limiting delaying queue.
//
// Keys are strings naming one object ("route/shop", "cluster/public"). The
// queue guarantees:
//   - deduplication: a key is queued at most once, however many Add()s;
//   - exclusion: a key handed out by Get() is not handed out again before its
//     Done(); an Add() in between marks it dirty and re-queues it on Done();
//   - delays: AddAfter() and AddRateLimited() (per-key exponential backoff,
//     combined with a global token bucket, the larger delay winning);
//   - triggers: for each pending key the queue keeps the earliest change that
//     has not been processed yet, so convergence can be measured from it.
//
// Thread-safety: every method is safe to call from any thread.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "operator/runtime/clock.h"

namespace sg::runtime {

// What caused a key to be queued and when: the start of a convergence
// measurement. An empty name means "no change to measure" (a periodic
// requeue, for instance); a named trigger always wins over an empty one, and
// between named triggers the earliest wins.
struct Trigger {
  std::string name;  // e.g. "route", "servicecluster", "service", "task", "resync"
  Clock::TimePoint time{};

  bool empty() const { return name.empty(); }
};

struct WorkItem {
  std::string key;
  Trigger trigger;  // earliest unprocessed trigger of the key when it was handed out
};

struct RateLimitOptions {
  // Per-key backoff: base_delay * 2^failures, capped at max_delay.
  std::chrono::milliseconds base_delay{5};
  std::chrono::milliseconds max_delay{30000};
  // Global token bucket over all rate-limited adds. qps <= 0 disables it.
  double qps = 50;
  int burst = 300;
};

struct WorkQueueOptions {
  RateLimitOptions rate_limit;
  // Called with the new number of ready keys whenever it changes, under the
  // queue's lock: it must be cheap and must not call back into the queue
  // (setting a gauge is the intended use).
  std::function<void(std::size_t)> on_depth_change;
};

class WorkQueue {
 public:
  // `clock` must outlive the queue.
  explicit WorkQueue(Clock& clock, WorkQueueOptions options = {});
  ~WorkQueue();

  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Queues `key` now. Ignored after ShutDown().
  void Add(const std::string& key, const Trigger& trigger = {});
  // Queues `key` once `delay` has elapsed on the clock. A key waiting twice
  // keeps the earlier time.
  void AddAfter(const std::string& key, Clock::Duration delay, const Trigger& trigger = {});
  // Queues `key` after its backoff delay and counts one more failure for it.
  // Returns the delay chosen.
  Clock::Duration AddRateLimited(const std::string& key, const Trigger& trigger = {});
  // Resets the key's backoff (after a success). It does not dequeue the key.
  void Forget(const std::string& key);
  // Failures counted for `key` since its last Forget().
  int NumRequeues(const std::string& key) const;

  // Blocks until a key is ready and hands it out; nullopt once shut down.
  // The caller must call Done(key) when finished with it.
  std::optional<WorkItem> Get();
  // Marks the key processed; re-queues it if it was added meanwhile.
  void Done(const std::string& key);

  // Number of keys ready to be handed out (not those waiting for a delay).
  std::size_t Len() const;
  // Wakes every Get() with nullopt and ignores later adds. Keys being
  // processed can still be Done().
  void ShutDown();
  bool ShuttingDown() const;

 private:
  struct Waiting {
    Clock::TimePoint ready;
    std::uint64_t seq;  // FIFO among equal ready times
    std::string key;
    bool operator>(const Waiting& o) const {
      return ready != o.ready ? ready > o.ready : seq > o.seq;
    }
  };
  struct WaitingEntry {
    Clock::TimePoint ready;
    Trigger trigger;
  };

  void AddLocked(const std::string& key, const Trigger& trigger);
  void PromoteDueLocked(Clock::TimePoint now);
  void DepthChangedLocked();
  Clock::Duration RateLimitDelayLocked(const std::string& key, Clock::TimePoint now);

  Clock& clock_;
  const WorkQueueOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool shutdown_ = false;
  std::deque<std::string> queue_;                   // ready keys, FIFO
  std::unordered_map<std::string, Trigger> dirty_;  // keys needing processing
  std::unordered_set<std::string> processing_;      // keys handed out, not Done
  std::priority_queue<Waiting, std::vector<Waiting>, std::greater<Waiting>> waiting_heap_;
  std::unordered_map<std::string, WaitingEntry> waiting_;  // live entry per delayed key
  std::uint64_t seq_ = 0;
  std::unordered_map<std::string, int> failures_;
  double tokens_;
  Clock::TimePoint last_refill_;
};

}  // namespace sg::runtime
