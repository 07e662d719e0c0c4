#pragma once
// Helpers both engines' renderers use to write a model in one canonical
// order (so the same model gives the same bytes whatever its input order)
// and to name its files.
//
// Thread-safety: pure functions.

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "reconcilers/model/traffic_model.h"

namespace sg::model {

// Pointers to the elements of `v`, sorted by `less` (the model is not copied).
template <class T, class Less>
std::vector<const T*> SortedPtrs(const std::vector<T>& v, Less less) {
  std::vector<const T*> out;
  out.reserve(v.size());
  for (const T& x : v) out.push_back(&x);
  std::sort(out.begin(), out.end(), [&](const T* a, const T* b) { return less(*a, *b); });
  return out;
}

// Locations by path, then route (then the rest of their match, for a
// canonical order of a route's several matches of one path).
bool LocationLess(const Location* a, const Location* b);

// Whether `a` is tried before `b` on one virtual host (Location's order):
// exact paths, prefixes other than "/" longest first, patterns, the prefix
// "/"; then a method, more headers, more query parameters, lower rank.
bool PrecedesMatch(const Location* a, const Location* b);

// Whether the location needs more than its path's own match: a header, a
// query parameter or a method.
bool HasConditions(const Location& l);

// The rule a location comes from ("spec.rules[2]", from its match_field),
// or "spec" for the one-rule shorthand.
std::string RuleField(const Location& l);

// "certs/shop-tls": certificate paths as the config names them.
std::string JoinCertPath(const Settings& s, const std::string& file);

// Strips trailing slashes: "/api/" and "/api" are one context root; "/" stays "/".
std::string_view BasePath(std::string_view path);

// Sorted, de-duplicated views of `hosts`.
std::vector<std::string_view> SortedHosts(const std::vector<std::string>& hosts);

// An upstream's servers by address.
std::vector<const UpstreamServer*> SortedServers(const Upstream& u);

// A server with its hosts sorted and unique, and its locations by
// LocationLess.
struct SortedServer {
  const Server* server;
  std::vector<std::string_view> hosts;
  std::vector<const Location*> locations;

  // The route the server's own lines are written for: its locations' route
  // when they all belong to one, else "" (the lines are then shared).
  std::string_view Route() const;
};

// The model's lists as pointers in canonical order.
struct SortedModel {
  std::vector<SortedServer> servers;                 // by hosts, then locations
  std::vector<const Upstream*> upstreams;            // by name
  std::vector<const HostRedirect*> redirects;        // by host, route, target
  std::vector<const PassthroughRoute*> passthrough;  // by route, upstream
};

SortedModel SortModel(const TrafficModel& m);

// Whether some passthrough route has endpoints and hosts, so that the
// engine must write its passthrough listener.
bool ServesPassthrough(const std::vector<const PassthroughRoute*>& routes);

// Sorts `v` and drops its duplicates.
void SortUnique(std::vector<std::string>* v);

}  // namespace sg::model
