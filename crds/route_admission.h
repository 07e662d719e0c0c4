#pragma once
// A ServiceCluster's host policy and route selector (spec.allowedRoutes):
// whether a route may attach. Pure; thread-safe.

#include <map>
#include <string>
#include <string_view>

#include "crds/types.h"

namespace sg::crds {

// Whether `host` (exact or "*.domain") lies within `pattern`: an exact
// pattern admits only itself; "*.example.com" admits any host below
// example.com, wildcards below it included, but not example.com itself (as
// the proxies' own wildcard server names match).
bool HostWithin(std::string_view host, std::string_view pattern);

bool SelectorMatches(const LabelSelector& selector,
                     const std::map<std::string, std::string>& labels);

// Empty when `route` may attach to `cluster`; otherwise why not, naming the
// host or the labels (the route's NotAllowed message).
std::string RouteAdmission(const ServiceCluster& cluster, const Route& route);

}  // namespace sg::crds
