#pragma once
// The routing behaviour both engines must show with real traffic, checked
// through a caller-supplied request function, so each engine's traffic test
// proves the same things. The model under test serves, on
// shop.example.com: "/api" (rewritten to "/") and "/" from v1, "/canary"
// (v1, with v2 as canary for the header X-Canary: always or the cookie
// canary), "/split" (v1 and v2 by halves) and "/none" (no endpoints); and on
// *.sticky.example.com one upstream over both backends with the session
// cookie SG_STICKY. Backends answer "<name> <path and query> ...".

#include <functional>
#include <string>

#include "operator/testing/loopback_http.h"
#include "reconcilers/model/traffic_model.h"

namespace sg::testing {

// The model described above, over the backends at addresses `v1` and `v2`
// (upstreams "v1", "v2", "none" and "sticky"). Selections unresolved.
model::TrafficModel SharedRoutingModel(const std::string& v1, const std::string& v2);

// get(host, path, extra curl arguments)
using GetFn = std::function<CurlResponse(const std::string& host, const std::string& path,
                                         const std::string& extra)>;

// Context roots, canary rules, the 50/50 split, 503 without endpoints, and
// sticky sessions (cookie values start with `sticky_cookie_prefix`).
void ExpectSharedRouting(const GetFn& get, const std::string& sticky_cookie_prefix);

// Canary rules with values, on canary.example.com (v1 stable, v2 canary at
// weight 0): "/version" for the header "version: two" or the cookie
// "version=two", "/build" for the header "X-Build: 1.2+rc(1)" or the cookie
// "build-id=1.2+rc(1)" (regex metacharacters, and a cookie name nginx cannot
// spell as $cookie_NAME). Selections unresolved.
model::TrafficModel ExactCanaryModel(const std::string& v1, const std::string& v2);

// Values compare exactly, case included, and match the whole value; header
// names match whatever their case.
void ExpectExactCanaryValues(const GetFn& get);

}  // namespace sg::testing
