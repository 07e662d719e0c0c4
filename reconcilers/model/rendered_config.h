#pragma once
// What an engine's renderer produces: the configuration text, and the route
// each of its lines was written for, so that a checker's "line N" (nginx's
// "nginx.conf:12", HAProxy's "[haproxy.cfg:12]") names a route without
// parsing the text. Both engines and the data-plane seam use this one type.
//
// Thread-safety: a plain value; const methods may be called concurrently.

#include <string>
#include <utility>
#include <vector>

#include "reconcilers/model/line_writer.h"

namespace sg::model {

struct RenderedConfig {
  std::string text;
  // route_of_line[i] is the route whose lines include line i+1 ("" for none).
  // Lines shared by several routes (or none) are "".
  std::vector<std::string> route_of_line;

  // The route of 1-based `line`; "" when out of range or shared.
  std::string RouteAtLine(int line) const;
};

// A renderer's text and line runs (LineBuffer::TakeText, TakeLineRuns) as a
// RenderedConfig with one route per line.
RenderedConfig WithRouteOfLines(std::pair<std::string, std::vector<LineRun>> rendered);

}  // namespace sg::model
