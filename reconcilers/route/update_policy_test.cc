#include "reconcilers/route/update_policy.h"

#include <gtest/gtest.h>

#include <rapidjson/document.h>

#include <string>
#include <vector>

namespace sg::reconcilers {
namespace {

crds::RouteUpdatePolicy Policy(std::optional<crds::UpdateOrder> order,
                               std::optional<std::string> delay,
                               std::optional<std::string> stop_grace) {
  crds::RouteUpdatePolicy p;
  p.order = order;
  if (delay) p.delay = crds::Duration::Parse(*delay);
  if (stop_grace) p.stop_grace_period = crds::Duration::Parse(*stop_grace);
  return p;
}

rapidjson::Document Parse(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str(), json.size());
  EXPECT_FALSE(d.HasParseError()) << json;
  return d;
}

const rapidjson::Value* At(const rapidjson::Value& v, std::initializer_list<const char*> path) {
  const rapidjson::Value* cur = &v;
  for (const char* p : path) {
    if (!cur->IsObject() || !cur->HasMember(p)) return nullptr;
    cur = &(*cur)[p];
  }
  return cur;
}

const char* kService =
    R"({"Name":"shop","Labels":{"a":"b"},)"
    R"("TaskTemplate":{"ContainerSpec":{"Image":"shop:1","StopGracePeriod":10000000000}},)"
    R"("UpdateConfig":{"Parallelism":1,"Order":"stop-first","Delay":0}})";

TEST(UpdatePolicy, DifferentFieldsAreSet) {
  struct Case {
    std::string label;
    crds::RouteUpdatePolicy policy;
    std::string order;  // expected afterwards
    int64_t delay;
    int64_t stop_grace;
  };
  const std::vector<Case> cases = {
      {"order", Policy(crds::UpdateOrder::kStartFirst, {}, {}), "start-first", 0, 10000000000LL},
      {"delay", Policy({}, "5s", {}), "stop-first", 5000000000LL, 10000000000LL},
      {"stop grace", Policy({}, {}, "30s"), "stop-first", 0, 30000000000LL},
      {"all", Policy(crds::UpdateOrder::kStartFirst, "250ms", "1m"), "start-first", 250000000LL,
       60000000000LL},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.label);
    std::string spec = kService;
    EXPECT_TRUE(ApplyUpdatePolicy(c.policy, &spec));
    auto d = Parse(spec);
    EXPECT_EQ(std::string(At(d, {"UpdateConfig", "Order"})->GetString()), c.order);
    EXPECT_EQ(At(d, {"UpdateConfig", "Delay"})->GetInt64(), c.delay);
    EXPECT_EQ(At(d, {"TaskTemplate", "ContainerSpec", "StopGracePeriod"})->GetInt64(),
              c.stop_grace);
    // Everything else is kept.
    EXPECT_EQ(At(d, {"UpdateConfig", "Parallelism"})->GetInt(), 1);
    EXPECT_STREQ(At(d, {"TaskTemplate", "ContainerSpec", "Image"})->GetString(), "shop:1");
    EXPECT_STREQ(At(d, {"Labels", "a"})->GetString(), "b");
    // Applying it again changes nothing.
    std::string again = spec;
    EXPECT_FALSE(ApplyUpdatePolicy(c.policy, &again));
    EXPECT_EQ(again, spec);
  }
}

TEST(UpdatePolicy, NoChangeLeavesTheJsonAlone) {
  struct Case {
    std::string label;
    crds::RouteUpdatePolicy policy;
  };
  const std::vector<Case> cases = {
      {"empty policy", Policy({}, {}, {})},
      {"same values", Policy(crds::UpdateOrder::kStopFirst, "0s", "10s")},
      {"same order", Policy(crds::UpdateOrder::kStopFirst, {}, {})},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.label);
    std::string spec = kService;
    EXPECT_FALSE(ApplyUpdatePolicy(c.policy, &spec));
    EXPECT_EQ(spec, kService);
  }
}

TEST(UpdatePolicy, DockerDefaultsCountAsSet) {
  // Docker omits stop-first and zero values.
  const std::string bare = R"({"Name":"shop","TaskTemplate":{"ContainerSpec":{"Image":"x"}}})";
  std::string spec = bare;
  EXPECT_FALSE(ApplyUpdatePolicy(Policy(crds::UpdateOrder::kStopFirst, "0s", {}), &spec));
  EXPECT_EQ(spec, bare);
}

TEST(UpdatePolicy, UnsetFieldsAreUntouched) {
  std::string spec = kService;
  ASSERT_TRUE(ApplyUpdatePolicy(Policy({}, {}, "20s"), &spec));
  auto d = Parse(spec);
  EXPECT_STREQ(At(d, {"UpdateConfig", "Order"})->GetString(), "stop-first");
  EXPECT_EQ(At(d, {"UpdateConfig", "Delay"})->GetInt64(), 0);
  EXPECT_EQ(At(d, {"TaskTemplate", "ContainerSpec", "StopGracePeriod"})->GetInt64(), 20000000000LL);
}

TEST(UpdatePolicy, AbsentUpdateConfigIsCreated) {
  std::string spec = R"({"Name":"shop","TaskTemplate":{"ContainerSpec":{"Image":"x"}}})";
  ASSERT_TRUE(ApplyUpdatePolicy(Policy(crds::UpdateOrder::kStartFirst, "2s", {}), &spec));
  auto d = Parse(spec);
  const auto* update = At(d, {"UpdateConfig"});
  ASSERT_NE(update, nullptr);
  ASSERT_TRUE(update->IsObject());
  EXPECT_STREQ((*update)["Order"].GetString(), "start-first");
  EXPECT_EQ((*update)["Delay"].GetInt64(), 2000000000LL);
  EXPECT_EQ(At(d, {"TaskTemplate", "ContainerSpec", "StopGracePeriod"}), nullptr);
}

TEST(UpdatePolicy, InvalidJsonIsLeftAlone) {
  std::string spec = "not json";
  EXPECT_FALSE(ApplyUpdatePolicy(Policy(crds::UpdateOrder::kStartFirst, {}, {}), &spec));
  EXPECT_EQ(spec, "not json");
}

}  // namespace
}  // namespace sg::reconcilers
