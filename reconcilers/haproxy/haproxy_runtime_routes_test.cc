// Routes added and removed through the runtime API: PlanRuntimeChanges on
// configurations the real renderer wrote, and the map edits it plans.

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "operator/testing/sample_traffic_models.h"
#include "reconcilers/haproxy/haproxy_map_changes.h"
#include "reconcilers/haproxy/haproxy_renderer.h"
#include "reconcilers/haproxy/haproxy_server_changes.h"

namespace sg::haproxy {
namespace {

using namespace std::chrono_literals;
using model::Location;
using model::TrafficModel;
using samples::Loc;
using samples::Resolved;
using samples::Srv;
using samples::Up;

const std::vector<std::string> kTasks = {"10.0.7.2:8080", "10.0.7.3:8080"};

// Routes to one service, each with its own host, all plain.
TrafficModel Routes(const std::vector<std::string>& names,
                    const std::vector<std::string>& tasks = kTasks) {
  TrafficModel m;
  for (const std::string& name : names) {
    m.upstreams.push_back(Up(name, tasks));
    m.servers.push_back(Srv({name + ".example.com"}, {Loc(name, "/", {{name, 1, false}})}));
  }
  return m;
}

std::string Render(const TrafficModel& m, int spares = 2) {
  RenderOptions options;
  options.spare_backends = spares;
  return RenderHaproxyConfig(Resolved(m), options);
}

std::vector<std::string> Commands(const RuntimeChanges& c) { return MapEditCommands(c.maps); }

std::string FileOf(const std::string& text, const std::string& kind) {
  return LoadedNames(text).files.at(kind);
}

// The id the hosts map of `text` gives `host`.
std::string HostId(const std::string& text, const std::string& host) {
  const std::string line = "#@ " + host + " ";
  const size_t at = text.find(line);
  if (at == std::string::npos) return "(no " + host + ")";
  const size_t begin = at + line.size();
  return text.substr(begin, text.find('\n', begin) - begin);
}

TEST(PlanRuntimeChanges, ANewPlainRouteTakesASpareBackendAndMapEntries) {
  const std::string from = Render(Routes({"docs", "shop"}));
  const std::string to = Render(Routes({"docs", "shop", "wiki"}));
  const auto c = PlanRuntimeChanges(from, to, LoadedNames(from));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->taken, (std::map<std::string, std::string>{{"wiki", "sg:spare:2:0"}}));
  EXPECT_TRUE(c->retired.empty());
  // Its servers go into the spare, each with its own check: the renderer
  // has them track docs' servers, which a dynamic server cannot.
  ASSERT_EQ(c->servers.added.size(), 2u);
  for (const ServerLine& s : c->servers.added) {
    EXPECT_EQ(s.backend, "sg:spare:2:0");
    EXPECT_NE(s.params.find(" check inter 2s"), std::string::npos) << s.params;
    EXPECT_EQ(s.params.find("track"), std::string::npos) << s.params;
  }
  EXPECT_TRUE(c->servers.removed.empty());
  // Backend, then context root, then host: never a host without its route.
  const std::string host_id = HostId(to, "wiki.example.com");
  const std::vector<std::string> want = {
      "add map " + FileOf(from, "sg-backends.map") + " wiki sg:spare:2:0",
      "add map " + FileOf(from, "sg-paths.map") + " " + host_id + "/ wiki",
      "add map " + FileOf(from, "sg-hosts.map") + " wiki.example.com " + host_id,
  };
  EXPECT_EQ(Commands(*c), want);
}

TEST(PlanRuntimeChanges, LaterChangesUseTheNamesHaproxyKnows) {
  const std::string loaded = Render(Routes({"docs"}));
  RuntimeNames names = LoadedNames(loaded);
  const std::string one = Render(Routes({"docs", "shop"}));
  auto first = PlanRuntimeChanges(loaded, one, names);
  ASSERT_TRUE(first.has_value());
  first->ApplyTo(&names);
  EXPECT_EQ(names.backends.at("shop"), "sg:spare:2:0");

  // The text's map names changed with their content; HAProxy still has the
  // loaded ones. A second route takes the next spare.
  const std::string two = Render(Routes({"docs", "shop", "wiki"}));
  auto second = PlanRuntimeChanges(one, two, names);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->taken.at("wiki"), "sg:spare:2:1");
  for (const std::string& command : Commands(*second)) {
    EXPECT_TRUE(command.find(FileOf(loaded, "sg-hosts.map")) != std::string::npos ||
                command.find(FileOf(loaded, "sg-paths.map")) != std::string::npos ||
                command.find(FileOf(loaded, "sg-backends.map")) != std::string::npos)
        << command;
  }
  second->ApplyTo(&names);

  // A task of shop's service rolls: shop's servers change in its spare.
  const std::vector<std::string> rolled = {"10.0.7.2:8080", "10.0.7.9:8080"};
  TrafficModel m = Routes({"docs", "shop", "wiki"});
  for (auto& u : m.upstreams) {
    if (u.name == "shop") u = Up("shop", rolled);
  }
  const std::string three = Render(m);
  const auto roll = PlanRuntimeChanges(two, three, names);
  ASSERT_TRUE(roll.has_value());
  ASSERT_EQ(roll->servers.added.size(), 1u);
  EXPECT_EQ(roll->servers.added[0].backend, "sg:spare:2:0");
  ASSERT_EQ(roll->servers.removed.size(), 1u);
  EXPECT_EQ(roll->servers.removed[0].backend, "sg:spare:2:0");
  EXPECT_TRUE(roll->maps.empty());

  // No spare of that kind left: a reload.
  const std::string four = Render(Routes({"docs", "shop", "wiki", "zeta"}));
  EXPECT_FALSE(PlanRuntimeChanges(two, four, names).has_value());
}

TEST(PlanRuntimeChanges, AOneTaskRouteTakesASpareOfItsKind) {
  TrafficModel m = Routes({"docs"});
  const std::string from = Render(m);
  m.upstreams.push_back(Up("solo", {"10.0.9.2:8080"}));
  m.servers.push_back(Srv({"solo.example.com"}, {Loc("solo", "/", {{"solo", 1, false}})}));
  const auto c = PlanRuntimeChanges(from, Render(m), LoadedNames(from));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->taken.at("solo"), "sg:spare:1:0");
}

TEST(PlanRuntimeChanges, ARouteWithSettingsOfItsOwnIsAReload) {
  TrafficModel m = Routes({"docs"});
  const std::string from = Render(m);
  m.upstreams.push_back(Up("slow", kTasks));
  Location slow = Loc("slow", "/", {{"slow", 1, false}});
  slow.timeouts.read = 120s;
  m.servers.push_back(Srv({"slow.example.com"}, {slow}));
  EXPECT_FALSE(PlanRuntimeChanges(from, Render(m), LoadedNames(from)).has_value());
  // Without spares, every new route is a reload.
  EXPECT_FALSE(PlanRuntimeChanges(Render(Routes({"docs"}), 0), Render(Routes({"docs", "shop"}), 0),
                                  LoadedNames(Render(Routes({"docs"}), 0)))
                   .has_value());
}

TEST(PlanRuntimeChanges, ARemovedRouteLosesItsEntriesAndCannotComeBackWithoutAReload) {
  const std::string from = Render(Routes({"docs", "shop", "wiki"}));
  const std::string to = Render(Routes({"docs", "shop"}));
  RuntimeNames names = LoadedNames(from);
  auto c = PlanRuntimeChanges(from, to, names);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->retired, std::vector<std::string>{"wiki"});
  EXPECT_TRUE(c->servers.empty());  // unreachable; it goes at the next reload
  const std::string host_id = HostId(from, "wiki.example.com");
  const std::vector<std::string> want = {
      "del map " + FileOf(from, "sg-hosts.map") + " wiki.example.com",
      "del map " + FileOf(from, "sg-paths.map") + " " + host_id + "/",
      "del map " + FileOf(from, "sg-backends.map") + " wiki",
  };
  EXPECT_EQ(Commands(*c), want);
  c->ApplyTo(&names);
  // HAProxy still holds the old backend "wiki" with its old servers.
  EXPECT_FALSE(PlanRuntimeChanges(to, from, names).has_value());
}

TEST(PlanRuntimeChanges, AServerWhoseCheckMovesToAnotherBackendIsLeftAsItIs) {
  // "aaa" sorts first, so the renderer gives its servers the checks and
  // docs' servers now track them: the same health, from another server.
  const std::string from = Render(Routes({"docs"}));
  const std::string to = Render(Routes({"aaa", "docs"}));
  ASSERT_NE(to.find("track aaa/"), std::string::npos);
  const auto c = PlanRuntimeChanges(from, to, LoadedNames(from));
  ASSERT_TRUE(c.has_value());
  for (const ServerLine& s : c->servers.added) EXPECT_EQ(s.backend, "sg:spare:2:0");
  EXPECT_TRUE(c->servers.removed.empty());
  EXPECT_TRUE(c->servers.reweighted.empty());
}

TEST(PlanRuntimeChanges, FrontEndChangesAreAReload) {
  // The first websocket route adds a rule that names the websocket list.
  TrafficModel m = Routes({"docs"});
  const std::string from = Render(m);
  m.upstreams.push_back(Up("chat", kTasks));
  Location chat = Loc("chat", "/", {{"chat", 1, false}});
  chat.websocket = true;
  m.servers.push_back(Srv({"chat.example.com"}, {chat}));
  EXPECT_FALSE(PlanRuntimeChanges(from, Render(m), LoadedNames(from)).has_value());
}

TEST(SideFileKind, DropsTheContentHash) {
  EXPECT_EQ(SideFileKind("sg-hosts.1a2b3c4d.map"), "sg-hosts.map");
  EXPECT_EQ(SideFileKind("sg-https.00000000.lst"), "sg-https.lst");
  EXPECT_EQ(SideFileKind("sg-paths.map"), "sg-paths.map");
  EXPECT_EQ(SideFileKind("sg-x.notahash.map"), "sg-x.notahash.map");
}

TEST(PlanMapEdits, TranslatesBackendsAndRefusesWhatItCannotOrder) {
  const std::vector<SideFile> from = {{"sg-backends.11111111.map", "a a\n"},
                                      {"sg-websocket.22222222.lst", "a\n"}};
  const std::vector<SideFile> to = {{"sg-backends.33333333.map", "a a\nb b\n"},
                                    {"sg-websocket.44444444.lst", "b\n"}};
  const std::map<std::string, std::string> loaded = {
      {"sg-backends.map", "sg-backends.11111111.map"},
      {"sg-websocket.lst", "sg-websocket.22222222.lst"}};
  const auto edits = PlanMapEdits(from, to, loaded, {{"b", "sg:spare:2:0"}});
  ASSERT_TRUE(edits.has_value());
  const std::vector<std::string> want = {
      "add acl sg-websocket.22222222.lst b",
      "add map sg-backends.11111111.map b sg:spare:2:0",
      "del acl sg-websocket.22222222.lst a",
  };
  EXPECT_EQ(MapEditCommands(*edits), want);

  // A changed value is a set.
  const auto set = PlanMapEdits({{"sg-paths.1.map", "h1/ a\n"}}, {{"sg-paths.2.map", "h1/ b\n"}},
                                {{"sg-paths.map", "sg-paths.1.map"}}, {});
  ASSERT_TRUE(set.has_value());
  EXPECT_EQ(MapEditCommands(*set), std::vector<std::string>{"set map sg-paths.1.map h1/ b"});

  // A key twice, a kind only one side has, an unknown kind, a file HAProxy
  // did not load.
  EXPECT_FALSE(PlanMapEdits(from, {{"sg-backends.3.map", "a a\na b\n"}, to[1]}, loaded, {}));
  EXPECT_FALSE(PlanMapEdits(from, {to[0]}, loaded, {}));
  EXPECT_FALSE(PlanMapEdits({{"sg-other.1.map", "a\n"}}, {{"sg-other.2.map", "b\n"}},
                            {{"sg-other.map", "sg-other.1.map"}}, {}));
  EXPECT_FALSE(PlanMapEdits(from, to, {}, {}));
}

TEST(CheckMapEdits, ComparesWithWhatHaproxyShows) {
  const auto shown =
      ParseShowMap("0x5581d1a0 wiki.example.com h1\n0x5581d1b0 docs.example.com h2\n\n");
  ASSERT_EQ(shown.size(), 2u);
  EXPECT_EQ(shown.at("wiki.example.com"), "h1");
  const std::vector<MapEdit> edits = {
      {MapEdit::Op::kAdd, false, "m", "wiki.example.com", "h1"},
      {MapEdit::Op::kDel, false, "m", "old.example.com", "h3"},
  };
  EXPECT_EQ(CheckMapEdits(edits, {{"m", shown}}), "");
  const std::vector<MapEdit> wrong = {
      {MapEdit::Op::kSet, false, "m", "wiki.example.com", "h9"},
      {MapEdit::Op::kDel, false, "m", "docs.example.com", "h2"},
      {MapEdit::Op::kAdd, true, "l", "x", ""},
  };
  EXPECT_EQ(CheckMapEdits(wrong, {{"m", shown}}),
            "m maps wiki.example.com to h1, not h9; m still has docs.example.com; l has no x");
  EXPECT_TRUE(MapCommandSucceeded("\n"));
  EXPECT_FALSE(MapCommandSucceeded("Key not found.\n"));
}

}  // namespace
}  // namespace sg::haproxy
