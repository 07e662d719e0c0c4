#include "operator/metrics/process_metrics.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

namespace sg::metrics {

std::string ProcessMetricsText() {
  std::ostringstream out;
  // /proc/self/stat: the command name (field 2) may contain spaces, so parse
  // after its closing parenthesis; utime and stime are fields 14 and 15.
  std::ifstream stat("/proc/self/stat");
  std::string line;
  if (std::getline(stat, line)) {
    const auto close = line.rfind(')');
    if (close != std::string::npos) {
      std::istringstream rest(line.substr(close + 2));
      std::string field;
      unsigned long long utime = 0, stime = 0;
      for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14) utime = std::stoull(field);
        if (i == 15) stime = std::stoull(field);
      }
      const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
      out << "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
             "# TYPE process_cpu_seconds_total counter\n"
          << "process_cpu_seconds_total " << static_cast<double>(utime + stime) / ticks << "\n";
    }
  }
  std::ifstream statm("/proc/self/statm");
  unsigned long long size = 0, resident = 0;
  if (statm >> size >> resident) {
    out << "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
           "# TYPE process_resident_memory_bytes gauge\n"
        << "process_resident_memory_bytes "
        << resident * static_cast<unsigned long long>(sysconf(_SC_PAGESIZE)) << "\n";
  }
  return out.str();
}

}  // namespace sg::metrics
