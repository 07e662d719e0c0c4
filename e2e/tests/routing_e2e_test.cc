// Route features end to end (DESIGN.md section 1): context root and rewrite,
// longest path, sticky sessions, websockets, canary, timeouts, passive health,
// rate limits and update policies on backends, checked with real requests
// through the proxies' host-mode ports and what the echo backend saw; and the
// cluster's access log, read back from `docker service logs`. TLS and host
// redirects have their own suite.
//
// The tests share one ServiceCluster and the backend services created in
// SetUpTestSuite; each test applies its own routes (deleted when it ends,
// also on failure), so the tests run in any order.

#include <future>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "e2e/harness/e2e_fixture.h"
#include "e2e/harness/harness.h"
#include "e2e/harness/swarmgate_env.h"
#include "e2e/harness/ws_client.h"
#include "operator/testing/access_log_expectations.h"

namespace sg::e2e {
namespace {

using namespace std::chrono_literals;

struct Backend {
  std::string service;
  int weight = -1;  // < 0: not written
  bool canary = false;
};

// One ServiceCluster and the backends the tests read from, all started at
// once (detached), so their tasks come up in parallel. A test that changes a
// backend (scales it, pauses a task) makes its own or puts it back.
struct RoutingShared {
  ScopedCluster cluster;
  ScopedService svc_a, svc_b;  // 1 replica each
  ScopedService canary_v1;     // 1 replica
  ScopedService canary_v2;     // 5 replicas
  ScopedService passive;       // 2 replicas
  ScopedService policy;        // 1 replica, no health check

  std::string SetUp() {
    cluster = ScopedCluster::Create({"rt", 24000, 28000});
    if (!cluster.ok()) return cluster.error();
    std::string error;
    auto backend = [&](const std::string& prefix, int replicas) {
      auto svc = ScopedService::Echo(cluster, UniqueName(prefix), replicas);
      if (!svc.ok() && error.empty()) error = "backend: " + svc.error();
      return svc;
    };
    svc_a = backend("rt-a", 1);
    svc_b = backend("rt-b", 1);
    canary_v1 = backend("rt-v1", 1);
    canary_v2 = backend("rt-v2", 5);
    passive = backend("rt-passive", 2);
    policy = backend("rt-policy", 1);
    return error;
  }
};

class RoutingE2E : public SuiteFixture<RoutingShared> {
 protected:
  static int Node() { return ProxyNodes().front(); }
  static const std::string& Cluster() { return S().cluster.name(); }

  // A route name unique to this run (route names are global to the Swarm).
  static std::string RouteName(const std::string& suffix) { return UniqueName("rt-" + suffix); }

  static std::string Yaml(const std::string& name, const std::string& host, const std::string& path,
                          const std::vector<Backend>& backends,
                          const std::string& extra_spec = "") {
    std::string y = "apiVersion: swarmgate.io/v1alpha1\nkind: Route\nmetadata:\n  name: " + name +
                    "\nspec:\n  serviceCluster: " + Cluster() + "\n  hosts: [\"" + host +
                    "\"]\n  path: " + path + "\n  backends:\n";
    for (const Backend& b : backends) {
      y += "    - {service: " + b.service + ", port: 8080";
      if (b.weight >= 0) y += ", weight: " + std::to_string(b.weight);
      if (b.canary) y += ", canary: true";
      y += "}\n";
    }
    return y + extra_spec;
  }

  // The YAML documents applied from one file, deleted at scope exit.
  static ScopedRoute ApplyRoutes(const std::vector<std::string>& documents) {
    std::string text;
    for (const auto& yaml : documents) {
      if (!text.empty()) text += "---\n";
      text += yaml;
    }
    return ScopedRoute::Apply(text);
  }

  static std::string State(const std::string& route) { return S().cluster.Diagnose({route}); }

  static HttpResponse Get(const std::string& host, const std::string& target,
                          std::vector<std::pair<std::string, std::string>> headers = {},
                          int node = 0, Duration timeout = 3s) {
    HttpRequest req;
    req.addr = Addr(node == 0 ? Node() : node);
    req.port = S().cluster.http_port();
    req.target = target;
    req.host = host;
    req.headers = std::move(headers);
    req.timeout = timeout;
    return Http(req);
  }

  // Waits until `host` + `target` answers 200 from `service` on every proxy node.
  static WaitResult WaitServed(const std::string& host, const std::string& target,
                               const std::string& service, Duration deadline = 60s) {
    return S().cluster.WaitServed(host, target, service, deadline);
  }

  // Tasks (by echo "task" field) answering `n` requests.
  static std::map<std::string, int> TaskCounts(
      const std::string& host, const std::string& target, int n,
      std::vector<std::pair<std::string, std::string>> headers = {}) {
    std::map<std::string, int> seen;
    for (int i = 0; i < n; ++i) {
      auto r = Get(host, target, headers);
      seen[r.status == 200 ? JsonField(r.body, "task") : "status " + std::to_string(r.status)]++;
    }
    return seen;
  }

  // Until `check(node, case, seen)` holds for every case on every proxy node.
  template <class Case, class Check>
  static WaitResult WaitEveryCase(const char* what, Duration deadline,
                                  const std::vector<Case>& cases, Check check) {
    return WaitUntil(what, deadline, [&](std::string& seen) {
      for (int node : ProxyNodes()) {
        for (const Case& k : cases) {
          if (!check(node, k, seen)) return false;
        }
      }
      return true;
    });
  }

  static std::string Describe(const std::map<std::string, int>& counts) {
    std::string out;
    for (const auto& [k, v] : counts) out += k + "=" + std::to_string(v) + " ";
    return out;
  }
};

// The task id is the last dot-separated part of the echo's "task" field
// (service.slot.id).
std::string TaskId(const std::string& task) { return task.substr(task.rfind('.') + 1); }

// "SG_STICKY=abc; Path=/; ..." -> "abc" when the name matches.
std::string CookieValue(const std::string& set_cookie, const std::string& name) {
  std::string prefix = name + "=";
  if (set_cookie.rfind(prefix, 0) != 0) return "";
  std::string v = set_cookie.substr(prefix.size());
  return v.substr(0, v.find(';'));
}

// --------------------------------------------------------------- 1. context root

TEST_F(RoutingE2E, ContextRootRewriteAndLongestPath) {
  // rw.test: "/" -> A, "/api" -> B with the context root rewritten to "/".
  // plain.test: "/api" -> B, no rewrite, nothing at "/".
  std::string root = RouteName("root"), api = RouteName("api"), plain = RouteName("plain");
  ScopedRoute routes =
      ApplyRoutes({Yaml(root, "rw.test", "/", {{S().svc_a.name()}}),
                   Yaml(api, "rw.test", "/api", {{S().svc_b.name()}}, "  rewrite: /\n"),
                   Yaml(plain, "plain.test", "/api", {{S().svc_b.name()}})});
  ASSERT_TRUE(routes.ok()) << routes.error();

  auto served = WaitServed("rw.test", "/api/x", S().svc_b.name());
  ASSERT_TRUE(served.ok) << served.message << State(api);
  ASSERT_TRUE(WaitServed("rw.test", "/", S().svc_a.name()).ok) << State(root);
  ASSERT_TRUE(WaitServed("plain.test", "/api/x", S().svc_b.name()).ok) << State(plain);

  for (int node : ProxyNodes()) {
    SCOPED_TRACE("proxy node " + std::to_string(node));
    // Rewrite: the backend sees the path below the context root.
    auto r = Get("rw.test", "/api/x?q=1", {}, node);
    EXPECT_EQ(r.status, 200) << r.Describe();
    EXPECT_EQ(JsonField(r.body, "service"), S().svc_b.name()) << r.Describe();
    EXPECT_EQ(JsonField(r.body, "path"), "/x") << r.Describe();
    EXPECT_EQ(JsonField(r.body, "query"), "q=1") << r.Describe();
    r = Get("rw.test", "/api/deep/er", {}, node);
    EXPECT_EQ(JsonField(r.body, "path"), "/deep/er") << r.Describe();
    r = Get("rw.test", "/api", {}, node);
    EXPECT_EQ(JsonField(r.body, "service"), S().svc_b.name()) << r.Describe();
    EXPECT_EQ(JsonField(r.body, "path"), "/") << r.Describe();
    // Longest path wins; "/apix" is not under "/api", so "/" takes it.
    r = Get("rw.test", "/apix", {}, node);
    EXPECT_EQ(JsonField(r.body, "service"), S().svc_a.name()) << r.Describe();
    EXPECT_EQ(JsonField(r.body, "path"), "/apix") << r.Describe();
    r = Get("rw.test", "/other/page", {}, node);
    EXPECT_EQ(JsonField(r.body, "service"), S().svc_a.name()) << r.Describe();
    EXPECT_EQ(JsonField(r.body, "path"), "/other/page") << r.Describe();

    // Without rewrite the backend sees the full path.
    r = Get("plain.test", "/api/x", {}, node);
    EXPECT_EQ(r.status, 200) << r.Describe();
    EXPECT_EQ(JsonField(r.body, "path"), "/api/x") << r.Describe();
    r = Get("plain.test", "/api", {}, node);
    EXPECT_EQ(JsonField(r.body, "path"), "/api") << r.Describe();
    EXPECT_EQ(Get("plain.test", "/apix", {}, node).status, 404);
    EXPECT_EQ(Get("plain.test", "/", {}, node).status, 404);
  }
}

// --------------------------------------------------------------- 4. canary

TEST_F(RoutingE2E, CanaryWeightsSplitByRequestAndRulesPinTheCanary) {
  std::string name = RouteName("canary");
  ScopedRoute route =
      ApplyRoutes({Yaml(name, "canary.test", "/",
                        {{S().canary_v1.name(), 90, false}, {S().canary_v2.name(), 10, true}},
                        "  canary:\n    header: {name: X-Canary, value: always}\n"
                        "    cookie: {name: canary}\n")});
  ASSERT_TRUE(route.ok()) << route.error();

  // The header rule sends everything to v2; wait until all 5 v2 tasks are
  // endpoints, so the split below runs against 1 vs 5 replicas.
  std::map<std::string, int> v2_tasks;
  auto five = WaitUntil("5 canary tasks behind the header rule", 90s, [&](std::string& observed) {
    for (int i = 0; i < 40; ++i) {
      auto r = Get("canary.test", "/", {{"X-Canary", "always"}});
      if (r.status == 200 && JsonField(r.body, "service") == S().canary_v2.name()) {
        v2_tasks[JsonField(r.body, "task")]++;
      }
    }
    observed = Describe(v2_tasks);
    return v2_tasks.size() == 5;
  });
  ASSERT_TRUE(five.ok) << five.message << State(name);
  // The split below goes through every proxy node, the wait above through one.
  auto everywhere = WaitUntil("the route on every proxy node", 60s, [&](std::string& observed) {
    observed.clear();
    bool all = true;
    for (int node : ProxyNodes()) {
      auto r = Get("canary.test", "/split", {}, node);
      observed += "node " + std::to_string(node) + ": " + std::to_string(r.status) + "; ";
      all = all && r.status == 200;
    }
    return all;
  });
  ASSERT_TRUE(everywhere.ok) << everywhere.message << State(name);

  // Weighted split, by request: 3000 requests from 8 clients.
  constexpr int kClients = 8, kPerClient = 375;
  std::vector<std::future<std::map<std::string, int>>> workers;
  for (int w = 0; w < kClients; ++w) {
    workers.push_back(std::async(std::launch::async, [w] {
      std::map<std::string, int> seen;
      int node = ProxyNodes()[static_cast<size_t>(w) % ProxyNodes().size()];
      for (int i = 0; i < kPerClient; ++i) {
        auto r = Get("canary.test", "/split", {}, node);
        seen[r.status == 200 ? JsonField(r.body, "service") : r.Describe()]++;
      }
      return seen;
    }));
  }
  std::map<std::string, int> by_service;
  for (auto& f : workers) {
    for (const auto& [k, v] : f.get()) by_service[k] += v;
  }
  int total = kClients * kPerClient;
  int v1 = by_service[S().canary_v1.name()], v2 = by_service[S().canary_v2.name()];
  double v2_share = 100.0 * v2 / total;
  std::cout << "canary split over " << total << " requests: v1 " << 100.0 * v1 / total << "%, v2 "
            << v2_share << "% (weights 90/10, replicas 1/5)\n";
  EXPECT_EQ(v1 + v2, total) << Describe(by_service);
  EXPECT_NEAR(v2_share, 10.0, 3.0) << Describe(by_service);

  // Canary rules: only the canary backend, whatever the weights.
  auto header = TaskCounts("canary.test", "/h", 100, {{"X-Canary", "always"}});
  int header_v2 = 0;
  for (const auto& [task, n] : header) {
    if (task.rfind(S().canary_v2.name() + ".", 0) == 0) header_v2 += n;
  }
  EXPECT_EQ(header_v2, 100) << Describe(header);
  auto cookie = TaskCounts("canary.test", "/c", 100, {{"Cookie", "other=1; canary=yes"}});
  int cookie_v2 = 0;
  for (const auto& [task, n] : cookie) {
    if (task.rfind(S().canary_v2.name() + ".", 0) == 0) cookie_v2 += n;
  }
  EXPECT_EQ(cookie_v2, 100) << Describe(cookie);
  // A different header value is not the rule: v1 takes most of it again.
  auto other = TaskCounts("canary.test", "/o", 100, {{"X-Canary", "never"}});
  int other_v1 = 0;
  for (const auto& [task, n] : other) {
    if (task.rfind(S().canary_v1.name() + ".", 0) == 0) other_v1 += n;
  }
  EXPECT_GE(other_v1, 75) << Describe(other);
}

// Header and cookie values compare exactly, case included; header names in
// any case. The canary has weight 0, so a request the rules do not match
// reaches the stable backend every time.
TEST_F(RoutingE2E, CanaryValuesCompareExactly) {
  const std::string name = RouteName("canary-case"), host = "canary-case.test";
  const std::string& stable = S().svc_a.name();
  const std::string& canary = S().svc_b.name();
  ScopedRoute route = ApplyRoutes({Yaml(name, host, "/", {{stable, 100, false}, {canary, 0, true}},
                                        "  canary:\n    header: {name: version, value: two}\n"
                                        "    cookie: {name: version, value: two}\n")});
  ASSERT_TRUE(route.ok()) << route.error();

  auto served = WaitServed(host, "/", stable);
  ASSERT_TRUE(served.ok) << served.message << State(name);
  auto canary_served =
      WaitUntil("the canary rule on every proxy node", 60s, [&](std::string& seen) {
        seen.clear();
        bool all = true;
        for (int node : ProxyNodes()) {
          auto r = Get(host, "/", {{"Version", "two"}}, node);
          std::string service = r.status == 200 ? JsonField(r.body, "service") : r.Describe();
          seen += "node " + std::to_string(node) + ": " + service + "; ";
          all = all && service == canary;
        }
        return all;
      });
  ASSERT_TRUE(canary_served.ok) << canary_served.message << State(name);

  struct Case {
    std::vector<std::pair<std::string, std::string>> headers;
    const std::string& service;
  };
  const std::vector<Case> cases = {
      {{}, stable},
      {{{"Version", "two"}}, canary},
      {{{"version", "two"}}, canary},
      {{{"VERSION", "two"}}, canary},
      {{{"Version", "TWO"}}, stable},
      {{{"Version", "Two"}}, stable},
      {{{"Version", "two2"}}, stable},
      {{{"Cookie", "version=two"}}, canary},
      {{{"Cookie", "other=1; version=two"}}, canary},
      {{{"Cookie", "version=TWO"}}, stable},
  };
  for (int node : ProxyNodes()) {
    SCOPED_TRACE("proxy node " + std::to_string(node));
    for (const Case& c : cases) {
      std::string sent;
      for (const auto& [k, v] : c.headers) sent += k + ": " + v + "; ";
      // Several requests: a stray share of the split would show.
      for (int i = 0; i < 5; ++i) {
        auto r = Get(host, "/", c.headers, node);
        ASSERT_EQ(r.status, 200) << sent << r.Describe();
        EXPECT_EQ(JsonField(r.body, "service"), c.service) << sent << r.Describe();
      }
    }
  }
}

// Route rules, conformance style: each case is a request and the backend
// and path the backend must see. Path matches (exact, prefix, pattern) on
// every engine, with the Gateway API's precedence across two routes of one
// host; header, query parameter and method matches on HAProxy, which nginx
// refuses naming the field while the cluster's other routes keep serving.
TEST_F(RoutingE2E, RulesMatchAsTheGatewayApiSays) {
  const std::string& a = S().svc_a.name();
  const std::string& b = S().svc_b.name();
  const std::string& c = S().canary_v1.name();
  auto backend = [](const std::string& service) {
    return "      backends: [{service: " + service + ", port: 8080}]\n";
  };
  auto route = [&](const std::string& name, const std::string& host, const std::string& rules) {
    return "apiVersion: swarmgate.io/v1alpha1\nkind: Route\nmetadata:\n  name: " + name +
           "\nspec:\n  serviceCluster: " + Cluster() + "\n  hosts: [\"" + host + "\"]\n  rules:\n" +
           rules;
  };
  const std::string paths = RouteName("rules-paths"), deeper = RouteName("rules-deeper");
  const std::string conds = RouteName("rules-conds");
  ScopedRoute paths_route = ApplyRoutes({route(
      paths, "paths.rules.test",
      "    - matches: [{path: {type: Exact, value: /exact}}, {path: {type: Exact, value: "
      "/prefix}}]\n" +
          backend(c) + "    - matches: [{path: {type: PathPrefix, value: /prefix}}]\n" +
          backend(b) +
          "    - matches: [{path: {type: RegularExpression, value: \"/re/[0-9]+\"}}]\n" +
          backend(b) + "    - matches: [{path: {type: PathPrefix, value: /}}]\n" + backend(a))});
  ASSERT_TRUE(paths_route.ok()) << paths_route.error();
  auto served = WaitServed("paths.rules.test", "/", a);
  ASSERT_TRUE(served.ok) << served.message << State(paths);
  // A newer route of the same host: its longer prefix wins over the older
  // route's shorter one.
  ScopedRoute deeper_route = ApplyRoutes(
      {route(deeper, "paths.rules.test",
             "    - matches: [{path: {type: PathPrefix, value: /prefix/deeper}}]\n" + backend(c))});
  ASSERT_TRUE(deeper_route.ok()) << deeper_route.error();
  served = WaitServed("paths.rules.test", "/prefix/deeper/x", c);
  ASSERT_TRUE(served.ok) << served.message << State(deeper);

  ScopedRoute conds_route = ApplyRoutes({route(
      conds, "conds.rules.test",
      "    - matches: [{path: {type: PathPrefix, value: /api}, method: POST}]\n" + backend(c) +
          "    - matches:\n"
          "        - headers: [{name: X-Env, value: canary}]\n"
          "        - queryParams: [{name: env, value: canary}]\n" +
          backend(c) +
          "    - matches: [{headers: [{name: X-Env, value: canary}, {name: X-Tier, value: "
          "gold}]}]\n" +
          backend(b) +
          "    - matches: [{headers: [{type: RegularExpression, name: X-Env, value: "
          "\"blue|green\"}]}]\n" +
          backend(b) + "    - matches: [{path: {type: PathPrefix, value: /}}]\n" + backend(a))});
  ASSERT_TRUE(conds_route.ok()) << conds_route.error();
  const bool nginx = E2eEngine() == "nginx";

  struct Case {
    std::string method, host, target;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string service;  // the backend that must answer
  };
  std::vector<Case> cases = {
      {"GET", "paths.rules.test", "/exact", {}, c},
      {"GET", "paths.rules.test", "/exact/x", {}, a},
      {"GET", "paths.rules.test", "/prefix", {}, c},
      {"GET", "paths.rules.test", "/prefix/x", {}, b},
      {"GET", "paths.rules.test", "/prefixx", {}, a},
      {"GET", "paths.rules.test", "/prefix/deeper", {}, c},
      {"GET", "paths.rules.test", "/prefix/deeperx", {}, b},
      {"GET", "paths.rules.test", "/re/123", {}, b},
      {"GET", "paths.rules.test", "/re/abc", {}, a},
      {"GET", "paths.rules.test", "/re/123/x", {}, a},
      {"GET", "paths.rules.test", "/", {}, a},
  };
  if (!nginx) {
    std::vector<Case> conditional = {
        {"GET", "conds.rules.test", "/", {}, a},
        {"GET", "conds.rules.test", "/", {{"X-Env", "canary"}}, c},
        {"GET", "conds.rules.test", "/", {{"x-env", "canary"}}, c},
        {"GET", "conds.rules.test", "/", {{"X-Env", "Canary"}}, a},
        {"GET", "conds.rules.test", "/?env=canary", {}, c},
        {"GET", "conds.rules.test", "/?env=Canary", {}, a},
        {"GET", "conds.rules.test", "/", {{"X-Env", "canary"}, {"X-Tier", "gold"}}, b},
        {"GET", "conds.rules.test", "/", {{"X-Env", "blue"}}, b},
        {"GET", "conds.rules.test", "/", {{"X-Env", "blueish"}}, a},
        {"POST", "conds.rules.test", "/api", {}, c},
        {"POST", "conds.rules.test", "/api/x", {}, c},
        {"GET", "conds.rules.test", "/api", {}, a},
        {"POST", "conds.rules.test", "/apix", {}, a},
    };
    cases.insert(cases.end(), conditional.begin(), conditional.end());
    served = WaitServed("conds.rules.test", "/", a);
    ASSERT_TRUE(served.ok) << served.message << State(conds);
  } else {
    auto refused = Sg().WaitCondition("route", conds, "Ready", "False/InvalidConfig", 60s);
    ASSERT_TRUE(refused.ok) << refused.message << State(conds);
    EXPECT_NE(refused.observed.find("nginx cannot express header, query parameter or method "
                                    "matches (spec.rules[0].matches[0])"),
              std::string::npos)
        << refused.observed;
  }
  auto routes_ready = WaitUntil("every case on every proxy node", 60s, [&](std::string& seen) {
    seen.clear();
    for (int node : ProxyNodes()) {
      for (const Case& k : cases) {
        HttpRequest req;
        req.method = k.method;
        req.addr = Addr(node);
        req.port = S().cluster.http_port();
        req.target = k.target;
        req.host = k.host;
        req.headers = k.headers;
        auto r = Http(req);
        std::string got = r.status == 200 ? JsonField(r.body, "service") : r.Describe();
        std::string path = k.target.substr(0, k.target.find('?'));
        if (got != k.service || (r.status == 200 && JsonField(r.body, "path") != path)) {
          std::string sent;
          for (const auto& [name, value] : k.headers) sent += " " + name + ": " + value;
          seen = "node " + std::to_string(node) + ": " + k.method + " " + k.host + k.target + sent +
                 " -> " + got + " (path " + JsonField(r.body, "path") + "), expected " + k.service;
          return false;
        }
      }
    }
    return true;
  });
  EXPECT_TRUE(routes_ready.ok) << routes_ready.message << State(paths) << State(conds);
}

// A request header the echo backend saw (names lower-cased, repeated lines
// joined with ", "); "<absent>" when it saw none.
std::string SeenHeader(const std::string& body, const std::string& name) {
  rapidjson::Document d;
  d.Parse(body.c_str());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("headers")) return "<no echo>";
  const auto& h = d["headers"];
  auto it = h.FindMember(name.c_str());
  if (it == h.MemberEnd() || !it->value.IsString()) return "<absent>";
  return it->value.GetString();
}

// What differs between `want` and the response's headers ("<absent>": no
// such header), or "" when nothing does. Vary is a list: it must contain the
// wanted value.
std::string ResponseHeaderProblem(const HttpResponse& r,
                                  const std::vector<std::pair<std::string, std::string>>& want) {
  for (const auto& [h, value] : want) {
    auto it = r.headers.find(h);
    std::string got = it == r.headers.end() ? "<absent>" : it->second;
    bool ok = h == "vary" ? got.find(value) != std::string::npos : got == value;
    if (!ok) return "response " + h + ": " + got;
  }
  return "";
}

// Filters, redirects, rules without backends, timeouts and retries, in the
// manner of the Gateway API's conformance tests: each case is a request and
// what must come back (status, backend, the path and headers the backend
// saw, response headers, Location), checked on every proxy node.
TEST_F(RoutingE2E, FiltersAsTheGatewayApiSays) {
  const std::string& a = S().svc_a.name();
  const std::string& b = S().svc_b.name();
  const std::string& two = S().passive.name();  // 2 replicas: slots 1 and 2
  const bool nginx = E2eEngine() == "nginx";
  const int port = S().cluster.http_port();
  auto backend = [](const std::string& service, const std::string& extra = "") {
    return "      backends: [{service: " + service + ", port: 8080" + extra + "}]\n";
  };
  auto prefix = [](const std::string& path) {
    return "    - matches: [{path: {type: PathPrefix, value: " + path + "}}]\n";
  };
  const std::string name = RouteName("filters"), mirror_name = RouteName("mirror");
  const std::string host = "filters.rules.test";
  std::string rules =
      prefix("/headers") +
      "      filters:\n"
      "        - type: RequestHeaderModifier\n"
      "          requestHeaderModifier:\n"
      "            set: [{name: X-Set, value: \"set value; 50%\"}]\n"
      "            add: [{name: X-Add, value: added}]\n"
      "            remove: [X-Remove]\n"
      "        - type: ResponseHeaderModifier\n"
      "          responseHeaderModifier:\n"
      "            set: [{name: X-Echo-Service, value: replaced}]\n"
      "            add: [{name: X-Response-Add, value: yes}]\n"
      "            remove: [X-Echo-Slot]\n" +
      backend(a) + prefix("/rewrite-prefix") +
      "      filters: [{type: URLRewrite, urlRewrite: {hostname: rewritten.rules.test, path: "
      "{type: ReplacePrefixMatch, replacePrefixMatch: /new-prefix}}}]\n" +
      backend(a) + prefix("/strip") +
      "      filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, "
      "replacePrefixMatch: /}}}]\n" +
      backend(a) + prefix("/rewrite-full") +
      "      filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplaceFullPath, "
      "replaceFullPath: /full}}}]\n" +
      backend(a) + prefix("/redirect-prefix") +
      "      filters: [{type: RequestRedirect, requestRedirect: {scheme: https, hostname: "
      "elsewhere.test, path: {type: ReplacePrefixMatch, replacePrefixMatch: /moved}, "
      "statusCode: 301}}]\n" +
      prefix("/redirect-302") +
      "      filters: [{type: RequestRedirect, requestRedirect: {hostname: other.test}}]\n" +
      prefix("/redirect-303") +
      "      filters: [{type: RequestRedirect, requestRedirect: {path: {type: ReplaceFullPath, "
      "replaceFullPath: /see-other}, statusCode: 303}}]\n" +
      prefix("/redirect-307") +
      "      filters: [{type: RequestRedirect, requestRedirect: {scheme: https, port: 8443, "
      "statusCode: 307}}]\n" +
      prefix("/redirect-308") +
      "      filters: [{type: RequestRedirect, requestRedirect: {scheme: http, port: 80, "
      "statusCode: 308}}]\n" +
      prefix("/no-backends") + prefix("/per-backend") +
      backend(b,
              ", filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: "
              "X-Backend, value: b}]}}, {type: ResponseHeaderModifier, responseHeaderModifier: "
              "{set: [{name: X-Echo-Service, value: b-filtered}]}}]") +
      prefix("/deadline") + "      timeouts: {request: 1s}\n" + backend(a) + prefix("/unlimited") +
      "      timeouts: {request: 0s}\n" + backend(a) + prefix("/retried") +
      "      retry: {codes: [500], attempts: 2}\n" + backend(two) + prefix("/not-retried") +
      backend(two) + prefix("/") + backend(b);
  ScopedRoute route =
      ApplyRoutes({"apiVersion: swarmgate.io/v1alpha1\nkind: Route\nmetadata:\n  name: " + name +
                   "\nspec:\n  serviceCluster: " + Cluster() + "\n  hosts: [\"" + host +
                   "\"]\n  timeouts: {read: 1500ms}\n  rules:\n" + rules});
  ASSERT_TRUE(route.ok()) << route.error();
  auto served = WaitServed(host, "/", b);
  ASSERT_TRUE(served.ok) << served.message << State(name);

  struct Case {
    std::string target;
    std::vector<std::pair<std::string, std::string>> headers;
    int status = 200;
    std::string service;                                        // 200 only
    std::string path;                                           // seen by the backend
    std::vector<std::pair<std::string, std::string>> seen;      // request headers it saw
    std::vector<std::pair<std::string, std::string>> response;  // "<absent>": none
  };
  const std::string here = host + ":" + std::to_string(port);
  const std::vector<Case> cases = {
      {"/headers/x?q=1",
       {{"X-Set", "client"}, {"X-Add", "client"}, {"X-Remove", "gone"}},
       200,
       a,
       "/headers/x",
       {{"x-set", "set value; 50%"}, {"x-add", "client, added"}, {"x-remove", "<absent>"}},
       {{"x-echo-service", "replaced"}, {"x-response-add", "yes"}, {"x-echo-slot", "<absent>"}}},
      {"/headers", {}, 200, a, "/headers", {{"x-add", "added"}, {"x-set", "set value; 50%"}}, {}},
      {"/rewrite-prefix/x?q=1",
       {},
       200,
       a,
       "/new-prefix/x",
       {{"host", "rewritten.rules.test"}, {"x-forwarded-host", host}},
       {}},
      {"/rewrite-prefix", {}, 200, a, "/new-prefix", {{"host", "rewritten.rules.test"}}, {}},
      {"/strip/x/y", {}, 200, a, "/x/y", {{"host", host}}, {}},
      {"/strip", {}, 200, a, "/", {}, {}},
      {"/rewrite-full/x/y?q=1", {}, 200, a, "/full", {}, {}},
      {"/redirect-prefix/x?q=1",
       {},
       301,
       "",
       "",
       {},
       {{"location", "https://elsewhere.test/moved/x?q=1"}}},
      {"/redirect-302/x",
       {},
       302,
       "",
       "",
       {},
       {{"location", "http://other.test:" + std::to_string(port) + "/redirect-302/x"}}},
      {"/redirect-303/x?y=2",
       {},
       303,
       "",
       "",
       {},
       {{"location", "http://" + here + "/see-other?y=2"}}},
      {"/redirect-307",
       {},
       307,
       "",
       "",
       {},
       {{"location", "https://" + host + ":8443/redirect-307"}}},
      {"/redirect-308/z",
       {},
       308,
       "",
       "",
       {},
       {{"location", "http://" + host + "/redirect-308/z"}}},
      {"/no-backends/x", {}, 500, "", "", {}, {}},
      {"/per-backend/x",
       {},
       200,
       b,
       "/per-backend/x",
       {{"x-backend", "b"}},
       {{"x-echo-service", "b-filtered"}, {"x-echo-slot", "1"}}},
      {"/deadline?delay=2500", {}, 504, "", "", {}, {}},
      {"/unlimited?delay=2000", {}, 200, a, "/unlimited", {}, {}},
      {"/other?delay=2000", {}, 504, "", "", {}, {}},
      {"/other", {}, 200, b, "/other", {}, {}},
  };
  auto check = [&](int node, const Case& k, std::string& seen) {
    auto r = Get(host, k.target, k.headers, node, 5s);
    std::string problem;
    if (r.status != k.status) {
      problem = "status " + std::to_string(r.status);
    } else if (k.status == 200 && JsonField(r.body, "service") != k.service) {
      problem = "service " + JsonField(r.body, "service");
    } else if (k.status == 200 && JsonField(r.body, "path") != k.path) {
      problem = "path " + JsonField(r.body, "path");
    }
    for (const auto& [h, want] : k.seen) {
      if (!problem.empty()) break;
      std::string got = SeenHeader(r.body, h);
      if (got != want) problem = "backend saw " + h + ": " + got;
    }
    if (problem.empty()) problem = ResponseHeaderProblem(r, k.response);
    if (problem.empty()) return true;
    seen = "node " + std::to_string(node) + ": GET " + k.target + " -> " + problem + " (expected " +
           std::to_string(k.status) + " " + k.service + " " + k.path + ")\n" + r.Describe();
    return false;
  };
  auto all = WaitEveryCase("every case on every proxy node", 90s, cases, check);
  ASSERT_TRUE(all.ok) << all.message << State(name);

  // Retries: the task of slot 1 answers 500 to ?fail_slot=1. With the rule's
  // retry policy every request reaches slot 2; without it (500 is not among
  // the default retries) about half of them fail.
  std::map<std::string, int> retried, not_retried;
  for (int i = 0; i < 20; ++i) {
    auto r = Get(host, "/retried?fail_slot=1");
    retried[r.status == 200 ? "slot " + JsonField(r.body, "slot") : r.Describe()]++;
    r = Get(host, "/not-retried?fail_slot=1");
    not_retried[std::to_string(r.status)]++;
  }
  EXPECT_EQ(retried["slot 2"], 20) << Describe(retried);
  EXPECT_GT(not_retried["500"], 0) << Describe(not_retried);

  // Mirroring (nginx only): every request to /mirror also reaches svc b,
  // whose answer is dropped; HAProxy 2.6 cannot copy requests.
  ScopedRoute mirror = ApplyRoutes(
      {"apiVersion: swarmgate.io/v1alpha1\nkind: Route\nmetadata:\n  name: " + mirror_name +
       "\nspec:\n  serviceCluster: " + Cluster() +
       "\n  hosts: [\"mirror.rules.test\"]\n  rules:\n" + prefix("/mirror") +
       "      filters: [{type: RequestMirror, requestMirror: {backend: {service: " + b +
       ", port: 8080}}}]\n" + backend(a) + prefix("/half") +
       "      filters: [{type: RequestMirror, requestMirror: {backend: {service: " + b +
       ", port: 8080}, percent: 50}}]\n" + backend(a) + prefix("/") + backend(b)});
  ASSERT_TRUE(mirror.ok()) << mirror.error();
  if (!nginx) {
    // Applied alone, without its cluster, the route passes validation; the
    // engine refuses it, and every other route keeps serving.
    auto refused = Sg().WaitCondition("route", mirror_name, "Ready", "False/InvalidConfig", 60s);
    ASSERT_TRUE(refused.ok) << refused.message << State(mirror_name);
    EXPECT_NE(refused.observed.find("HAProxy 2.6 cannot mirror requests (spec.rules[0].filters "
                                    "RequestMirror)"),
              std::string::npos)
        << refused.observed;
    auto r = Get(host, "/headers");
    EXPECT_EQ(r.status, 200) << r.Describe();
    return;
  }
  served = WaitServed("mirror.rules.test", "/", b);
  ASSERT_TRUE(served.ok) << served.message << State(mirror_name);
  const std::string probe = "/mirror/" + UniqueName("probe");
  for (int i = 0; i < 5; ++i) {
    auto r = Get("mirror.rules.test", probe);
    ASSERT_EQ(r.status, 200) << r.Describe();
    EXPECT_EQ(JsonField(r.body, "service"), a);
  }
  auto copied = WaitUntil("svc b saw the 5 copies", 30s, [&](std::string& seen) {
    auto r = Get("mirror.rules.test", "/?echo_count=" + probe);
    seen = r.Describe();
    return r.status == 200 && r.body.find("\"seen\":5}") != std::string::npos;
  });
  EXPECT_TRUE(copied.ok) << copied.message << State(mirror_name);

  // Half of the requests: of 40, some and not all are copied (outside 5-35
  // with a chance below one in a million). The count is read once it holds
  // still between two reads, since copies finish after their requests.
  const std::string half = "/half/" + UniqueName("probe");
  for (int i = 0; i < 40; ++i) {
    auto r = Get("mirror.rules.test", half);
    ASSERT_EQ(r.status, 200) << r.Describe();
  }
  int count = -1;
  auto settled = WaitUntil(
      "the count of sampled copies holds still", 30s,
      [&](std::string& seen) {
        auto r = Get("mirror.rules.test", "/?echo_count=" + half);
        seen = r.Describe();
        size_t at = r.body.find("\"seen\":");
        if (r.status != 200 || at == std::string::npos) return false;
        int now = std::atoi(r.body.c_str() + at + 7);
        bool still = now == count && now > 0;
        count = now;
        return still;
      },
      500ms);
  ASSERT_TRUE(settled.ok) << settled.message << State(mirror_name);
  EXPECT_GE(count, 5);
  EXPECT_LE(count, 35);
  std::cout << "mirror percent 50: " << count << " of 40 requests copied\n";
}

// --------------------------------------------------------------- 2. sticky sessions

TEST_F(RoutingE2E, StickySessionsHoldAndMoveWhenTheirTaskGoes) {
  const auto& c = C();
  // 3 replicas of its own: the test scales them down.
  ScopedService sticky = ScopedService::Echo(S().cluster, UniqueName("rt-sticky"), 3);
  ASSERT_TRUE(sticky.ok()) << sticky.error();
  std::string name = RouteName("sticky");
  ScopedRoute route = ApplyRoutes({Yaml(name, "sticky.test", "/", {{sticky.name()}},
                                        "  stickySession: {cookie: SG_STICKY}\n")});
  ASSERT_TRUE(route.ok()) << route.error();

  // Sessions map to tasks by a consistent hash over the upstream's tasks, so
  // cookies are taken once every proxy has all 3 (a cookie issued while the
  // tasks were still starting may hash elsewhere later).
  ASSERT_TRUE(sticky.WaitRunning(3, 60s).ok);
  auto all3 = WaitUntil("3 tasks behind every proxy", 90s, [&](std::string& observed) {
    observed.clear();
    bool all = true;
    for (int node : ProxyNodes()) {
      std::set<std::string> tasks;
      std::string errors;
      for (int i = 0; i < 30; ++i) {
        auto r = Get("sticky.test", "/new", {}, node);
        if (r.status == 200) {
          tasks.insert(JsonField(r.body, "task"));
        } else {
          errors = " " + r.Describe();
        }
      }
      observed += "node " + std::to_string(node) + ": " + std::to_string(tasks.size()) + " tasks" +
                  errors + "; ";
      all = all && tasks.size() == 3 && errors.empty();
    }
    return all;
  });
  ASSERT_TRUE(all3.ok) << all3.message << State(name);

  // New clients (no cookie) spread over all 3 tasks; keep one cookie per task.
  std::map<std::string, std::string> cookie_of_task;
  auto spread = WaitUntil("new clients reach 3 tasks", 90s, [&](std::string& observed) {
    std::map<std::string, int> seen;
    for (int i = 0; i < 60; ++i) {
      auto r = Get("sticky.test", "/new");
      if (r.status != 200) {
        seen[r.Describe()]++;
        continue;
      }
      std::string task = JsonField(r.body, "task");
      seen[task]++;
      std::string cookie = CookieValue(r.headers["set-cookie"], "SG_STICKY");
      if (!cookie.empty() && !cookie_of_task.count(task)) cookie_of_task[task] = cookie;
    }
    observed = Describe(seen) + "; cookies for " + std::to_string(cookie_of_task.size()) + " tasks";
    return seen.size() == 3 && cookie_of_task.size() == 3;
  });
  ASSERT_TRUE(spread.ok) << spread.message << State(name);

  // The same cookie reaches the same task, 100 times, through both proxies.
  auto sticky_task = [&](const std::string& cookie, int n) {
    std::map<std::string, int> seen;
    for (int i = 0; i < n; ++i) {
      int node = ProxyNodes()[static_cast<size_t>(i) % ProxyNodes().size()];
      auto r = Get("sticky.test", "/again", {{"Cookie", "SG_STICKY=" + cookie}}, node);
      seen[r.status == 200 ? JsonField(r.body, "task") : r.Describe()]++;
      // A known cookie is not replaced.
      if (r.headers.count("set-cookie")) seen["set-cookie " + r.headers["set-cookie"]]++;
    }
    return seen;
  };
  for (const auto& [task, cookie] : cookie_of_task) {
    auto seen = sticky_task(cookie, 100);
    EXPECT_EQ(seen.size(), 1u) << "cookie " << cookie << ": " << Describe(seen);
    EXPECT_EQ(seen[task], 100) << "cookie " << cookie << " first reached " << task << ": "
                               << Describe(seen);
  }

  // One task goes away (scale 3 -> 2): its session moves to a remaining task;
  // the other sessions stay where they are.
  ASSERT_TRUE(c.Docker("service scale -d " + sticky.name() + "=2").ok());
  std::set<std::string> remaining;
  auto two = WaitUntil("2 tasks answer", 60s, [&](std::string& observed) {
    auto tasks = RunningTasks(c, sticky.name());
    std::map<std::string, int> seen;
    int errors = 0;
    // Through every proxy: each must have dropped the removed task before
    // the sessions are checked through all of them.
    for (int i = 0; i < 30; ++i) {
      int node = ProxyNodes()[static_cast<size_t>(i) % ProxyNodes().size()];
      auto r = Get("sticky.test", "/new", {}, node);
      if (r.status == 200) {
        seen[JsonField(r.body, "task")]++;
      } else {
        seen[r.Describe()]++;
        ++errors;
      }
    }
    observed = std::to_string(tasks.size()) + " running; answering: " + Describe(seen);
    remaining.clear();
    for (const auto& [t, n] : seen) remaining.insert(t);
    return tasks.size() == 2 && seen.size() == 2 && errors == 0;
  });
  ASSERT_TRUE(two.ok) << two.message;
  int moved = 0;
  for (const auto& [task, cookie] : cookie_of_task) {
    auto seen = sticky_task(cookie, 30);
    // Answers by task; a moved session may be re-pinned with one new cookie
    // (HAProxy does, nginx keeps hashing the old one), a kept one never.
    std::map<std::string, int> tasks, new_cookies;
    for (const auto& [key, n] : seen) {
      (key.rfind("set-cookie ", 0) == 0 ? new_cookies : tasks)[key] = n;
    }
    EXPECT_EQ(tasks.size(), 1u) << "cookie " << cookie << ": " << Describe(seen);
    EXPECT_LE(new_cookies.size(), 1u) << "cookie " << cookie << ": " << Describe(seen);
    const std::string& now = tasks.empty() ? "none" : tasks.begin()->first;
    EXPECT_TRUE(remaining.count(now)) << "cookie " << cookie << " reached " << now;
    if (remaining.count(task)) {
      EXPECT_EQ(now, task) << "a session whose task survived moved";
      EXPECT_TRUE(new_cookies.empty()) << "a kept session got a new cookie: " << Describe(seen);
    } else {
      ++moved;
      std::cout << "sticky: the session of removed task " << task << " moved to " << now << "\n";
    }
  }
  EXPECT_EQ(moved, 1) << "tasks answering: " << remaining.size();
}

// --------------------------------------------------------------- 3. websockets

TEST_F(RoutingE2E, WebsocketSurvivesChangesOfOtherRoutes) {
  std::string name = RouteName("ws");
  ScopedRoute route =
      ApplyRoutes({Yaml(name, "ws.test", "/", {{S().svc_a.name()}}, "  websocket: true\n")});
  ASSERT_TRUE(route.ok()) << route.error();
  ASSERT_TRUE(WaitServed("ws.test", "/", S().svc_a.name()).ok) << State(name);

  WsClient ws;
  std::string err = ws.Connect(Addr(Node()), S().cluster.http_port(), "/ws", "ws.test");
  ASSERT_EQ(err, "") << State(name);
  EXPECT_EQ(ws.Echo("hello 0"), "hello 0");

  // Unrelated routes come and go (each one a new configuration and an nginx
  // reload) while the connection stays open and keeps echoing.
  std::vector<ScopedRoute> others;
  for (int i = 1; i <= 3; ++i) {
    std::string other = RouteName("ws-other" + std::to_string(i));
    std::string host = "other" + std::to_string(i) + ".ws.test";
    others.push_back(ApplyRoutes({Yaml(other, host, "/", {{S().svc_b.name()}})}));
    ASSERT_TRUE(others.back().ok()) << others.back().error();
    auto w = WaitServed(host, "/", S().svc_b.name(), 30s);
    EXPECT_TRUE(w.ok) << w.message << State(other);
    std::string msg = "hello " + std::to_string(i);
    EXPECT_EQ(ws.Echo(msg), msg) << "after applying " << other;
  }
  for (auto& other : others) (void)other.Delete();
  auto gone = WaitUntil("other routes removed", 30s, [&](std::string& observed) {
    auto r = Get("other3.ws.test", "/");
    observed = r.Describe();
    return r.status == 404;
  });
  EXPECT_TRUE(gone.ok) << gone.message;
  EXPECT_EQ(ws.Echo("still here"), "still here");
  EXPECT_TRUE(ws.connected());
  ws.Close();
}

// --------------------------------------------------------------- 5. timeouts

TEST_F(RoutingE2E, ReadTimeoutAnswers504) {
  std::string name = RouteName("slow");
  ScopedRoute route =
      ApplyRoutes({Yaml(name, "slow.test", "/", {{S().svc_a.name()}}, "  timeouts: {read: 1s}\n")});
  ASSERT_TRUE(route.ok()) << route.error();
  ASSERT_TRUE(WaitServed("slow.test", "/", S().svc_a.name()).ok) << State(name);

  auto t0 = std::chrono::steady_clock::now();
  auto slow = Get("slow.test", "/x?delay=3000", {}, 0, 10s);
  auto took = std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - t0);
  EXPECT_EQ(slow.status, 504) << slow.Describe();
  EXPECT_LT(took.count(), 2900) << "a 1s read timeout answered after " << took.count() << "ms";
  auto fast = Get("slow.test", "/x?delay=200", {}, 0, 10s);
  EXPECT_EQ(fast.status, 200) << fast.Describe();
}

// --------------------------------------------------------------- 7. rate limits

TEST_F(RoutingE2E, RateLimitRejectsBurstsAndLetsSlowClientsThrough) {
  std::string name = RouteName("limited");
  ScopedRoute route = ApplyRoutes({Yaml(name, "limited.test", "/", {{S().svc_a.name()}},
                                        "  rateLimit: {requestsPerSecond: 5, burst: 5}\n")});
  ASSERT_TRUE(route.ok()) << route.error();
  ASSERT_TRUE(WaitServed("limited.test", "/", S().svc_a.name()).ok) << State(name);
  std::this_thread::sleep_for(1500ms);  // the probes above used some of the bucket

  // A fast burst of 50 requests at once.
  std::vector<std::future<int>> burst;
  for (int i = 0; i < 50; ++i) {
    burst.push_back(std::async(std::launch::async,
                               [] { return Get("limited.test", "/burst", {}, 0, 5s).status; }));
  }
  std::map<int, int> codes;
  for (auto& f : burst) codes[f.get()]++;
  std::string got;
  for (const auto& [code, n] : codes) got += std::to_string(code) + "x" + std::to_string(n) + " ";
  EXPECT_GT(codes[429], 0) << got;
  EXPECT_GT(codes[200], 0) << got;
  EXPECT_LE(codes[200], 15) << got;  // rate 5/s + burst 5 over well under a second
  EXPECT_EQ(codes[200] + codes[429], 50) << got;

  // A slow client (about 3 requests per second) is never limited.
  std::this_thread::sleep_for(1500ms);
  std::map<int, int> slow;
  for (int i = 0; i < 10; ++i) {
    slow[Get("limited.test", "/slow").status]++;
    std::this_thread::sleep_for(300ms);
  }
  EXPECT_EQ(slow[200], 10) << "429s: " << slow[429];
}

// --------------------------------------------------------------- 8. update policies

TEST_F(RoutingE2E, UpdatePolicyIsEnforcedOnBackendsAndMissingHealthcheckDegrades) {
  const auto& c = C();
  std::string name = RouteName("policy");
  ScopedRoute route =
      ApplyRoutes({Yaml(name, "policy.test", "/", {{S().policy.name()}},
                        "  updatePolicy:\n    order: start-first\n    delay: 2s\n"
                        "    stopGracePeriod: 20s\n    requireHealthcheck: true\n")});
  ASSERT_TRUE(route.ok()) << route.error();

  auto spec = WaitUntil("backend spec carries the policy", 30s, [&](std::string& observed) {
    auto r = c.Docker("service inspect --format '{{json .Spec}}' " + S().policy.name());
    observed = r.Describe();
    if (!r.ok()) return false;
    rapidjson::Document d;
    d.Parse(r.out.c_str());
    if (d.HasParseError() || !d.IsObject()) return false;
    observed = TrimRight(r.out);
    auto update = d.FindMember("UpdateConfig");
    if (update == d.MemberEnd() || !update->value.IsObject()) return false;
    const auto& u = update->value;
    bool order = u.HasMember("Order") && std::string(u["Order"].GetString()) == "start-first";
    bool delay = u.HasMember("Delay") && u["Delay"].GetInt64() == 2000000000LL;
    const auto& container = d["TaskTemplate"]["ContainerSpec"];
    bool grace = container.HasMember("StopGracePeriod") &&
                 container["StopGracePeriod"].GetInt64() == 20000000000LL;
    return order && delay && grace;
  });
  EXPECT_TRUE(spec.ok) << spec.message;

  auto degraded = WaitUntil("Degraded=True/HealthcheckMissing", 30s, [&](std::string& observed) {
    observed = Sg().Condition("route", name, "Degraded");
    return observed.rfind("True/HealthcheckMissing", 0) == 0;
  });
  ASSERT_TRUE(degraded.ok) << degraded.message;
  // The message says how to add one.
  EXPECT_NE(degraded.observed.find(S().policy.name()), std::string::npos) << degraded.observed;
  EXPECT_NE(degraded.observed.find("--health-cmd"), std::string::npos) << degraded.observed;
  // Degraded, not broken: the route still serves.
  auto served = WaitServed("policy.test", "/", S().policy.name());
  EXPECT_TRUE(served.ok) << served.message << State(name);
}

// --------------------------------------------------------------- 6. passive health

TEST_F(RoutingE2E, PassiveHealthSkipsAnUnreachableTask) {
  const auto& c = C();
  std::string name = RouteName("passive");
  ScopedRoute route = ApplyRoutes({Yaml(name, "passive.test", "/", {{S().passive.name()}},
                                        "  healthCheck: {maxFails: 1, failTimeout: 30s}\n"
                                        "  timeouts: {connect: 1s, read: 2s}\n")});
  ASSERT_TRUE(route.ok()) << route.error();
  int node = Node();
  std::set<std::string> tasks;
  auto both = WaitUntil("2 tasks answer", 60s, [&](std::string& observed) {
    auto seen = TaskCounts("passive.test", "/", 20);
    observed = Describe(seen);
    tasks.clear();
    for (const auto& [t, n] : seen) tasks.insert(t);
    bool tasks_only = true;
    for (const auto& [t, n] : seen)
      tasks_only = tasks_only && t.rfind(S().passive.name() + ".", 0) == 0;
    return seen.size() == 2 && tasks_only;
  });
  ASSERT_TRUE(both.ok) << both.message << State(name);

  // Freeze one task's container: Swarm still sees it running, the proxy's
  // connections to it hang until the read timeout.
  std::string victim = *tasks.begin(), survivor = *tasks.rbegin();
  int victim_node = 0;
  for (const auto& t : RunningTasks(c, S().passive.name())) {
    if (t.id == TaskId(victim)) victim_node = t.node_index;
  }
  ASSERT_NE(victim_node, 0) << "no node for " << victim;
  auto ps =
      c.Docker("ps -q --filter label=com.docker.swarm.task.id=" + TaskId(victim), victim_node);
  std::string container = TrimRight(ps.out);
  ASSERT_FALSE(container.empty()) << ps.Describe();
  auto paused = c.Docker("pause " + container, victim_node);
  ASSERT_TRUE(paused.ok()) << paused.Describe();
  ScopeGuard unpause([&] { (void)c.Docker("unpause " + container, victim_node); });

  std::map<std::string, int> seen;
  int slow = 0;
  for (int i = 0; i < 20; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto r = Get("passive.test", "/p", {}, node, 10s);
    auto ms = std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - t0).count();
    seen[r.status == 200 ? JsonField(r.body, "task") : r.Describe()]++;
    if (ms > 1500) ++slow;
  }
  unpause.Run();
  // Every request succeeded, on the live task.
  EXPECT_EQ(seen[survivor], 20) << Describe(seen);
  // The frozen task cost one read timeout per nginx worker (each worker keeps
  // its own failure count), then was skipped for failTimeout. Without passive
  // health every other request would wait for the timeout.
  std::cout << "passive health: " << slow << " of 20 requests waited for the read timeout\n";
  EXPECT_LE(slow, 4) << Describe(seen);
}

// --------------------------------------------------------------- 9. access logs

// The lines of `docker service logs` output that contain `needle`.
std::vector<std::string> LogLinesWith(const std::string& logs, const std::string& needle) {
  std::vector<std::string> out;
  std::istringstream in(logs);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(needle) != std::string::npos) out.push_back(line);
  }
  return out;
}

// A JSON line with every field, for request `id` to route `route`.
::testing::AssertionResult JsonAccessLine(const std::string& line, const std::string& id,
                                          const std::string& route) {
  const size_t brace = line.find('{');
  rapidjson::Document d;
  if (brace == std::string::npos || d.Parse(line.c_str() + brace).HasParseError() ||
      !d.IsObject()) {
    return ::testing::AssertionFailure() << "not a JSON object: " << line;
  }
  for (const std::string& f : sg::testing::AccessLogFields()) {
    if (!d.HasMember(f.c_str())) return ::testing::AssertionFailure() << "no " << f << ": " << line;
  }
  auto str = [&](const char* f) { return d[f].IsString() ? std::string(d[f].GetString()) : "?"; };
  const bool ok = d["status"].IsInt() && d["status"].GetInt() == 200 && d["bytes"].IsInt() &&
                  d["bytes"].GetInt() > 0 && d["request_time_ms"].IsInt() &&
                  str("host") == "log.test" && str("method") == "GET" &&
                  str("path") == "/logged/" + id && str("upstream_status") == "200" &&
                  str("upstream_addr").find(':') != std::string::npos && str("route") == route &&
                  str("request_id") == id && str("user_agent") == "e2e \"agent\"";
  if (!ok) return ::testing::AssertionFailure() << "unexpected values: " << line;
  return ::testing::AssertionSuccess();
}

// A combined line for request `id` to route `route`: the combined format,
// then request time, upstream address and status, route, request id, host.
::testing::AssertionResult CombinedAccessLine(const std::string& line, const std::string& id,
                                              const std::string& route) {
  static const std::regex re(
      R"re((\S+) - - \[([^\]]+)\] "GET (\S*) HTTP/1\.1" (\d+) (\d+) "((?:[^"\\]|\\.)*)" )re"
      R"re("((?:[^"\\]|\\.)*)" (\d+) "([^"]*)" "([^"]*)" "([^"]*)" "([^"]*)" "([^"]*)"\s*$)re");
  std::smatch m;
  if (!std::regex_search(line, m, re)) {
    return ::testing::AssertionFailure() << "not a combined line: " << line;
  }
  const bool ok = m[3] == "/logged/" + id && m[4] == "200" && std::stoll(m[5].str()) > 0 &&
                  m[9].str().find(':') != std::string::npos && m[10] == "200" && m[11] == route &&
                  m[12] == id && m[13] == "log.test";
  if (!ok) return ::testing::AssertionFailure() << "unexpected values: " << line;
  return ::testing::AssertionSuccess();
}

// The access log a cluster asks for reaches `docker service logs` of its
// proxies, in both formats, with every field and without the requests'
// credentials or query strings. The test changes its cluster, so it has its
// own.
TEST_F(RoutingE2E, AccessLogsReachDockerServiceLogs) {
  ClusterOptions options("rt-log", 24000, 28000);
  options.extra_spec_fields = "  accessLog: {format: json}\n";
  ScopedCluster cluster = ScopedCluster::Create(options);
  ASSERT_TRUE(cluster.ok()) << cluster.error();
  ScopedService echo = ScopedService::Echo(cluster, UniqueName("rt-log"), 1);
  ASSERT_TRUE(echo.ok()) << echo.error();
  const std::string name = RouteName("log");
  ScopedRoute route =
      ScopedRoute::Apply(RouteYaml(name, cluster.name(), "log.test", "/", echo.name()));
  ASSERT_TRUE(route.ok()) << route.error();
  auto served = cluster.WaitServed("log.test", "/", echo.name(), 120s);
  ASSERT_TRUE(served.ok) << served.message << cluster.Diagnose({name});

  // Credentials in a header, a cookie and the query string: none may be logged.
  auto send = [&](const std::string& id, int node) {
    HttpRequest req;
    req.addr = Addr(node);
    req.port = cluster.http_port();
    req.target = "/logged/" + id + "?token=secret-e2e-query";
    req.host = "log.test";
    req.headers = {{"Authorization", "Bearer secret-e2e-auth"},
                   {"Cookie", "session=secret-e2e-cookie"},
                   {"X-Request-Id", id},
                   {"User-Agent", "e2e \"agent\""}};
    return Http(req);
  };
  auto logs = [&] {
    return C().Docker("service logs --raw " + cluster.proxy_service() + " 2>&1", 1, 60s).out;
  };

  // JSON: one request through every proxy node, each line found in the logs.
  for (int node : ProxyNodes()) {
    SCOPED_TRACE("proxy node " + std::to_string(node));
    const std::string id = UniqueName("json");
    auto r = send(id, node);
    ASSERT_EQ(r.status, 200) << r.Describe();
    auto logged = WaitUntil("the JSON line of " + id, 60s, [&](std::string& observed) {
      auto lines = LogLinesWith(logs(), "\"" + id + "\"");
      observed = lines.empty() ? "no line" : lines.front();
      return !lines.empty();
    });
    ASSERT_TRUE(logged.ok) << logged.message << cluster.Diagnose({name});
    EXPECT_TRUE(JsonAccessLine(logged.observed, id, name));
  }

  // Combined: hot delivery changes the format without restarting a proxy;
  // each node's proxy logs combined lines once it serves the new
  // configuration (requests until then still log JSON).
  ShResult reapplied = cluster.Reapply("", "  accessLog: {format: combined}\n");
  ASSERT_TRUE(reapplied.ok()) << reapplied.Describe();
  for (int node : ProxyNodes()) {
    SCOPED_TRACE("proxy node " + std::to_string(node));
    std::string line, id;
    auto logged = WaitUntil("a combined line", 90s, [&](std::string& observed) {
      id = UniqueName("comb");
      auto r = send(id, node);
      for (const std::string& l : LogLinesWith(logs(), "\"" + id + "\"")) {
        if (l.find(" - - [") != std::string::npos) line = l;
      }
      observed = r.Describe() + "; " + (line.empty() ? "no combined line yet" : line);
      return !line.empty();
    });
    ASSERT_TRUE(logged.ok) << logged.message << cluster.Diagnose({name});
    EXPECT_TRUE(CombinedAccessLine(line, id, name));
  }

  const std::string all = logs();
  EXPECT_EQ(all.find("secret-e2e"), std::string::npos)
      << "a credential or query string reached the proxies' logs";
}

// A cluster's host policy and default backend (issue: a catch-all backend
// for unknown hosts, routes outside the policy refused with NotAllowed).
// Unclaimed requests (an unknown host, a path the host's routes do not
// match, the host of a refused route) reach the default service on every
// proxy node; a fixed status replaces it without a proxy restart. The test
// changes its cluster, so it has its own.
TEST_F(RoutingE2E, DefaultBackendAndHostPolicy) {
  const std::string fallback_name = UniqueName("rt-fallback");
  ClusterOptions options("rt-def", 24000, 28000);
  const std::string policy = "  allowedRoutes:\n    hosts: [\"*.allowed.test\"]\n";
  options.extra_spec_fields =
      policy + "  defaultBackend: {service: " + fallback_name + ", port: 8080}\n";
  ScopedCluster cluster = ScopedCluster::Create(options);
  ASSERT_TRUE(cluster.ok()) << cluster.error();
  ScopedService app = ScopedService::Echo(cluster, UniqueName("rt-def-app"), 1);
  ASSERT_TRUE(app.ok()) << app.error();
  ScopedService fallback = ScopedService::Echo(cluster, fallback_name, 1);
  ASSERT_TRUE(fallback.ok()) << fallback.error();

  const std::string inside = RouteName("inside"), outside = RouteName("outside");
  ScopedRoute in_route =
      ScopedRoute::Apply(RouteYaml(inside, cluster.name(), "app.allowed.test", "/api", app.name()));
  ASSERT_TRUE(in_route.ok()) << in_route.error();
  ScopedRoute out_route =
      ScopedRoute::Apply(RouteYaml(outside, cluster.name(), "app.other.test", "/", app.name()));
  ASSERT_TRUE(out_route.ok()) << out_route.error();

  auto served = cluster.WaitServed("app.allowed.test", "/api/x", app.name(), 120s);
  ASSERT_TRUE(served.ok) << served.message << cluster.Diagnose({inside, outside});
  auto refused = Sg().WaitCondition("route", outside, "Ready", "False/NotAllowed", 60s);
  ASSERT_TRUE(refused.ok) << refused.message << cluster.Diagnose({inside, outside});
  EXPECT_NE(refused.observed.find("host \"app.other.test\" is outside the hosts of "
                                  "ServiceCluster \"" +
                                  cluster.name() + "\""),
            std::string::npos)
      << refused.observed;

  struct Case {
    std::string host, target, service;
  };
  const std::vector<Case> cases = {
      {"app.allowed.test", "/api", app.name()},
      {"app.allowed.test", "/api/deeper", app.name()},
      {"app.allowed.test", "/apix", fallback.name()},
      {"app.allowed.test", "/", fallback.name()},
      {"unknown.test", "/anything", fallback.name()},
      {"app.other.test", "/", fallback.name()},
  };
  for (int node : ProxyNodes()) {
    SCOPED_TRACE("proxy node " + std::to_string(node));
    // The default service's first task may still be starting on this node's view.
    auto ready = WaitUntil("the default backend", 60s, [&](std::string& observed) {
      auto r = cluster.Get(node, "unknown.test", "/");
      observed = r.Describe();
      return r.status == 200 && JsonField(r.body, "service") == fallback.name();
    });
    ASSERT_TRUE(ready.ok) << ready.message << cluster.Diagnose({inside, outside});
    for (const Case& c : cases) {
      auto r = cluster.Get(node, c.host, c.target);
      ASSERT_EQ(r.status, 200) << c.host << c.target << ": " << r.Describe();
      EXPECT_EQ(JsonField(r.body, "service"), c.service) << c.host << c.target;
      EXPECT_EQ(JsonField(r.body, "path"), c.target) << c.host << c.target;
    }
  }

  // A fixed status instead: 421 for every unclaimed request, the routes untouched.
  ShResult reapplied = cluster.Reapply("", policy + "  defaultBackend: {status: 421}\n");
  ASSERT_TRUE(reapplied.ok()) << reapplied.Describe();
  for (int node : ProxyNodes()) {
    SCOPED_TRACE("proxy node " + std::to_string(node));
    auto fixed = WaitUntil("status 421 for an unknown host", 90s, [&](std::string& observed) {
      auto r = cluster.Get(node, "unknown.test", "/");
      observed = r.Describe();
      return r.status == 421;
    });
    ASSERT_TRUE(fixed.ok) << fixed.message << cluster.Diagnose({inside, outside});
    EXPECT_EQ(cluster.Get(node, "app.allowed.test", "/other").status, 421);
    EXPECT_EQ(cluster.Get(node, "app.other.test", "/").status, 421);
    auto r = cluster.Get(node, "app.allowed.test", "/api");
    EXPECT_EQ(r.status, 200) << r.Describe();
    EXPECT_EQ(JsonField(r.body, "service"), app.name());
  }
}

// ------------------------------------------------- client address and middlewares

// IP allow and deny lists, a CORS policy and compression, with real requests
// on every proxy node; then the client named by a trusted proxy's
// X-Forwarded-For, which the lists then judge.
TEST_F(RoutingE2E, IpAccessCorsCompressionAndTrustedProxies) {
  const std::string& a = S().svc_a.name();
  using Headers = std::vector<std::pair<std::string, std::string>>;
  // The address the proxies see for this client: what X-Real-IP tells the backend.
  const std::string probe = RouteName("mw-probe");
  ScopedRoute probe_route = ApplyRoutes({Yaml(probe, "probe.mw.test", "/", {{a}})});
  ASSERT_TRUE(probe_route.ok()) << probe_route.error();
  auto probed = WaitServed("probe.mw.test", "/", a);
  ASSERT_TRUE(probed.ok) << probed.message << State(probe);
  const std::string me = SeenHeader(Get("probe.mw.test", "/").body, "x-real-ip");
  ASSERT_FALSE(me.empty());
  const bool v6 = me.find(':') != std::string::npos;
  const std::string me_net = me + (v6 ? "/128" : "/32");
  std::cout << "client address seen by the proxies: " << me << "\n";

  const std::string deny = RouteName("mw-deny"), other = RouteName("mw-other"),
                    allow = RouteName("mw-allow"), cors = RouteName("mw-cors"),
                    gzip = RouteName("mw-gzip"), plain = RouteName("mw-plain"),
                    xff = RouteName("mw-xff");
  ScopedRoute routes = ApplyRoutes(
      {Yaml(deny, "deny.mw.test", "/", {{a}}, "  ipAccess: {deny: [\"" + me_net + "\"]}\n"),
       Yaml(other, "other.mw.test", "/", {{a}}, "  ipAccess: {allow: [192.0.2.0/24]}\n"),
       Yaml(allow, "allow.mw.test", "/", {{a}},
            "  ipAccess: {allow: [\"" + me_net + "\", \"2001:db8::/32\"], deny: [192.0.2.0/24]}\n"),
       Yaml(cors, "cors.mw.test", "/", {{a}},
            "  cors:\n    allowOrigins: [\"https://app.mw.test\", \"https://*.mw.example\"]\n"
            "    allowMethods: [GET, PUT]\n    allowHeaders: [X-Token]\n"
            "    exposeHeaders: [X-Echo-Slot]\n    allowCredentials: true\n    maxAge: 600\n"),
       Yaml(gzip, "gzip.mw.test", "/", {{a}}, "  compression: {types: [application/json]}\n"),
       Yaml(plain, "plain.mw.test", "/", {{a}}),
       Yaml(xff, "xff.mw.test", "/", {{a}}, "  ipAccess: {deny: [192.0.2.0/24]}\n")});
  ASSERT_TRUE(routes.ok()) << routes.error();
  const std::string all_names = deny + " " + other + " " + allow + " " + cors + " " + gzip;

  struct Case {
    std::string method, host, target;
    Headers headers;
    int status;
    Headers response;          // "<absent>": no such header
    std::string seen_real_ip;  // non-empty: the X-Real-IP the backend saw
    long max_body = -1;        // >= 0: the body (as sent) is at most this long
    std::string proxy_from;    // non-empty: a PROXY header naming this client
  };
  const std::string app = "https://app.mw.test", sub = "https://a.b.mw.example";
  const Headers no_cors = {{"access-control-allow-origin", "<absent>"}};
  const std::vector<Case> cases = {
      {"GET", "deny.mw.test", "/", {}, 403, {}, "", -1, ""},
      {"GET", "other.mw.test", "/", {}, 403, {}, "", -1, ""},
      {"GET", "allow.mw.test", "/", {}, 200, {}, me, -1, ""},
      // A preflight of an allowed origin: answered by the proxy.
      {"OPTIONS",
       "cors.mw.test",
       "/x",
       {{"Origin", app},
        {"Access-Control-Request-Method", "PUT"},
        {"Access-Control-Request-Headers", "X-Token"}},
       204,
       {{"access-control-allow-origin", app},
        {"access-control-allow-methods", "GET, PUT"},
        {"access-control-allow-headers", "X-Token"},
        {"access-control-max-age", "600"},
        {"access-control-allow-credentials", "true"},
        {"vary", "Origin"},
        {"x-echo-service", "<absent>"}},
       "",
       -1,
       ""},
      // Of another origin: answered too, without CORS headers.
      {"OPTIONS",
       "cors.mw.test",
       "/x",
       {{"Origin", "https://evil.test"}, {"Access-Control-Request-Method", "PUT"}},
       204,
       {{"access-control-allow-origin", "<absent>"},
        {"access-control-allow-methods", "<absent>"},
        {"x-echo-service", "<absent>"}},
       "",
       -1,
       ""},
      // Requests: the policy's headers replace the backend's own.
      {"GET",
       "cors.mw.test",
       "/x?acao=https://backend.test",
       {{"Origin", sub}},
       200,
       {{"access-control-allow-origin", sub},
        {"access-control-allow-credentials", "true"},
        {"access-control-expose-headers", "X-Echo-Slot"}},
       "",
       -1,
       ""},
      {"GET",
       "cors.mw.test",
       "/x?acao=https://backend.test",
       {{"Origin", "https://mw.example"}},
       200,
       {{"access-control-allow-origin", "<absent>"},
        {"access-control-allow-credentials", "<absent>"}},
       "",
       -1,
       ""},
      {"GET",
       "cors.mw.test",
       "/x",
       {{"Origin", "https://app.mw.test.evil"}},
       200,
       no_cors,
       "",
       -1,
       ""},
      // OPTIONS without Access-Control-Request-Method is no preflight: the backend answers.
      {"OPTIONS", "cors.mw.test", "/x", {{"Origin", app}}, 200, {}, "", -1, ""},
      {"GET",
       "gzip.mw.test",
       "/?pad=20000",
       {{"Accept-Encoding", "gzip"}},
       200,
       {{"content-encoding", "gzip"}},
       "",
       5000,
       ""},
      {"GET",
       "gzip.mw.test",
       "/?pad=20000",
       {},
       200,
       {{"content-encoding", "<absent>"}},
       "",
       -1,
       ""},
      {"GET",
       "plain.mw.test",
       "/?pad=20000",
       {{"Accept-Encoding", "gzip"}},
       200,
       {{"content-encoding", "<absent>"}},
       "",
       -1,
       ""},
      // Not a trusted proxy: the header is not believed.
      {"GET", "xff.mw.test", "/", {{"X-Forwarded-For", "192.0.2.7"}}, 200, {}, me, -1, ""},
  };
  auto check = [&](int node, const Case& k, std::string& seen) {
    HttpRequest req;
    req.method = k.method;
    req.addr = Addr(node);
    req.port = S().cluster.http_port();
    req.target = k.target;
    req.host = k.host;
    req.headers = k.headers;
    req.timeout = 5s;
    if (!k.proxy_from.empty()) {
      req.proxy_header = "PROXY TCP4 " + k.proxy_from + " " + req.addr + " 40000 " +
                         std::to_string(req.port) + "\r\n";
    }
    HttpResponse r = Http(req);
    std::string problem;
    // 0: refused, no HTTP answer at all.
    if (r.status != k.status) problem = "status " + std::to_string(r.status) + " " + r.error;
    if (problem.empty()) problem = ResponseHeaderProblem(r, k.response);
    if (problem.empty() && !k.seen_real_ip.empty() &&
        SeenHeader(r.body, "x-real-ip") != k.seen_real_ip) {
      problem = "backend saw X-Real-IP " + SeenHeader(r.body, "x-real-ip");
    }
    if (problem.empty() && k.max_body >= 0 && static_cast<long>(r.body.size()) > k.max_body) {
      problem = "body of " + std::to_string(r.body.size()) + " bytes";
    }
    if (problem.empty()) return true;
    seen = "node " + std::to_string(node) + ": " + k.method + " " + k.host + k.target + " -> " +
           problem + " (expected " + std::to_string(k.status) + ")\n" + r.Describe();
    return false;
  };
  auto all = WaitEveryCase("every case on every proxy node", 90s, cases, check);
  ASSERT_TRUE(all.ok) << all.message << State(all_names);

  // Bad input: refused with file, line and field; nothing else changes.
  const std::string bad_name = RouteName("mw-bad");
  ScopedRoute bad =
      ApplyRoutes({Yaml(bad_name, "bad.mw.test", "/", {{a}}, "  ipAccess: {allow: [10.0.0.1/8]}\n"),
                   Yaml(RouteName("mw-bad2"), "bad2.mw.test", "/", {{a}},
                        "  cors: {allowOrigins: [\"https://a.test\", \"*\"]}\n")});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find(".yaml:11:"), std::string::npos) << bad.error();
  EXPECT_NE(bad.error().find("spec.ipAccess.allow[0]: expected a network address with no bits set "
                             "beyond the prefix /8, got \"10.0.0.1/8\""),
            std::string::npos)
      << bad.error();
  EXPECT_NE(bad.error().find("spec.cors.allowOrigins[1]: expected \"*\" alone"), std::string::npos)
      << bad.error();
  for (int node : ProxyNodes()) {
    std::string seen;
    for (const Case& k : cases) EXPECT_TRUE(check(node, k, seen)) << seen;
    EXPECT_EQ(Get("bad.mw.test", "/", {}, node).status, 404);
  }

  // Trust this client as a load balancer: X-Forwarded-For now names the
  // client, and the deny list of xff.mw.test judges that address.
  ShResult trusted =
      S().cluster.Reapply("", "  clientAddress: {trustedProxies: [\"" + me_net + "\"]}\n");
  ASSERT_TRUE(trusted.ok()) << trusted.Describe();
  ScopeGuard untrust([] { S().cluster.Reapply(""); });
  const std::vector<Case> behind = {
      {"GET", "xff.mw.test", "/", {{"X-Forwarded-For", "192.0.2.7"}}, 403, {}, "", -1, ""},
      // Only the last address counts: what the balancer appended.
      {"GET",
       "xff.mw.test",
       "/",
       {{"X-Forwarded-For", "192.0.2.7, 198.51.100.9"}},
       200,
       {},
       "198.51.100.9",
       -1,
       ""},
      {"GET",
       "xff.mw.test",
       "/",
       {{"X-Forwarded-For", "198.51.100.9, 192.0.2.7"}},
       403,
       {},
       "",
       -1,
       ""},
      // No header: the peer itself.
      {"GET", "xff.mw.test", "/", {}, 200, {}, me, -1, ""},
  };
  auto believed = WaitEveryCase("X-Forwarded-For believed on every proxy node", 60s, behind, check);
  ASSERT_TRUE(believed.ok) << believed.message << State(xff);
  // The backend sees the chain as it came, with the balancer appended.
  HttpResponse r = Get("xff.mw.test", "/", {{"X-Forwarded-For", "198.51.100.9"}});
  EXPECT_EQ(SeenHeader(r.body, "x-forwarded-for"), "198.51.100.9, " + me) << r.Describe();

  // Behind a TCP balancer: every connection starts with a PROXY header, and
  // the address it names is the client.
  ShResult pp = S().cluster.Reapply("", "  clientAddress: {proxyProtocol: true}\n");
  ASSERT_TRUE(pp.ok()) << pp.Describe();
  const std::vector<Case> tcp_balanced = {
      {"GET", "xff.mw.test", "/", {}, 403, {}, "", -1, "192.0.2.7"},
      {"GET", "xff.mw.test", "/", {}, 200, {}, "198.51.100.9", -1, "198.51.100.9"},
      // X-Forwarded-For is not read: the PROXY header alone names the client.
      {"GET",
       "xff.mw.test",
       "/",
       {{"X-Forwarded-For", "192.0.2.7"}},
       200,
       {},
       "198.51.100.9",
       -1,
       "198.51.100.9"},
      {"GET", "allow.mw.test", "/", {}, 403, {}, "", -1, "198.51.100.9"},
      // A connection without the header gets no answer.
      {"GET", "xff.mw.test", "/", {}, 0, {}, "", -1, ""},
  };
  auto proxied = WaitEveryCase("the PROXY protocol on every proxy node", 60s, tcp_balanced, check);
  ASSERT_TRUE(proxied.ok) << proxied.message << State(xff);

  untrust.Run();
  // Plain connections are served again before the next test.
  auto plain_again = WaitServed("probe.mw.test", "/", a);
  EXPECT_TRUE(plain_again.ok) << plain_again.message << State(probe);
}

}  // namespace
}  // namespace sg::e2e
