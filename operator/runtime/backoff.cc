#include "operator/runtime/backoff.h"

#include <algorithm>
#include <cmath>

namespace sg::runtime {

Backoff::Backoff(BackoffOptions options, std::uint64_t seed) : options_(options), rng_(seed) {
  options_.jitter = std::clamp(options_.jitter, 0.0, 1.0);
  options_.multiplier = std::max(options_.multiplier, 1.0);
}

Clock::Duration Backoff::Next() {
  using Ms = std::chrono::duration<double, std::milli>;
  const double max_ms = Ms(options_.max).count();
  // Cap the exponent's effect before it overflows a double's useful range.
  const double base_ms = std::min(
      max_ms, Ms(options_.initial).count() * std::pow(options_.multiplier, std::min(attempt_, 64)));
  ++attempt_;
  std::uniform_real_distribution<double> spread(1.0 - options_.jitter, 1.0 + options_.jitter);
  const double ms = std::min(max_ms, base_ms * spread(rng_));
  return std::chrono::duration_cast<Clock::Duration>(Ms(ms));
}

void StopSignal::Stop() {
  std::lock_guard<std::mutex> l(mu_);
  stopped_ = true;
  cv_.notify_all();
}

bool StopSignal::IsStopped() const {
  std::lock_guard<std::mutex> l(mu_);
  return stopped_;
}

bool StopSignal::WaitFor(Clock& clock, Clock::Duration d) {
  std::unique_lock<std::mutex> l(mu_);
  const auto deadline = clock.Now() + d;
  while (!stopped_ && clock.Now() < deadline) clock.WaitUntil(cv_, l, deadline);
  return stopped_;
}

}  // namespace sg::runtime
