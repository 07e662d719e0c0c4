#include "crds/route_admission.h"

#include <gtest/gtest.h>

namespace sg::crds {
namespace {

TEST(HostWithin, ExactPatternAdmitsOnlyItself) {
  EXPECT_TRUE(HostWithin("shop.example.com", "shop.example.com"));
  EXPECT_FALSE(HostWithin("a.shop.example.com", "shop.example.com"));
  EXPECT_FALSE(HostWithin("*.shop.example.com", "shop.example.com"));
}

TEST(HostWithin, WildcardAdmitsEveryHostBelowTheDomainButNotTheDomain) {
  EXPECT_TRUE(HostWithin("a.example.com", "*.example.com"));
  EXPECT_TRUE(HostWithin("a.b.example.com", "*.example.com"));
  EXPECT_TRUE(HostWithin("*.example.com", "*.example.com"));
  EXPECT_TRUE(HostWithin("*.a.example.com", "*.example.com"));
  EXPECT_FALSE(HostWithin("example.com", "*.example.com"));
  EXPECT_FALSE(HostWithin("badexample.com", "*.example.com"));
  EXPECT_FALSE(HostWithin("*.com", "*.example.com"));
}

TEST(SelectorMatches, EveryPairAndRequirementMustHold) {
  LabelSelector s;
  s.match_labels = {{"team", "web"}};
  s.match_expressions = {{"tier", LabelRequirement::Operator::kIn, {"gold", "silver"}},
                         {"legacy", LabelRequirement::Operator::kDoesNotExist, {}}};
  EXPECT_TRUE(SelectorMatches(s, {{"team", "web"}, {"tier", "gold"}}));
  EXPECT_FALSE(SelectorMatches(s, {{"team", "web"}}));
  EXPECT_FALSE(SelectorMatches(s, {{"team", "Web"}, {"tier", "gold"}}));
  EXPECT_FALSE(SelectorMatches(s, {{"team", "web"}, {"tier", "bronze"}}));
  EXPECT_FALSE(SelectorMatches(s, {{"team", "web"}, {"tier", "gold"}, {"legacy", ""}}));
}

TEST(SelectorMatches, NotInAdmitsAnAbsentLabelAndExistsNeedsOne) {
  LabelSelector not_in;
  not_in.match_expressions = {{"env", LabelRequirement::Operator::kNotIn, {"prod"}}};
  EXPECT_TRUE(SelectorMatches(not_in, {}));
  EXPECT_TRUE(SelectorMatches(not_in, {{"env", "dev"}}));
  EXPECT_FALSE(SelectorMatches(not_in, {{"env", "prod"}}));
  LabelSelector exists;
  exists.match_expressions = {{"env", LabelRequirement::Operator::kExists, {}}};
  EXPECT_TRUE(SelectorMatches(exists, {{"env", ""}}));
  EXPECT_FALSE(SelectorMatches(exists, {}));
}

ServiceCluster Cluster(AllowedRoutes allowed) {
  ServiceCluster c;
  c.metadata.name = "public";
  c.spec.allowed_routes = std::move(allowed);
  return c;
}

Route RouteFor(std::vector<std::string> hosts, std::map<std::string, std::string> labels = {}) {
  Route r;
  r.metadata.name = "shop";
  r.metadata.labels = std::move(labels);
  r.spec.hosts = std::move(hosts);
  return r;
}

TEST(RouteAdmission, WithoutPolicyEveryRouteAttaches) {
  ServiceCluster c;
  c.metadata.name = "public";
  EXPECT_EQ(RouteAdmission(c, RouteFor({"anything.example.org"})), "");
}

TEST(RouteAdmission, AHostOutsideThePatternsIsNamed) {
  auto c = Cluster({{"*.example.com", "example.org"}, std::nullopt});
  EXPECT_EQ(RouteAdmission(c, RouteFor({"shop.example.com", "example.org"})), "");
  EXPECT_EQ(RouteAdmission(c, RouteFor({"shop.example.com", "shop.example.org"})),
            "host \"shop.example.org\" is outside the hosts of ServiceCluster \"public\" "
            "(spec.allowedRoutes.hosts: *.example.com, example.org)");
}

TEST(RouteAdmission, ARedirectSourceOutsideThePatternsIsNamed) {
  auto c = Cluster({{"*.example.com"}, std::nullopt});
  Route r = RouteFor({"shop.example.com"});
  r.spec.redirects.push_back({"old.example.net", "https://shop.example.com", 301});
  EXPECT_EQ(RouteAdmission(c, r),
            "redirect source \"old.example.net\" is outside the hosts of ServiceCluster "
            "\"public\" (spec.allowedRoutes.hosts: *.example.com)");
}

TEST(RouteAdmission, ARouteWithoutTheSelectedLabelsIsRefused) {
  LabelSelector s;
  s.match_labels = {{"team", "web"}};
  s.match_expressions = {{"env", LabelRequirement::Operator::kNotIn, {"dev", "test"}}};
  auto c = Cluster({{}, s});
  EXPECT_EQ(RouteAdmission(c, RouteFor({"a.example.com"}, {{"team", "web"}})), "");
  EXPECT_EQ(RouteAdmission(c, RouteFor({"a.example.com"}, {{"team", "ops"}})),
            "ServiceCluster \"public\" admits only routes with labels team=web, env notin "
            "(dev, test) (spec.allowedRoutes.selector)");
}

}  // namespace
}  // namespace sg::crds
