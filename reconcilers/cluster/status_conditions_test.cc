#include "reconcilers/cluster/status_conditions.h"

#include <gtest/gtest.h>

namespace sg::reconcilers {
namespace {

const crds::Condition& Find(const crds::ResourceStatus& s, const char* type) {
  const auto* c = s.FindCondition(type);
  EXPECT_NE(c, nullptr) << type;
  static const crds::Condition kNone;
  return c ? *c : kNone;
}

RouteOutcome Served(std::vector<std::string> endpoints = {"10.0.1.7:8080"}) {
  RouteOutcome o;
  o.served = true;
  o.reason = kReasonReady;
  o.endpoints = std::move(endpoints);
  return o;
}

TEST(StatusConditionsTest, ServedAndLiveRouteIsReadyWithItsEndpoints) {
  auto s = ComposeRouteStatus({}, 3, Served(), nullptr, true, "t");
  EXPECT_EQ(s.observed_generation, 3);
  EXPECT_EQ(Find(s, crds::kConditionReady).status, crds::kConditionTrue);
  EXPECT_EQ(Find(s, crds::kConditionReady).message, "1 endpoints");
  EXPECT_EQ(Find(s, crds::kConditionProgressing).status, crds::kConditionFalse);
  EXPECT_EQ(Find(s, crds::kConditionDegraded).status, crds::kConditionFalse);
  EXPECT_EQ(s.endpoints, std::vector<std::string>{"10.0.1.7:8080"});
}

TEST(StatusConditionsTest, ServedButNotLiveIsConverging) {
  auto s = ComposeRouteStatus({}, 1, Served(), nullptr, false, "t");
  EXPECT_EQ(Find(s, crds::kConditionReady).status, crds::kConditionFalse);
  EXPECT_EQ(Find(s, crds::kConditionReady).reason, "Converging");
  EXPECT_EQ(Find(s, crds::kConditionProgressing).status, crds::kConditionTrue);
}

TEST(StatusConditionsTest, OutcomeReasonsAndDegradedCauses) {
  RouteOutcome conflict;
  conflict.reason = kReasonConflict;
  conflict.message = "host+path already claimed by older route \"a\"";
  auto s = ComposeRouteStatus({}, 1, conflict, nullptr, true, "t");
  EXPECT_EQ(Find(s, crds::kConditionReady).reason, kReasonConflict);
  EXPECT_EQ(Find(s, crds::kConditionReady).message, conflict.message);

  RouteOutcome rejected;
  rejected.reason = kReasonInvalidConfig;
  rejected.message = "nginx rejected this route: x";
  s = ComposeRouteStatus({}, 1, rejected, nullptr, true, "t");
  EXPECT_EQ(Find(s, crds::kConditionDegraded).status, crds::kConditionTrue);
  EXPECT_EQ(Find(s, crds::kConditionDegraded).reason, kReasonInvalidConfig);

  const std::string why = "service \"app\" has no health check";
  s = ComposeRouteStatus({}, 1, Served(), &why, true, "t");
  EXPECT_EQ(Find(s, crds::kConditionReady).status, crds::kConditionTrue);
  EXPECT_EQ(Find(s, crds::kConditionDegraded).reason, kReasonHealthcheckMissing);
  EXPECT_EQ(Find(s, crds::kConditionDegraded).message, why);
}

TEST(StatusConditionsTest, UnchangedConditionsKeepTheirTransitionTime) {
  auto first = ComposeRouteStatus({}, 1, Served(), nullptr, true, "t1");
  auto second = ComposeRouteStatus(first, 1, Served(), nullptr, true, "t2");
  EXPECT_EQ(crds::EncodeStatus(first), crds::EncodeStatus(second));
}

TEST(StatusConditionsTest, ClusterNotFoundNamesTheClusterAndHowToFixIt) {
  auto s = ComposeClusterNotFoundStatus(ComposeRouteStatus({}, 1, Served(), nullptr, true, "t"), 2,
                                        "public", "t");
  EXPECT_EQ(s.observed_generation, 2);
  EXPECT_TRUE(s.endpoints.empty());
  EXPECT_EQ(Find(s, crds::kConditionReady).reason, kReasonClusterNotFound);
  EXPECT_EQ(Find(s, crds::kConditionReady).message,
            "ServiceCluster \"public\" not found; apply it or fix spec.serviceCluster");
}

TEST(StatusConditionsTest, ClusterReadyOnlyWhenConverged) {
  ProxyProgress p{2, 1, false, "proxies serve configuration generation 0 of 1"};
  auto s = ComposeClusterStatus({}, 1, p, "", "t");
  EXPECT_EQ(Find(s, crds::kConditionReady).status, crds::kConditionFalse);
  EXPECT_EQ(Find(s, crds::kConditionReady).message,
            "1/2 proxies running; proxies serve configuration generation 0 of 1");
  ASSERT_TRUE(s.proxy_replicas.has_value());
  EXPECT_EQ(s.proxy_replicas->running, 1);
  p = {2, 2, true, "proxies serve configuration generation 1 of 1"};
  s = ComposeClusterStatus(s, 1, p, "", "t");
  EXPECT_EQ(Find(s, crds::kConditionReady).status, crds::kConditionTrue);
  EXPECT_EQ(Find(s, crds::kConditionProgressing).status, crds::kConditionFalse);
  EXPECT_EQ(Find(s, crds::kConditionDegraded).status, crds::kConditionFalse);
}

TEST(StatusConditionsTest, AnUnavailableDefaultBackendDegradesTheCluster) {
  ProxyProgress p{2, 2, true, "proxies serve configuration generation 1 of 1"};
  auto s =
      ComposeClusterStatus({}, 1, p, "spec.defaultBackend: service \"fallback\" not found", "t");
  EXPECT_EQ(Find(s, crds::kConditionReady).status, crds::kConditionTrue);
  EXPECT_EQ(Find(s, crds::kConditionDegraded).status, crds::kConditionTrue);
  EXPECT_EQ(Find(s, crds::kConditionDegraded).reason, "DefaultBackendUnavailable");
  EXPECT_EQ(Find(s, crds::kConditionDegraded).message,
            "spec.defaultBackend: service \"fallback\" not found");
  s = ComposeClusterStatus(s, 1, p, "", "t");
  EXPECT_EQ(Find(s, crds::kConditionDegraded).status, crds::kConditionFalse);
}

}  // namespace
}  // namespace sg::reconcilers
