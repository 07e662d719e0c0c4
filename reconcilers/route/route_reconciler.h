#pragma once
// Reconciles one Route (key "route/<name>"): what is truly per route. It
// enforces the route's updatePolicy on its backend services and hands the
// data-plane work to its cluster's reconciler, which renders every route of
// the cluster together. A route whose cluster does not exist is reported
// ClusterNotFound through the one status writer (StatusReporter).
//
// Thread-safety: stateless apart from references; safe for several workers.

#include <functional>
#include <string>

#include "operator/docker/docker_client.h"
#include "operator/runtime/clock.h"
#include "operator/runtime/controller.h"
#include "operator/store/resource_store.h"
#include "operator/store/swarm_cache.h"
#include "reconcilers/cluster/status_reporter.h"
#include "reconcilers/cluster_index.h"

namespace sg::reconcilers {

using EnqueueCluster = std::function<void(const std::string& cluster, const runtime::Trigger&)>;

class RouteReconciler : public runtime::Reconciler {
 public:
  RouteReconciler(docker::DockerClient& docker, store::ResourceStore& store, ClusterIndex& index,
                  runtime::Clock& clock, EnqueueCluster enqueue_cluster,
                  store::SwarmCache* cache = nullptr);

  Result<runtime::ReconcileResult> Reconcile(const std::string& key,
                                             const runtime::Trigger& trigger) override;

 private:
  docker::DockerClient& docker_;
  store::ResourceStore& store_;
  ClusterIndex& index_;
  runtime::Clock& clock_;
  EnqueueCluster enqueue_cluster_;
  StatusReporter reporter_;
};

}  // namespace sg::reconcilers
