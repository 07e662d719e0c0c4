#include "operator/metrics/swarmgate_metrics.h"

#include <gtest/gtest.h>

namespace sg::metrics {
namespace {

TEST(SwarmgateMetricsTest, EveryDesignMetricIsExposedFromTheStart) {
  Registry r;
  SwarmgateMetrics m(r);
  const std::string text = r.Serialize();
  const std::pair<const char*, const char*> expected[] = {
      {"swarmgate_convergence_seconds", "histogram"},
      {"swarmgate_reconcile_total", "counter"},
      {"swarmgate_reconcile_duration_seconds", "histogram"},
      {"swarmgate_reconcile_errors_total", "counter"},
      {"swarmgate_workqueue_depth", "gauge"},
      {"swarmgate_render_duration_seconds", "histogram"},
      {"swarmgate_proxy_config_generation", "gauge"},
      {"swarmgate_proxy_reloads_total", "counter"},
      {"swarmgate_routes", "gauge"},
      {"swarmgate_docker_api_request_duration_seconds", "histogram"},
  };
  for (const auto& [name, type] : expected) {
    EXPECT_NE(text.find(std::string("# HELP ") + name + " "), std::string::npos) << name;
    EXPECT_NE(text.find(std::string("# TYPE ") + name + " " + type + "\n"), std::string::npos)
        << name;
  }
}

TEST(SwarmgateMetricsTest, LabelNamesMatchTheDesign) {
  Registry r;
  SwarmgateMetrics m(r);
  using V = std::vector<std::string>;
  EXPECT_EQ(m.convergence_seconds.label_names(), (V{"cluster", "trigger"}));
  EXPECT_EQ(m.reconcile_total.label_names(), (V{"controller", "result"}));
  EXPECT_EQ(m.reconcile_duration_seconds.label_names(), (V{"controller"}));
  EXPECT_EQ(m.reconcile_errors_total.label_names(), (V{"controller"}));
  EXPECT_EQ(m.workqueue_depth.label_names(), (V{"controller"}));
  EXPECT_EQ(m.render_duration_seconds.label_names(), V{});
  EXPECT_EQ(m.proxy_config_generation.label_names(), (V{"cluster"}));
  EXPECT_EQ(m.proxy_reloads_total.label_names(), (V{"cluster", "result"}));
  EXPECT_EQ(m.routes.label_names(), (V{"cluster", "ready"}));
  EXPECT_EQ(m.docker_api_request_duration_seconds.label_names(), (V{"method", "endpoint", "code"}));
}

TEST(SwarmgateMetricsTest, ConstructingTwiceOnOneRegistryIsFine) {
  Registry r;
  SwarmgateMetrics a(r);
  SwarmgateMetrics b(r);
  EXPECT_EQ(&a.routes, &b.routes);
}

}  // namespace
}  // namespace sg::metrics
