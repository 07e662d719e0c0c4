#include "operator/app/status_routes.h"

#include <utility>

#include "operator/ui/status_page.h"

namespace sg::app {

void RegisterStatusRoutes(http::HttpServer& server, const std::optional<http::BearerAuth>& auth,
                          http::Handler status, http::Handler leader) {
  server.Handle("GET", kStatusPath, http::RequireBearer(auth, std::move(status)));
  server.Handle("GET", kLeaderPath, std::move(leader));
  ui::RegisterStatusPage(server);
}

}  // namespace sg::app
