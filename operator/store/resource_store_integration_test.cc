// ResourceStore against a real Docker engine in Swarm mode, named by
// SG_TEST_DOCKER_HOST (scripts/test.sh sets it). Resource names carry a prefix
// unique to this run; TearDown removes every config of those names.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "operator/docker/engine_client.h"
#include "operator/store/resource_store.h"
#include "operator/testing/docker_test_util.h"

namespace sg::store {
namespace {

using crds::Kind;
using docker::Config;

std::string RouteJson(const std::string& name, int port = 8080) {
  return R"({"apiVersion":"swarmgate.io/v1alpha1","kind":"Route","metadata":{"name":")" + name +
         R"("},"spec":{"backends":[{"port":)" + std::to_string(port) +
         R"(,"service":"app"}],"hosts":["a.example.com"],"serviceCluster":"public"}})";
}

std::string ClusterJson(const std::string& name) {
  return R"({"apiVersion":"swarmgate.io/v1alpha1","kind":"ServiceCluster","metadata":{"name":")" +
         name + R"("},"spec":{}})";
}

std::string Label(const Config& c, const char* key) {
  auto it = c.spec.labels.find(key);
  return it == c.spec.labels.end() ? "<absent>" : it->second;
}

class ResourceStoreIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string host = testing::TestDockerHost();
    if (host.empty()) FAIL() << testing::kNoDockerHostMessage;
    auto c = docker::EngineClient::ConnectFromFlag(host);
    ASSERT_TRUE(c.ok()) << "cannot reach SG_TEST_DOCKER_HOST=" << host << ": "
                        << c.error().ToString();
    client_ = std::move(c).value();
    auto swarm = client_->InspectSwarm();
    ASSERT_TRUE(swarm.ok()) << "the engine at " << host
                            << " must be a Swarm manager: " << swarm.error().ToString();
    prefix_ = testing::UniquePrefix("sgst");
    store_ = std::make_unique<ResourceStore>(*client_);
  }

  void TearDown() override {
    if (!client_) return;
    for (const auto& c : OurConfigs()) {
      Status st = client_->RemoveConfig(c.id);
      if (!st.ok() && !st.error().Is(ErrorCode::kNotFound)) {
        ADD_FAILURE() << "cleanup of " << c.spec.name << ": " << st.error().ToString();
      }
    }
  }

  std::string N(const std::string& suffix) { return prefix_ + suffix; }

  // Every config this test created (name label with our prefix), by name.
  std::vector<Config> OurConfigs() {
    auto all = client_->ListConfigs({{"label", {kLabelName}}});
    EXPECT_TRUE(all.ok()) << all.error().ToString();
    std::vector<Config> out;
    if (!all.ok()) return out;
    for (const auto& c : *all) {
      if (Label(c, kLabelName).rfind(prefix_, 0) == 0) out.push_back(c);
    }
    std::sort(out.begin(), out.end(),
              [](const Config& a, const Config& b) { return a.spec.name < b.spec.name; });
    return out;
  }

  // Config names of one resource, sorted.
  std::vector<std::string> Names(Kind kind, const std::string& name) {
    std::vector<std::string> out;
    for (const auto& c : OurConfigs()) {
      if (Label(c, kLabelName) == name && Label(c, kLabelKind) == crds::KindStorageName(kind)) {
        out.push_back(c.spec.name);
      }
    }
    return out;
  }

  std::string Dump() {
    std::string out;
    for (const auto& c : OurConfigs()) {
      out += c.spec.name + " (v" + std::to_string(c.version) + ", " +
             std::to_string(c.spec.data.size()) + " bytes); ";
    }
    return out.empty() ? "<no configs>" : out;
  }

  void PutGeneration(Kind kind, const std::string& name, int64_t generation,
                     const std::string& data) {
    docker::ConfigSpec spec;
    spec.name = ConfigName(kind, name, generation);
    spec.data = data;
    spec.labels = {{kLabelKind, crds::KindStorageName(kind)},
                   {kLabelName, name},
                   {kLabelGeneration, std::to_string(generation)}};
    auto id = client_->CreateConfig(spec);
    ASSERT_TRUE(id.ok()) << id.error().ToString();
  }

  std::unique_ptr<docker::EngineClient> client_;
  std::unique_ptr<ResourceStore> store_;
  std::string prefix_;
};

TEST_F(ResourceStoreIntegrationTest, ApplyCreatesGenerationOne) {
  const std::string web = N("web");
  auto r = store_->Apply(Kind::kRoute, web, RouteJson(web));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->outcome, ApplyOutcome::kCreated);
  EXPECT_EQ(r->generation, 1);

  auto c = client_->InspectConfig("sg.route." + web + ".1");
  ASSERT_TRUE(c.ok()) << c.error().ToString() << "; " << Dump();
  EXPECT_EQ(c->spec.data, RouteJson(web));
  EXPECT_EQ(Label(*c, kLabelKind), "route");
  EXPECT_EQ(Label(*c, kLabelName), web);
  EXPECT_EQ(Label(*c, kLabelGeneration), "1");

  auto got = store_->Get(Kind::kRoute, web);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(got->generation, 1);
  EXPECT_EQ(got->data, RouteJson(web));
  EXPECT_EQ(got->config_id, c->id);
  EXPECT_EQ(got->version, c->version);
  EXPECT_FALSE(got->created_at.empty());

  const std::string edge = N("edge");
  auto cl = store_->Apply(Kind::kServiceCluster, edge, ClusterJson(edge));
  ASSERT_TRUE(cl.ok()) << cl.error().ToString();
  EXPECT_EQ(Names(Kind::kServiceCluster, edge),
            std::vector<std::string>{"sg.cluster." + edge + ".1"});
}

TEST_F(ResourceStoreIntegrationTest, ApplyUnchangedWritesNothing) {
  const std::string web = N("web");
  ASSERT_TRUE(store_->Apply(Kind::kRoute, web, RouteJson(web)).ok());
  auto before = client_->InspectConfig("sg.route." + web + ".1");
  ASSERT_TRUE(before.ok());

  testing::CountingClient counting(*client_);
  ResourceStore store(counting);
  auto r = store.Apply(Kind::kRoute, web, RouteJson(web));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->outcome, ApplyOutcome::kUnchanged);
  EXPECT_EQ(r->generation, 1);
  EXPECT_EQ(counting.writes(), 0);
  auto after = client_->InspectConfig("sg.route." + web + ".1");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->version, before->version);
  EXPECT_EQ(Names(Kind::kRoute, web), std::vector<std::string>{"sg.route." + web + ".1"});
}

TEST_F(ResourceStoreIntegrationTest, ApplyChangedCreatesNextGenerationAndRemovesTheOld) {
  const std::string web = N("web");
  ASSERT_TRUE(store_->Apply(Kind::kRoute, web, RouteJson(web, 80)).ok());
  auto first = store_->Get(Kind::kRoute, web);
  ASSERT_TRUE(first.ok());

  auto r = store_->Apply(Kind::kRoute, web, RouteJson(web, 81));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->outcome, ApplyOutcome::kConfigured);
  EXPECT_EQ(r->generation, 2);
  EXPECT_EQ(Names(Kind::kRoute, web), std::vector<std::string>{"sg.route." + web + ".2"}) << Dump();

  auto got = store_->Get(Kind::kRoute, web);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->generation, 2);
  EXPECT_EQ(got->data, RouteJson(web, 81));
  EXPECT_EQ(got->created_at, first->created_at) << "AGE survives changes";
}

TEST_F(ResourceStoreIntegrationTest, DryRunWritesNothing) {
  const std::string web = N("web");
  testing::CountingClient counting(*client_);
  ResourceStore store(counting);
  auto created = store.Apply(Kind::kRoute, web, RouteJson(web), true);
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  EXPECT_EQ(created->outcome, ApplyOutcome::kCreated);
  EXPECT_EQ(created->generation, 1);
  EXPECT_TRUE(Names(Kind::kRoute, web).empty()) << Dump();

  ASSERT_TRUE(store_->Apply(Kind::kRoute, web, RouteJson(web)).ok());
  auto configured = store.Apply(Kind::kRoute, web, RouteJson(web, 1), true);
  ASSERT_TRUE(configured.ok());
  EXPECT_EQ(configured->outcome, ApplyOutcome::kConfigured);
  EXPECT_EQ(configured->generation, 2);
  auto unchanged = store.Apply(Kind::kRoute, web, RouteJson(web), true);
  ASSERT_TRUE(unchanged.ok());
  EXPECT_EQ(unchanged->outcome, ApplyOutcome::kUnchanged);
  EXPECT_EQ(counting.writes(), 0);
  EXPECT_EQ(Names(Kind::kRoute, web), std::vector<std::string>{"sg.route." + web + ".1"});
}

TEST_F(ResourceStoreIntegrationTest, LeftoverGenerationsAreInvisibleAndCleanedByTheNextApply) {
  const std::string web = N("web");
  // An apply of generation 2 that stopped before removing generation 1.
  PutGeneration(Kind::kRoute, web, 1, RouteJson(web, 1));
  PutGeneration(Kind::kRoute, web, 2, RouteJson(web, 2));
  // Generation 10 sorts before 2 as text: the store must compare numbers.
  const std::string api = N("api");
  PutGeneration(Kind::kRoute, api, 2, RouteJson(api, 2));
  PutGeneration(Kind::kRoute, api, 10, RouteJson(api, 10));

  auto got = store_->Get(Kind::kRoute, web);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(got->generation, 2);
  EXPECT_EQ(got->data, RouteJson(web, 2));
  auto got_api = store_->Get(Kind::kRoute, api);
  ASSERT_TRUE(got_api.ok());
  EXPECT_EQ(got_api->generation, 10);
  EXPECT_EQ(got_api->data, RouteJson(api, 10));

  auto listed = store_->List(Kind::kRoute);
  ASSERT_TRUE(listed.ok()) << listed.error().ToString();
  std::vector<std::pair<std::string, int64_t>> ours;
  for (const auto& r : *listed) {
    if (r.name.rfind(prefix_, 0) == 0) {
      ours.emplace_back(r.name, r.generation);
      EXPECT_FALSE(r.data.empty()) << r.name;
    }
  }
  EXPECT_EQ(ours, (std::vector<std::pair<std::string, int64_t>>{{api, 10}, {web, 2}}));

  auto unchanged = store_->Apply(Kind::kRoute, web, RouteJson(web, 2));
  ASSERT_TRUE(unchanged.ok()) << unchanged.error().ToString();
  EXPECT_EQ(unchanged->outcome, ApplyOutcome::kUnchanged);
  EXPECT_EQ(Names(Kind::kRoute, web), std::vector<std::string>{"sg.route." + web + ".2"});

  auto changed = store_->Apply(Kind::kRoute, api, RouteJson(api, 11));
  ASSERT_TRUE(changed.ok()) << changed.error().ToString();
  EXPECT_EQ(changed->generation, 11);
  EXPECT_EQ(Names(Kind::kRoute, api), std::vector<std::string>{"sg.route." + api + ".11"});
}

TEST_F(ResourceStoreIntegrationTest, DeleteRemovesEveryGeneration) {
  const std::string web = N("web"), other = N("web2");
  PutGeneration(Kind::kRoute, web, 1, RouteJson(web, 1));
  PutGeneration(Kind::kRoute, web, 2, RouteJson(web, 2));
  ASSERT_TRUE(store_->Apply(Kind::kRoute, other, RouteJson(other)).ok());
  ASSERT_TRUE(store_->Apply(Kind::kServiceCluster, web, ClusterJson(web)).ok());

  Status st = store_->Delete(Kind::kRoute, web);
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  EXPECT_TRUE(Names(Kind::kRoute, web).empty()) << Dump();
  EXPECT_EQ(Names(Kind::kRoute, other).size(), 1u) << Dump();
  EXPECT_EQ(Names(Kind::kServiceCluster, web).size(), 1u) << Dump();
  EXPECT_TRUE(store_->Get(Kind::kRoute, web).error().Is(ErrorCode::kNotFound));

  Status again = store_->Delete(Kind::kRoute, web);
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(again.error().Is(ErrorCode::kNotFound)) << again.error().ToString();
}

TEST_F(ResourceStoreIntegrationTest, DataSizeLimitMatchesTheEngine) {
  const std::string big = N("big");
  auto rejected = store_->Apply(Kind::kRoute, big, std::string(1024000, 'x'));
  ASSERT_FALSE(rejected.ok());
  EXPECT_TRUE(rejected.error().Is(ErrorCode::kInvalidArgument)) << rejected.error().ToString();
  // The engine refuses that size too, so the store's check loses nothing.
  docker::ConfigSpec raw{"sg.route." + big + ".1",
                         {{kLabelKind, "route"}, {kLabelName, big}, {kLabelGeneration, "1"}},
                         std::string(1024000, 'x')};
  auto engine = client_->CreateConfig(raw);
  EXPECT_FALSE(engine.ok()) << "the engine accepted 1,024,000 bytes; " << Dump();

  auto largest = store_->Apply(Kind::kRoute, big, std::string(1024000 - 1, 'y'));
  ASSERT_TRUE(largest.ok()) << largest.error().ToString();
  auto got = store_->Get(Kind::kRoute, big);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(got->data.size(), 1024000u - 1);
}

TEST_F(ResourceStoreIntegrationTest, WriteStatusAndNoOpWhenUnchanged) {
  const std::string web = N("web");
  ASSERT_TRUE(store_->Apply(Kind::kRoute, web, RouteJson(web)).ok());
  const std::string status = R"({"conditions":[{"status":"True","type":"Ready"}]})";
  Status st = store_->WriteStatus(Kind::kRoute, web, 1, status);
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  auto c = client_->InspectConfig("sg.route." + web + ".1");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(Label(*c, kLabelStatus), status);
  EXPECT_EQ(Label(*c, kLabelGeneration), "1");
  EXPECT_EQ(c->spec.data, RouteJson(web));

  testing::CountingClient counting(*client_);
  ResourceStore store(counting);
  ASSERT_TRUE(store.WriteStatus(Kind::kRoute, web, 1, status).ok());
  EXPECT_EQ(counting.writes(), 0);
  auto after = client_->InspectConfig(c->id);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->version, c->version);

  auto got = store_->Get(Kind::kRoute, web);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status_json, status);
}

TEST_F(ResourceStoreIntegrationTest, StaleConfigVersionIsAConflictAndStatusWritesRetry) {
  const std::string web = N("web");
  ASSERT_TRUE(store_->Apply(Kind::kRoute, web, RouteJson(web)).ok());
  auto read = client_->InspectConfig("sg.route." + web + ".1");
  ASSERT_TRUE(read.ok());

  // Another writer updates the labels after our read.
  docker::ConfigSpec theirs = read->spec;
  theirs.labels["example.com/other"] = "1";
  Status st = client_->UpdateConfig(read->id, read->version, theirs);
  ASSERT_TRUE(st.ok()) << st.error().ToString();

  // A raw update with the version we read is refused ("update out of sequence").
  docker::ConfigSpec ours = read->spec;
  ours.labels[kLabelStatus] = "{}";
  Status stale = client_->UpdateConfig(read->id, read->version, ours);
  ASSERT_FALSE(stale.ok());
  EXPECT_TRUE(stale.error().Is(ErrorCode::kConflict)) << stale.error().ToString();

  // WriteStatus re-reads, so it succeeds and keeps the other writer's label.
  ASSERT_TRUE(store_->WriteStatus(Kind::kRoute, web, 1, R"({"a":1})").ok());
  // And when a writer slips in between its read and its write, it retries.
  testing::ConcurrentLabelWriter racing(*client_);
  ResourceStore store(racing);
  Status retried = store.WriteStatus(Kind::kRoute, web, 1, R"({"a":2})");
  ASSERT_TRUE(retried.ok()) << retried.error().ToString();
  EXPECT_EQ(racing.interference, 0);
  EXPECT_EQ(racing.update_calls, 2) << "one refused stale write, one retry";

  auto c = client_->InspectConfig(read->id);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(Label(*c, kLabelStatus), R"({"a":2})");
  EXPECT_EQ(Label(*c, "example.com/other"), "1");
  EXPECT_EQ(Label(*c, "example.com/touched-by"), "w1");
  EXPECT_EQ(c->spec.data, RouteJson(web));
}

TEST_F(ResourceStoreIntegrationTest, WriteStatusOfAnOldGenerationIsAConflict) {
  const std::string web = N("web");
  ASSERT_TRUE(store_->Apply(Kind::kRoute, web, RouteJson(web, 1)).ok());
  ASSERT_TRUE(store_->Apply(Kind::kRoute, web, RouteJson(web, 2)).ok());
  Status st = store_->WriteStatus(Kind::kRoute, web, 1, "{}");
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.error().Is(ErrorCode::kConflict)) << st.error().ToString();
  ASSERT_TRUE(store_->WriteStatus(Kind::kRoute, web, 2, "{}").ok());

  // Both generations exist between an apply's create and its cleanup.
  const std::string left = N("left");
  PutGeneration(Kind::kRoute, left, 1, RouteJson(left, 1));
  PutGeneration(Kind::kRoute, left, 2, RouteJson(left, 2));
  Status leftover = store_->WriteStatus(Kind::kRoute, left, 1, "{}");
  ASSERT_FALSE(leftover.ok());
  EXPECT_TRUE(leftover.error().Is(ErrorCode::kConflict)) << leftover.error().ToString();
  auto old = client_->InspectConfig("sg.route." + left + ".1");
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(Label(*old, kLabelStatus), "<absent>");

  ASSERT_TRUE(store_->Delete(Kind::kRoute, web).ok());
  Status gone = store_->WriteStatus(Kind::kRoute, web, 2, "{}");
  ASSERT_FALSE(gone.ok());
  EXPECT_TRUE(gone.error().Is(ErrorCode::kNotFound)) << gone.error().ToString();
}

// Two stores read generation 1, then both create generation 2 at once: Docker's
// unique config names let exactly one of them win.
TEST_F(ResourceStoreIntegrationTest, ConcurrentAppliesOfTheSameGenerationHaveOneWinner) {
  for (int iteration = 0; iteration < 10; ++iteration) {
    SCOPED_TRACE("iteration " + std::to_string(iteration));
    const std::string name = N("race" + std::to_string(iteration));
    ASSERT_TRUE(store_->Apply(Kind::kRoute, name, RouteJson(name, 1)).ok());

    testing::ReadBarrier barrier(2);
    testing::BarrierClient client_a(*client_, barrier), client_b(*client_, barrier);
    ResourceStore a(client_a), b(client_b);
    std::optional<Result<ApplyResult>> result_a, result_b;
    std::thread ta([&] { result_a.emplace(a.Apply(Kind::kRoute, name, RouteJson(name, 2))); });
    std::thread tb([&] { result_b.emplace(b.Apply(Kind::kRoute, name, RouteJson(name, 3))); });
    ta.join();
    tb.join();
    ASSERT_FALSE(client_a.barrier_timed_out || client_b.barrier_timed_out);

    int configured = 0, conflicts = 0;
    std::string winner_data, observed;
    std::vector<std::pair<const Result<ApplyResult>*, std::string>> results = {
        {&*result_a, RouteJson(name, 2)}, {&*result_b, RouteJson(name, 3)}};
    for (const auto& [r, data] : results) {
      if (r->ok()) {
        observed += std::string(ApplyOutcomeName((*r)->outcome)) + " generation " +
                    std::to_string((*r)->generation) + "; ";
        EXPECT_EQ((*r)->outcome, ApplyOutcome::kConfigured);
        EXPECT_EQ((*r)->generation, 2);
        ++configured;
        winner_data = data;
      } else {
        observed += r->error().ToString() + "; ";
        EXPECT_TRUE(r->error().Is(ErrorCode::kConflict)) << r->error().ToString();
        ++conflicts;
      }
    }
    ASSERT_EQ(configured, 1) << observed << Dump();
    ASSERT_EQ(conflicts, 1) << observed << Dump();
    ASSERT_EQ(Names(Kind::kRoute, name), std::vector<std::string>{"sg.route." + name + ".2"})
        << observed << Dump();
    auto got = store_->Get(Kind::kRoute, name);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got->data, winner_data);
  }
}

// Unsynchronised applies may also serialise (generations 2 and 3); either
// way exactly one config is left and it holds the highest generation's data.
TEST_F(ResourceStoreIntegrationTest, FreeRunningConcurrentAppliesStayConsistent) {
  for (int iteration = 0; iteration < 10; ++iteration) {
    SCOPED_TRACE("iteration " + std::to_string(iteration));
    const std::string name = N("free" + std::to_string(iteration));
    ASSERT_TRUE(store_->Apply(Kind::kRoute, name, RouteJson(name, 1)).ok());
    ResourceStore a(*client_), b(*client_);
    std::atomic<bool> go{false};
    std::optional<Result<ApplyResult>> result_a, result_b;
    std::thread ta([&] {
      while (!go) std::this_thread::yield();
      result_a.emplace(a.Apply(Kind::kRoute, name, RouteJson(name, 2)));
    });
    std::thread tb([&] {
      while (!go) std::this_thread::yield();
      result_b.emplace(b.Apply(Kind::kRoute, name, RouteJson(name, 3)));
    });
    go = true;
    ta.join();
    tb.join();

    int ok = 0;
    int64_t highest = 0;
    std::string highest_data, observed;
    std::vector<std::pair<const Result<ApplyResult>*, std::string>> results = {
        {&*result_a, RouteJson(name, 2)}, {&*result_b, RouteJson(name, 3)}};
    for (const auto& [r, data] : results) {
      if (r->ok()) {
        observed += std::string(ApplyOutcomeName((*r)->outcome)) + " generation " +
                    std::to_string((*r)->generation) + "; ";
        ++ok;
        if ((*r)->generation > highest) {
          highest = (*r)->generation;
          highest_data = data;
        }
      } else {
        observed += r->error().ToString() + "; ";
        EXPECT_TRUE(r->error().Is(ErrorCode::kConflict)) << r->error().ToString();
      }
    }
    ASSERT_GE(ok, 1) << observed << Dump();
    EXPECT_EQ(highest, ok == 1 ? 2 : 3) << observed;
    ASSERT_EQ(Names(Kind::kRoute, name),
              std::vector<std::string>{"sg.route." + name + "." + std::to_string(highest)})
        << observed << Dump();
    auto got = store_->Get(Kind::kRoute, name);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got->data, highest_data);
  }
}

}  // namespace
}  // namespace sg::store
