#include "operator/metrics/swarmgate_metrics.h"

#include <gtest/gtest.h>

namespace sg::metrics {
namespace {

TEST(SwarmgateMetricsTest, NamesAndLabelNamesMatchTheDesign) {
  Registry r;
  SwarmgateMetrics m(r);
  using V = std::vector<std::string>;
  EXPECT_EQ(m.convergence_seconds.name(), "swarmgate_convergence_seconds");
  EXPECT_EQ(m.convergence_seconds.label_names(), (V{"cluster", "trigger"}));
  EXPECT_EQ(m.reconcile_total.name(), "swarmgate_reconcile_total");
  EXPECT_EQ(m.reconcile_total.label_names(), (V{"controller", "result"}));
  EXPECT_EQ(m.reconcile_duration_seconds.name(), "swarmgate_reconcile_duration_seconds");
  EXPECT_EQ(m.reconcile_duration_seconds.label_names(), (V{"controller"}));
  EXPECT_EQ(m.reconcile_errors_total.name(), "swarmgate_reconcile_errors_total");
  EXPECT_EQ(m.reconcile_errors_total.label_names(), (V{"controller"}));
  EXPECT_EQ(m.workqueue_depth.name(), "swarmgate_workqueue_depth");
  EXPECT_EQ(m.workqueue_depth.label_names(), (V{"controller"}));
  EXPECT_EQ(m.render_duration_seconds.name(), "swarmgate_render_duration_seconds");
  EXPECT_EQ(m.render_duration_seconds.label_names(), V{});
  EXPECT_EQ(m.proxy_config_generation.name(), "swarmgate_proxy_config_generation");
  EXPECT_EQ(m.proxy_config_generation.label_names(), (V{"cluster"}));
  EXPECT_EQ(m.proxy_reloads_total.name(), "swarmgate_proxy_reloads_total");
  EXPECT_EQ(m.proxy_reloads_total.label_names(), (V{"cluster", "result"}));
  EXPECT_EQ(m.routes.name(), "swarmgate_routes");
  EXPECT_EQ(m.routes.label_names(), (V{"cluster", "ready"}));
  EXPECT_EQ(m.route_ready.name(), "swarmgate_route_ready");
  EXPECT_EQ(m.route_ready.label_names(), (V{"cluster", "route"}));
  EXPECT_EQ(m.proxy_replicas.name(), "swarmgate_proxy_replicas");
  EXPECT_EQ(m.proxy_replicas.label_names(), (V{"cluster", "state"}));
  EXPECT_EQ(m.docker_api_request_duration_seconds.name(),
            "swarmgate_docker_api_request_duration_seconds");
  EXPECT_EQ(m.docker_api_request_duration_seconds.label_names(), (V{"method", "endpoint", "code"}));
}

TEST(SwarmgateMetricsTest, HistogramBuckets) {
  Registry r;
  SwarmgateMetrics m(r);
  EXPECT_EQ(m.convergence_seconds.buckets(),
            (std::vector<double>{.05, .1, .25, .5, 1, 2, 5, 10, 30, 60, 120}));
  EXPECT_EQ(m.reconcile_duration_seconds.buckets(), DefaultLatencyBuckets());
  EXPECT_EQ(m.render_duration_seconds.buckets(), DefaultLatencyBuckets());
  EXPECT_EQ(m.docker_api_request_duration_seconds.buckets(), DefaultLatencyBuckets());
}

TEST(SwarmgateMetricsTest, RenderDurationIsExposedFromTheStart) {
  Registry r;
  SwarmgateMetrics m(r);
  EXPECT_NE(r.Serialize().find("swarmgate_render_duration_seconds_count 0\n"), std::string::npos);
}

TEST(SwarmgateMetricsTest, ConstructingTwiceOnOneRegistryIsFine) {
  Registry r;
  SwarmgateMetrics a(r);
  SwarmgateMetrics b(r);
  EXPECT_EQ(&a.routes.native(), &b.routes.native());
  a.routes.WithLabels({"web", "true"}).Set(2);
  EXPECT_EQ(b.routes.WithLabels({"web", "true"}).Value(), 2);
}

}  // namespace
}  // namespace sg::metrics
