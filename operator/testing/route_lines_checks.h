#pragma once
// What the engines' line -> route map tests share: a model with every kind of
// per-route output, and a scan that checks every line of a rendered
// configuration against the route its map names. Each engine's test adds
// its own markers of shared lines and its own spot checks.

#include <functional>
#include <string>
#include <vector>

#include "reconcilers/model/traffic_model.h"

namespace sg::samples {

// "r.<route>.<i>": the upstream names of SeveralRoutesModel().
std::string UpName(const std::string& route, int i);

// Routes shop (weighted canary by header and cookie, rate limit, a second
// host with TLS and an http redirect, a host redirect), api (rewrite, rate
// limit, own connect timeout), dead (no endpoints), cart (sticky sessions,
// two upstreams), vault and down (TLS passthrough with and without
// endpoints). Selections resolved.
model::TrafficModel SeveralRoutesModel();

std::vector<std::string> ConfigLines(const std::string& text);

// The route named by a "# route X" comment on `line`, or "".
std::string CommentRoute(const std::string& line);
// Routes of every upstream name "r.X.N" on `line`.
std::vector<std::string> UpstreamRoutes(const std::string& line);

struct RouteLineScan {
  std::vector<std::string> lines;
  std::vector<std::string> commented_routes;  // sorted, unique
  int upstream_lines = 0;
};

// Checks (gtest EXPECTs) that every line with a "# route X" comment or an
// upstream name maps to that route, that lines containing one of
// `shared_markers` map to none, and that `route_at_line` (1-based) agrees
// with `route_of_line`.
RouteLineScan ExpectLinesNameTheirRoutes(const std::string& text,
                                         const std::vector<std::string>& route_of_line,
                                         const std::vector<std::string>& shared_markers,
                                         const std::function<std::string(int)>& route_at_line);

// The route of the first line containing `needle`; "?" (and a test
// failure) when none does.
std::string RouteOfLineWith(const RouteLineScan& scan,
                            const std::vector<std::string>& route_of_line,
                            const std::string& needle);

}  // namespace sg::samples
