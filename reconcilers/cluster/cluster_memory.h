#pragma once
// What the operator remembers about each cluster between passes. Derived
// state only: lost on restart, which costs at most one extra check or one
// more wait for routes to be reported served.
//
// Thread-safety: all state behind one mutex; With() runs its function under
// it, so keep those functions short and free of I/O.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "operator/runtime/clock.h"
#include "reconcilers/dataplane/checked_config.h"

namespace sg::reconcilers {

struct ClusterMemory {
  // The last configuration the engine accepted (its hash too) and the digest
  // of what its model was built from: equal inputs reuse it without building
  // or rendering, and the next configuration is checked against it.
  std::string model_fingerprint;
  std::shared_ptr<const dataplane::CheckedConfig> last_checked;
  // Rolling delivery: the configuration being rolled out and since when.
  struct Rollout {
    std::string config_name;
    std::string trigger;
    runtime::Clock::TimePoint since{};
    bool converged = false;  // its convergence was measured
  } rollout;
  // Hot delivery, per route: the configuration generation that first
  // included the route's current generation, or kServedBefore.
  struct Inclusion {
    int64_t route_generation = 0;
    int64_t config_generation = 0;
  };
  std::map<std::string, Inclusion> included;
};

// Inclusion::config_generation of a route whose stored status says every
// proxy served its current version before this process knew of it (a
// restart, a new leader): live while every proxy serves anything, since
// proxies only move on to configurations that include it.
inline constexpr int64_t kServedBefore = -1;

class ClusterMemories {
 public:
  template <typename F>
  auto With(const std::string& cluster, F&& f) {
    std::lock_guard<std::mutex> lock(mu_);
    return f(memories_[cluster]);
  }
  void Forget(const std::string& cluster) {
    std::lock_guard<std::mutex> lock(mu_);
    memories_.erase(cluster);
  }
  void Clear() {
    std::lock_guard<std::mutex> lock(mu_);
    memories_.clear();
  }

 private:
  std::mutex mu_;
  std::map<std::string, ClusterMemory> memories_;  // GUARDED_BY(mu_)
};

}  // namespace sg::reconcilers
