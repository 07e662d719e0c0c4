#pragma once
// The operator's built-in status page: GET /ui serves one self-contained HTML
// document (inline CSS and JavaScript, no external assets) that polls
// /v1/status and /metrics every 2 s and shows clusters, routes, proxies and a
// live chart of convergence latency. When /v1/status answers 401 (the
// operator has a status token), the page asks for the token and sends it as
// a bearer header; the page itself is a constant, served to anyone.
//
// Thread-safety: the page is a constant; the handler may run on any thread.

#include <string_view>

#include "operator/http/http_server.h"

namespace sg::ui {

inline constexpr const char* kStatusPagePath = "/ui";
inline constexpr const char* kHtmlContentType = "text/html; charset=utf-8";

// The HTML document served at /ui.
std::string_view StatusPageHtml();

// Serves StatusPageHtml() at GET /ui (and /ui/...). The page reads the
// operator's own /v1/status and /metrics with relative URLs, so it works
// behind any host name or port.
void RegisterStatusPage(http::HttpServer& server);

}  // namespace sg::ui
