#include "operator/metrics/swarmgate_metrics.h"

namespace sg::metrics {

const std::vector<double>& ConvergenceBuckets() {
  static const std::vector<double> kBuckets = {.05, .1, .25, .5, 1, 2, 5, 10, 30, 60, 120};
  return kBuckets;
}

SwarmgateMetrics::SwarmgateMetrics(prometheus::Registry& r)
    : convergence_seconds(AddHistogram(
          r, "swarmgate_convergence_seconds",
          "Time from a change (resource applied, service or task change observed) until every "
          "proxy of the cluster serves a configuration that includes it.",
          {"cluster", "trigger"}, ConvergenceBuckets())),
      reconcile_total(AddCounter(r, "swarmgate_reconcile_total",
                                 "Reconciles by controller and result (success, error, requeue).",
                                 {"controller", "result"})),
      reconcile_duration_seconds(AddHistogram(r, "swarmgate_reconcile_duration_seconds",
                                              "Duration of one reconcile.", {"controller"})),
      reconcile_errors_total(AddCounter(r, "swarmgate_reconcile_errors_total",
                                        "Reconciles that returned an error, retried or terminal.",
                                        {"controller"})),
      workqueue_depth(AddGauge(r, "swarmgate_workqueue_depth",
                               "Keys ready to be reconciled in the controller's work queue.",
                               {"controller"})),
      render_duration_seconds(AddHistogram(r, "swarmgate_render_duration_seconds",
                                           "Duration of rendering one nginx configuration.")),
      proxy_config_generation(AddGauge(
          r, "swarmgate_proxy_config_generation",
          "Generation of the proxy configuration the operator serves to a cluster.", {"cluster"})),
      proxy_reloads_total(AddCounter(r, "swarmgate_proxy_reloads_total",
                                     "Proxy configuration deliveries and reloads by result.",
                                     {"cluster", "result"})),
      routes(AddGauge(r, "swarmgate_routes", "Routes of a cluster by readiness.",
                      {"cluster", "ready"})),
      route_ready(AddGauge(r, "swarmgate_route_ready",
                           "1 when the route is Ready (every proxy serves it), else 0.",
                           {"cluster", "route"})),
      proxy_replicas(AddGauge(r, "swarmgate_proxy_replicas",
                              "Proxy tasks of a cluster: desired and running.",
                              {"cluster", "state"})),
      docker_api_request_duration_seconds(
          AddHistogram(r, "swarmgate_docker_api_request_duration_seconds",
                       "Docker Engine API requests by method, endpoint and status code.",
                       {"method", "endpoint", "code"})),
      leader(AddGauge(r, "swarmgate_leader",
                      "1 while this operator holds the leader lease and reconciles, else 0.")),
      leader_transitions_total(
          AddCounter(r, "swarmgate_leader_transitions_total",
                     "Times this operator became the leader or stopped being it.")) {}

}  // namespace sg::metrics
