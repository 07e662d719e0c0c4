// Table tests of the backend selection policy.

#include "reconcilers/model/backend_selection.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <random>
#include <string>
#include <vector>

namespace sg::model {

// Readable failures: "[a 9000, b 1000]".
void PrintTo(const WeightedUpstream& w, std::ostream* os) {
  *os << w.upstream << ' ' << w.basis_points;
}

namespace {

using Split = std::vector<WeightedUpstream>;

BackendCandidate Live(std::string upstream, int weight, bool canary = false) {
  return {std::move(upstream), weight, canary, true, ""};
}
BackendCandidate Dead(std::string upstream, int weight, bool canary = false) {
  return {std::move(upstream), weight, canary, false, ""};
}

struct Case {
  std::string label;
  std::vector<BackendCandidate> candidates;
  bool canary_rule;
  Split split;
  Split canary_split;
};

TEST(BackendSelection, Table) {
  const std::vector<Case> cases = {
      {"one backend", {Live("a", 1)}, false, {{"a", 10000}}, {}},
      {"no backend", {}, true, {}, {}},
      {"nothing live: 503", {Dead("a", 1), Dead("b", 1, true)}, true, {}, {}},
      {"by weight, ordered by name",
       {Live("b", 10), Live("a", 90)},
       false,
       {{"a", 9000}, {"b", 1000}},
       {}},
      {"two decimals, remainder to the last",
       {Live("a", 1), Live("b", 1), Live("c", 1)},
       false,
       {{"a", 3333}, {"b", 3333}, {"c", 3334}},
       {}},
      {"weight-0 backends get nothing",
       {Live("a", 3), Live("b", 0), Live("c", 1)},
       false,
       {{"a", 7500}, {"c", 2500}},
       {}},
      {"all weights 0: evenly",
       {Live("a", 0), Live("b", 0)},
       false,
       {{"a", 5000}, {"b", 5000}},
       {}},
      {"negative weight counts as 0", {Live("a", -5), Live("b", 1)}, false, {{"b", 10000}}, {}},
      {"dead backend's share goes to the others",
       {Dead("a", 50), Live("b", 25), Live("c", 25)},
       false,
       {{"b", 5000}, {"c", 5000}},
       {}},
      {"share rounding to 0 is left out",
       {Live("a", 1), Live("b", 100000)},
       false,
       {{"b", 10000}},
       {}},
      {"canary with a rule",
       {Live("v1", 90), Live("v2", 10, true)},
       true,
       {{"v1", 9000}, {"v2", 1000}},
       {{"v2", 10000}}},
      {"canary without a rule: no override",
       {Live("v1", 90), Live("v2", 10, true)},
       false,
       {{"v1", 9000}, {"v2", 1000}},
       {}},
      {"weight-0 canary: header only",
       {Live("v1", 100), Live("v2", 0, true)},
       true,
       {{"v1", 10000}},
       {{"v2", 10000}}},
      {"canaries by weight, weight-0 canary left out",
       {Live("a", 2), Live("b", 1, true), Live("c", 0, true)},
       true,
       {{"a", 6666}, {"b", 3334}},
       {{"b", 10000}}},
      {"all canaries weight 0: evenly",
       {Live("a", 1), Live("b", 0, true), Live("c", 0, true)},
       true,
       {{"a", 10000}},
       {{"b", 5000}, {"c", 5000}}},
      {"no live canary: the rule falls through",
       {Dead("empty", 50), Live("live", 50), Dead("canary-empty", 0, true)},
       true,
       {{"live", 10000}},
       {}},
      {"canary equal to the split collapses",
       {Live("a", 1, true), Live("b", 1, true)},
       true,
       {{"a", 5000}, {"b", 5000}},
       {}},
      {"single canary equal to the split collapses",
       {Live("a", 1), Live("a", 0, true)},
       true,
       {{"a", 10000}},
       {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.label);
    BackendSelection got = SelectBackends(c.candidates, c.canary_rule);
    EXPECT_EQ(got.split, c.split);
    EXPECT_EQ(got.canary_split, c.canary_split);
    EXPECT_EQ(got.sticky_cookie, "");
    int total = 0;
    for (const WeightedUpstream& w : got.split) {
      EXPECT_GT(w.basis_points, 0);
      total += w.basis_points;
    }
    EXPECT_EQ(total, got.split.empty() ? 0 : 10000);
  }
}

TEST(BackendSelection, InputOrderDoesNotMatter) {
  std::vector<BackendCandidate> c = {Live("a", 2),       Live("b", 1, true), Dead("c", 5),
                                     Live("d", 3, true), Live("e", 0),       Live("f", 7)};
  BackendSelection first = SelectBackends(c, true);
  std::mt19937 rng(7);
  for (int i = 0; i < 20; ++i) {
    std::shuffle(c.begin(), c.end(), rng);
    EXPECT_EQ(SelectBackends(c, true), first) << "shuffle " << i;
  }
}

TEST(BackendSelection, StickyCookieOfLiveBackendsSmallestName) {
  struct StickyCase {
    std::string label;
    std::vector<BackendCandidate> candidates;
    std::string cookie;
  };
  auto with = [](BackendCandidate c, std::string cookie) {
    c.sticky_cookie = std::move(cookie);
    return c;
  };
  const std::vector<StickyCase> cases = {
      {"shared cookie", {with(Live("a", 3), "SG"), with(Live("b", 1), "SG")}, "SG"},
      {"smallest name", {with(Live("a", 1), "zeta"), with(Live("b", 1), "alpha")}, "alpha"},
      {"dead backends do not count",
       {with(Dead("a", 1), "alpha"), with(Live("b", 1), "zeta")},
       "zeta"},
      {"weight-0 live backends count", {Live("a", 1), with(Live("b", 0), "SG")}, "SG"},
      {"nothing live: no cookie", {with(Dead("a", 1), "SG")}, ""},
      {"no sticky backend", {Live("a", 1)}, ""},
  };
  for (const StickyCase& c : cases) {
    SCOPED_TRACE(c.label);
    EXPECT_EQ(SelectBackends(c.candidates, false).sticky_cookie, c.cookie);
  }
}

TEST(BackendSelection, CanaryRule) {
  EXPECT_FALSE(HasCanaryRule({}));
  EXPECT_TRUE(HasCanaryRule({"X-Canary", "", "", ""}));
  EXPECT_TRUE(HasCanaryRule({"", "", "canary", "yes"}));
  // A value without a name matches nothing.
  EXPECT_FALSE(HasCanaryRule({"", "always", "", ""}));
}

TEST(BackendSelection, PassthroughSendsToItsUpstreamWhenItHasServers) {
  Upstream u;
  u.name = "r.db.0";
  EXPECT_TRUE(PassthroughSelection(u).split.empty());
  u.servers.push_back({"10.0.0.1:5432", 1});
  EXPECT_EQ(PassthroughSelection(u).split, (Split{{"r.db.0", 10000}}));
}

TEST(BackendSelection, ResolveSelectionsUsesTheModelsUpstreams) {
  TrafficModel m;
  Upstream live;
  live.name = "live";
  live.servers.push_back({"10.0.0.1:80", 1});
  live.sticky_cookie = "SG";
  Upstream empty;
  empty.name = "empty";
  m.upstreams = {live, empty};
  Location loc;
  loc.route = "r";
  loc.backends = {{"live", 1, false}, {"empty", 1, false}, {"undeclared", 1, true}};
  loc.canary.header_name = "X-Canary";
  Server s;
  s.hosts = {"a.example.com"};
  s.locations = {loc};
  m.servers = {s};
  PassthroughRoute p;
  p.route = "db";
  p.hosts = {"db.example.com"};
  p.upstream = live;
  m.passthrough = {p};

  ResolveSelections(m);
  const BackendSelection& sel = m.servers[0].locations[0].selection;
  EXPECT_EQ(sel.split, (Split{{"live", 10000}}));
  EXPECT_TRUE(sel.canary_split.empty());
  EXPECT_EQ(sel.sticky_cookie, "SG");
  EXPECT_EQ(m.passthrough[0].selection.split, (Split{{"live", 10000}}));
}

}  // namespace
}  // namespace sg::model
