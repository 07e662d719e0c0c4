#include "operator/testing/fake_docker_client.h"

#include <gtest/gtest.h>

#include <thread>

namespace sg::docker {
namespace {

ConfigSpec Cfg(const std::string& name, Labels labels = {}, std::string data = "{}") {
  return ConfigSpec{name, std::move(labels), std::move(data)};
}

TEST(FakeDockerClientTest, ConfigLifecycleWithCompareAndSwap) {
  FakeDockerClient fake;
  auto id = fake.CreateConfig(Cfg("sg.route.shop.1", {{"swarmgate.io/kind", "route"}}));
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  EXPECT_EQ(id->size(), 25u);

  auto c = fake.InspectConfig("sg.route.shop.1");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->id, *id);
  EXPECT_EQ(c->version, fake.CurrentIndex());
  EXPECT_EQ(c->spec.data, "{}");
  EXPECT_EQ(fake.InspectConfig(id->substr(0, 6))->id, *id);  // id prefix

  ConfigSpec spec = c->spec;
  spec.labels["swarmgate.io/status"] = "{}";
  ASSERT_TRUE(fake.UpdateConfig(*id, c->version, spec).ok());
  auto updated = fake.InspectConfig(*id);
  EXPECT_GT(updated->version, c->version);
  EXPECT_EQ(updated->spec.labels.at("swarmgate.io/status"), "{}");

  Status stale = fake.UpdateConfig(*id, c->version, spec);
  ASSERT_FALSE(stale.ok());
  EXPECT_TRUE(stale.error().Is(ErrorCode::kConflict));
  EXPECT_NE(stale.error().message.find("update out of sequence"), std::string::npos);

  spec.data = "changed";
  Status data_change = fake.UpdateConfig(*id, updated->version, spec);
  ASSERT_FALSE(data_change.ok());
  EXPECT_TRUE(data_change.error().Is(ErrorCode::kInvalidArgument));

  ASSERT_TRUE(fake.RemoveConfig(*id).ok());
  auto gone = fake.InspectConfig(*id);
  ASSERT_FALSE(gone.ok());
  EXPECT_TRUE(gone.error().Is(ErrorCode::kNotFound));
  EXPECT_EQ(gone.error().message, "config " + *id + " not found");
  EXPECT_TRUE(fake.RemoveConfig(*id).error().Is(ErrorCode::kNotFound));
}

TEST(FakeDockerClientTest, NamesAreUniqueAndValidated) {
  FakeDockerClient fake;
  ASSERT_TRUE(fake.CreateConfig(Cfg("a")).ok());
  auto dup = fake.CreateConfig(Cfg("a"));
  ASSERT_FALSE(dup.ok());
  EXPECT_TRUE(dup.error().Is(ErrorCode::kConflict));
  EXPECT_EQ(dup.error().message, "rpc error: code = AlreadyExists desc = config a already exists");
  EXPECT_TRUE(fake.CreateConfig(Cfg("-bad")).error().Is(ErrorCode::kInvalidArgument));
  EXPECT_TRUE(fake.CreateConfig(Cfg(std::string(65, 'x'))).error().Is(ErrorCode::kInvalidArgument));
  EXPECT_TRUE(fake.CreateConfig(Cfg("empty", {}, "")).error().Is(ErrorCode::kInvalidArgument));
  EXPECT_TRUE(fake.CreateConfig(Cfg("big", {}, std::string(1024000, 'x')))
                  .error()
                  .Is(ErrorCode::kInvalidArgument));
  EXPECT_TRUE(fake.CreateConfig(Cfg("big", {}, std::string(1023999, 'x'))).ok());

  ASSERT_TRUE(fake.CreateSecret({"tls", {}, "pem"}).ok());
  EXPECT_TRUE(fake.CreateSecret({"tls", {}, "pem"}).error().Is(ErrorCode::kConflict));
  ASSERT_TRUE(fake.CreateNetwork({"sg-public", "overlay", true, {}}).ok());
  EXPECT_TRUE(
      fake.CreateNetwork({"sg-public", "overlay", true, {}}).error().Is(ErrorCode::kConflict));
}

TEST(FakeDockerClientTest, ListFilters) {
  FakeDockerClient fake;
  ASSERT_TRUE(fake.CreateConfig(Cfg("sg.route.a.1", {{"kind", "route"}, {"name", "a"}})).ok());
  ASSERT_TRUE(fake.CreateConfig(Cfg("sg.route.b.1", {{"kind", "route"}, {"name", "b"}})).ok());
  ASSERT_TRUE(fake.CreateConfig(Cfg("sg.cluster.a.1", {{"kind", "cluster"}})).ok());
  ASSERT_TRUE(fake.CreateConfig(Cfg("other")).ok());

  auto count = [&](const Filters& f) {
    auto r = fake.ListConfigs(f);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? r->size() : 0u;
  };
  EXPECT_EQ(count({}), 4u);
  EXPECT_EQ(count({{"label", {"kind"}}}), 3u);
  EXPECT_EQ(count({{"label", {"kind=route"}}}), 2u);
  EXPECT_EQ(count({{"label", {"kind=route", "name=b"}}}), 1u);  // labels AND
  EXPECT_EQ(count({{"name", {"sg.route."}}}), 2u);              // names are prefixes
  EXPECT_EQ(count({{"name", {"sg.route.a.1", "other"}}}), 2u);  // names OR
  EXPECT_EQ(count({{"name", {"route"}}}), 0u);
  auto other = fake.InspectConfig("other");
  EXPECT_EQ(count({{"id", {other->id}}}), 1u);
  auto bad = fake.ListConfigs({{"lable", {"x"}}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "Invalid filter 'lable'");

  ASSERT_TRUE(fake.CreateNetwork({"sg-public", "overlay", true, {{"o", "1"}}}).ok());
  ASSERT_TRUE(fake.CreateNetwork({"sg-control", "overlay", true, {}}).ok());
  EXPECT_EQ(fake.ListNetworks({{"name", {"public"}}})->size(), 1u);  // networks: substring
  EXPECT_EQ(fake.ListNetworks({{"label", {"o=1"}}})->size(), 1u);
  EXPECT_EQ(fake.ListNetworks({{"driver", {"overlay"}}})->size(), 2u);
}

constexpr char kWebSpec[] =
    R"({"Name":"web","Labels":{"swarmgate.io/managed-by":"swarmgate"},)"
    R"("TaskTemplate":{"ContainerSpec":{"Image":"busybox-sg:test","Args":["sleep","3600"],)"
    R"("Configs":[{"ConfigName":"proxy.conf","ConfigID":"CFGID","File":{"Name":"/c"}}]},)"
    R"("Networks":[{"Target":"sg-public"}]},"Mode":{"Replicated":{"Replicas":2}}})";

TEST(FakeDockerClientTest, ServicesResolveNetworksAndGetVips) {
  FakeDockerClient fake;
  auto net = fake.CreateNetwork({"sg-public", "overlay", true, {}});
  ASSERT_TRUE(net.ok());
  auto cfg = fake.CreateConfig(Cfg("proxy.conf"));
  std::string spec = kWebSpec;
  spec.replace(spec.find("CFGID"), 5, *cfg);

  auto id = fake.CreateService(spec);
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  auto svc = fake.InspectService("web");
  ASSERT_TRUE(svc.ok());
  EXPECT_EQ(svc->id, *id);
  EXPECT_EQ(svc->replicas, 2u);
  EXPECT_EQ(svc->network_targets, std::vector<std::string>{*net});  // name resolved to id
  ASSERT_EQ(svc->virtual_ips.size(), 1u);
  EXPECT_EQ(svc->virtual_ips[0].network_id, *net);
  EXPECT_EQ(svc->virtual_ips[0].addr, "10.0.1.2/24");
  EXPECT_NE(svc->spec_json.find(*net), std::string::npos);

  auto dup = fake.CreateService(spec);
  ASSERT_FALSE(dup.ok());
  EXPECT_TRUE(dup.error().Is(ErrorCode::kConflict));

  std::string no_net = kWebSpec;
  no_net.replace(no_net.find("sg-public"), 9, "missing");
  no_net.replace(no_net.find("\"web\""), 5, "\"web2\"");
  EXPECT_TRUE(fake.CreateService(no_net).error().Is(ErrorCode::kNotFound));
  EXPECT_TRUE(fake.CreateService(R"({"Name":"x"})").error().Is(ErrorCode::kInvalidArgument));

  // In use: neither the config nor the network can go while the service exists.
  Status rm_cfg = fake.RemoveConfig("proxy.conf");
  ASSERT_FALSE(rm_cfg.ok());
  EXPECT_EQ(rm_cfg.error().message,
            "rpc error: code = InvalidArgument desc = config 'proxy.conf' is in use by the "
            "following service: web");
  EXPECT_TRUE(fake.RemoveNetwork("sg-public").error().Is(ErrorCode::kInvalidArgument));

  // Update with CAS; VIP stays; renaming is refused.
  std::string scaled = svc->spec_json;
  scaled.replace(scaled.find("\"Replicas\":2"), 12, "\"Replicas\":5");
  ASSERT_TRUE(fake.UpdateService(*id, svc->version, scaled).ok());
  auto after = fake.InspectService(*id);
  EXPECT_EQ(after->replicas, 5u);
  EXPECT_EQ(after->virtual_ips[0].addr, "10.0.1.2/24");
  EXPECT_TRUE(fake.UpdateService(*id, svc->version, scaled).error().Is(ErrorCode::kConflict));
  std::string renamed = after->spec_json;
  renamed.replace(renamed.find("\"web\""), 5, "\"web9\"");
  EXPECT_TRUE(
      fake.UpdateService(*id, after->version, renamed).error().Is(ErrorCode::kInvalidArgument));

  ASSERT_TRUE(fake.RemoveService("web").ok());
  EXPECT_TRUE(fake.RemoveConfig("proxy.conf").ok());
  EXPECT_TRUE(fake.RemoveNetwork("sg-public").ok());
}

TEST(FakeDockerClientTest, TasksAreSetByTheTest) {
  FakeDockerClient fake;
  ASSERT_TRUE(fake.CreateNetwork({"sg-public", "overlay", true, {}}).ok());
  std::string spec = kWebSpec;
  spec.replace(spec.find("CFGID"), 5, "unused");
  auto id = fake.CreateService(spec);
  ASSERT_TRUE(id.ok());
  Task running;
  running.desired_state = "running";
  running.state = "running";
  running.networks.push_back({"n", "sg-public", {"10.0.1.5/24"}});
  Task old = running;
  old.desired_state = "shutdown";
  old.state = "shutdown";
  fake.SetTasks(*id, {running, old});

  auto all = fake.ListTasks({{"service", {"web"}}});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].service_id, *id);
  EXPECT_FALSE((*all)[0].id.empty());
  EXPECT_EQ(fake.ListTasks({{"service", {*id}}, {"desired-state", {"running"}}})->size(), 1u);
  EXPECT_TRUE(fake.ListTasks({{"service", {"nope"}}}).error().Is(ErrorCode::kNotFound));

  fake.SetServiceUpdateState(*id, "updating");
  EXPECT_EQ(fake.InspectService(*id)->update_state, "updating");
  ASSERT_TRUE(fake.RemoveService(*id).ok());
  EXPECT_TRUE(fake.ListTasks({})->empty());
}

TEST(FakeDockerClientTest, NodesAndSwarm) {
  FakeDockerClient fake;
  auto nodes = fake.ListNodes({});
  ASSERT_TRUE(nodes.ok());
  ASSERT_EQ(nodes->size(), 1u);
  Node n = nodes->front();
  EXPECT_EQ(n.role, "manager");
  EXPECT_EQ(n.state, "ready");
  ASSERT_TRUE(
      fake.UpdateNode(
              n.id, n.version,
              R"({"Labels":{"swarmgate.io/ingress":"true"},"Role":"manager","Availability":"active"})")
          .ok());
  EXPECT_EQ(fake.ListNodes({{"node.label", {"swarmgate.io/ingress=true"}}})->size(), 1u);
  EXPECT_TRUE(fake.UpdateNode(n.id, n.version, R"({"Role":"manager","Availability":"active"})")
                  .error()
                  .Is(ErrorCode::kConflict));
  Node worker;
  worker.hostname = "node-2";
  worker.role = "worker";
  worker.availability = "active";
  worker.state = "ready";
  std::string worker_id = fake.AddNode(worker);
  EXPECT_EQ(fake.ListNodes({{"role", {"worker"}}})->size(), 1u);
  EXPECT_EQ(n.manager_reachability, "reachable");

  // A status change is the engine's node update event, with the states.
  ASSERT_TRUE(fake.SetNodeStatus("node-2", "down"));
  auto workers = fake.ListNodes({{"role", {"worker"}}});
  ASSERT_EQ(workers->size(), 1u);
  EXPECT_EQ(workers->front().state, "down");
  EXPECT_EQ(workers->front().manager_reachability, "");
  std::atomic<bool> cancel{false};
  std::vector<Event> events;
  EventOptions replay;
  replay.since = "0";
  replay.filters = {{"type", {"node"}}};
  ASSERT_TRUE(fake.StreamEvents(
                      replay,
                      [&](const Event& e) {
                        events.push_back(e);
                        return e.actor_id != worker_id;
                      },
                      cancel)
                  .ok());
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().actor_id, worker_id);
  EXPECT_EQ(events.back().type, "node");
  EXPECT_EQ(events.back().action, "update");
  EXPECT_EQ(events.back().attributes.at("state.old"), "ready");
  EXPECT_EQ(events.back().attributes.at("state.new"), "down");
  ASSERT_TRUE(fake.SetNodeStatus(n.id, "ready", "unreachable"));
  EXPECT_EQ(fake.ListNodes({{"role", {"manager"}}})->front().manager_reachability, "unreachable");
  EXPECT_FALSE(fake.SetNodeStatus("nope", "down"));
  EXPECT_FALSE(fake.InspectSwarm()->id.empty());
  EXPECT_EQ(fake.Version()->api_version, "1.41");
}

TEST(FakeDockerClientTest, FailNextAndCounters) {
  FakeDockerClient fake;
  fake.FailNext("CreateConfig", Unavailable("boom"));
  auto failed = fake.CreateConfig(Cfg("a"));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().message, "boom");
  EXPECT_TRUE(fake.ListConfigs({})->empty());  // the failed call changed nothing
  EXPECT_TRUE(fake.CreateConfig(Cfg("a")).ok());

  fake.FailNext("Config", Conflict("x"), 2);
  EXPECT_FALSE(fake.ListConfigs({}).ok());
  EXPECT_FALSE(fake.InspectConfig("a").ok());
  EXPECT_TRUE(fake.InspectConfig("a").ok());

  EXPECT_EQ(fake.CallCount("CreateConfig"), 2);
  EXPECT_EQ(fake.CallCount("InspectConfig"), 2);
  EXPECT_EQ(fake.WriteCount(), 2);
  fake.ResetCounters();
  EXPECT_EQ(fake.WriteCount(), 0);
  ASSERT_TRUE(fake.ListConfigs({}).ok());
  EXPECT_EQ(fake.WriteCount(), 0);  // "no writes on the second pass"
  EXPECT_EQ(fake.CallLog(), std::vector<std::string>{"ListConfigs"});
}

TEST(FakeDockerClientTest, EventsReplayAndStream) {
  FakeDockerClient fake;
  ASSERT_TRUE(fake.CreateConfig(Cfg("a")).ok());
  ASSERT_TRUE(fake.CreateNetwork({"n", "overlay", true, {}}).ok());

  std::atomic<bool> cancel{false};
  std::vector<Event> seen;
  EventOptions replay;
  replay.since = "0";
  replay.until = "1";  // long past: replay nothing newer, return at once
  ASSERT_TRUE(fake.StreamEvents(
                      replay,
                      [&](const Event& e) {
                        seen.push_back(e);
                        return true;
                      },
                      cancel)
                  .ok());
  EXPECT_TRUE(seen.empty());

  // since=0 replays history; stop from the callback after the config event.
  replay.until.clear();
  replay.filters = {{"type", {"config"}}};
  ASSERT_TRUE(fake.StreamEvents(
                      replay,
                      [&](const Event& e) {
                        seen.push_back(e);
                        return false;
                      },
                      cancel)
                  .ok());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].type, "config");
  EXPECT_EQ(seen[0].action, "create");
  EXPECT_EQ(seen[0].attributes.at("name"), "a");
  EXPECT_EQ(seen[0].scope, "swarm");

  // Live: without since only new events arrive; cancel ends the stream.
  std::mutex mu;
  std::vector<Event> live;
  std::thread t([&] {
    EventOptions opts;
    Status st = fake.StreamEvents(
        opts,
        [&](const Event& e) {
          std::lock_guard<std::mutex> lock(mu);
          live.push_back(e);
          return true;
        },
        cancel);
    EXPECT_TRUE(st.ok());
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(fake.CreateConfig(Cfg("b")).ok());
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!live.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  cancel = true;
  t.join();
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].attributes.at("name"), "b");

  // Resume: since = the time of the first event replays everything after it.
  std::atomic<bool> no_cancel{false};
  std::vector<Event> resumed;
  EventOptions resume;
  resume.since = std::to_string(seen[0].time_nano / 1000000000) + "." +
                 std::to_string(seen[0].time_nano % 1000000000 + 1000000000).substr(1);
  ASSERT_TRUE(fake.StreamEvents(
                      resume,
                      [&](const Event& e) {
                        resumed.push_back(e);
                        return resumed.size() < 3;
                      },
                      no_cancel)
                  .ok());
  ASSERT_EQ(resumed.size(), 3u);
  EXPECT_EQ(resumed[0].attributes.at("name"), "a");
  EXPECT_EQ(resumed[2].attributes.at("name"), "b");
}

TEST(FakeDockerClientTest, ConcurrentWritersKeepNamesUnique) {
  FakeDockerClient fake;
  std::atomic<int> created{0}, conflicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto r = fake.CreateConfig(Cfg("c" + std::to_string(i)));
        if (r.ok()) {
          ++created;
        } else if (r.error().Is(ErrorCode::kConflict)) {
          ++conflicts;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 50);
  EXPECT_EQ(conflicts.load(), 350);
}

}  // namespace
}  // namespace sg::docker
