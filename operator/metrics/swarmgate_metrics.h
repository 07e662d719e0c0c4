#pragma once
// Every metric of DESIGN.md section 4, declared in one place so that names,
// label names and buckets cannot drift between writers (dashboards and
// alerts depend on them; operator/http/metrics_endpoint_test.cc pins them).
//
// Ownership: the families live on the Registry passed to the constructor,
// which must outlive this struct and every handle taken from it.
// Thread-safety: the members (and the series handles they give) may be used
// from any thread at once; see registry.h. Constructing twice on one
// registry gives handles to the same families.

#include "operator/metrics/registry.h"

namespace sg::metrics {

// Buckets for convergence, which spans sub-second hot reloads to rolling
// proxy updates of a minute or more.
const std::vector<double>& ConvergenceBuckets();

struct SwarmgateMetrics {
  explicit SwarmgateMetrics(prometheus::Registry& registry);

  // {cluster, trigger}: change observed -> every proxy of the cluster serves it.
  Family<Histogram> convergence_seconds;
  // {controller, result}: result is success | error | requeue.
  Family<Counter> reconcile_total;
  // {controller}
  Family<Histogram> reconcile_duration_seconds;
  // {controller}
  Family<Counter> reconcile_errors_total;
  // {controller}: keys ready in the controller's work queue.
  Family<Gauge> workqueue_depth;
  // no labels: nginx configuration rendering.
  Family<Histogram> render_duration_seconds;
  // {cluster}: configuration generation the operator offers the proxies.
  Family<Gauge> proxy_config_generation;
  // {cluster, result}
  Family<Counter> proxy_reloads_total;
  // {cluster, ready}: number of routes by readiness.
  Family<Gauge> routes;
  // {cluster, route}: 1 when the route is Ready, else 0. Also what joins the
  // proxies' per-route traffic series (labelled by route) to their cluster.
  Family<Gauge> route_ready;
  // {cluster, state}: state is desired | running.
  Family<Gauge> proxy_replicas;
  // {method, endpoint, code}
  Family<Histogram> docker_api_request_duration_seconds;
  // no labels: 1 while this operator holds the leader lease, else 0.
  Family<Gauge> leader;
  // no labels: times this operator became or stopped being the leader.
  Family<Counter> leader_transitions_total;
};

}  // namespace sg::metrics
