#include "reconcilers/route/route_reconciler.h"

#include <gtest/gtest.h>

#include <rapidjson/document.h>

#include <string>
#include <utility>
#include <vector>

#include "crds/loader.h"
#include "crds/status.h"
#include "operator/testing/fake_docker_client.h"
#include "reconcilers/model/model_builder.h"

namespace sg::reconcilers {
namespace {

std::string ClusterYaml(const std::string& name) {
  return "apiVersion: swarmgate.io/v1alpha1\n"
         "kind: ServiceCluster\n"
         "metadata: {name: " +
         name + "}\nspec: {}\n";
}

std::string RouteYaml(const std::string& cluster, const std::string& extra = "") {
  return "apiVersion: swarmgate.io/v1alpha1\n"
         "kind: Route\n"
         "metadata: {name: shop}\n"
         "spec:\n"
         "  serviceCluster: " +
         cluster +
         "\n"
         "  hosts: [shop.example.com]\n"
         "  backends: [{service: shop-v1, port: 8080}, {service: shop-v2, port: 8080}]\n" +
         extra;
}

class RouteReconcilerTest : public ::testing::Test {
 protected:
  void Apply(const std::string& yaml) {
    auto loaded = crds::LoadText(yaml, "test.yaml");
    std::string diags;
    for (const auto& d : loaded.diagnostics) diags += d.ToString() + "\n";
    ASSERT_TRUE(loaded.ok()) << diags;
    for (const auto& r : loaded.resources) {
      auto applied = store_.Apply(r.kind, r.name, r.canonical_json);
      ASSERT_TRUE(applied.ok()) << applied.error().ToString();
    }
  }

  runtime::ReconcileResult Pass(runtime::Trigger trigger = {}) {
    auto r = rec_.Reconcile("route/shop", trigger);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? *r : runtime::ReconcileResult{};
  }

  std::vector<std::string> EnqueuedClusters() const {
    std::vector<std::string> out;
    for (const auto& e : enqueued_) out.push_back(e.first);
    return out;
  }

  docker::FakeDockerClient docker_;
  store::ResourceStore store_{docker_};
  ClusterIndex index_;
  runtime::FakeClock clock_;
  std::vector<std::pair<std::string, runtime::Trigger>> enqueued_;
  RouteReconciler rec_{docker_, store_, index_, clock_,
                       [this](const std::string& cluster, const runtime::Trigger& t) {
                         enqueued_.emplace_back(cluster, t);
                       }};
};

TEST_F(RouteReconcilerTest, MissingClusterIsReportedOnTheRoute) {
  Apply(RouteYaml("nowhere"));
  Pass();
  EXPECT_TRUE(enqueued_.empty());
  auto stored = store_.Get(crds::Kind::kRoute, "shop");
  ASSERT_TRUE(stored.ok());
  auto status = crds::DecodeStatus(stored->status_json);
  ASSERT_TRUE(status.ok()) << stored->status_json;
  EXPECT_EQ(status->observed_generation, 1);
  EXPECT_TRUE(status->endpoints.empty());
  const auto* ready = status->FindCondition(crds::kConditionReady);
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ(ready->status, crds::kConditionFalse);
  EXPECT_EQ(ready->reason, kReasonClusterNotFound);
  EXPECT_NE(ready->message.find("\"nowhere\""), std::string::npos) << ready->message;

  // Reconciling again with nothing changed writes nothing.
  docker_.ResetCounters();
  Pass();
  EXPECT_EQ(docker_.WriteCount(), 0);
}

TEST_F(RouteReconcilerTest, ExistingClusterIsEnqueuedWithTheTrigger) {
  Apply(ClusterYaml("public"));
  Apply(RouteYaml("public"));
  const auto when = clock_.Now() - std::chrono::seconds(3);
  Pass({"route", when});
  ASSERT_EQ(enqueued_.size(), 1u);
  EXPECT_EQ(enqueued_[0].first, "public");
  EXPECT_EQ(enqueued_[0].second.name, "route");
  EXPECT_EQ(enqueued_[0].second.time, when);
  // Status is the cluster reconciler's job.
  EXPECT_TRUE(store_.Get(crds::Kind::kRoute, "shop")->status_json.empty());

  // Without a trigger (resync), the route counts as the trigger, now.
  enqueued_.clear();
  Pass();
  ASSERT_EQ(enqueued_.size(), 1u);
  EXPECT_EQ(enqueued_[0].second.name, "route");
  EXPECT_EQ(enqueued_[0].second.time, clock_.Now());
}

int64_t IntAt(const rapidjson::Value& v, std::initializer_list<const char*> path) {
  const rapidjson::Value* cur = &v;
  for (const char* p : path) {
    if (!cur->IsObject() || !cur->HasMember(p)) return -1;
    cur = &(*cur)[p];
  }
  return cur->IsInt64() ? cur->GetInt64() : -1;
}

std::string StringAt(const rapidjson::Value& v, std::initializer_list<const char*> path) {
  const rapidjson::Value* cur = &v;
  for (const char* p : path) {
    if (!cur->IsObject() || !cur->HasMember(p)) return "";
    cur = &(*cur)[p];
  }
  return cur->IsString() ? cur->GetString() : "";
}

TEST_F(RouteReconcilerTest, UpdatePolicyIsEnforcedOnBackendsOnce) {
  Apply(ClusterYaml("public"));
  Apply(RouteYaml("public",
                  "  updatePolicy: {order: start-first, delay: 5s, stopGracePeriod: 30s}\n"));
  auto v1 = docker_.CreateService(
      R"({"Name":"shop-v1","TaskTemplate":{"ContainerSpec":{"Image":"shop:1"}}})");
  ASSERT_TRUE(v1.ok());
  // shop-v2 does not exist: the cluster pass reports it; nothing fails here.
  docker_.ResetCounters();
  Pass();
  EXPECT_EQ(docker_.CallCount("UpdateService"), 1);
  EXPECT_EQ(enqueued_.size(), 1u);

  auto svc = docker_.InspectService("shop-v1");
  ASSERT_TRUE(svc.ok());
  rapidjson::Document d;
  d.Parse(svc->spec_json.c_str());
  ASSERT_FALSE(d.HasParseError());
  EXPECT_EQ(StringAt(d, {"UpdateConfig", "Order"}), "start-first");
  EXPECT_EQ(IntAt(d, {"UpdateConfig", "Delay"}), 5000000000LL);
  EXPECT_EQ(IntAt(d, {"TaskTemplate", "ContainerSpec", "StopGracePeriod"}), 30000000000LL);
  EXPECT_EQ(StringAt(d, {"TaskTemplate", "ContainerSpec", "Image"}), "shop:1");

  // Already enforced: not rewritten.
  docker_.ResetCounters();
  Pass();
  EXPECT_EQ(docker_.WriteCount(), 0);
  EXPECT_EQ(docker_.InspectService("shop-v1")->version, svc->version);
}

TEST_F(RouteReconcilerTest, RouteWithoutUpdatePolicyLeavesBackendsAlone) {
  Apply(ClusterYaml("public"));
  Apply(RouteYaml("public"));
  ASSERT_TRUE(docker_
                  .CreateService(
                      R"({"Name":"shop-v1","TaskTemplate":{"ContainerSpec":{"Image":"shop:1"}}})")
                  .ok());
  docker_.ResetCounters();
  Pass();
  EXPECT_EQ(docker_.WriteCount(), 0);
  EXPECT_EQ(EnqueuedClusters(), std::vector<std::string>{"public"});
}

TEST_F(RouteReconcilerTest, DeletedRouteEnqueuesTheClustersThatServedIt) {
  index_.Set("a", {"shop-v1"}, {"shop", "other"});
  index_.Set("b", {}, {"shop"});
  index_.Set("c", {"shop-v1"}, {"other"});
  Pass({"route", clock_.Now()});
  EXPECT_EQ(EnqueuedClusters(), (std::vector<std::string>{"a", "b"}));
}

TEST_F(RouteReconcilerTest, RouteMovedToAnotherClusterLeavesTheOldOne) {
  Apply(ClusterYaml("public"));
  Apply(RouteYaml("public"));
  index_.Set("old", {}, {"shop"});
  index_.Set("public", {}, {"shop"});
  Pass();
  EXPECT_EQ(EnqueuedClusters(), (std::vector<std::string>{"old", "public"}));
}

}  // namespace
}  // namespace sg::reconcilers
