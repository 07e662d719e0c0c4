#pragma once
// The operator's built-in routes: /metrics (Prometheus text format 0.0.4),
// /healthz (the process is alive) and /readyz (it can do its job).

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

// `registry` must outlive `server`'s handling of requests. An empty
// `readiness` means always ready.
void RegisterObservabilityRoutes(HttpServer& server, const metrics::Registry& registry,
                                 ReadinessCheck readiness);

}  // namespace sg::http
