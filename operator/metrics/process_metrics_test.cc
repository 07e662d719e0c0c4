#include "operator/metrics/process_metrics.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace sg::metrics {
namespace {

double Value(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name + " ", 0) == 0) return std::strtod(line.c_str() + name.size() + 1, nullptr);
  }
  return -1;
}

void BurnCpu() {
  volatile double x = 0;
  for (int i = 0; i < 20000000; ++i) x = x + i * 0.5;
}

TEST(ProcessMetricsTest, ReportsCpuTimeAndResidentMemory) {
  Registry r;
  ProcessMetrics p(r);
  BurnCpu();  // so the counter is visibly above zero
  p.Update();
  const std::string text = r.Serialize();
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE process_resident_memory_bytes gauge\n"), std::string::npos) << text;
  EXPECT_GT(Value(text, "process_cpu_seconds_total"), 0.0) << text;
  const double rss = Value(text, "process_resident_memory_bytes");
  EXPECT_GT(rss, 1024.0 * 1024) << text;  // a test binary is more than 1 MiB
  EXPECT_LT(rss, 4.0 * 1024 * 1024 * 1024) << text;
}

TEST(ProcessMetricsTest, CpuCounterFollowsTheProcessNotTheNumberOfUpdates) {
  Registry r;
  ProcessMetrics a(r);
  ProcessMetrics b(r);  // a second writer of the same series must not add twice
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) (t % 2 ? a : b).Update();
    });
  }
  for (auto& t : threads) t.join();
  BurnCpu();
  a.Update();
  const double counted = Value(r.Serialize(), "process_cpu_seconds_total");
  Registry fresh;
  ProcessMetrics once(fresh);
  once.Update();
  // Read after: at least what was counted, and not far above it.
  const double actual = Value(fresh.Serialize(), "process_cpu_seconds_total");
  EXPECT_GT(counted, 0.0);
  EXPECT_LE(counted, actual);
  EXPECT_LT(actual - counted, 0.5);
}

}  // namespace
}  // namespace sg::metrics
