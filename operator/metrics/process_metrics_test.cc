#include "operator/metrics/process_metrics.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>
#include <string>
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

TEST(ProcessMetricsTest, ReportsCpuTimeAndResidentMemory) {
  // Burn a little CPU so the counter is visibly above zero.
  volatile double x = 0;
  for (int i = 0; i < 20000000; ++i) x = x + i * 0.5;
  const std::string text = ProcessMetricsText();
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE process_resident_memory_bytes gauge\n"), std::string::npos) << text;
  EXPECT_GT(Value(text, "process_cpu_seconds_total"), 0.0) << text;
  const double rss = Value(text, "process_resident_memory_bytes");
  EXPECT_GT(rss, 1024.0 * 1024) << text;  // a test binary is more than 1 MiB
  EXPECT_LT(rss, 4.0 * 1024 * 1024 * 1024) << text;
}

}  // namespace
}  // namespace sg::metrics
