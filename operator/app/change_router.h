#pragma once
// Turns what the watchers observe (Docker events, task changes, resyncs)
// into work-queue keys: the level-triggered loop's fan-in. Pure routing, no
// I/O, so it is unit-tested without Docker.
//
// Thread-safety: the callbacks are called from the watcher threads; the
// controllers' queues are thread-safe.

#include <functional>
#include <string>

#include "operator/docker/docker_types.h"
#include "operator/runtime/work_queue.h"
#include "reconcilers/cluster_index.h"

namespace sg::app {

struct ChangeSinks {
  std::function<void(const std::string& name, const runtime::Trigger&)> route;
  std::function<void(const std::string& name, const runtime::Trigger&)> cluster;
  std::function<void(const runtime::Trigger&)> all_clusters;
  // A service changed: its tasks are polled often for a while.
  std::function<void(const std::string& service_name)> service_changed;
};

class ChangeRouter {
 public:
  ChangeRouter(const reconcilers::ClusterIndex& index, ChangeSinks sinks)
      : index_(index), sinks_(std::move(sinks)) {}

  void OnEvent(const docker::Event& event, runtime::Clock::TimePoint now) const;
  // Tasks of `service_name` changed (task poller).
  void OnTasksChanged(const std::string& service_name, runtime::Clock::TimePoint now) const;

 private:
  const reconcilers::ClusterIndex& index_;
  ChangeSinks sinks_;
};

}  // namespace sg::app
