#include "reconcilers/route/route_reconciler.h"

#include <ctime>
#include <set>

#include <spdlog/spdlog.h>

#include "operator/runtime/logging.h"

#include "crds/loader.h"
#include "crds/status.h"
#include "reconcilers/model/model_builder.h"
#include "reconcilers/route/update_policy.h"

namespace sg::reconcilers {
namespace {

std::shared_ptr<spdlog::logger> Log() {
  static auto logger = runtime::NamedLogger("route");
  return logger;
}

}  // namespace

RouteReconciler::RouteReconciler(docker::DockerClient& docker, store::ResourceStore& store,
                                 ClusterIndex& index, runtime::Clock& clock,
                                 EnqueueCluster enqueue_cluster, store::SwarmCache* cache)
    : docker_(docker),
      store_(store),
      index_(index),
      clock_(clock),
      enqueue_cluster_(std::move(enqueue_cluster)),
      reporter_(store, cache, clock) {}

Result<runtime::ReconcileResult> RouteReconciler::Reconcile(const std::string& key,
                                                            const runtime::Trigger& trigger) {
  const std::string name = key.substr(key.find('/') + 1);
  runtime::Trigger t = trigger;
  if (t.empty()) t = {"route", clock_.Now()};
  auto stored = store_.Get(crds::Kind::kRoute, name);
  if (!stored.ok()) {
    if (!stored.error().Is(ErrorCode::kNotFound)) return stored.error();
    // Deleted: the clusters that served it render without it.
    for (const auto& c : index_.ClustersOfRoute(name)) enqueue_cluster_(c, t);
    return runtime::ReconcileResult{};
  }
  auto decoded = crds::DecodeStored(stored->data);
  if (!decoded.ok() || !decoded->route()) {
    return InvalidArgument("route/" + name + ": stored spec cannot be decoded: " +
                           (decoded.ok() ? "not a Route" : decoded.error().message));
  }
  const crds::Route& route = *decoded->route();
  // A route that moved to another cluster leaves the old one.
  for (const auto& c : index_.ClustersOfRoute(name)) {
    if (c != route.spec.service_cluster) enqueue_cluster_(c, t);
  }

  auto cluster = store_.Get(crds::Kind::kServiceCluster, route.spec.service_cluster);
  if (!cluster.ok()) {
    if (!cluster.error().Is(ErrorCode::kNotFound)) return cluster.error();
    auto st = reporter_.ReportClusterNotFound({*stored}, route.spec.service_cluster);
    if (!st.ok()) return st.error();
    return runtime::ReconcileResult{};
  }

  if (route.spec.update_policy) {
    std::set<std::string> services;  // a service may back several rules
    for (const crds::Backend* b : crds::AllBackends(route.spec)) services.insert(b->service);
    for (const std::string& service : services) {
      auto svc = docker_.InspectService(service);
      if (!svc.ok()) {
        if (svc.error().Is(ErrorCode::kNotFound)) continue;  // reported by the cluster pass
        return svc.error();
      }
      std::string spec = svc->spec_json;
      if (!ApplyUpdatePolicy(*route.spec.update_policy, &spec)) continue;
      auto st = docker_.UpdateService(svc->id, svc->version, spec);
      if (!st.ok()) return st.error();  // a stale version retries with backoff
      Log()->info("update policy enforced route={} service={}", name, service);
    }
  }
  enqueue_cluster_(route.spec.service_cluster, t);
  return runtime::ReconcileResult{};
}

}  // namespace sg::reconcilers
