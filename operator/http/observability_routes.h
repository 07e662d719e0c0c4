#pragma once
// The operator's built-in routes: /metrics (Prometheus text format 0.0.4,
// written by prometheus-cpp's TextSerializer from the registry), /healthz
// (the process is alive) and /readyz (it can do its job).
//
// Thread-safety: the handlers run on the server's I/O threads, possibly
// several at once; the registry is thread-safe (see metrics/registry.h).

#include <functional>

#include "operator/common/result.h"
#include "operator/http/http_server.h"
#include "operator/metrics/registry.h"

namespace sg::http {

// Ok when ready; otherwise the error's message says why not (e.g. "docker
// unreachable", "initial sync not done"). Called on an I/O thread for every
// /readyz request: it must be quick and thread-safe.
using ReadinessCheck = std::function<Status()>;

inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// Also declares the process metrics (process_cpu_seconds_total,
// process_resident_memory_bytes) on `registry`, refreshed at every scrape.
// `registry` must outlive `server`'s handling of requests. An empty
// `readiness` means always ready.
void RegisterObservabilityRoutes(HttpServer& server, metrics::Registry& registry,
                                 ReadinessCheck readiness);

}  // namespace sg::http
