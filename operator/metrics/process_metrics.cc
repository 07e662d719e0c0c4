#include "operator/metrics/process_metrics.h"

#include <unistd.h>

#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>

namespace sg::metrics {
namespace {

std::optional<double> CpuSeconds() {
  // /proc/self/stat: the command name (field 2) may contain spaces, so parse
  // after its closing parenthesis; utime and stime are fields 14 and 15.
  std::ifstream stat("/proc/self/stat");
  std::string line;
  if (!std::getline(stat, line)) return std::nullopt;
  const auto close = line.rfind(')');
  if (close == std::string::npos || close + 2 > line.size()) return std::nullopt;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  int i = 3;
  for (; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  if (i <= 15) return std::nullopt;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::optional<double> ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  unsigned long long size = 0, resident = 0;
  if (!(statm >> size >> resident)) return std::nullopt;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

}  // namespace

ProcessMetrics::ProcessMetrics(prometheus::Registry& registry)
    : cpu_seconds_(AddCounter(registry, "process_cpu_seconds_total",
                              "Total user and system CPU time spent in seconds.")
                       .WithLabels({})),
      resident_bytes_(
          AddGauge(registry, "process_resident_memory_bytes", "Resident memory size in bytes.")
              .WithLabels({})) {}

void ProcessMetrics::Update() {
  // A counter only takes increments, each computed from the value the last
  // update left: two updates at once must not both add the same delta.
  static std::mutex mu;
  std::lock_guard<std::mutex> l(mu);
  if (auto cpu = CpuSeconds()) cpu_seconds_.Inc(*cpu - cpu_seconds_.Value());
  if (auto rss = ResidentBytes()) resident_bytes_.Set(*rss);
}

}  // namespace sg::metrics
