#include "reconcilers/dataplane/checked_config.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace sg::dataplane {
namespace {

// Renders one line per route of the model ("route NAME") and rejects the
// lines of the routes in `reject`, naming the line like nginx does.
class ScriptedPlane : public DataPlane {
 public:
  std::string Engine() const override { return "scripted"; }
  EngineConfig Render(const TrafficModel& model) const override {
    EngineConfig out;
    out.text = "global\n";
    out.route_of_line.push_back("");
    for (const auto& s : model.servers) {
      for (const auto& l : s.locations) {
        out.text += "route " + l.route + "\n";
        out.route_of_line.push_back(l.route);
      }
    }
    return out;
  }
  CheckOutcome Check(const TrafficModel&, const EngineConfig& config) override {
    ++checks;
    if (reject_global) return {InvalidArgument("bad global setting in x.conf:1"), ""};
    for (size_t i = 0; i < config.route_of_line.size(); ++i) {
      if (reject.count(config.route_of_line[i])) {
        return {InvalidArgument("bad line " + std::to_string(i + 1)), config.route_of_line[i]};
      }
    }
    return {OkStatus(), ""};
  }
  // A configuration that only adds lines to a checked one is covered by its check.
  bool CoveredByCheckOf(const EngineConfig& checked, const EngineConfig& next) const override {
    return next.text.rfind(checked.text, 0) == 0;
  }
  // Routes the engine cannot express, whatever their lines.
  CheckOutcome CheckModel(const TrafficModel& model) override {
    for (const auto& s : model.servers) {
      for (const auto& l : s.locations) {
        if (inexpressible.count(l.route)) {
          return {InvalidArgument("route \"" + l.route + "\": cannot"), l.route};
        }
      }
    }
    return {OkStatus(), ""};
  }
  std::set<std::string> reject;
  std::set<std::string> inexpressible;
  bool reject_global = false;
  int checks = 0;
};

// A model with one location per route name not in `excluded`.
ModelBuilder Routes(std::vector<std::string> names) {
  return [names](const std::map<std::string, std::string>& excluded) {
    reconcilers::BuildResult r;
    model::Server server;
    for (const auto& n : names) {
      if (excluded.count(n)) {
        r.routes[n].reason = reconcilers::kReasonInvalidConfig;
        continue;
      }
      model::Location l;
      l.route = n;
      server.locations.push_back(l);
      r.routes[n].served = true;
    }
    r.model.servers.push_back(server);
    return r;
  };
}

TEST(CheckedConfigTest, AcceptedConfigIsCheckedOnce) {
  ScriptedPlane plane;
  auto c = BuildCheckedConfig(Routes({"a", "b"}), plane);
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_TRUE(c->checked);
  EXPECT_TRUE(c->excluded.empty());
  EXPECT_EQ(plane.checks, 1);
  EXPECT_EQ(c->config.text, "global\nroute a\nroute b\n");
  EXPECT_EQ(c->hash.size(), 64u);
}

TEST(CheckedConfigTest, RejectedRoutesAreLeftOutWithTheEnginesMessage) {
  ScriptedPlane plane;
  plane.reject = {"a", "c"};
  auto c = BuildCheckedConfig(Routes({"a", "b", "c"}), plane);
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->config.text, "global\nroute b\n");
  ASSERT_EQ(c->excluded.size(), 2u);
  EXPECT_EQ(c->excluded.at("a"), "bad line 2");
  EXPECT_EQ(c->excluded.at("c"), "bad line 3");
  EXPECT_EQ(plane.checks, 3);
  EXPECT_FALSE(c->built.routes.at("a").served);
}

TEST(CheckedConfigTest, KnownGoodHashSkipsTheCheck) {
  ScriptedPlane plane;
  auto first = BuildCheckedConfig(Routes({"a"}), plane);
  ASSERT_TRUE(first.ok());
  CheckOptions options;
  options.known_good_hash = first->hash;
  int renders = 0;
  options.on_render = [&](double) { ++renders; };
  auto again = BuildCheckedConfig(Routes({"a"}), plane, options);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->checked);
  EXPECT_EQ(plane.checks, 1);
  EXPECT_EQ(renders, 1);
}

TEST(CheckedConfigTest, AConfigurationTheKnownGoodOneCoversIsNotChecked) {
  ScriptedPlane plane;
  auto first = BuildCheckedConfig(Routes({"a"}), plane);
  ASSERT_TRUE(first.ok());
  CheckOptions options;
  options.known_good = std::make_shared<const EngineConfig>(first->config);
  auto covered = BuildCheckedConfig(Routes({"a", "b"}), plane, options);
  ASSERT_TRUE(covered.ok());
  EXPECT_FALSE(covered->checked);
  EXPECT_EQ(plane.checks, 1);
  // Not covered: checked.
  auto other = BuildCheckedConfig(Routes({"b"}), plane, options);
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->checked);
  EXPECT_EQ(plane.checks, 2);
}

// A renderer may leave out what its engine cannot do, so a text the known
// good one covers, or the known good text itself, still has its model checked.
TEST(CheckedConfigTest, WhatTheEngineCannotExpressIsRefusedEvenWhenTheTextIsCovered) {
  ScriptedPlane plane;
  auto first = BuildCheckedConfig(Routes({"a"}), plane);
  ASSERT_TRUE(first.ok());
  plane.inexpressible = {"b"};
  CheckOptions options;
  options.known_good = std::make_shared<const EngineConfig>(first->config);
  auto covered = BuildCheckedConfig(Routes({"a", "b"}), plane, options);
  ASSERT_TRUE(covered.ok()) << covered.error().ToString();
  ASSERT_EQ(covered->excluded.size(), 1u);
  EXPECT_EQ(covered->excluded.at("b"), "route \"b\": cannot");
  EXPECT_EQ(covered->config.text, "global\nroute a\n");
  plane.inexpressible = {"a"};
  CheckOptions same;
  same.known_good_hash = first->hash;
  auto again = BuildCheckedConfig(Routes({"a"}), plane, same);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->excluded.count("a"), 1u);
}

TEST(CheckedConfigTest, NothingToBlameIsAnErrorNamingTheEngine) {
  ScriptedPlane plane;
  plane.reject_global = true;
  auto c = BuildCheckedConfig(Routes({"a"}), plane);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("scripted rejected the configuration: bad global setting"),
            std::string::npos)
      << c.error().message;
}

TEST(CheckedConfigTest, TooManyCulpritsStopsAfterTheBound) {
  ScriptedPlane plane;
  plane.reject = {"a", "b", "c", "d", "e"};
  CheckOptions options;
  options.max_exclusions = 2;
  auto c = BuildCheckedConfig(Routes({"a", "b", "c", "d", "e"}), plane, options);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(plane.checks, 3);
}

}  // namespace
}  // namespace sg::dataplane
