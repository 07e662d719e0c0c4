#include "operator/metrics/registry.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace sg::metrics {
namespace {

TEST(RegistryTest, CounterAndGaugeExposition) {
  Registry r;
  auto& reloads = r.AddCounter("swarmgate_proxy_reloads_total", "Reloads.", {"cluster", "result"});
  auto& gen = r.AddGauge("swarmgate_proxy_config_generation", "Generation.", {"cluster"});
  reloads.WithLabels({"public", "success"}).Inc();
  reloads.WithLabels({"public", "success"}).Inc(2);
  reloads.WithLabels({"internal", "failure"}).Inc();
  gen.WithLabels({"public"}).Set(42);
  gen.WithLabels({"internal"}).Set(0.5);

  EXPECT_EQ(r.Serialize(),
            "# HELP swarmgate_proxy_config_generation Generation.\n"
            "# TYPE swarmgate_proxy_config_generation gauge\n"
            "swarmgate_proxy_config_generation{cluster=\"internal\"} 0.5\n"
            "swarmgate_proxy_config_generation{cluster=\"public\"} 42\n"
            "# HELP swarmgate_proxy_reloads_total Reloads.\n"
            "# TYPE swarmgate_proxy_reloads_total counter\n"
            "swarmgate_proxy_reloads_total{cluster=\"internal\",result=\"failure\"} 1\n"
            "swarmgate_proxy_reloads_total{cluster=\"public\",result=\"success\"} 3\n");
}

TEST(RegistryTest, HistogramExpositionIsCumulative) {
  Registry r;
  auto& h = r.AddHistogram("req_seconds", "Latency.", {"controller"}, {0.25, 0.5, 1});
  auto& child = h.WithLabels({"route"});
  child.Observe(0.125);
  child.Observe(0.25);  // bounds are inclusive
  child.Observe(0.75);
  child.Observe(3);
  EXPECT_EQ(r.Serialize(),
            "# HELP req_seconds Latency.\n"
            "# TYPE req_seconds histogram\n"
            "req_seconds_bucket{controller=\"route\",le=\"0.25\"} 2\n"
            "req_seconds_bucket{controller=\"route\",le=\"0.5\"} 2\n"
            "req_seconds_bucket{controller=\"route\",le=\"1\"} 3\n"
            "req_seconds_bucket{controller=\"route\",le=\"+Inf\"} 4\n"
            "req_seconds_sum{controller=\"route\"} 4.125\n"
            "req_seconds_count{controller=\"route\"} 4\n");
}

TEST(RegistryTest, UnlabeledFamiliesShowTheirSampleFromTheStart) {
  Registry r;
  r.AddHistogram("render_seconds", "Render.", {}, {1, 2.5});
  r.AddCounter("things_total", "Things.");
  EXPECT_EQ(r.Serialize(),
            "# HELP render_seconds Render.\n"
            "# TYPE render_seconds histogram\n"
            "render_seconds_bucket{le=\"1\"} 0\n"
            "render_seconds_bucket{le=\"2.5\"} 0\n"
            "render_seconds_bucket{le=\"+Inf\"} 0\n"
            "render_seconds_sum 0\n"
            "render_seconds_count 0\n"
            "# HELP things_total Things.\n"
            "# TYPE things_total counter\n"
            "things_total 0\n");
}

TEST(RegistryTest, LabeledFamilyWithoutSamplesPrintsHeaderOnly) {
  Registry r;
  r.AddGauge("routes", "Routes.", {"cluster", "ready"});
  EXPECT_EQ(r.Serialize(), "# HELP routes Routes.\n# TYPE routes gauge\n");
}

TEST(RegistryTest, EscapesLabelValuesAndHelp) {
  Registry r;
  auto& c = r.AddCounter("c_total", "Line one\nback\\slash \"quoted\"", {"path"});
  c.WithLabels({"a\\b \"c\"\nd"}).Inc();
  EXPECT_EQ(r.Serialize(),
            "# HELP c_total Line one\\nback\\\\slash \"quoted\"\n"
            "# TYPE c_total counter\n"
            "c_total{path=\"a\\\\b \\\"c\\\"\\nd\"} 1\n");
}

TEST(RegistryTest, FormatsSpecialValues) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(3), "3");
  EXPECT_EQ(FormatValue(0.005), "0.005");
  EXPECT_EQ(FormatValue(-2.5), "-2.5");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatValue(std::nan("")), "NaN");
}

TEST(RegistryTest, DefaultLatencyBuckets) {
  Registry r;
  auto& h = r.AddHistogram("d_seconds", "D.");
  h.WithLabels({}).Observe(0.003);
  const std::string text = r.Serialize();
  for (const char* le :
       {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"}) {
    EXPECT_NE(text.find(std::string("d_seconds_bucket{le=\"") + le + "\"} 1\n"), std::string::npos)
        << le;
  }
}

TEST(RegistryTest, CounterIgnoresNegativeGaugeGoesBothWays) {
  Registry r;
  auto& c = r.AddCounter("c_total", "C.").WithLabels({});
  c.Inc(2);
  c.Inc(-1);
  EXPECT_EQ(c.Value(), 2);
  auto& g = r.AddGauge("g", "G.").WithLabels({});
  g.Inc(5);
  g.Dec(2);
  g.Add(-1);
  EXPECT_EQ(g.Value(), 2);
}

TEST(RegistryTest, ReRegistrationReturnsSameFamilyOrThrows) {
  Registry r;
  auto& a = r.AddCounter("x_total", "X.", {"l"});
  auto& b = r.AddCounter("x_total", "X.", {"l"});
  EXPECT_EQ(&a, &b);
  EXPECT_THROW(r.AddCounter("x_total", "X.", {"other"}), std::invalid_argument);
  EXPECT_THROW(r.AddGauge("x_total", "X.", {"l"}), std::invalid_argument);
  EXPECT_THROW(r.AddCounter("bad-name", "B."), std::invalid_argument);
  EXPECT_THROW(r.AddHistogram("h", "H.", {"le"}), std::invalid_argument);
  EXPECT_THROW(r.AddHistogram("h2", "H.", {}, {1, 0.5}), std::invalid_argument);
  EXPECT_THROW(a.WithLabels({"1", "2"}), std::invalid_argument);
}

TEST(RegistryTest, RemoveDropsASeries) {
  Registry r;
  auto& g = r.AddGauge("routes", "Routes.", {"cluster"});
  g.WithLabels({"a"}).Set(1);
  g.WithLabels({"b"}).Set(2);
  EXPECT_TRUE(g.Remove({"a"}));
  EXPECT_FALSE(g.Remove({"a"}));
  EXPECT_EQ(r.Serialize(), "# HELP routes Routes.\n# TYPE routes gauge\nroutes{cluster=\"b\"} 2\n");
}

TEST(RegistryTest, ConcurrentUpdatesAreNotLost) {
  Registry r;
  auto& c = r.AddCounter("c_total", "C.", {"t"});
  auto& h = r.AddHistogram("h_seconds", "H.", {"t"}, {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c.WithLabels({"x"}).Inc();
        h.WithLabels({"x"}).Observe(0.5);
        if (i % 1000 == 0) (void)r.Serialize();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.WithLabels({"x"}).Value(), 40000);
  const auto s = h.WithLabels({"x"}).Snap();
  EXPECT_EQ(s.count, 40000u);
  EXPECT_EQ(s.cumulative[0], 40000u);
  EXPECT_EQ(s.sum, 20000);
}

}  // namespace
}  // namespace sg::metrics
