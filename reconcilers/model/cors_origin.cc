#include "reconcilers/model/cors_origin.h"

#include <algorithm>

namespace sg::model {
namespace {

std::string Literal(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '.') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

bool CorsAnyOrigin(const std::vector<std::string>& origins) {
  return std::find(origins.begin(), origins.end(), "*") != origins.end();
}

std::string CorsOriginPattern(const std::vector<std::string>& origins) {
  if (CorsAnyOrigin(origins)) return "^.+$";
  std::string alternatives;
  for (const std::string& o : origins) {
    if (!alternatives.empty()) alternatives += '|';
    size_t star = o.find("://*.");
    if (star == std::string::npos) {
      alternatives += Literal(o);
    } else {
      // One or more labels of letters, digits and '-'.
      alternatives += Literal(std::string_view(o).substr(0, star + 3)) + "([a-z0-9-]+\\.)+" +
                      Literal(std::string_view(o).substr(star + 5));
    }
  }
  return "^(" + alternatives + ")$";
}

}  // namespace sg::model
