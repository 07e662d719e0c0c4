#include <gtest/gtest.h>

#include "crds/kind.h"
#include "crds/status.h"

namespace sg::crds {
namespace {

TEST(KindTest, NamesAndParsing) {
  EXPECT_STREQ(KindName(Kind::kServiceCluster), "ServiceCluster");
  EXPECT_STREQ(KindName(Kind::kRoute), "Route");
  EXPECT_STREQ(KindStorageName(Kind::kServiceCluster), "cluster");
  EXPECT_STREQ(KindStorageName(Kind::kRoute), "route");
  for (const char* s : {"servicecluster", "ServiceClusters", "SC", "ServiceCluster"}) {
    EXPECT_EQ(ParseKind(s), Kind::kServiceCluster) << s;
  }
  for (const char* s : {"route", "Routes", "ROUTE"}) EXPECT_EQ(ParseKind(s), Kind::kRoute) << s;
  EXPECT_FALSE(ParseKind("cluster"));
  EXPECT_FALSE(ParseKind(""));
}

TEST(StatusTest, RoundTrips) {
  ResourceStatus s;
  s.observed_generation = 7;
  s.conditions.push_back({"Ready", "False", "Conflict", "host a.com path / is claimed by \"x\"",
                          "2024-01-02T03:04:05Z"});
  s.endpoints = {"10.0.0.5:8080", "10.0.0.6:8080"};
  s.proxy_replicas = ProxyReplicas{2, 1};
  std::string json = EncodeStatus(s);
  EXPECT_EQ(json.find('\n'), std::string::npos);
  auto back = DecodeStatus(json);
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(*back, s);
}

TEST(StatusTest, MinimalEncoding) {
  ResourceStatus s;
  EXPECT_EQ(EncodeStatus(s), R"({"observedGeneration":0,"conditions":[]})");
  auto back = DecodeStatus("{}");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->observed_generation, 0);
}

TEST(StatusTest, RejectsMalformed) {
  EXPECT_FALSE(DecodeStatus("not json").ok());
  EXPECT_FALSE(DecodeStatus("[]").ok());
  EXPECT_FALSE(DecodeStatus(R"({"observedGeneration":"x"})").ok());
  EXPECT_FALSE(DecodeStatus(R"({"conditions":[{"type":1}]})").ok());
  EXPECT_FALSE(DecodeStatus(R"({"proxyReplicas":{"desired":1}})").ok());
}

TEST(StatusTest, SetConditionKeepsTransitionTimeWhileStatusHolds) {
  ResourceStatus s;
  EXPECT_TRUE(s.SetCondition({"Ready", "False", "Pending", "", ""}, "t1"));
  EXPECT_EQ(s.FindCondition("Ready")->last_transition_time, "t1");
  EXPECT_TRUE(s.SetCondition({"Ready", "False", "Conflict", "other", ""}, "t2"));
  EXPECT_EQ(s.FindCondition("Ready")->last_transition_time, "t1");
  EXPECT_EQ(s.FindCondition("Ready")->reason, "Conflict");
  EXPECT_FALSE(s.SetCondition({"Ready", "False", "Conflict", "other", ""}, "t3"));
  EXPECT_TRUE(s.SetCondition({"Ready", "True", "Ok", "", ""}, "t4"));
  EXPECT_EQ(s.FindCondition("Ready")->last_transition_time, "t4");
  EXPECT_EQ(s.conditions.size(), 1u);
  EXPECT_EQ(s.FindCondition("Degraded"), nullptr);
}

}  // namespace
}  // namespace sg::crds
