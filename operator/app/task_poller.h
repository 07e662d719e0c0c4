#pragma once
// Swarm emits no task events, so task changes are found by polling GET
// /tasks. One list call covers every service; a fingerprint per service
// (task ids, states, desired states, addresses) makes change detection cheap.
// The poll is fast (fast_interval) while any service changed recently or is
// updating, and slow otherwise.
//
// Thread-safety: Run() owns the polling thread's state; MarkHot() may be
// called from any thread.

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "operator/docker/docker_client.h"
#include "operator/runtime/backoff.h"
#include "operator/runtime/clock.h"

namespace sg::app {

struct TaskPollerOptions {
  std::chrono::milliseconds fast_interval{200};
  std::chrono::milliseconds slow_interval{2000};
  // How long a service stays "hot" after a change was seen.
  std::chrono::milliseconds hot_for{60000};
};

class TaskPoller {
 public:
  using OnChange = std::function<void(const std::string& service_name)>;
  TaskPoller(docker::DockerClient& docker, runtime::Clock& clock, OnChange on_change,
             TaskPollerOptions options = {});

  // Receives every listing before changes are reported, so a cache is
  // current when the clusters it names are reconciled. Set before Run().
  using OnListing =
      std::function<void(const std::vector<docker::Service>&, const std::vector<docker::Task>&)>;
  void SetOnListing(OnListing on_listing) { on_listing_ = std::move(on_listing); }

  void MarkHot(const std::string& service_name);
  // Polls until stop is signalled.
  void Run(runtime::StopSignal& stop);
  // One poll: returns the services whose tasks changed (exposed for tests).
  Result<std::vector<std::string>> PollOnce();

 private:
  bool AnyHot();

  docker::DockerClient& docker_;
  runtime::Clock& clock_;
  OnChange on_change_;
  OnListing on_listing_;
  TaskPollerOptions options_;
  std::map<std::string, std::string> fingerprints_;  // service id -> fingerprint
  bool baselined_ = false;                           // a first poll recorded the fingerprints
  std::mutex mu_;
  std::map<std::string, runtime::Clock::TimePoint> hot_until_;  // by service name
};

}  // namespace sg::app
