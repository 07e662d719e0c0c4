#pragma once
// Backend selection: the traffic policy of a location, decided once for every
// engine. From the backends a route declares and what is known about their
// upstreams it derives which upstreams take which share of the requests, where
// canary requests go and which session cookie pins a client. Renderers only
// translate the result (model::BackendSelection) into their syntax.
//
// Pure functions: thread-safe, no shared state.

#include <string>
#include <vector>

#include "reconcilers/model/traffic_model.h"

namespace sg::model {

// One declared backend with what is known about its upstream.
struct BackendCandidate {
  std::string upstream;       // an Upstream::name
  int weight = 1;             // negative counts as 0
  bool canary = false;        // receives the requests matched by the canary rule
  bool live = false;          // the upstream has at least one server
  std::string sticky_cookie;  // the upstream's session cookie; "" for none
};

// The rules, in order:
//  - Only live candidates take traffic: a backend without endpoints gives its
//    share to the others instead of failing requests. None live: the empty
//    selection (503).
//  - `split`: live candidates with weight > 0, by weight; when every live
//    weight is 0, all live candidates evenly.
//  - `canary_split`, only with a canary rule: live canaries with weight > 0 by
//    weight; when every live canary has weight 0 (a "header-only" canary),
//    all of them evenly. Empty when no canary is live (the rule falls through
//    to `split`) or when it would equal `split`.
//  - Shares: candidates are ordered by upstream name, weight and canary flag,
//    so input order does not matter; each gets floor(weight * 10000 / total)
//    basis points and the last one the remainder. Shares rounding to 0 are
//    left out.
//  - `sticky_cookie`: the session cookie of the live candidates (they normally
//    share one; if not, the smallest name).
BackendSelection SelectBackends(std::vector<BackendCandidate> candidates, bool canary_rule);

// Whether `rule` matches anything: a header or a cookie is named.
bool HasCanaryRule(const CanaryRule& rule);

// A passthrough route sends to its one upstream, when it has servers.
BackendSelection PassthroughSelection(const Upstream& upstream);

// Sets the selection of every location from its declared backends, its canary
// rule and the model's upstreams (an undeclared upstream is not live), and of
// every passthrough route from its upstream. For models written by hand; the
// builder selects while it builds.
void ResolveSelections(TrafficModel& model);

}  // namespace sg::model
