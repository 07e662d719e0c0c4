#pragma once
// The engines' line -> route map tests, written once: each engine's test
// describes its engine (RouteLinesEngine) and keeps what differs per engine
// (the markers of shared lines, its spot checks, the directive it breaks).
// The model is SeveralRoutesModel() (route_lines_checks.h).

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "operator/common/result.h"
#include "operator/testing/route_lines_checks.h"
#include "reconcilers/model/traffic_model.h"

namespace sg::testing {

// A rendered configuration and its line -> route map, whichever engine
// rendered it; route_at_line is the engine's own RouteAtLine.
struct RouteMappedConfig {
  std::string text;
  std::vector<std::string> route_of_line;
  std::function<std::string(int)> route_at_line;
};

// An engine's RenderedConfig (text, route_of_line, RouteAtLine) as a
// RouteMappedConfig.
template <class Rendered>
RouteMappedConfig RouteMapped(Rendered rendered) {
  auto r = std::make_shared<const Rendered>(std::move(rendered));
  return {r->text, r->route_of_line, [r](int line) { return r->RouteAtLine(line); }};
}

using CheckFiles = std::map<std::string, std::string>;

struct RouteLinesEngine {
  // With the line map, and the text alone; default render options.
  std::function<RouteMappedConfig(const model::TrafficModel&)> render;
  std::function<std::string(const model::TrafficModel&)> render_text;
  // The engine's real check of a configuration, with `files` beside it.
  std::function<Status(const std::string& config, const CheckFiles& files)> validate;
  // The certificate files the check of a model's configuration loads.
  std::function<std::vector<std::string>(const model::TrafficModel&)> certificate_files;
  // The line a rejection message names, 0 if none.
  std::function<int(const std::string& message)> error_line;
};

struct RouteLinesOfSample {
  RouteMappedConfig config;
  samples::RouteLineScan scan;

  // The route of the first line containing `needle` (a failure if none).
  std::string RouteOf(const std::string& needle) const;
};

// Renders SeveralRoutesModel(): the text equals render_text's, every line
// names its route (ExpectLinesNameTheirRoutes with `shared_markers`), every
// route has commented lines and upstream names mark more than 12 lines,
// each {needle, route} of `route_of_needle` holds, and lines out of range
// or the header name no route. The result serves the engine's own checks.
RouteLinesOfSample ExpectEveryRouteLineNamesItsRoute(
    const RouteLinesEngine& engine, const std::vector<std::string>& shared_markers,
    const std::vector<std::pair<std::string, std::string>>& route_of_needle);

// `m` (a variant of SeveralRoutesModel()) passes the check; with api's first
// line containing `api_anchor` replaced by `broken_line`, the check fails at
// that line, and the line map names api there.
void ExpectRejectedRouteLineLeadsToItsRoute(const RouteLinesEngine& engine, model::TrafficModel m,
                                            const std::string& api_anchor,
                                            const std::string& broken_line);

// Whether the check of a broken upstream gets the placeholder certificates:
// an engine that parses upstreams before it loads certificates fails on
// the upstream without them.
enum class UpstreamCheckFiles { kCertificates, kNone };

// `m` (a variant of SeveralRoutesModel()) with port 99999 on cart's second
// upstream fails the check with a message naming 99999 at a line the map
// gives to cart.
void ExpectRejectedUpstreamLeadsToItsRoute(const RouteLinesEngine& engine, model::TrafficModel m,
                                           UpstreamCheckFiles files);

}  // namespace sg::testing
