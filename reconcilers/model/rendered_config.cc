#include "reconcilers/model/rendered_config.h"

namespace sg::model {

std::string RenderedConfig::RouteAtLine(int line) const {
  if (line < 1 || static_cast<size_t>(line) > route_of_line.size()) return "";
  return route_of_line[static_cast<size_t>(line) - 1];
}

RenderedConfig WithRouteOfLines(std::pair<std::string, std::vector<LineRun>> rendered) {
  RenderedConfig out;
  out.text = std::move(rendered.first);
  out.route_of_line = RouteOfLines(rendered.second);
  return out;
}

}  // namespace sg::model
