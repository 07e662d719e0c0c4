#pragma once
// The process's own CPU time and resident memory, under the names every
// Prometheus client library uses (process_cpu_seconds_total,
// process_resident_memory_bytes), on the metrics registry. They are read
// from /proc/self when Update() is called, i.e. at scrape time. Linux only;
// they stay at 0 where /proc is missing.
//
// Thread-safety: Update() may be called from any thread at once, also on
// several objects sharing a registry (updates are serialized process-wide).
// Ownership: the families live on the registry, which must outlive this
// object.

#include "operator/metrics/registry.h"

namespace sg::metrics {

class ProcessMetrics {
 public:
  explicit ProcessMetrics(prometheus::Registry& registry);
  void Update();

 private:
  Counter cpu_seconds_;
  Gauge resident_bytes_;
};

}  // namespace sg::metrics
