#include "reconcilers/model/backend_selection.h"

#include <algorithm>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>

namespace sg::model {
namespace {

constexpr long long kAllBasisPoints = 10000;

// Shares of `chosen` by weight; equal shares when every weight is 0.
std::vector<WeightedUpstream> Shares(const std::vector<const BackendCandidate*>& chosen) {
  std::vector<WeightedUpstream> out;
  if (chosen.empty()) return out;
  long long total = 0;
  for (const BackendCandidate* c : chosen) total += std::max(0, c->weight);
  bool even = total <= 0;
  if (even) total = static_cast<long long>(chosen.size());
  long long given = 0;
  out.reserve(chosen.size());
  for (size_t i = 0; i < chosen.size(); ++i) {
    long long weight = even ? 1 : std::max(0, chosen[i]->weight);
    long long bp =
        i + 1 == chosen.size() ? kAllBasisPoints - given : weight * kAllBasisPoints / total;
    given += bp;
    if (bp > 0) out.push_back({chosen[i]->upstream, static_cast<int>(bp)});
  }
  return out;
}

}  // namespace

BackendSelection SelectBackends(std::vector<BackendCandidate> candidates, bool canary_rule) {
  std::sort(candidates.begin(), candidates.end(),
            [](const BackendCandidate& a, const BackendCandidate& b) {
              return std::tie(a.upstream, a.weight, a.canary) <
                     std::tie(b.upstream, b.weight, b.canary);
            });
  std::vector<const BackendCandidate*> live, weighted, canaries, weighted_canaries;
  BackendSelection out;
  for (const BackendCandidate& c : candidates) {
    if (!c.live) continue;
    live.push_back(&c);
    if (c.weight > 0) weighted.push_back(&c);
    if (c.canary) {
      canaries.push_back(&c);
      if (c.weight > 0) weighted_canaries.push_back(&c);
    }
    if (!c.sticky_cookie.empty() &&
        (out.sticky_cookie.empty() || c.sticky_cookie < out.sticky_cookie)) {
      out.sticky_cookie = c.sticky_cookie;
    }
  }
  if (live.empty()) return BackendSelection{};
  out.split = Shares(weighted.empty() ? live : weighted);
  if (canary_rule && !canaries.empty()) {
    out.canary_split = Shares(weighted_canaries.empty() ? canaries : weighted_canaries);
    if (out.canary_split == out.split) out.canary_split.clear();
  }
  return out;
}

bool HasCanaryRule(const CanaryRule& rule) {
  return !rule.header_name.empty() || !rule.cookie_name.empty();
}

BackendSelection PassthroughSelection(const Upstream& upstream) {
  BackendSelection out;
  if (!upstream.servers.empty()) {
    out.split.push_back({upstream.name, static_cast<int>(kAllBasisPoints)});
  }
  return out;
}

void ResolveSelections(TrafficModel& model) {
  std::unordered_map<std::string_view, const Upstream*> upstreams;
  upstreams.reserve(model.upstreams.size());
  for (const Upstream& u : model.upstreams) upstreams.emplace(u.name, &u);
  std::vector<BackendCandidate> candidates;
  auto resolve = [&](Location& loc) {
    candidates.clear();
    for (const BackendRef& b : loc.backends) {
      BackendCandidate c{b.upstream, b.weight, b.canary, false, ""};
      auto it = upstreams.find(b.upstream);
      if (it != upstreams.end()) {
        c.live = !it->second->servers.empty();
        c.sticky_cookie = it->second->sticky_cookie;
      }
      candidates.push_back(std::move(c));
    }
    loc.selection = SelectBackends(candidates, HasCanaryRule(loc.canary));
  };
  for (Server& server : model.servers) {
    for (Location& loc : server.locations) resolve(loc);
  }
  if (model.fallback.location) resolve(*model.fallback.location);
  for (PassthroughRoute& p : model.passthrough) p.selection = PassthroughSelection(p.upstream);
}

}  // namespace sg::model
