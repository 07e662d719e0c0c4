#pragma once
// The origins of a CORS policy as one pattern, for engines that match the
// Origin header with a regular expression.

#include <string>
#include <vector>

namespace sg::model {

// A PCRE pattern matching exactly the allowed origins, anchored: "*" gives
// ".+"; "https://app.example.com" itself; "https://*.example.com" one or
// more labels before ".example.com" (not the domain itself). Dots are
// escaped; origins are case-insensitive by HTTP, and browsers send them in
// lower case, as the resource grammar requires them.
std::string CorsOriginPattern(const std::vector<std::string>& origins);

// Whether `origins` allows every origin ("*").
bool CorsAnyOrigin(const std::vector<std::string>& origins);

}  // namespace sg::model
