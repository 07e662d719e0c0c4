#include "operator/metrics/registry.h"

#include <cmath>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace sg::metrics {
namespace {

TEST(RegistryTest, CounterAndGaugeExposition) {
  Registry r;
  auto reloads = AddCounter(r, "swarmgate_proxy_reloads_total", "Reloads.", {"cluster", "result"});
  auto gen = AddGauge(r, "swarmgate_proxy_config_generation", "Generation.", {"cluster"});
  reloads.WithLabels({"public", "success"}).Inc();
  reloads.WithLabels({"public", "success"}).Inc(2);
  gen.WithLabels({"public"}).Set(42);

  // prometheus-cpp writes a counter's name as declared: no second "_total".
  EXPECT_EQ(r.Serialize(),
            "# HELP swarmgate_proxy_reloads_total Reloads.\n"
            "# TYPE swarmgate_proxy_reloads_total counter\n"
            "swarmgate_proxy_reloads_total{cluster=\"public\",result=\"success\"} 3\n"
            "# HELP swarmgate_proxy_config_generation Generation.\n"
            "# TYPE swarmgate_proxy_config_generation gauge\n"
            "swarmgate_proxy_config_generation{cluster=\"public\"} 42\n");
}

TEST(RegistryTest, HistogramBucketsAreCumulativeAndInclusive) {
  Registry r;
  auto h = AddHistogram(r, "req_seconds", "Latency.", {"controller"}, {0.25, 0.5, 1});
  auto child = h.WithLabels({"route"});
  child.Observe(0.125);
  child.Observe(0.25);  // bounds are inclusive ("le")
  child.Observe(0.75);
  child.Observe(3);
  const auto s = child.Snap();
  EXPECT_EQ(s.upper_bounds, (std::vector<double>{0.25, 0.5, 1}));
  EXPECT_EQ(s.cumulative, (std::vector<std::uint64_t>{2, 2, 3, 4}));
  EXPECT_EQ(s.count, 4u);
  EXPECT_DOUBLE_EQ(s.sum, 4.125);
  const std::string text = r.Serialize();
  for (const char* line : {"req_seconds_bucket{controller=\"route\",le=\"0.25\"} 2\n",
                           "req_seconds_bucket{controller=\"route\",le=\"0.5\"} 2\n",
                           "req_seconds_bucket{controller=\"route\",le=\"1\"} 3\n",
                           "req_seconds_bucket{controller=\"route\",le=\"+Inf\"} 4\n",
                           "req_seconds_sum{controller=\"route\"} 4.125\n",
                           "req_seconds_count{controller=\"route\"} 4\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "in\n" << text;
  }
}

TEST(RegistryTest, UnlabeledFamiliesShowFromTheStartLabeledOnesWithTheirFirstSeries) {
  Registry r;
  AddCounter(r, "things_total", "Things.");
  auto routes = AddGauge(r, "routes", "Routes.", {"cluster"});
  EXPECT_EQ(r.Serialize(),
            "# HELP things_total Things.\n# TYPE things_total counter\nthings_total 0\n");
  routes.WithLabels({"a"}).Set(1);
  EXPECT_NE(r.Serialize().find("routes{cluster=\"a\"} 1\n"), std::string::npos);
}

TEST(RegistryTest, EscapesLabelValues) {
  Registry r;
  AddCounter(r, "c_total", "C.", {"path"}).WithLabels({"a\\b \"c\"\nd"}).Inc();
  EXPECT_NE(r.Serialize().find("c_total{path=\"a\\\\b \\\"c\\\"\\nd\"} 1\n"), std::string::npos)
      << r.Serialize();
}

TEST(RegistryTest, DefaultLatencyBuckets) {
  Registry r;
  AddHistogram(r, "d_seconds", "D.").WithLabels({}).Observe(0.003);
  const std::string text = r.Serialize();
  for (const char* le :
       {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"}) {
    EXPECT_NE(text.find(std::string("d_seconds_bucket{le=\"") + le + "\"} 1\n"), std::string::npos)
        << le;
  }
}

TEST(RegistryTest, CounterIgnoresNegativeAndNaNGaugeGoesBothWays) {
  Registry r;
  auto c = AddCounter(r, "c_total", "C.").WithLabels({});
  c.Inc(2);
  c.Inc(-1);
  c.Inc(std::nan(""));
  EXPECT_EQ(c.Value(), 2);
  auto g = AddGauge(r, "g", "G.").WithLabels({});
  g.Inc(5);
  g.Dec(2);
  EXPECT_EQ(g.Value(), 3);
  g.Set(-1);
  EXPECT_EQ(g.Value(), -1);
}

TEST(RegistryTest, ReDeclarationGivesTheSameFamilyOrThrows) {
  Registry r;
  auto a = AddCounter(r, "x_total", "X.", {"l"});
  auto b = AddCounter(r, "x_total", "X.", {"l"});
  EXPECT_EQ(&a.native(), &b.native());
  a.WithLabels({"1"}).Inc();
  EXPECT_EQ(b.WithLabels({"1"}).Value(), 1);
  EXPECT_ANY_THROW(AddGauge(r, "x_total", "X.", {"l"}));
  EXPECT_ANY_THROW(AddCounter(r, "bad-name", "B."));
  EXPECT_THROW(AddHistogram(r, "h", "H.", {}, {1, 0.5}), std::invalid_argument);
  EXPECT_THROW(a.WithLabels({"1", "2"}), std::invalid_argument);
  EXPECT_THROW(a.Remove({}), std::invalid_argument);
}

TEST(RegistryTest, RemoveDropsASeries) {
  Registry r;
  auto g = AddGauge(r, "routes", "Routes.", {"cluster"});
  g.WithLabels({"a"}).Set(1);
  g.WithLabels({"b"}).Set(2);
  EXPECT_TRUE(g.Remove({"a"}));
  EXPECT_FALSE(g.Remove({"a"}));
  EXPECT_EQ(r.Serialize(), "# HELP routes Routes.\n# TYPE routes gauge\nroutes{cluster=\"b\"} 2\n");
  EXPECT_EQ(g.WithLabels({"a"}).Value(), 0);  // a new series starts over
}

TEST(RegistryTest, ConcurrentUpdatesAreNotLost) {
  Registry r;
  auto c = AddCounter(r, "c_total", "C.", {"t"});
  auto h = AddHistogram(r, "h_seconds", "H.", {"t"}, {1});
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
