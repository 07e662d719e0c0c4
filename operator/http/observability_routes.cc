#include "operator/http/observability_routes.h"

#include <memory>

#include "operator/metrics/process_metrics.h"

namespace sg::http {

void RegisterObservabilityRoutes(HttpServer& server, metrics::Registry& registry,
                                 ReadinessCheck readiness) {
  auto process = std::make_shared<metrics::ProcessMetrics>(registry);
  server.Handle("GET", "/metrics", [&registry, process](const Request&) {
    process->Update();
    Response r;
    r.content_type = kMetricsContentType;
    r.body = registry.Serialize();
    return r;
  });
  server.Handle("GET", "/healthz", [](const Request&) { return Response::Text(200, "ok\n"); });
  server.Handle("GET", "/readyz", [readiness = std::move(readiness)](const Request&) {
    if (!readiness) return Response::Text(200, "ok\n");
    const Status s = readiness();
    if (s.ok()) return Response::Text(200, "ok\n");
    return Response::Text(503, "not ready: " + s.error().message + "\n");
  });
}

}  // namespace sg::http
