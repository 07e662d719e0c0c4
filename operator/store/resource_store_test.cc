// ResourceStore against the in-memory FakeDockerClient: config names and
// labels, generations, dry runs, leftovers, deletion, status writes with
// compare-and-swap, the data size limit and concurrent applies.
#include "operator/store/resource_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "operator/testing/docker_test_util.h"
#include "operator/testing/fake_docker_client.h"

namespace sg::store {
namespace {

using crds::Kind;
using docker::Config;
using docker::FakeDockerClient;

std::string RouteJson(const std::string& name, int port = 8080) {
  return R"({"apiVersion":"swarmgate.io/v1alpha1","kind":"Route","metadata":{"name":")" + name +
         R"("},"spec":{"backends":[{"port":)" + std::to_string(port) +
         R"(,"service":"app"}],"hosts":["a.example.com"],"serviceCluster":"public"}})";
}

std::string ClusterJson(const std::string& name, int replicas = 1) {
  return R"({"apiVersion":"swarmgate.io/v1alpha1","kind":"ServiceCluster","metadata":{"name":")" +
         name + R"("},"spec":{"proxy":{"replicas":)" + std::to_string(replicas) + "}}}";
}

std::string Label(const Config& c, const char* key) {
  auto it = c.spec.labels.find(key);
  return it == c.spec.labels.end() ? "<absent>" : it->second;
}

// Every config in the fake, sorted by name.
std::vector<Config> AllConfigs(FakeDockerClient& fake) {
  auto all = fake.ListConfigs({});
  EXPECT_TRUE(all.ok()) << all.error().ToString();
  if (!all.ok()) return {};
  std::vector<Config> out = *all;
  std::sort(out.begin(), out.end(),
            [](const Config& a, const Config& b) { return a.spec.name < b.spec.name; });
  return out;
}

// "name{gen=..}" for every config, for failure messages.
std::string Dump(FakeDockerClient& fake) {
  std::string out;
  for (const auto& c : AllConfigs(fake)) {
    out += c.spec.name + " (generation label " + Label(c, kLabelGeneration) + ", data " +
           std::to_string(c.spec.data.size()) + " bytes); ";
  }
  return out.empty() ? "<no configs>" : out;
}

std::vector<std::string> ConfigNames(FakeDockerClient& fake) {
  std::vector<std::string> names;
  for (const auto& c : AllConfigs(fake)) names.push_back(c.spec.name);
  return names;
}

// Creates a config as an apply of `generation` would have, bypassing the store.
void PutGeneration(FakeDockerClient& fake, Kind kind, const std::string& name, int64_t generation,
                   const std::string& data) {
  docker::ConfigSpec spec;
  spec.name = ConfigName(kind, name, generation);
  spec.data = data;
  spec.labels = {{kLabelKind, crds::KindStorageName(kind)},
                 {kLabelName, name},
                 {kLabelGeneration, std::to_string(generation)}};
  auto id = fake.CreateConfig(spec);
  ASSERT_TRUE(id.ok()) << id.error().ToString();
}

class ResourceStoreTest : public ::testing::Test {
 protected:
  FakeDockerClient fake_;
  ResourceStore store_{fake_};
};

TEST_F(ResourceStoreTest, ConfigNameFormat) {
  EXPECT_EQ(ConfigName(Kind::kRoute, "web", 1), "sg.route.web.1");
  EXPECT_EQ(ConfigName(Kind::kServiceCluster, "public", 12), "sg.cluster.public.12");
  EXPECT_STREQ(ApplyOutcomeName(ApplyOutcome::kCreated), "created");
  EXPECT_STREQ(ApplyOutcomeName(ApplyOutcome::kConfigured), "configured");
  EXPECT_STREQ(ApplyOutcomeName(ApplyOutcome::kUnchanged), "unchanged");
}

TEST_F(ResourceStoreTest, ApplyCreatesGenerationOneWithNameAndLabels) {
  auto r = store_.Apply(Kind::kRoute, "web", RouteJson("web"));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->outcome, ApplyOutcome::kCreated);
  EXPECT_EQ(r->generation, 1);

  auto configs = AllConfigs(fake_);
  ASSERT_EQ(configs.size(), 1u) << Dump(fake_);
  const Config& c = configs[0];
  EXPECT_EQ(c.spec.name, "sg.route.web.1");
  EXPECT_EQ(c.spec.data, RouteJson("web"));
  EXPECT_EQ(Label(c, kLabelKind), "route");
  EXPECT_EQ(Label(c, kLabelName), "web");
  EXPECT_EQ(Label(c, kLabelGeneration), "1");
  EXPECT_EQ(Label(c, kLabelStatus), "<absent>");

  auto cl = store_.Apply(Kind::kServiceCluster, "public", ClusterJson("public"));
  ASSERT_TRUE(cl.ok()) << cl.error().ToString();
  EXPECT_EQ(cl->outcome, ApplyOutcome::kCreated);
  auto stored = fake_.InspectConfig("sg.cluster.public.1");
  ASSERT_TRUE(stored.ok()) << Dump(fake_);
  EXPECT_EQ(Label(*stored, kLabelKind), "cluster");
  EXPECT_EQ(Label(*stored, kLabelName), "public");
  EXPECT_EQ(Label(*stored, kLabelGeneration), "1");
}

TEST_F(ResourceStoreTest, ApplyUnchangedWritesNothing) {
  ASSERT_TRUE(store_.Apply(Kind::kRoute, "web", RouteJson("web")).ok());
  fake_.ResetCounters();
  uint64_t index = fake_.CurrentIndex();

  auto r = store_.Apply(Kind::kRoute, "web", RouteJson("web"));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->outcome, ApplyOutcome::kUnchanged);
  EXPECT_EQ(r->generation, 1);
  EXPECT_EQ(fake_.WriteCount(), 0) << ::testing::PrintToString(fake_.CallLog());
  EXPECT_EQ(fake_.CurrentIndex(), index);
  EXPECT_EQ(ConfigNames(fake_), std::vector<std::string>{"sg.route.web.1"});
}

TEST_F(ResourceStoreTest, StatusLabelDoesNotMakeAnApplyAChange) {
  ASSERT_TRUE(store_.Apply(Kind::kRoute, "web", RouteJson("web")).ok());
  ASSERT_TRUE(store_.WriteStatus(Kind::kRoute, "web", 1, R"({"observedGeneration":1})").ok());
  fake_.ResetCounters();
  auto r = store_.Apply(Kind::kRoute, "web", RouteJson("web"));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->outcome, ApplyOutcome::kUnchanged);
  EXPECT_EQ(fake_.WriteCount(), 0) << ::testing::PrintToString(fake_.CallLog());
}

TEST_F(ResourceStoreTest, ApplyChangedCreatesNextGenerationThenRemovesTheOld) {
  ASSERT_TRUE(store_.Apply(Kind::kRoute, "web", RouteJson("web", 80)).ok());
  auto first = store_.Get(Kind::kRoute, "web");
  ASSERT_TRUE(first.ok());
  fake_.ResetCounters();

  auto r = store_.Apply(Kind::kRoute, "web", RouteJson("web", 81));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->outcome, ApplyOutcome::kConfigured);
  EXPECT_EQ(r->generation, 2);

  // Create before remove: a crash in between leaves garbage, never nothing.
  std::vector<std::string> writes;
  for (const auto& call : fake_.CallLog()) {
    if (call.rfind("Create", 0) == 0 || call.rfind("Remove", 0) == 0) writes.push_back(call);
  }
  EXPECT_EQ(writes, (std::vector<std::string>{"CreateConfig", "RemoveConfig"}));

  auto configs = AllConfigs(fake_);
  ASSERT_EQ(configs.size(), 1u) << Dump(fake_);
  EXPECT_EQ(configs[0].spec.name, "sg.route.web.2");
  EXPECT_EQ(configs[0].spec.data, RouteJson("web", 81));
  EXPECT_EQ(Label(configs[0], kLabelGeneration), "2");

  // AGE survives the change: generation 2 carries generation 1's creation time.
  auto second = store_.Get(Kind::kRoute, "web");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->generation, 2);
  EXPECT_EQ(second->created_at, first->created_at);
  EXPECT_NE(second->updated_at, first->updated_at);
  EXPECT_EQ(Label(configs[0], kLabelCreated), first->created_at);

  auto third = store_.Apply(Kind::kRoute, "web", RouteJson("web", 82));
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->generation, 3);
  EXPECT_EQ(ConfigNames(fake_), std::vector<std::string>{"sg.route.web.3"});
}

TEST_F(ResourceStoreTest, DryRunWritesNothingButReportsTheOutcome) {
  auto created = store_.Apply(Kind::kRoute, "web", RouteJson("web"), /*dry_run=*/true);
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  EXPECT_EQ(created->outcome, ApplyOutcome::kCreated);
  EXPECT_EQ(created->generation, 1);
  EXPECT_EQ(fake_.WriteCount(), 0);
  EXPECT_TRUE(AllConfigs(fake_).empty()) << Dump(fake_);

  ASSERT_TRUE(store_.Apply(Kind::kRoute, "web", RouteJson("web")).ok());
  fake_.ResetCounters();
  auto configured = store_.Apply(Kind::kRoute, "web", RouteJson("web", 9090), true);
  ASSERT_TRUE(configured.ok());
  EXPECT_EQ(configured->outcome, ApplyOutcome::kConfigured);
  EXPECT_EQ(configured->generation, 2);
  auto unchanged = store_.Apply(Kind::kRoute, "web", RouteJson("web"), true);
  ASSERT_TRUE(unchanged.ok());
  EXPECT_EQ(unchanged->outcome, ApplyOutcome::kUnchanged);
  EXPECT_EQ(unchanged->generation, 1);
  EXPECT_EQ(fake_.WriteCount(), 0) << ::testing::PrintToString(fake_.CallLog());
  EXPECT_EQ(ConfigNames(fake_), std::vector<std::string>{"sg.route.web.1"});
}

TEST_F(ResourceStoreTest, DryRunLeavesLeftoversAlone) {
  PutGeneration(fake_, Kind::kRoute, "web", 1, RouteJson("web", 1));
  PutGeneration(fake_, Kind::kRoute, "web", 2, RouteJson("web", 2));
  fake_.ResetCounters();
  auto r = store_.Apply(Kind::kRoute, "web", RouteJson("web", 2), true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcome, ApplyOutcome::kUnchanged);
  EXPECT_EQ(fake_.WriteCount(), 0);
  EXPECT_EQ(AllConfigs(fake_).size(), 2u) << Dump(fake_);
}

TEST_F(ResourceStoreTest, LeftoverOlderGenerationIsRemovedByTheNextApply) {
  ASSERT_TRUE(store_.Apply(Kind::kRoute, "web", RouteJson("web", 1)).ok());
  // The removal of generation 1 fails (as if the apply was interrupted).
  fake_.FailNext("RemoveConfig", Unavailable("connection reset"));
  auto r = store_.Apply(Kind::kRoute, "web", RouteJson("web", 2));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->outcome, ApplyOutcome::kConfigured);
  ASSERT_EQ(ConfigNames(fake_), (std::vector<std::string>{"sg.route.web.1", "sg.route.web.2"}));

  // Readers see the highest generation only.
  auto got = store_.Get(Kind::kRoute, "web");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->generation, 2);
  EXPECT_EQ(got->data, RouteJson("web", 2));
  auto listed = store_.List(Kind::kRoute);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].generation, 2);

  // An unchanged apply cleans up without creating anything.
  fake_.ResetCounters();
  auto again = store_.Apply(Kind::kRoute, "web", RouteJson("web", 2));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->outcome, ApplyOutcome::kUnchanged);
  EXPECT_EQ(fake_.CallCount("CreateConfig"), 0);
  EXPECT_EQ(ConfigNames(fake_), std::vector<std::string>{"sg.route.web.2"});
}

TEST_F(ResourceStoreTest, ChangedApplyRemovesEveryOlderGeneration) {
  PutGeneration(fake_, Kind::kRoute, "web", 1, RouteJson("web", 1));
  PutGeneration(fake_, Kind::kRoute, "web", 2, RouteJson("web", 2));
  auto r = store_.Apply(Kind::kRoute, "web", RouteJson("web", 3));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->outcome, ApplyOutcome::kConfigured);
  EXPECT_EQ(r->generation, 3);
  EXPECT_EQ(ConfigNames(fake_), std::vector<std::string>{"sg.route.web.3"});
}

TEST_F(ResourceStoreTest, GetAndListPickTheHighestGenerationNumerically) {
  PutGeneration(fake_, Kind::kRoute, "web", 2, RouteJson("web", 2));
  PutGeneration(fake_, Kind::kRoute, "web", 10, RouteJson("web", 10));
  PutGeneration(fake_, Kind::kRoute, "web", 9, RouteJson("web", 9));
  PutGeneration(fake_, Kind::kRoute, "api", 1, RouteJson("api"));
  PutGeneration(fake_, Kind::kServiceCluster, "web", 3, ClusterJson("web", 3));

  auto got = store_.Get(Kind::kRoute, "web");
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(got->generation, 10);
  EXPECT_EQ(got->data, RouteJson("web", 10));
  EXPECT_EQ(got->kind, Kind::kRoute);
  EXPECT_EQ(got->name, "web");
  EXPECT_FALSE(got->config_id.empty());
  EXPECT_GT(got->version, 0u);
  EXPECT_FALSE(got->created_at.empty());

  auto cluster = store_.Get(Kind::kServiceCluster, "web");
  ASSERT_TRUE(cluster.ok());
  EXPECT_EQ(cluster->generation, 3);
  EXPECT_EQ(cluster->data, ClusterJson("web", 3));

  auto routes = store_.List(Kind::kRoute);
  ASSERT_TRUE(routes.ok()) << routes.error().ToString();
  ASSERT_EQ(routes->size(), 2u);
  EXPECT_EQ((*routes)[0].name, "api");
  EXPECT_EQ((*routes)[0].generation, 1);
  EXPECT_EQ((*routes)[1].name, "web");
  EXPECT_EQ((*routes)[1].generation, 10);
  EXPECT_EQ((*routes)[1].data, RouteJson("web", 10));

  auto clusters = store_.List(Kind::kServiceCluster);
  ASSERT_TRUE(clusters.ok());
  ASSERT_EQ(clusters->size(), 1u);
  EXPECT_EQ((*clusters)[0].kind, Kind::kServiceCluster);

  auto all = store_.List(std::nullopt);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
}

TEST_F(ResourceStoreTest, ForeignAndMalformedConfigsAreIgnored) {
  ASSERT_TRUE(fake_.CreateConfig({"unrelated", {{"app", "x"}}, "data"}).ok());
  // Our labels, but the name does not match them.
  ASSERT_TRUE(
      fake_
          .CreateConfig({"sg.route.other.7",
                         {{kLabelKind, "route"}, {kLabelName, "web"}, {kLabelGeneration, "7"}},
                         "x"})
          .ok());
  // A generation that is not a positive integer.
  ASSERT_TRUE(
      fake_
          .CreateConfig({"sg.route.web.x",
                         {{kLabelKind, "route"}, {kLabelName, "web"}, {kLabelGeneration, "x"}},
                         "x"})
          .ok());
  EXPECT_TRUE(store_.Get(Kind::kRoute, "web").error().Is(ErrorCode::kNotFound));
  auto all = store_.List(std::nullopt);
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());

  // Apply and delete never touch them.
  ASSERT_TRUE(store_.Apply(Kind::kRoute, "web", RouteJson("web")).ok());
  ASSERT_TRUE(store_.Delete(Kind::kRoute, "web").ok());
  EXPECT_EQ(ConfigNames(fake_),
            (std::vector<std::string>{"sg.route.other.7", "sg.route.web.x", "unrelated"}));
}

TEST_F(ResourceStoreTest, GetMissingIsNotFound) {
  auto got = store_.Get(Kind::kRoute, "nope");
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(got.error().Is(ErrorCode::kNotFound)) << got.error().ToString();
  EXPECT_NE(got.error().message.find("route/nope"), std::string::npos) << got.error().message;
  auto listed = store_.List(Kind::kRoute);
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
}

TEST_F(ResourceStoreTest, DeleteRemovesEveryGenerationAndOnlyThatResource) {
  PutGeneration(fake_, Kind::kRoute, "web", 1, RouteJson("web", 1));
  PutGeneration(fake_, Kind::kRoute, "web", 2, RouteJson("web", 2));
  PutGeneration(fake_, Kind::kRoute, "web2", 1, RouteJson("web2"));
  PutGeneration(fake_, Kind::kServiceCluster, "web", 1, ClusterJson("web"));

  Status st = store_.Delete(Kind::kRoute, "web");
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  EXPECT_EQ(ConfigNames(fake_), (std::vector<std::string>{"sg.cluster.web.1", "sg.route.web2.1"}));
  EXPECT_TRUE(store_.Get(Kind::kRoute, "web").error().Is(ErrorCode::kNotFound));

  Status again = store_.Delete(Kind::kRoute, "web");
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(again.error().Is(ErrorCode::kNotFound)) << again.error().ToString();
  Status missing = store_.Delete(Kind::kServiceCluster, "missing");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.error().Is(ErrorCode::kNotFound));
}

TEST_F(ResourceStoreTest, DeleteReportsRemovalErrors) {
  ASSERT_TRUE(store_.Apply(Kind::kRoute, "web", RouteJson("web")).ok());
  fake_.FailNext("RemoveConfig", Unavailable("engine went away"));
  Status st = store_.Delete(Kind::kRoute, "web");
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.error().Is(ErrorCode::kUnavailable)) << st.error().ToString();
  EXPECT_TRUE(store_.Delete(Kind::kRoute, "web").ok());
  EXPECT_TRUE(AllConfigs(fake_).empty()) << Dump(fake_);
}

TEST_F(ResourceStoreTest, ReadErrorsPropagate) {
  fake_.FailNext("ListConfigs", Unavailable("connection refused"), 4);
  EXPECT_TRUE(
      store_.Apply(Kind::kRoute, "web", RouteJson("web")).error().Is(ErrorCode::kUnavailable));
  EXPECT_TRUE(store_.Get(Kind::kRoute, "web").error().Is(ErrorCode::kUnavailable));
  EXPECT_TRUE(store_.List(std::nullopt).error().Is(ErrorCode::kUnavailable));
  EXPECT_TRUE(store_.Delete(Kind::kRoute, "web").error().Is(ErrorCode::kUnavailable));
  EXPECT_EQ(fake_.WriteCount(), 0);
}

TEST_F(ResourceStoreTest, DataSizeLimit) {
  std::string too_big(1024000, 'x');
  fake_.ResetCounters();
  auto r = store_.Apply(Kind::kRoute, "big", too_big);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().Is(ErrorCode::kInvalidArgument)) << r.error().ToString();
  EXPECT_NE(r.error().message.find("1024000"), std::string::npos) << r.error().message;
  auto dry = store_.Apply(Kind::kRoute, "big", too_big, true);
  ASSERT_FALSE(dry.ok());
  EXPECT_TRUE(dry.error().Is(ErrorCode::kInvalidArgument));
  auto empty = store_.Apply(Kind::kRoute, "big", "");
  ASSERT_FALSE(empty.ok());
  EXPECT_TRUE(empty.error().Is(ErrorCode::kInvalidArgument));
  EXPECT_EQ(fake_.WriteCount(), 0);

  std::string largest(1024000 - 1, 'x');
  auto ok = store_.Apply(Kind::kRoute, "big", largest);
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  EXPECT_EQ(ok->outcome, ApplyOutcome::kCreated);
  auto got = store_.Get(Kind::kRoute, "big");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->data.size(), largest.size());
}

// ---- status

TEST_F(ResourceStoreTest, WriteStatusSetsTheLabelOfTheGeneration) {
  ASSERT_TRUE(store_.Apply(Kind::kRoute, "web", RouteJson("web")).ok());
  const std::string status = R"({"conditions":[],"observedGeneration":1})";
  Status st = store_.WriteStatus(Kind::kRoute, "web", 1, status);
  ASSERT_TRUE(st.ok()) << st.error().ToString();

  auto c = fake_.InspectConfig("sg.route.web.1");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(Label(*c, kLabelStatus), status);
  // The other labels and the data are kept.
  EXPECT_EQ(Label(*c, kLabelKind), "route");
  EXPECT_EQ(Label(*c, kLabelName), "web");
  EXPECT_EQ(Label(*c, kLabelGeneration), "1");
  EXPECT_EQ(c->spec.data, RouteJson("web"));

  auto got = store_.Get(Kind::kRoute, "web");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status_json, status);
}

TEST_F(ResourceStoreTest, WriteStatusUnchangedIsANoOp) {
  ASSERT_TRUE(store_.Apply(Kind::kRoute, "web", RouteJson("web")).ok());
  ASSERT_TRUE(store_.WriteStatus(Kind::kRoute, "web", 1, R"({"a":1})").ok());
  fake_.ResetCounters();
  uint64_t index = fake_.CurrentIndex();
  ASSERT_TRUE(store_.WriteStatus(Kind::kRoute, "web", 1, R"({"a":1})").ok());
  EXPECT_EQ(fake_.WriteCount(), 0) << ::testing::PrintToString(fake_.CallLog());
  EXPECT_EQ(fake_.CurrentIndex(), index);
}

TEST_F(ResourceStoreTest, WriteStatusRetriesAfterAConcurrentLabelUpdate) {
  ASSERT_TRUE(store_.Apply(Kind::kRoute, "web", RouteJson("web")).ok());
  testing::ConcurrentLabelWriter racing(fake_);
  ResourceStore store(racing);
  fake_.ResetCounters();

  Status st = store.WriteStatus(Kind::kRoute, "web", 1, R"({"ready":true})");
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  // The racing write, the store's stale write (refused) and its retry.
  EXPECT_EQ(fake_.CallCount("UpdateConfig"), 3) << ::testing::PrintToString(fake_.CallLog());
  EXPECT_EQ(racing.interference, 0);
  EXPECT_EQ(racing.update_calls, 2);

  auto c = fake_.InspectConfig("sg.route.web.1");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(Label(*c, kLabelStatus), R"({"ready":true})");
  // The retry re-read the config: the other writer's label survives.
  EXPECT_EQ(Label(*c, "example.com/touched-by"), "w1");
}

TEST_F(ResourceStoreTest, WriteStatusRetriesOnOutOfSequence) {
  ASSERT_TRUE(store_.Apply(Kind::kRoute, "web", RouteJson("web")).ok());
  fake_.FailNext("UpdateConfig",
                 Conflict("rpc error: code = Unknown desc = update out of sequence"), 2);
  Status st = store_.WriteStatus(Kind::kRoute, "web", 1, R"({"ready":true})");
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  EXPECT_EQ(fake_.CallCount("UpdateConfig"), 3);
  auto c = fake_.InspectConfig("sg.route.web.1");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(Label(*c, kLabelStatus), R"({"ready":true})");
}

TEST_F(ResourceStoreTest, WriteStatusGivesUpAfterBoundedRetries) {
  ASSERT_TRUE(store_.Apply(Kind::kRoute, "web", RouteJson("web")).ok());
  testing::ConcurrentLabelWriter racing(fake_);
  racing.interference = 1000;
  ResourceStore store(racing);
  Status st = store.WriteStatus(Kind::kRoute, "web", 1, R"({"ready":true})");
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.error().Is(ErrorCode::kConflict)) << st.error().ToString();
  EXPECT_GT(racing.interference, 900) << "retries must be bounded";
  auto c = fake_.InspectConfig("sg.route.web.1");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(Label(*c, kLabelStatus), "<absent>");
}

TEST_F(ResourceStoreTest, WriteStatusOfASupersededGenerationIsAConflict) {
  ASSERT_TRUE(store_.Apply(Kind::kRoute, "web", RouteJson("web", 1)).ok());
  ASSERT_TRUE(store_.Apply(Kind::kRoute, "web", RouteJson("web", 2)).ok());
  fake_.ResetCounters();
  Status st = store_.WriteStatus(Kind::kRoute, "web", 1, R"({"observedGeneration":1})");
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.error().Is(ErrorCode::kConflict)) << st.error().ToString();
  EXPECT_NE(st.error().message.find("generation 2"), std::string::npos) << st.error().message;
  EXPECT_EQ(fake_.WriteCount(), 0);

  // The current generation still takes its status.
  ASSERT_TRUE(store_.WriteStatus(Kind::kRoute, "web", 2, R"({"observedGeneration":2})").ok());
}

// Between an apply's create of generation N+1 and its removal of N, both
// configs exist: a status for N is still stale and must not be written.
TEST_F(ResourceStoreTest, WriteStatusOfASupersededLeftoverIsAConflict) {
  PutGeneration(fake_, Kind::kRoute, "web", 1, RouteJson("web", 1));
  PutGeneration(fake_, Kind::kRoute, "web", 2, RouteJson("web", 2));
  fake_.ResetCounters();
  Status st = store_.WriteStatus(Kind::kRoute, "web", 1, R"({"observedGeneration":1})");
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.error().Is(ErrorCode::kConflict)) << st.error().ToString();
  EXPECT_EQ(fake_.WriteCount(), 0) << ::testing::PrintToString(fake_.CallLog());
  auto old = fake_.InspectConfig("sg.route.web.1");
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(Label(*old, kLabelStatus), "<absent>");
  ASSERT_TRUE(store_.WriteStatus(Kind::kRoute, "web", 2, R"({"observedGeneration":2})").ok());
}

TEST_F(ResourceStoreTest, WriteStatusOfADeletedResourceIsNotFound) {
  ASSERT_TRUE(store_.Apply(Kind::kRoute, "web", RouteJson("web")).ok());
  ASSERT_TRUE(store_.Delete(Kind::kRoute, "web").ok());
  Status st = store_.WriteStatus(Kind::kRoute, "web", 1, "{}");
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.error().Is(ErrorCode::kNotFound)) << st.error().ToString();
  Status never = store_.WriteStatus(Kind::kServiceCluster, "never", 1, "{}");
  ASSERT_FALSE(never.ok());
  EXPECT_TRUE(never.error().Is(ErrorCode::kNotFound)) << never.error().ToString();
}

// ---- concurrent applies

// Returns, once, the config list captured before another writer moved on.
class StaleListClient : public testing::ForwardingDockerClient {
 public:
  using ForwardingDockerClient::ForwardingDockerClient;
  std::optional<std::vector<Config>> stale;

  Result<std::vector<Config>> ListConfigs(const docker::Filters& f) override {
    if (stale) {
      auto out = std::move(*stale);
      stale.reset();
      return out;
    }
    return inner_.ListConfigs(f);
  }
};

TEST_F(ResourceStoreTest, ApplyFromAStaleReadIsAConflict) {
  ASSERT_TRUE(store_.Apply(Kind::kRoute, "web", RouteJson("web", 1)).ok());
  StaleListClient stale_client(fake_);
  ResourceStore a(stale_client);
  ResourceStore b(fake_);

  // A reads generation 1 ...
  auto snapshot = fake_.ListConfigs({{"label", {std::string(kLabelName) + "=web"}}});
  ASSERT_TRUE(snapshot.ok());
  stale_client.stale = *snapshot;
  // ... B applies generation 2 ...
  auto won = b.Apply(Kind::kRoute, "web", RouteJson("web", 2));
  ASSERT_TRUE(won.ok()) << won.error().ToString();
  EXPECT_EQ(won->outcome, ApplyOutcome::kConfigured);
  EXPECT_EQ(won->generation, 2);
  // ... and A's create of generation 2 loses.
  fake_.ResetCounters();
  auto lost = a.Apply(Kind::kRoute, "web", RouteJson("web", 3));
  ASSERT_FALSE(lost.ok()) << "outcome " << ApplyOutcomeName(lost->outcome) << "; " << Dump(fake_);
  EXPECT_TRUE(lost.error().Is(ErrorCode::kConflict)) << lost.error().ToString();
  EXPECT_NE(lost.error().message.find("generation 2"), std::string::npos) << lost.error().message;
  // The loser removed nothing: B's generation is intact.
  EXPECT_EQ(fake_.CallCount("RemoveConfig"), 0) << ::testing::PrintToString(fake_.CallLog());
  auto configs = AllConfigs(fake_);
  ASSERT_EQ(configs.size(), 1u) << Dump(fake_);
  EXPECT_EQ(configs[0].spec.name, "sg.route.web.2");
  EXPECT_EQ(configs[0].spec.data, RouteJson("web", 2));

  // Re-reading and applying again succeeds on top of B's change.
  auto retry = a.Apply(Kind::kRoute, "web", RouteJson("web", 3));
  ASSERT_TRUE(retry.ok()) << retry.error().ToString();
  EXPECT_EQ(retry->generation, 3);
  EXPECT_EQ(ConfigNames(fake_), std::vector<std::string>{"sg.route.web.3"});
}

TEST(ResourceStoreRaceTest, ConcurrentAppliesOfTheSameGenerationHaveOneWinner) {
  for (int iteration = 0; iteration < 50; ++iteration) {
    SCOPED_TRACE("iteration " + std::to_string(iteration));
    FakeDockerClient fake;
    ASSERT_TRUE(ResourceStore(fake).Apply(Kind::kRoute, "web", RouteJson("web", 1)).ok());

    testing::ReadBarrier barrier(2);
    testing::BarrierClient client_a(fake, barrier), client_b(fake, barrier);
    ResourceStore a(client_a), b(client_b);
    std::optional<Result<ApplyResult>> result_a, result_b;
    std::thread ta([&] { result_a.emplace(a.Apply(Kind::kRoute, "web", RouteJson("web", 2))); });
    std::thread tb([&] { result_b.emplace(b.Apply(Kind::kRoute, "web", RouteJson("web", 3))); });
    ta.join();
    tb.join();
    ASSERT_FALSE(client_a.barrier_timed_out || client_b.barrier_timed_out);

    int configured = 0, conflicts = 0;
    std::string winner_data;
    std::vector<std::pair<const Result<ApplyResult>*, std::string>> results = {
        {&*result_a, RouteJson("web", 2)}, {&*result_b, RouteJson("web", 3)}};
    for (const auto& [r, data] : results) {
      if (r->ok()) {
        EXPECT_EQ((*r)->outcome, ApplyOutcome::kConfigured);
        EXPECT_EQ((*r)->generation, 2);
        ++configured;
        winner_data = data;
      } else {
        EXPECT_TRUE(r->error().Is(ErrorCode::kConflict)) << r->error().ToString();
        ++conflicts;
      }
    }
    ASSERT_EQ(configured, 1) << Dump(fake);
    ASSERT_EQ(conflicts, 1) << Dump(fake);
    auto configs = AllConfigs(fake);
    ASSERT_EQ(configs.size(), 1u) << Dump(fake);
    EXPECT_EQ(configs[0].spec.name, "sg.route.web.2");
    EXPECT_EQ(configs[0].spec.data, winner_data);
  }
}

// Without forcing the interleaving, either one apply wins and the other
// conflicts, or they serialize (generations 2 and 3); in every case exactly
// one config is left, holding the data of the highest generation.
TEST(ResourceStoreRaceTest, FreeRunningConcurrentAppliesStayConsistent) {
  for (int iteration = 0; iteration < 50; ++iteration) {
    SCOPED_TRACE("iteration " + std::to_string(iteration));
    FakeDockerClient fake;
    ResourceStore a(fake), b(fake);
    ASSERT_TRUE(a.Apply(Kind::kRoute, "web", RouteJson("web", 1)).ok());
    std::atomic<bool> go{false};
    std::optional<Result<ApplyResult>> result_a, result_b;
    std::thread ta([&] {
      while (!go) std::this_thread::yield();
      result_a.emplace(a.Apply(Kind::kRoute, "web", RouteJson("web", 2)));
    });
    std::thread tb([&] {
      while (!go) std::this_thread::yield();
      result_b.emplace(b.Apply(Kind::kRoute, "web", RouteJson("web", 3)));
    });
    go = true;
    ta.join();
    tb.join();

    int64_t highest = 0;
    std::string highest_data;
    int ok = 0;
    std::vector<std::pair<const Result<ApplyResult>*, std::string>> results = {
        {&*result_a, RouteJson("web", 2)}, {&*result_b, RouteJson("web", 3)}};
    for (const auto& [r, data] : results) {
      if (r->ok()) {
        ++ok;
        EXPECT_EQ((*r)->outcome, ApplyOutcome::kConfigured);
        if ((*r)->generation > highest) {
          highest = (*r)->generation;
          highest_data = data;
        }
      } else {
        EXPECT_TRUE(r->error().Is(ErrorCode::kConflict)) << r->error().ToString();
      }
    }
    ASSERT_GE(ok, 1) << Dump(fake);
    EXPECT_EQ(highest, ok == 1 ? 2 : 3);
    auto configs = AllConfigs(fake);
    ASSERT_EQ(configs.size(), 1u) << Dump(fake);
    EXPECT_EQ(configs[0].spec.name, "sg.route.web." + std::to_string(highest));
    EXPECT_EQ(configs[0].spec.data, highest_data);
  }
}

}  // namespace
}  // namespace sg::store
