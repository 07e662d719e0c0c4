#include "operator/delivery/config_hub.h"

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "operator/agent/http_client.h"
#include "operator/metrics/registry.h"
#include "operator/metrics/swarmgate_metrics.h"

namespace sg::delivery {
namespace {

using namespace std::chrono_literals;
using agent::HttpCall;
using agent::HttpClient;
using agent::HttpEndpoint;
using agent::HttpReply;

// Every wait in these tests ends long before this unless something is broken.
constexpr auto kDeadline = 15s;

template <class Pred>
bool Eventually(Pred pred) {
  const auto end = std::chrono::steady_clock::now() + kDeadline;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

class ConfigHubTest : public ::testing::Test {
 protected:
  ConfigHubTest() : metrics_(registry_), hub_(clock_, metrics_) {}

  std::uint64_t ConvergenceCount(const std::string& cluster, const std::string& trigger) {
    return metrics_.convergence_seconds.WithLabels({cluster, trigger}).Snap().count;
  }
  double Reloads(const std::string& cluster, const std::string& result) {
    return metrics_.proxy_reloads_total.WithLabels({cluster, result}).Value();
  }

  runtime::FakeClock clock_;
  metrics::Registry registry_;
  metrics::SwarmgateMetrics metrics_;
  ConfigHub hub_;
};

TEST_F(ConfigHubTest, PublishDeduplicatesAndIncrementsGenerations) {
  EXPECT_EQ(hub_.Generation("web"), 0);
  EXPECT_EQ(hub_.Publish("web", "a", "route", clock_.Now()), 1);
  EXPECT_EQ(hub_.Publish("web", "a", "service", clock_.Now()), 1);
  EXPECT_EQ(hub_.Publish("web", "b", "service", clock_.Now()), 2);
  EXPECT_EQ(hub_.Publish("web", "a", "task", clock_.Now()), 3);
  EXPECT_EQ(hub_.Generation("web"), 3);
  EXPECT_EQ(metrics_.proxy_config_generation.WithLabels({"web"}).Value(), 3);
  // Clusters have their own generations.
  EXPECT_EQ(hub_.Publish("admin", "a", "route", clock_.Now()), 1);
  EXPECT_EQ(hub_.Generation("web"), 3);
  EXPECT_NE(registry_.Serialize().find("swarmgate_proxy_config_generation{cluster=\"web\"} 3"),
            std::string::npos);
}

TEST_F(ConfigHubTest, ConvergenceObservedOnlyWhenEveryExpectedProxyServes) {
  hub_.SetExpectedProxies("web", {"p1", "p2"});
  const auto t0 = clock_.Now();
  hub_.Publish("web", "conf1", "route", t0);
  clock_.Advance(2s);
  ASSERT_TRUE(hub_.Report("web", "p1", 1, true, "").ok());
  EXPECT_EQ(ConvergenceCount("web", "route"), 0u);
  EXPECT_EQ(hub_.ServedGeneration("web"), 0);
  clock_.Advance(1s);
  ASSERT_TRUE(hub_.Report("web", "p2", 1, true, "").ok());
  const auto snap = metrics_.convergence_seconds.WithLabels({"web", "route"}).Snap();
  EXPECT_EQ(snap.count, 1u);
  EXPECT_DOUBLE_EQ(snap.sum, 3.0);
  EXPECT_EQ(hub_.ServedGeneration("web"), 1);
  // Observed once: a repeated report changes nothing.
  ASSERT_TRUE(hub_.Report("web", "p2", 1, true, "").ok());
  EXPECT_EQ(ConvergenceCount("web", "route"), 1u);
}

TEST_F(ConfigHubTest, TheReportThatConvergesTheClusterIsAnnouncedOnce) {
  std::vector<std::string> served;
  hub_.SetOnServed([&](const std::string& cluster) { served.push_back(cluster); });
  hub_.SetExpectedProxies("web", {"p1", "p2"});
  hub_.Publish("web", "conf1", "route", clock_.Now());
  hub_.Publish("web", "conf2", "route", clock_.Now());
  ASSERT_TRUE(hub_.Report("web", "p1", 2, true, "").ok());
  ASSERT_TRUE(hub_.Report("web", "p2", 1, true, "").ok());  // an older one
  EXPECT_TRUE(served.empty());
  ASSERT_TRUE(hub_.Report("web", "p2", 2, false, "refused").ok());
  EXPECT_TRUE(served.empty());
  ASSERT_TRUE(hub_.Report("web", "p2", 2, true, "").ok());
  EXPECT_EQ(served, std::vector<std::string>{"web"});
  ASSERT_TRUE(hub_.Report("web", "p2", 2, true, "").ok());
  ASSERT_TRUE(hub_.Report("web", "p1", 2, true, "").ok());
  EXPECT_EQ(served.size(), 1u);
}

TEST_F(ConfigHubTest, ConvergenceOfSkippedGenerationsWithTheirOwnTriggers) {
  hub_.SetExpectedProxies("web", {"p1"});
  hub_.Publish("web", "conf1", "route", clock_.Now());
  clock_.Advance(1s);
  hub_.Publish("web", "conf2", "task", clock_.Now());
  clock_.Advance(1s);
  // The proxy jumps straight to generation 2: both changes are served.
  ASSERT_TRUE(hub_.Report("web", "p1", 2, true, "").ok());
  auto route = metrics_.convergence_seconds.WithLabels({"web", "route"}).Snap();
  auto task = metrics_.convergence_seconds.WithLabels({"web", "task"}).Snap();
  EXPECT_EQ(route.count, 1u);
  EXPECT_DOUBLE_EQ(route.sum, 2.0);
  EXPECT_EQ(task.count, 1u);
  EXPECT_DOUBLE_EQ(task.sum, 1.0);
}

TEST_F(ConfigHubTest, RepublishingSameTextKeepsEarliestTrigger) {
  hub_.SetExpectedProxies("web", {"p1"});
  const auto early = clock_.Now();
  clock_.Advance(5s);
  hub_.Publish("web", "conf1", "resync", clock_.Now());
  hub_.Publish("web", "conf1", "service", early);
  ASSERT_TRUE(hub_.Report("web", "p1", 1, true, "").ok());
  EXPECT_EQ(ConvergenceCount("web", "resync"), 0u);
  auto snap = metrics_.convergence_seconds.WithLabels({"web", "service"}).Snap();
  EXPECT_EQ(snap.count, 1u);
  EXPECT_DOUBLE_EQ(snap.sum, 5.0);
}

TEST_F(ConfigHubTest, RemovingALaggingProxyCompletesConvergence) {
  hub_.SetExpectedProxies("web", {"p1", "p2"});
  hub_.Publish("web", "conf1", "route", clock_.Now());
  ASSERT_TRUE(hub_.Report("web", "p1", 1, true, "").ok());
  EXPECT_EQ(ConvergenceCount("web", "route"), 0u);
  hub_.SetExpectedProxies("web", {"p1"});  // p2's task went away
  EXPECT_EQ(ConvergenceCount("web", "route"), 1u);
  // A proxy that never reported and is no longer expected is forgotten.
  auto states = hub_.ProxyStates("web");
  ASSERT_EQ(states.size(), 1u);
  EXPECT_EQ(states[0].id, "p1");
}

TEST_F(ConfigHubTest, FailedReportIsNotServingAndCountsReloads) {
  hub_.SetExpectedProxies("web", {"p1"});
  hub_.Publish("web", "conf1", "route", clock_.Now());
  ASSERT_TRUE(hub_.Report("web", "p1", 1, true, "").ok());
  hub_.Publish("web", "bad", "route", clock_.Now());
  ASSERT_TRUE(hub_.Report("web", "p1", 2, false, "[emerg] unknown directive").ok());
  ASSERT_TRUE(hub_.Report("web", "p1", 2, false, "[emerg] unknown directive").ok());  // retry
  EXPECT_EQ(Reloads("web", "success"), 1);
  EXPECT_EQ(Reloads("web", "failure"), 1);
  EXPECT_EQ(hub_.ServedGeneration("web"), 1);
  EXPECT_EQ(ConvergenceCount("web", "route"), 1u);
  auto states = hub_.ProxyStates("web");
  ASSERT_EQ(states.size(), 1u);
  EXPECT_EQ(states[0].generation, 1);
  EXPECT_FALSE(states[0].last_ok);
  EXPECT_EQ(states[0].failed_generation, 2);
  EXPECT_EQ(states[0].last_error, "[emerg] unknown directive");
  EXPECT_TRUE(states[0].expected);
  EXPECT_NE(states[0].last_report, runtime::Clock::WallTimePoint{});
  // A later good generation clears the error.
  hub_.Publish("web", "conf3", "route", clock_.Now());
  ASSERT_TRUE(hub_.Report("web", "p1", 3, true, "").ok());
  states = hub_.ProxyStates("web");
  EXPECT_TRUE(states[0].last_error.empty());
  EXPECT_EQ(Reloads("web", "success"), 2);
  EXPECT_FALSE(hub_.Report("nope", "p1", 1, true, "").ok());
}

TEST_F(ConfigHubTest, ReportAboveCurrentGenerationIsNotServing) {
  // A proxy that served generation 7 of a previous operator process.
  hub_.SetExpectedProxies("web", {"p1"});
  hub_.Publish("web", "conf1", "resync", clock_.Now());
  ASSERT_TRUE(hub_.Report("web", "p1", 7, true, "").ok());
  EXPECT_EQ(hub_.ServedGeneration("web"), 0);
  EXPECT_EQ(ConvergenceCount("web", "resync"), 0u);
}

TEST_F(ConfigHubTest, ForgetDropsClusterAndSeries) {
  hub_.Publish("web", "conf1", "route", clock_.Now());
  hub_.Forget("web");
  EXPECT_EQ(hub_.Generation("web"), 0);
  EXPECT_EQ(registry_.Serialize().find("cluster=\"web\""), std::string::npos);
}

TEST(Sha256HexTest, KnownVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(ConfigHubTest, ProxiesNotHeardFromSinceTheStartAreAwaitedForAWhile) {
  hub_.SetExpectedProxies("web", {"p1", "p2"});
  hub_.Publish("web", "conf1", "resync", clock_.Now());
  EXPECT_TRUE(hub_.AwaitingProxies("web"));
  ASSERT_TRUE(hub_.Report("web", "p1", 1, true, "").ok());
  EXPECT_TRUE(hub_.AwaitingProxies("web"));
  ASSERT_TRUE(hub_.Report("web", "p2", 1, false, "refused").ok());
  EXPECT_FALSE(hub_.AwaitingProxies("web"));

  // A proxy that never shows up is not awaited forever.
  hub_.SetExpectedProxies("admin", {"p3"});
  hub_.Publish("admin", "conf1", "resync", clock_.Now());
  EXPECT_TRUE(hub_.AwaitingProxies("admin"));
  clock_.Advance(16s);
  EXPECT_FALSE(hub_.AwaitingProxies("admin"));
}

// A proxy serves something once it polled naming a text or reported one; a
// new proxy that polled with nothing to name does not, nor does a cluster
// that expects none.
TEST_F(ConfigHubTest, EveryProxyServesOnceEachNamedOrReportedAText) {
  EXPECT_FALSE(hub_.EveryProxyServes("web"));
  hub_.SetExpectedProxies("web", {"p1", "p2"});
  hub_.Publish("web", "conf1", "resync", clock_.Now());
  EXPECT_FALSE(hub_.EveryProxyServes("web"));
  ASSERT_TRUE(hub_.Report("web", "p1", 1, true, "").ok());
  EXPECT_FALSE(hub_.EveryProxyServes("web"));
  ASSERT_TRUE(hub_.Report("web", "p2", 1, false, "refused").ok());
  EXPECT_FALSE(hub_.EveryProxyServes("web")) << "a refusal is no configuration served";
  ASSERT_TRUE(hub_.Report("web", "p2", 1, true, "").ok());
  EXPECT_TRUE(hub_.EveryProxyServes("web"));
  hub_.SetExpectedProxies("web", {});
  EXPECT_FALSE(hub_.EveryProxyServes("web"));
}

// --- HTTP routes, on a real loopback server -------------------------------

class ConfigHubHttpTest : public ::testing::Test {
 protected:
  ConfigHubHttpTest() : metrics_(registry_), hub_(clock_, metrics_) {
    http::ServerOptions options;
    options.listen = "127.0.0.1:0";
    server_ = std::make_unique<http::HttpServer>(options);
    hub_.RegisterRoutes(*server_);
    EXPECT_TRUE(server_->Start().ok());
    hub_.SetToken("web", Sha256Hex("web-token"));
    hub_.SetToken("admin", Sha256Hex("admin-token"));
  }
  ~ConfigHubHttpTest() override { server_->Stop(); }

  HttpReply Get(const std::string& target, const std::string& token) {
    HttpClient client(HttpEndpoint{"127.0.0.1", server_->port(), ""});
    HttpCall call;
    call.target = target;
    if (!token.empty()) call.headers.emplace_back("Authorization", "Bearer " + token);
    auto r = client.Do(call, std::chrono::duration_cast<std::chrono::milliseconds>(kDeadline));
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? *r : HttpReply{};
  }
  HttpReply Post(const std::string& body, const std::string& token) {
    HttpClient client(HttpEndpoint{"127.0.0.1", server_->port(), ""});
    HttpCall call;
    call.method = "POST";
    call.target = kReportPath;
    call.body = body;
    call.content_type = "application/json";
    call.headers.emplace_back("Authorization", "Bearer " + token);
    auto r = client.Do(call, std::chrono::duration_cast<std::chrono::milliseconds>(kDeadline));
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? *r : HttpReply{};
  }

  runtime::RealClock clock_;
  metrics::Registry registry_;
  metrics::SwarmgateMetrics metrics_;
  ConfigHub hub_;
  std::unique_ptr<http::HttpServer> server_;
};

TEST_F(ConfigHubHttpTest, NewerGenerationAnsweredAtOnce) {
  hub_.Publish("web", "events {}\n", "route", clock_.Now());
  HttpReply r = Get("/v1/proxy/config?cluster=web&after=0&proxy=p1", "web-token");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "events {}\n");
  EXPECT_EQ(r.Header("x-swarmgate-generation"), "1");
  hub_.SetExpectedProxies("web", {"p1"});
  EXPECT_FALSE(hub_.EveryProxyServes("web")) << "a first poll naming no text serves nothing";
  // The poll is visible in the proxy's state.
  auto states = hub_.ProxyStates("web");
  ASSERT_EQ(states.size(), 1u);
  EXPECT_NE(states[0].last_poll, runtime::Clock::WallTimePoint{});
  // An agent ahead of the hub (operator restarted) is answered at once too.
  r = Get("/v1/proxy/config?cluster=web&after=9", "web-token");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("x-swarmgate-generation"), "1");
}

// After an operator restart: an agent that serves the current text under
// the number an earlier operator gave it is serving, with nothing to fetch,
// and the numbers continue from its; nothing counts as a convergence.
TEST_F(ConfigHubHttpTest, ARestartedOperatorRecognisesAProxyServingItsText) {
  std::vector<std::string> served;
  hub_.SetOnServed([&](const std::string& cluster) { served.push_back(cluster); });
  hub_.SetExpectedProxies("web", {"p1"});
  hub_.Publish("web", "conf", "resync", clock_.Now());
  HttpReply r =
      Get("/v1/proxy/config?cluster=web&after=57&wait=1&proxy=p1&serving=" + Sha256Hex("conf"),
          "web-token");
  EXPECT_EQ(r.status, 304);
  EXPECT_EQ(r.Header("x-swarmgate-generation"), "57");
  EXPECT_EQ(hub_.Generation("web"), 57);
  EXPECT_EQ(hub_.ServedGeneration("web"), 57);
  EXPECT_FALSE(hub_.AwaitingProxies("web"));
  EXPECT_EQ(served, std::vector<std::string>{"web"});
  EXPECT_EQ(metrics_.convergence_seconds.WithLabels({"web", "resync"}).Snap().count, 0u);
  EXPECT_EQ(hub_.Publish("web", "conf2", "route", clock_.Now()), 58);
}

// A proxy that fetched the restarted operator's first number and waits
// under it gets the text under the number the generations continue from as
// soon as another agent brings that number.
TEST_F(ConfigHubHttpTest, AProxyWaitingUnderAnOldNumberIsAnsweredWhenGenerationsContinue) {
  hub_.SetExpectedProxies("web", {"p1", "p2"});
  hub_.Publish("web", "conf", "resync", clock_.Now());
  const auto start = std::chrono::steady_clock::now();
  auto waiting = std::async(std::launch::async, [&] {
    return Get("/v1/proxy/config?cluster=web&after=1&wait=30&proxy=p1&serving=" + Sha256Hex("conf"),
               "web-token");
  });
  ASSERT_TRUE(Eventually([&] { return hub_.WaitingAgents("web") == 1; }));
  HttpReply r =
      Get("/v1/proxy/config?cluster=web&after=57&wait=0&proxy=p2&serving=" + Sha256Hex("conf"),
          "web-token");
  EXPECT_EQ(r.status, 304);
  HttpReply first = waiting.get();
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, "conf");
  EXPECT_EQ(first.Header("x-swarmgate-generation"), "57");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
}

TEST_F(ConfigHubHttpTest, AProxyServingAnotherTextFetchesTheCurrentOneUnderAHigherNumber) {
  hub_.SetExpectedProxies("web", {"p1"});
  hub_.Publish("web", "new", "route", clock_.Now());
  HttpReply r = Get("/v1/proxy/config?cluster=web&after=57&proxy=p1&serving=" + Sha256Hex("old"),
                    "web-token");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "new");
  EXPECT_EQ(r.Header("x-swarmgate-generation"), "58");
  EXPECT_EQ(hub_.ServedGeneration("web"), 0);
  // It serves something all the same: a route it served before is live.
  EXPECT_TRUE(hub_.EveryProxyServes("web"));
  ASSERT_TRUE(hub_.Report("web", "p1", 58, true, "").ok());
  EXPECT_EQ(hub_.ServedGeneration("web"), 58);
  EXPECT_EQ(metrics_.convergence_seconds.WithLabels({"web", "route"}).Snap().count, 1u);

  // Another proxy whose number is this process's current one, for the text an
  // earlier operator gave that number: it fetches the current text too.
  hub_.SetExpectedProxies("web", {"p1", "p2"});
  r = Get("/v1/proxy/config?cluster=web&after=58&proxy=p2&serving=" + Sha256Hex("older"),
          "web-token");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "new");
  EXPECT_EQ(r.Header("x-swarmgate-generation"), "59");
}

// Two operator processes' numbers can meet on one number for different
// texts: a proxy that polled before this process had a text (so it is no
// first contact) and holds a number that another proxy's report made this
// process's current one. It serves another text, so it is answered at once
// rather than left waiting for a change that already happened.
TEST_F(ConfigHubHttpTest, AProxyServingAnotherTextUnderTheCurrentNumberIsAnsweredAtOnce) {
  hub_.SetExpectedProxies("web", {"p1", "p2"});
  HttpReply r = Get("/v1/proxy/config?cluster=web&after=5&wait=0&proxy=p1&serving=" +
                        Sha256Hex("with-deleted-route"),
                    "web-token");
  EXPECT_EQ(r.status, 304);
  hub_.Publish("web", "a", "resync", clock_.Now());
  r = Get("/v1/proxy/config?cluster=web&after=4&wait=0&proxy=p2&serving=" + Sha256Hex("a"),
          "web-token");
  EXPECT_EQ(r.status, 304);
  ASSERT_EQ(hub_.Generation("web"), 4);
  ASSERT_EQ(hub_.Publish("web", "b", "route", clock_.Now()), 5);
  r = Get("/v1/proxy/config?cluster=web&after=5&wait=5&proxy=p1&serving=" +
              Sha256Hex("with-deleted-route"),
          "web-token");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "b");
  EXPECT_EQ(r.Header("x-swarmgate-generation"), "5");
}

// A proxy that rejected the current text keeps its own and waits for a newer
// one: it is not sent the rejected text again.
TEST_F(ConfigHubHttpTest, AProxyThatRejectedTheCurrentTextWaitsForANewerOne) {
  hub_.SetExpectedProxies("web", {"p1"});
  hub_.Publish("web", "bad", "route", clock_.Now());
  HttpReply r = Get("/v1/proxy/config?cluster=web&after=0&proxy=p1&serving=" + Sha256Hex("good"),
                    "web-token");
  ASSERT_EQ(r.status, 200);
  ASSERT_TRUE(hub_.Report("web", "p1", 1, false, "refused").ok());
  r = Get("/v1/proxy/config?cluster=web&after=1&wait=1&proxy=p1&serving=" + Sha256Hex("good"),
          "web-token");
  EXPECT_EQ(r.status, 304);
  EXPECT_EQ(hub_.Publish("web", "fixed", "route", clock_.Now()), 2);
  r = Get("/v1/proxy/config?cluster=web&after=1&wait=1&proxy=p1&serving=" + Sha256Hex("good"),
          "web-token");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "fixed");
}

TEST_F(ConfigHubHttpTest, LongPollAnsweredByLaterPublish) {
  hub_.Publish("web", "one", "route", clock_.Now());
  const auto start = std::chrono::steady_clock::now();
  auto reply = std::async(std::launch::async, [&] {
    return Get("/v1/proxy/config?cluster=web&after=1&wait=30", "web-token");
  });
  ASSERT_TRUE(Eventually([&] { return hub_.WaitingAgents("web") == 1; }));
  hub_.Publish("web", "two", "route", clock_.Now());
  HttpReply r = reply.get();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "two");
  EXPECT_EQ(r.Header("x-swarmgate-generation"), "2");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
  EXPECT_EQ(hub_.WaitingAgents("web"), 0u);
}

// The agent's shutdown: Cancel() ends the long-poll in flight at once, and
// every later request fails without reaching the server.
TEST_F(ConfigHubHttpTest, CancelEndsALongPollInFlight) {
  hub_.Publish("web", "one", "route", clock_.Now());
  HttpClient client(HttpEndpoint{"127.0.0.1", server_->port(), ""});
  HttpCall call;
  call.target = "/v1/proxy/config?cluster=web&after=1&wait=30";
  call.headers.emplace_back("Authorization", "Bearer web-token");
  const auto start = std::chrono::steady_clock::now();
  auto reply = std::async(std::launch::async, [&] { return client.Do(call, 45s); });
  ASSERT_TRUE(Eventually([&] { return hub_.WaitingAgents("web") == 1; }));
  client.Cancel();
  auto r = reply.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "cancelled");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  auto again = client.Do(call, 45s);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().message, "cancelled");
}

TEST_F(ConfigHubHttpTest, PublishOfOtherClusterDoesNotWakeAgent) {
  hub_.Publish("web", "one", "route", clock_.Now());
  auto reply = std::async(std::launch::async, [&] {
    return Get("/v1/proxy/config?cluster=web&after=1&wait=1", "web-token");
  });
  ASSERT_TRUE(Eventually([&] { return hub_.WaitingAgents("web") == 1; }));
  hub_.Publish("admin", "other", "route", clock_.Now());
  EXPECT_EQ(reply.get().status, 304);
}

TEST_F(ConfigHubHttpTest, NotModifiedAfterWait) {
  hub_.Publish("web", "one", "route", clock_.Now());
  const auto start = std::chrono::steady_clock::now();
  HttpReply r = Get("/v1/proxy/config?cluster=web&after=1&wait=1", "web-token");
  EXPECT_EQ(r.status, 304);
  EXPECT_EQ(r.Header("x-swarmgate-generation"), "1");
  EXPECT_TRUE(r.body.empty());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);
}

TEST_F(ConfigHubHttpTest, ClusterWithoutConfigWaits) {
  HttpReply r = Get("/v1/proxy/config?cluster=web&after=0&wait=0", "web-token");
  EXPECT_EQ(r.status, 304);
  EXPECT_EQ(r.Header("x-swarmgate-generation"), "0");
}

TEST_F(ConfigHubHttpTest, WrongMissingOrForeignTokenRefused) {
  hub_.Publish("web", "web config", "route", clock_.Now());
  hub_.Publish("admin", "admin config", "route", clock_.Now());
  EXPECT_EQ(Get("/v1/proxy/config?cluster=web", "wrong").status, 401);
  EXPECT_EQ(Get("/v1/proxy/config?cluster=web", "").status, 401);
  // A token of one cluster never opens another's configuration.
  HttpReply r = Get("/v1/proxy/config?cluster=web", "admin-token");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body.find("web config"), std::string::npos);
  EXPECT_EQ(Get("/v1/proxy/config?cluster=admin", "admin-token").body, "admin config");
  EXPECT_EQ(Get("/v1/proxy/config?cluster=nope", "web-token").status, 404);
  EXPECT_EQ(Get("/v1/proxy/config", "web-token").status, 400);
  EXPECT_EQ(Get("/v1/proxy/config?cluster=web&after=x", "web-token").status, 400);
  // A cluster known only from Publish has no token: nobody gets in.
  hub_.Publish("tokenless", "c", "route", clock_.Now());
  EXPECT_EQ(Get("/v1/proxy/config?cluster=tokenless", "web-token").status, 401);
}

TEST_F(ConfigHubHttpTest, ReportRoute) {
  hub_.SetExpectedProxies("web", {"p1"});
  hub_.Publish("web", "one", "route", clock_.Now());
  EXPECT_EQ(
      Post(R"({"cluster":"web","proxy":"p1","generation":1,"ok":true,"message":""})", "web-token")
          .status,
      204);
  EXPECT_EQ(hub_.ServedGeneration("web"), 1);
  EXPECT_EQ(metrics_.convergence_seconds.WithLabels({"web", "route"}).Snap().count, 1u);
  EXPECT_EQ(metrics_.proxy_reloads_total.WithLabels({"web", "success"}).Value(), 1);
  EXPECT_EQ(
      Post(R"({"cluster":"web","proxy":"p1","generation":1,"ok":true})", "admin-token").status,
      401);
  EXPECT_EQ(Post(R"({"cluster":"web","proxy":"p1"})", "web-token").status, 400);
  EXPECT_EQ(Post("not json", "web-token").status, 400);
  EXPECT_EQ(Post(R"({"cluster":"zzz","proxy":"p1","generation":1,"ok":true})", "web-token").status,
            404);
}

TEST_F(ConfigHubHttpTest, ForgetAnswersWaitingAgents) {
  auto reply = std::async(std::launch::async, [&] {
    return Get("/v1/proxy/config?cluster=web&after=0&wait=30", "web-token");
  });
  ASSERT_TRUE(Eventually([&] { return hub_.WaitingAgents("web") == 1; }));
  hub_.Forget("web");
  EXPECT_EQ(reply.get().status, 404);
}

}  // namespace
}  // namespace sg::delivery

namespace sg::delivery {
namespace {

TEST_F(ConfigHubHttpTest, TheGateAnswersBeforeTheHub) {
  hub_.Publish("web", "conf", "route", clock_.Now());
  hub_.SetGate([](const http::Request& req) -> std::optional<http::Response> {
    http::Response r = http::Response::Text(307, "the leader is elsewhere\n");
    r.headers.emplace_back("Location", "http://10.0.0.9:9090" + req.target);
    return r;
  });
  HttpReply r = Get("/v1/proxy/config?cluster=web&after=0&proxy=p1", "web-token");
  EXPECT_EQ(r.status, 307);
  EXPECT_EQ(r.Header("location"),
            "http://10.0.0.9:9090/v1/proxy/config?cluster=web&after=0&proxy=p1");
  EXPECT_EQ(Post(R"({"cluster":"web","proxy":"p1","generation":1,"ok":true})", "web-token").status,
            307);
  EXPECT_EQ(hub_.ServedGeneration("web"), 0) << "a gated report must not count";
  hub_.SetGate([](const http::Request&) { return std::optional<http::Response>(); });
  EXPECT_EQ(Get("/v1/proxy/config?cluster=web&after=0&proxy=p1", "web-token").status, 200);
}

TEST_F(ConfigHubHttpTest, ResetForgetsEveryClusterAndAnswersWaiters) {
  hub_.SetExpectedProxies("web", {"p1"});
  hub_.Publish("web", "conf", "route", clock_.Now());
  auto reply = std::async(std::launch::async, [&] {
    return Get("/v1/proxy/config?cluster=web&after=1&wait=30&proxy=p1", "web-token");
  });
  ASSERT_TRUE(Eventually([&] { return hub_.WaitingAgents("web") == 1; }));
  hub_.Reset(http::Response::Text(503, "not the leader\n"));
  EXPECT_EQ(reply.get().status, 503);
  EXPECT_EQ(hub_.Generation("web"), 0);
  EXPECT_TRUE(hub_.AwaitingProxies("web")) << "a reset hub waits for its agents again";
  EXPECT_EQ(registry_.Serialize().find("swarmgate_proxy_config_generation{cluster=\"web\"}"),
            std::string::npos);
}

}  // namespace
}  // namespace sg::delivery
