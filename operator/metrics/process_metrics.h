#pragma once
// The process's own CPU time and resident memory in Prometheus text format,
// under the names every Prometheus client library uses
// (process_cpu_seconds_total, process_resident_memory_bytes), read from
// /proc/self at scrape time. Linux only; empty where /proc is missing.

#include <string>

namespace sg::metrics {

std::string ProcessMetricsText();

}  // namespace sg::metrics
