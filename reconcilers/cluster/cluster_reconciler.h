#pragma once
// Reconciles one ServiceCluster (key "cluster/<name>") and the data plane of
// its routes, as four steps, each its own unit:
//   observe  (observe.h)         one snapshot of the cluster's objects, from the cache
//   plan     (cluster_plan.h)    pure: snapshot -> traffic model, desired objects
//            (dataplane/checked_config.h) render and check through the cluster's engine
//   apply    (cluster_apply.h)   ensure network, token, listener, proxy service; publish
//   report   (status_reporter.h) the one writer of route and cluster status
// Level-triggered and idempotent: a pass with nothing to change writes nothing.
//
// Thread-safety: Reconcile may run concurrently for different clusters (the
// work queue never runs one key twice at once). Per-cluster memory lives in
// ClusterMemories under its own lock; everything else is references to
// thread-safe objects.

#include <chrono>
#include <string>

#include "operator/docker/docker_client.h"
#include "operator/metrics/swarmgate_metrics.h"
#include "operator/runtime/clock.h"
#include "operator/runtime/controller.h"
#include "operator/store/resource_store.h"
#include "operator/store/swarm_cache.h"
#include "reconcilers/cluster/cluster_apply.h"
#include "reconcilers/cluster/cluster_memory.h"
#include "reconcilers/cluster/cluster_plan.h"
#include "reconcilers/cluster/status_reporter.h"
#include "reconcilers/cluster_index.h"
#include "reconcilers/config_publisher.h"
#include "reconcilers/dataplane/data_planes.h"

namespace sg::reconcilers {

struct ClusterReconcilerOptions {
  std::string control_network = "sg-control";
  std::string operator_url = "http://swarmgate-operator:9090";
  std::string certs_dir = "/run/secrets";
  // How often a cluster that has not converged yet is looked at again: a
  // rolling delivery's service update is polled; with hot delivery the
  // operator's config hub enqueues the cluster when its proxies serve the
  // newest configuration, and the slower poll only catches what no report
  // announces (a pass at 1,000 routes costs tens of milliseconds, taken
  // from the proxies that are reloading on the same cores).
  std::chrono::milliseconds converge_poll{300};
  std::chrono::milliseconds served_poll{2000};
  // How often a just-started operator looks again while it waits to hear
  // from the proxies (ConfigPublisher::AwaitingProxies); a proxy that serves
  // the current text enqueues the cluster itself.
  std::chrono::milliseconds awaiting_poll{500};
};

class ClusterReconciler : public runtime::Reconciler {
 public:
  ClusterReconciler(docker::DockerClient& docker, store::ResourceStore& store,
                    store::SwarmCache& cache, const dataplane::DataPlanes& planes,
                    ConfigPublisher& publisher, ClusterIndex& index,
                    metrics::SwarmgateMetrics& metrics, runtime::Clock& clock,
                    ClusterReconcilerOptions options = {});

  Result<runtime::ReconcileResult> Reconcile(const std::string& key,
                                             const runtime::Trigger& trigger) override;

  // Removes objects labelled as owned by a cluster that no longer exists.
  Status CollectGarbage();
  // Drops what passes remembered (checked configurations, which generation
  // included each route): for an operator that starts leading, whose
  // memories may be from an earlier lead, before the agents' numbering.
  void ForgetMemories() { memories_.Clear(); }

 private:
  Status Teardown(const std::string& cluster);

  store::ResourceStore& store_;
  store::SwarmCache& cache_;
  const dataplane::DataPlanes& planes_;
  ConfigPublisher& publisher_;
  ClusterIndex& index_;
  metrics::SwarmgateMetrics& metrics_;
  runtime::Clock& clock_;
  ClusterReconcilerOptions options_;
  ClusterApplier applier_;
  StatusReporter reporter_;
  ClusterMemories memories_;
};

}  // namespace sg::reconcilers
