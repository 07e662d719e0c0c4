// EngineClient against a real Docker engine in Swarm mode, named by
// SG_TEST_DOCKER_HOST (scripts/test.sh sets it). Every object gets a name
// prefix unique to this run and is removed in TearDown, also on failure.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <thread>

#include "operator/docker/engine_client.h"
#include "operator/docker/wire_format.h"

namespace sg::docker {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kImage[] = "busybox-sg:test";

std::string Host() {
  const char* v = std::getenv("SG_TEST_DOCKER_HOST");
  return v ? v : "";
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Builds kImage from busybox-static with the docker CLI (there is no
// registry to pull from). Returns an empty string or what went wrong.
std::string BuildTestImage(const std::string& host) {
  const std::string docker = "docker -H " + ShellQuote(host);
  if (std::system((docker + " image inspect " + kImage + " >/dev/null 2>&1").c_str()) == 0) {
    return "";
  }
  const char* env_busybox = std::getenv("SG_TEST_BUSYBOX");
  const std::string busybox = env_busybox ? env_busybox : "/bin/busybox";
  char tmpl[] = "/tmp/sg-busybox-image-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return "mkdtemp failed";
  const std::string dir = tmpl;
  std::ofstream(dir + "/Dockerfile") << "FROM scratch\n"
                                        "COPY busybox /bin/busybox\n"
                                        "RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n"
                                        "CMD [\"/bin/sh\"]\n";
  const std::string cmd = "cp " + ShellQuote(busybox) + " " + ShellQuote(dir + "/busybox") +
                          " && " + docker + " build -q -t " + kImage + " " + ShellQuote(dir) +
                          " >/dev/null";
  int rc = std::system(cmd.c_str());
  std::system(("rm -rf " + ShellQuote(dir)).c_str());
  if (rc != 0) return "building " + std::string(kImage) + " failed: " + cmd;
  return "";
}

class EngineIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!Host().empty()) image_error_ = BuildTestImage(Host());
  }

  void SetUp() override {
    if (Host().empty()) {
      FAIL() << "SG_TEST_DOCKER_HOST is not set: run the integration tests via scripts/test.sh, "
                "or set it to a Swarm manager endpoint (e.g. unix:///path/to/docker.sock)";
    }
    auto ep = ParseDockerEndpoint(Host(), false, false, "");
    ASSERT_TRUE(ep.ok()) << ep.error().ToString();
    auto c = EngineClient::Connect(*ep);
    ASSERT_TRUE(c.ok()) << c.error().ToString();
    client_ = std::move(c).value();
    prefix_ =
        "sgit-" + std::to_string(::getpid()) + "-" +
        std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 1000000000) +
        "-";
  }

  void TearDown() override {
    for (auto it = cleanups_.rbegin(); it != cleanups_.rend(); ++it) (*it)();
  }

  std::string Name(const std::string& suffix) { return prefix_ + suffix; }

  void Defer(std::function<Status()> f, std::string what) {
    cleanups_.push_back([f = std::move(f), what = std::move(what)] {
      Status st = f();
      if (!st.ok() && !st.error().Is(ErrorCode::kNotFound)) {
        ADD_FAILURE() << "cleanup of " << what << ": " << st.error().ToString();
      }
    });
  }

  static std::string image_error_;
  std::unique_ptr<EngineClient> client_;
  std::string prefix_;
  std::vector<std::function<void()>> cleanups_;
};

std::string EngineIntegrationTest::image_error_;

TEST_F(EngineIntegrationTest, VersionSwarmAndNodes) {
  auto v = client_->Version();
  ASSERT_TRUE(v.ok()) << v.error().ToString();
  EXPECT_TRUE(ApiVersionAtLeast(v->api_version, 1, 41)) << v->api_version;
  EXPECT_FALSE(v->version.empty());

  auto swarm = client_->InspectSwarm();
  ASSERT_TRUE(swarm.ok()) << swarm.error().ToString();
  EXPECT_EQ(swarm->id.size(), 25u);
  EXPECT_GT(swarm->version, 0u);

  auto nodes = client_->ListNodes({});
  ASSERT_TRUE(nodes.ok()) << nodes.error().ToString();
  ASSERT_FALSE(nodes->empty());
  bool ready_manager = false;
  for (const auto& n : *nodes) {
    ready_manager |= n.role == "manager" && n.state == "ready";
    EXPECT_FALSE(n.hostname.empty());
    EXPECT_GT(n.version, 0u);
  }
  EXPECT_TRUE(ready_manager);
  EXPECT_FALSE(client_->ListNodes({{"role", {"manager"}}})->empty());
}

TEST_F(EngineIntegrationTest, ConfigLifecycle) {
  const std::string name = Name("cfg.1");
  const Labels labels{{"swarmgate.io/kind", "route"}, {"swarmgate.io/name", prefix_}};
  auto id = client_->CreateConfig({name, labels, "{\"spec\":1}\n\x01\xff"});
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  Defer([&, id = *id] { return client_->RemoveConfig(id); }, "config " + name);

  auto c = client_->InspectConfig(name);
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->id, *id);
  EXPECT_EQ(c->spec.name, name);
  EXPECT_EQ(c->spec.labels, labels);
  EXPECT_EQ(c->spec.data, std::string("{\"spec\":1}\n\x01\xff"));
  EXPECT_GT(c->version, 0u);

  auto dup = client_->CreateConfig({name, {}, "x"});
  ASSERT_FALSE(dup.ok());
  EXPECT_TRUE(dup.error().Is(ErrorCode::kConflict)) << dup.error().ToString();

  auto listed = client_->ListConfigs({{"label", {"swarmgate.io/name=" + prefix_}}});
  ASSERT_TRUE(listed.ok()) << listed.error().ToString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().id, *id);
  EXPECT_EQ(listed->front().spec.data, c->spec.data);
  EXPECT_TRUE(client_->ListConfigs({{"label", {"swarmgate.io/name=" + prefix_ + "x"}}})->empty());
  EXPECT_EQ(client_->ListConfigs({{"name", {prefix_}}})->size(), 1u);

  ConfigSpec spec = c->spec;
  spec.labels["swarmgate.io/status"] = R"({"ready":true})";
  Status updated = client_->UpdateConfig(*id, c->version, spec);
  ASSERT_TRUE(updated.ok()) << updated.error().ToString();
  auto after = client_->InspectConfig(*id);
  ASSERT_TRUE(after.ok());
  EXPECT_GT(after->version, c->version);
  EXPECT_EQ(after->spec.labels.at("swarmgate.io/status"), R"({"ready":true})");

  Status stale = client_->UpdateConfig(*id, c->version, spec);
  ASSERT_FALSE(stale.ok());
  EXPECT_TRUE(stale.error().Is(ErrorCode::kConflict)) << stale.error().ToString();
  EXPECT_NE(stale.error().message.find("update out of sequence"), std::string::npos);

  spec.data = "other";
  Status data_change = client_->UpdateConfig(*id, after->version, spec);
  ASSERT_FALSE(data_change.ok());
  EXPECT_TRUE(data_change.error().Is(ErrorCode::kInvalidArgument))
      << data_change.error().ToString();

  ASSERT_TRUE(client_->RemoveConfig(*id).ok());
  auto gone = client_->InspectConfig(*id);
  ASSERT_FALSE(gone.ok());
  EXPECT_TRUE(gone.error().Is(ErrorCode::kNotFound)) << gone.error().ToString();
  EXPECT_TRUE(client_->RemoveConfig(*id).error().Is(ErrorCode::kNotFound));
}

TEST_F(EngineIntegrationTest, SecretLifecycle) {
  const std::string name = Name("tls");
  auto id = client_->CreateSecret({name, {{"swarmgate.io/owner", prefix_}}, "-----PEM-----"});
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  Defer([&, id = *id] { return client_->RemoveSecret(id); }, "secret " + name);

  auto listed = client_->ListSecrets({{"label", {"swarmgate.io/owner=" + prefix_}}});
  ASSERT_TRUE(listed.ok()) << listed.error().ToString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().name, name);
  EXPECT_EQ(client_->InspectSecret(name)->id, *id);
  EXPECT_TRUE(client_->CreateSecret({name, {}, "x"}).error().Is(ErrorCode::kConflict));

  ASSERT_TRUE(client_->RemoveSecret(*id).ok());
  EXPECT_TRUE(client_->InspectSecret(*id).error().Is(ErrorCode::kNotFound));
}

TEST_F(EngineIntegrationTest, NetworkLifecycle) {
  const std::string name = Name("net");
  auto id = client_->CreateNetwork({name, "overlay", true, {{"swarmgate.io/owner", prefix_}}});
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  Defer([&, id = *id] { return client_->RemoveNetwork(id); }, "network " + name);

  // Swarm's allocator fills in the driver state asynchronously; until then
  // the engine reports an empty driver.
  auto n = client_->InspectNetwork(name);
  for (auto until = Clock::now() + std::chrono::seconds(10);
       n.ok() && n->driver.empty() && Clock::now() < until;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    n = client_->InspectNetwork(name);
  }
  ASSERT_TRUE(n.ok()) << n.error().ToString();
  EXPECT_EQ(n->id, *id);
  EXPECT_EQ(n->driver, "overlay");
  EXPECT_EQ(n->scope, "swarm");
  EXPECT_TRUE(n->attachable);
  EXPECT_EQ(n->labels.at("swarmgate.io/owner"), prefix_);

  auto dup = client_->CreateNetwork({name, "overlay", true, {}});
  ASSERT_FALSE(dup.ok());
  EXPECT_TRUE(dup.error().Is(ErrorCode::kConflict)) << dup.error().ToString();

  auto listed = client_->ListNetworks({{"label", {"swarmgate.io/owner=" + prefix_}}});
  ASSERT_TRUE(listed.ok()) << listed.error().ToString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().name, name);

  ASSERT_TRUE(client_->RemoveNetwork(*id).ok());
  EXPECT_TRUE(client_->InspectNetwork(*id).error().Is(ErrorCode::kNotFound));
}

TEST_F(EngineIntegrationTest, ServiceLifecycleWithTasks) {
  ASSERT_EQ(image_error_, "");
  const std::string net_name = Name("svcnet");
  auto net = client_->CreateNetwork({net_name, "overlay", true, {}});
  ASSERT_TRUE(net.ok()) << net.error().ToString();
  Defer([&, id = *net] { return client_->RemoveNetwork(id); }, "network " + net_name);

  const std::string name = Name("svc");
  // Pinned to a manager: images are per node and the test built it there.
  const std::string spec =
      R"({"Name":")" + name + R"(","Labels":{"swarmgate.io/owner":")" + prefix_ +
      R"("},"TaskTemplate":{"ContainerSpec":{"Image":")" + kImage +
      R"(","Args":["sleep","3600"],"StopGracePeriod":1000000000,"Healthcheck":{"Test":["CMD-SHELL","true"],)"
      R"("Interval":1000000000}},"Placement":{"Constraints":["node.role==manager"]},)"
      R"("Networks":[{"Target":")" +
      net_name + R"("}]},"Mode":{"Replicated":{"Replicas":1}},"EndpointSpec":{"Mode":"vip"}})";
  auto id = client_->CreateService(spec);
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  // Registered after the network so it is removed first.
  Defer([&, id = *id] { return client_->RemoveService(id); }, "service " + name);

  // VIPs are allocated asynchronously after the create returns.
  auto svc = client_->InspectService(name);
  for (auto until = Clock::now() + std::chrono::seconds(10);
       svc.ok() && svc->virtual_ips.empty() && Clock::now() < until;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    svc = client_->InspectService(name);
  }
  ASSERT_TRUE(svc.ok()) << svc.error().ToString();
  EXPECT_EQ(svc->id, *id);
  EXPECT_EQ(svc->replicas, 1u);
  EXPECT_TRUE(svc->has_healthcheck);
  EXPECT_EQ(svc->labels.at("swarmgate.io/owner"), prefix_);
  ASSERT_EQ(svc->network_targets.size(), 1u);
  EXPECT_EQ(svc->network_targets[0], *net);  // the engine stores the id
  ASSERT_EQ(svc->virtual_ips.size(), 1u);
  EXPECT_EQ(svc->virtual_ips[0].network_id, *net);
  EXPECT_NE(svc->virtual_ips[0].addr.find('/'), std::string::npos);
  EXPECT_EQ(client_->ListServices({{"label", {"swarmgate.io/owner=" + prefix_}}})->size(), 1u);
  EXPECT_TRUE(client_->CreateService(spec).error().Is(ErrorCode::kConflict));

  // Wait for a running task with an address on the network.
  Task running;
  std::string last_seen = "no tasks";
  const auto deadline = Clock::now() + std::chrono::seconds(90);
  while (Clock::now() < deadline && running.id.empty()) {
    auto tasks = client_->ListTasks({{"service", {*id}}, {"desired-state", {"running"}}});
    ASSERT_TRUE(tasks.ok()) << tasks.error().ToString();
    last_seen.clear();
    for (const auto& t : *tasks) {
      last_seen += t.id + ": " + t.state + " " + t.message + " " + t.error + "; ";
      if (t.state == "running") running = t;
    }
    if (running.id.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  ASSERT_FALSE(running.id.empty()) << "no running task within 90s; last observed: " << last_seen;
  EXPECT_EQ(running.service_id, *id);
  EXPECT_FALSE(running.node_id.empty());
  EXPECT_EQ(running.container_id.size(), 64u);
  bool on_net = false;
  for (const auto& a : running.networks) {
    if (a.network_id == *net) {
      on_net = true;
      EXPECT_EQ(a.network_name, net_name);
      ASSERT_FALSE(a.addresses.empty());
    }
  }
  EXPECT_TRUE(on_net);

  // Update with the current version; a second update with the same one is stale.
  auto current = client_->InspectService(*id);
  ASSERT_TRUE(current.ok());
  std::string edited = current->spec_json;
  const std::string old_label = R"("swarmgate.io/owner":")" + prefix_ + R"(")";
  ASSERT_NE(edited.find(old_label), std::string::npos) << edited;
  edited.replace(edited.find(old_label), old_label.size(), old_label + R"(,"extra":"1")");
  Status up = client_->UpdateService(*id, current->version, edited);
  ASSERT_TRUE(up.ok()) << up.error().ToString();
  auto after = client_->InspectService(*id);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->labels.at("extra"), "1");
  EXPECT_GT(after->version, current->version);
  Status stale = client_->UpdateService(*id, current->version, edited);
  ASSERT_FALSE(stale.ok());
  EXPECT_TRUE(stale.error().Is(ErrorCode::kConflict)) << stale.error().ToString();

  // The network is in use while the service exists.
  Status in_use = client_->RemoveNetwork(*net);
  ASSERT_FALSE(in_use.ok());
  EXPECT_TRUE(in_use.error().Is(ErrorCode::kInvalidArgument)) << in_use.error().ToString();

  ASSERT_TRUE(client_->RemoveService(*id).ok());
  EXPECT_TRUE(client_->InspectService(*id).error().Is(ErrorCode::kNotFound));
}

TEST_F(EngineIntegrationTest, EventStreamSeesConfigCreate) {
  std::atomic<bool> cancel{false};
  std::mutex mu;
  std::vector<Event> events;
  Status result;
  EventOptions opts;
  opts.filters = {{"type", {"config"}}, {"scope", {"swarm"}}};
  std::thread streamer([&] {
    result = client_->StreamEvents(
        opts,
        [&](const Event& e) {
          std::lock_guard<std::mutex> lock(mu);
          events.push_back(e);
          return true;
        },
        cancel);
  });
  // The stream must be established before the create; there is no hook for
  // "header received" here, so give it a moment.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const std::string name = Name("evt");
  auto id = client_->CreateConfig({name, {}, "x"});
  if (id.ok()) Defer([&, id = *id] { return client_->RemoveConfig(id); }, "config " + name);

  bool seen = false;
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (!seen && Clock::now() < deadline) {
    {
      std::lock_guard<std::mutex> lock(mu);
      for (const auto& e : events) {
        seen |=
            e.action == "create" && e.attributes.count("name") && e.attributes.at("name") == name;
      }
    }
    if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const auto cancelled_at = Clock::now();
  cancel = true;
  streamer.join();
  EXPECT_LT(Clock::now() - cancelled_at, std::chrono::milliseconds(1500));
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  EXPECT_TRUE(seen) << "no config create event for " << name << " within 10s";
  EXPECT_TRUE(result.ok()) << result.error().ToString();
  std::lock_guard<std::mutex> lock(mu);
  for (const auto& e : events) {
    EXPECT_EQ(e.type, "config");
    EXPECT_EQ(e.scope, "swarm");
  }
}

TEST_F(EngineIntegrationTest, SinceReplaysPastEvents) {
  const auto start = std::chrono::system_clock::now();
  const std::string since = std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(start.time_since_epoch()).count() - 1);
  const std::string name = Name("past");
  auto id = client_->CreateConfig({name, {}, "x"});
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  Defer([&, id = *id] { return client_->RemoveConfig(id); }, "config " + name);
  ASSERT_TRUE(client_->RemoveConfig(*id).ok());

  EventOptions opts;
  opts.since = since;
  // until in the past-or-now: the engine replays and ends the stream.
  opts.until = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count() +
                              1);
  opts.filters = {{"type", {"config"}}};
  std::atomic<bool> cancel{false};
  std::vector<std::string> actions;
  Status st = client_->StreamEvents(
      opts,
      [&](const Event& e) {
        if (e.attributes.count("name") && e.attributes.at("name") == name) {
          actions.push_back(e.action);
        }
        return true;
      },
      cancel);
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  EXPECT_EQ(actions, (std::vector<std::string>{"create", "remove"}));
}

TEST_F(EngineIntegrationTest, UnknownObjectsAreNotFound) {
  EXPECT_TRUE(client_->InspectConfig(Name("none")).error().Is(ErrorCode::kNotFound));
  EXPECT_TRUE(client_->InspectService(Name("none")).error().Is(ErrorCode::kNotFound));
  EXPECT_TRUE(client_->InspectNetwork(Name("none")).error().Is(ErrorCode::kNotFound));
  EXPECT_TRUE(client_->ListTasks({{"service", {Name("none")}}}).error().Is(ErrorCode::kNotFound));
  auto bad = client_->ListConfigs({{"bogus", {"x"}}});
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.error().Is(ErrorCode::kInvalidArgument));
}

}  // namespace
}  // namespace sg::docker
