#pragma once
// Reconciles one Route (key "route/<name>"): checks that its cluster exists
// (else Ready=False ClusterNotFound), enforces its updatePolicy on the backend
// services, and hands the data-plane work to its cluster's reconciler, which
// renders every route of the cluster together and writes route status.
//
// Thread-safety: stateless apart from references; safe for several workers.

#include <functional>
#include <string>

#include "operator/docker/docker_client.h"
#include "operator/runtime/clock.h"
#include "operator/runtime/controller.h"
#include "operator/store/resource_store.h"
#include "reconcilers/cluster_index.h"

namespace sg::reconcilers {

using EnqueueCluster = std::function<void(const std::string& cluster, const runtime::Trigger&)>;

class RouteReconciler : public runtime::Reconciler {
 public:
  RouteReconciler(docker::DockerClient& docker, store::ResourceStore& store, ClusterIndex& index,
                  runtime::Clock& clock, EnqueueCluster enqueue_cluster);

  Result<runtime::ReconcileResult> Reconcile(const std::string& key,
                                             const runtime::Trigger& trigger) override;

 private:
  docker::DockerClient& docker_;
  store::ResourceStore& store_;
  ClusterIndex& index_;
  runtime::Clock& clock_;
  EnqueueCluster enqueue_cluster_;
};

}  // namespace sg::reconcilers
