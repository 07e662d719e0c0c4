#pragma once
// The operator's status API and page on its HTTP server, and who may read
// them. /v1/status lists every host, route and endpoint address of the
// Swarm, so with a status token (`swarmgate operator --status-token-file`)
// it answers only requests carrying `Authorization: Bearer <token>`.
//
// Open whatever the token:
//   - /healthz, /readyz, /metrics (observability_routes.h): Swarm's health
//     check and Prometheus, over the sg-control overlay;
//   - /v1/leader: the e2e harness and operators find the leader with it, and
//     it tells no more than a follower's 307 to any agent request already
//     does (the leader's URL on sg-control);
//   - /ui: a constant page holding no data; it asks for the token and sends
//     it as a header on its own requests for /v1/status;
//   - /v1/proxy/*: the agents' endpoint has per-cluster tokens of its own.
//
// Thread-safety: registration is for the server's owning thread; the
// handlers run on its I/O threads (see http_server.h).

#include <optional>

#include "operator/http/bearer_auth.h"
#include "operator/http/http_server.h"

namespace sg::app {

inline constexpr const char* kStatusPath = "/v1/status";
inline constexpr const char* kLeaderPath = "/v1/leader";

// Registers GET /v1/status (`status`, behind `auth` when given),
// GET /v1/leader (`leader`) and the status page.
void RegisterStatusRoutes(http::HttpServer& server, const std::optional<http::BearerAuth>& auth,
                          http::Handler status, http::Handler leader);

}  // namespace sg::app
