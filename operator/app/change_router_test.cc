#include "operator/app/change_router.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace sg::app {
namespace {

using TimePoint = runtime::Clock::TimePoint;

struct Recorded {
  std::string sink;  // route | cluster | all | service_changed
  std::string name;
  std::string trigger;
  TimePoint time{};

  bool operator==(const Recorded& o) const {
    return sink == o.sink && name == o.name && trigger == o.trigger && time == o.time;
  }
};

void PrintTo(const Recorded& r, std::ostream* os) {
  *os << r.sink << "(" << r.name << ", " << r.trigger << ")";
}

class ChangeRouterTest : public ::testing::Test {
 protected:
  ChangeRouterTest() {
    index_.Set("public", {"shop", "web"}, {"shop-route"});
    index_.Set("internal", {"shop"}, {"api"});
  }

  ChangeSinks Sinks() {
    ChangeSinks s;
    s.route = [this](const std::string& n, const runtime::Trigger& t) {
      calls_.push_back({"route", n, t.name, t.time});
    };
    s.cluster = [this](const std::string& n, const runtime::Trigger& t) {
      calls_.push_back({"cluster", n, t.name, t.time});
    };
    s.all_clusters = [this](const runtime::Trigger& t) {
      calls_.push_back({"all", "", t.name, t.time});
    };
    s.service_changed = [this](const std::string& n) {
      calls_.push_back({"service_changed", n, "", TimePoint{}});
    };
    return s;
  }

  static docker::Event Event(const std::string& type, const std::string& name,
                             const std::string& action = "update") {
    docker::Event e;
    e.type = type;
    e.action = action;
    e.actor_id = "id-" + name;
    e.attributes["name"] = name;
    e.scope = "swarm";
    return e;
  }

  reconcilers::ClusterIndex index_;
  std::vector<Recorded> calls_;
  const TimePoint now_ = TimePoint(std::chrono::seconds(42));
};

TEST_F(ChangeRouterTest, ConfigEventsOfResourcesBecomeKeys) {
  struct Case {
    std::string config;
    std::vector<Recorded> want;
  };
  const std::vector<Case> cases = {
      {"sg.route.x.3", {{"route", "x", "route", now_}}},
      {"sg.cluster.y.1", {{"cluster", "y", "servicecluster", now_}}},
      {"sg.route.shop-api.12", {{"route", "shop-api", "route", now_}}},
      {"sg.proxy.public.0123456789ab", {}},
      {"sg.lease.operator.1", {}},
      {"app-config", {}},
      {"sg.route.", {}},
      {"sg.route", {}},
      {"", {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.config);
    calls_.clear();
    ChangeRouter router(index_, Sinks());
    router.OnEvent(Event("config", c.config, "create"), now_);
    EXPECT_EQ(calls_, c.want);
  }
}

TEST_F(ChangeRouterTest, StatusLabelUpdatesOfResourceConfigsAreIgnored) {
  ChangeRouter router(index_, Sinks());
  router.OnEvent(Event("config", "sg.route.x.3", "update"), now_);
  router.OnEvent(Event("config", "sg.cluster.y.1", "update"), now_);
  EXPECT_TRUE(calls_.empty());
  router.OnEvent(Event("config", "sg.route.x.3", "remove"), now_);
  EXPECT_EQ(calls_, (std::vector<Recorded>{{"route", "x", "route", now_}}));
}

TEST_F(ChangeRouterTest, BackendServiceEventEnqueuesItsClusters) {
  ChangeRouter router(index_, Sinks());
  router.OnEvent(Event("service", "shop"), now_);
  EXPECT_EQ(calls_, (std::vector<Recorded>{{"service_changed", "shop", "", TimePoint{}},
                                           {"cluster", "internal", "service", now_},
                                           {"cluster", "public", "service", now_}}));

  calls_.clear();
  router.OnEvent(Event("service", "web", "remove"), now_);
  EXPECT_EQ(calls_, (std::vector<Recorded>{{"service_changed", "web", "", TimePoint{}},
                                           {"cluster", "public", "service", now_}}));
}

TEST_F(ChangeRouterTest, UnknownServiceOnlyMarksItChanged) {
  ChangeRouter router(index_, Sinks());
  router.OnEvent(Event("service", "unrelated"), now_);
  EXPECT_EQ(calls_, (std::vector<Recorded>{{"service_changed", "unrelated", "", TimePoint{}}}));
}

TEST_F(ChangeRouterTest, ProxyServiceEventEnqueuesItsCluster) {
  ChangeRouter router(index_, Sinks());
  router.OnEvent(Event("service", "sg-proxy-c"), now_);
  EXPECT_EQ(calls_, (std::vector<Recorded>{{"cluster", "c", "service", now_},
                                           {"service_changed", "sg-proxy-c", "", TimePoint{}}}));
}

TEST_F(ChangeRouterTest, ServiceChangedSinkIsOptional) {
  auto sinks = Sinks();
  sinks.service_changed = nullptr;
  ChangeRouter router(index_, sinks);
  router.OnEvent(Event("service", "sg-proxy-c"), now_);
  router.OnEvent(Event("service", "web"), now_);
  EXPECT_EQ(calls_, (std::vector<Recorded>{{"cluster", "c", "service", now_},
                                           {"cluster", "public", "service", now_}}));
}

TEST_F(ChangeRouterTest, NetworkSecretAndNodeEventsReachEveryCluster) {
  struct Case {
    std::string type;
    std::string trigger;
  };
  for (const auto& c :
       std::vector<Case>{{"network", "service"}, {"secret", "service"}, {"node", "task"}}) {
    SCOPED_TRACE(c.type);
    calls_.clear();
    ChangeRouter router(index_, Sinks());
    router.OnEvent(Event(c.type, "something"), now_);
    EXPECT_EQ(calls_, (std::vector<Recorded>{{"all", "", c.trigger, now_}}));
  }
}

TEST_F(ChangeRouterTest, OtherEventTypesAreIgnored) {
  ChangeRouter router(index_, Sinks());
  router.OnEvent(Event("container", "shop.1.abc"), now_);
  router.OnEvent(Event("volume", "data"), now_);
  EXPECT_TRUE(calls_.empty());
}

TEST_F(ChangeRouterTest, TaskChangesEnqueueClustersWithTaskTrigger) {
  ChangeRouter router(index_, Sinks());
  router.OnTasksChanged("shop", now_);
  EXPECT_EQ(calls_, (std::vector<Recorded>{{"cluster", "internal", "task", now_},
                                           {"cluster", "public", "task", now_}}));
  calls_.clear();
  router.OnTasksChanged("sg-proxy-public", now_);
  EXPECT_EQ(calls_, (std::vector<Recorded>{{"cluster", "public", "task", now_}}));
  calls_.clear();
  router.OnTasksChanged("unrelated", now_);
  EXPECT_TRUE(calls_.empty());
}

}  // namespace
}  // namespace sg::app
