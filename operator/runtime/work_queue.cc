#include "operator/runtime/work_queue.h"

#include <algorithm>
#include <cmath>

namespace sg::runtime {
namespace {

// Keeps in `pending` the trigger a convergence measurement should start from.
void MergeTrigger(Trigger& pending, const Trigger& incoming) {
  if (incoming.empty()) return;
  if (pending.empty() || incoming.time < pending.time) pending = incoming;
}

}  // namespace

WorkQueue::WorkQueue(Clock& clock, WorkQueueOptions options)
    : clock_(clock),
      options_(std::move(options)),
      tokens_(options_.rate_limit.burst),
      last_refill_(clock.Now()) {}

WorkQueue::~WorkQueue() { ShutDown(); }

void WorkQueue::Add(const std::string& key, const Trigger& trigger) {
  std::lock_guard<std::mutex> l(mu_);
  AddLocked(key, trigger);
}

void WorkQueue::AddLocked(const std::string& key, const Trigger& trigger) {
  if (shutdown_) return;
  auto [it, inserted] = dirty_.try_emplace(key, trigger);
  if (!inserted) {
    // Already queued, or being processed and already marked for a re-run.
    MergeTrigger(it->second, trigger);
    return;
  }
  if (processing_.count(key)) return;  // Done() re-queues it
  queue_.push_back(key);
  DepthChangedLocked();
  cv_.notify_one();
}

void WorkQueue::AddAfter(const std::string& key, Clock::Duration delay, const Trigger& trigger) {
  std::lock_guard<std::mutex> l(mu_);
  if (shutdown_) return;
  if (delay <= Clock::Duration::zero()) {
    AddLocked(key, trigger);
    return;
  }
  const auto ready = clock_.Now() + delay;
  auto it = waiting_.find(key);
  if (it != waiting_.end()) {
    MergeTrigger(it->second.trigger, trigger);
    if (ready >= it->second.ready) return;
    // Earlier than the live entry: the older heap entry becomes stale and is
    // skipped when it surfaces.
    it->second.ready = ready;
  } else {
    waiting_.emplace(key, WaitingEntry{ready, trigger});
  }
  waiting_heap_.push(Waiting{ready, seq_++, key});
  // Getters sleep until the earliest ready time; this one may be earlier.
  cv_.notify_all();
}

Clock::Duration WorkQueue::AddRateLimited(const std::string& key, const Trigger& trigger) {
  Clock::Duration delay;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (shutdown_) return Clock::Duration::zero();
    delay = RateLimitDelayLocked(key, clock_.Now());
  }
  AddAfter(key, delay, trigger);
  return delay;
}

Clock::Duration WorkQueue::RateLimitDelayLocked(const std::string& key, Clock::TimePoint now) {
  const auto& rl = options_.rate_limit;
  // Per-key exponential backoff.
  const int failures = failures_[key]++;
  const double base_ns =
      std::chrono::duration<double, std::nano>(rl.base_delay).count() * std::pow(2.0, failures);
  const double max_ns = std::chrono::duration<double, std::nano>(rl.max_delay).count();
  Clock::Duration backoff(static_cast<Clock::Duration::rep>(std::min(base_ns, max_ns)));

  // Global token bucket: a reservation may drive the bucket negative, and the
  // debt is the wait before this add may proceed (golang.org/x/time/rate).
  Clock::Duration bucket_delay = Clock::Duration::zero();
  if (rl.qps > 0) {
    const double elapsed_s = std::chrono::duration<double>(now - last_refill_).count();
    last_refill_ = now;
    tokens_ = std::min<double>(rl.burst, tokens_ + elapsed_s * rl.qps);
    tokens_ -= 1.0;
    if (tokens_ < 0) {
      bucket_delay = std::chrono::duration_cast<Clock::Duration>(
          std::chrono::duration<double>(-tokens_ / rl.qps));
    }
  }
  return std::max(backoff, bucket_delay);
}

void WorkQueue::Forget(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  failures_.erase(key);
}

int WorkQueue::NumRequeues(const std::string& key) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

void WorkQueue::PromoteDueLocked(Clock::TimePoint now) {
  while (!waiting_heap_.empty() && waiting_heap_.top().ready <= now) {
    Waiting w = waiting_heap_.top();
    waiting_heap_.pop();
    auto it = waiting_.find(w.key);
    if (it == waiting_.end() || it->second.ready != w.ready) continue;  // stale
    Trigger trigger = std::move(it->second.trigger);
    waiting_.erase(it);
    AddLocked(w.key, trigger);
  }
}

std::optional<WorkItem> WorkQueue::Get() {
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    if (shutdown_) return std::nullopt;
    PromoteDueLocked(clock_.Now());
    if (!queue_.empty()) break;
    if (waiting_heap_.empty()) {
      cv_.wait(l);
    } else {
      clock_.WaitUntil(cv_, l, waiting_heap_.top().ready);
    }
  }
  WorkItem item;
  item.key = std::move(queue_.front());
  queue_.pop_front();
  DepthChangedLocked();
  processing_.insert(item.key);
  auto it = dirty_.find(item.key);
  item.trigger = std::move(it->second);
  dirty_.erase(it);
  // Promotion may have readied several keys while other getters sleep until
  // a later deadline: hand the rest over.
  if (!queue_.empty()) cv_.notify_one();
  return item;
}

void WorkQueue::Done(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  processing_.erase(key);
  if (shutdown_) return;
  if (dirty_.count(key)) {
    queue_.push_back(key);
    DepthChangedLocked();
    cv_.notify_one();
  }
}

std::size_t WorkQueue::Len() const {
  std::lock_guard<std::mutex> l(mu_);
  return queue_.size();
}

void WorkQueue::ShutDown() {
  std::lock_guard<std::mutex> l(mu_);
  shutdown_ = true;
  cv_.notify_all();
}

bool WorkQueue::ShuttingDown() const {
  std::lock_guard<std::mutex> l(mu_);
  return shutdown_;
}

void WorkQueue::DepthChangedLocked() {
  if (options_.on_depth_change) options_.on_depth_change(queue_.size());
}

}  // namespace sg::runtime
