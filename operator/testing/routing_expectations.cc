#include "operator/testing/routing_expectations.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "operator/testing/sample_traffic_models.h"

namespace sg::testing {

model::TrafficModel SharedRoutingModel(const std::string& v1, const std::string& v2) {
  using samples::Loc;
  using samples::Srv;
  using samples::Up;
  model::TrafficModel m;
  m.upstreams = {Up("v1", {v1}), Up("v2", {v2}), Up("none", {})};
  model::Upstream sticky = Up("sticky", {v1, v2});
  sticky.sticky_cookie = "SG_STICKY";
  m.upstreams.push_back(sticky);
  model::Location api = Loc("api", "/api", {{"v1", 1, false}});
  api.rewrite = "/";
  model::Location ws = Loc("ws", "/ws", {{"v1", 1, false}});
  ws.websocket = true;
  model::Location canary = Loc("canary", "/canary", {{"v1", 100, false}, {"v2", 0, true}});
  canary.canary = {"X-Canary", "always", "canary", ""};
  m.servers = {
      Srv({"shop.example.com"}, {Loc("shop", "/", {{"v1", 1, false}}), api, canary,
                                 Loc("split", "/split", {{"v1", 1, false}, {"v2", 1, false}}),
                                 Loc("none", "/none", {{"none", 1, false}}), ws}),
      Srv({"*.sticky.example.com"}, {Loc("sticky", "/", {{"sticky", 1, false}})}),
  };
  return m;
}

void ExpectSharedRouting(const GetFn& get, const std::string& sticky_cookie_prefix) {
  auto body2 = [&](const std::string& path, const std::string& extra = "") {
    return get("shop.example.com", path, extra).body.substr(0, 2);
  };
  // Context root: /api and /api/... are rewritten, /apix is not /api.
  EXPECT_EQ(get("shop.example.com", "/api", "").body.substr(0, 5), "v1 / ");
  EXPECT_EQ(get("shop.example.com", "/api/x/y?z=1", "").body.substr(0, 12), "v1 /x/y?z=1 ");
  EXPECT_EQ(get("shop.example.com", "/apix", "").body.substr(0, 9), "v1 /apix ");

  // Canary: weight 0 gets nothing unless the header or cookie asks for it
  // (values match exactly, case included).
  EXPECT_EQ(body2("/canary"), "v1");
  EXPECT_EQ(body2("/canary", "-H 'X-Canary: always'"), "v2");
  EXPECT_EQ(body2("/canary", "-H 'X-Canary: ALWAYS'"), "v1");
  EXPECT_EQ(body2("/canary", "-H 'X-Canary: nope'"), "v1");
  EXPECT_EQ(body2("/canary", "-b 'canary=1'"), "v2");

  // 50/50 by request although each backend has one replica.
  std::map<std::string, int> seen;
  for (int i = 0; i < 100; ++i) seen[body2("/split")]++;
  EXPECT_GT(seen["v1"], 25);
  EXPECT_GT(seen["v2"], 25);

  EXPECT_EQ(get("shop.example.com", "/none", "").status, 503);

  // A websocket handshake reaches the task only where websockets are on;
  // elsewhere the task sees a plain request, as nginx sends it.
  const std::string handshake =
      "-H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' "
      "-H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=='";
  CurlResponse upgraded = get("shop.example.com", "/ws", handshake);
  EXPECT_NE(upgraded.body.find(" upgrade=websocket\n"), std::string::npos) << upgraded.body;
  CurlResponse plain = get("shop.example.com", "/", handshake);
  EXPECT_EQ(plain.status, 200);
  EXPECT_NE(plain.body.find(" upgrade=\n"), std::string::npos) << plain.body;

  // Sticky: a new client gets a cookie; with it, every request lands on the
  // same task; new clients spread over both.
  std::set<std::string> first_backends;
  for (int client = 0; client < 20; ++client) {
    CurlResponse first = get("a.sticky.example.com", "/", "");
    std::string cookie = HeaderValue(first.headers, "Set-Cookie");
    ASSERT_EQ(cookie.rfind(sticky_cookie_prefix, 0), 0u) << first.headers;
    cookie = cookie.substr(0, cookie.find(';'));
    std::string backend = first.body.substr(0, 2);
    first_backends.insert(backend);
    for (int i = 0; i < 3; ++i) {
      CurlResponse again = get("a.sticky.example.com", "/", "-b '" + cookie + "'");
      EXPECT_EQ(again.body.substr(0, 2), backend) << cookie;
      EXPECT_EQ(HeaderValue(again.headers, "Set-Cookie"), "");
    }
  }
  EXPECT_EQ(first_backends.size(), 2u);
}

model::TrafficModel ExactCanaryModel(const std::string& v1, const std::string& v2) {
  using samples::Loc;
  using samples::Srv;
  using samples::Up;
  model::TrafficModel m;
  m.upstreams = {Up("v1", {v1}), Up("v2", {v2})};
  model::Location version = Loc("version", "/version", {{"v1", 100, false}, {"v2", 0, true}});
  version.canary = {"version", "two", "version", "two"};
  model::Location build = Loc("build", "/build", {{"v1", 100, false}, {"v2", 0, true}});
  build.canary = {"X-Build", "1.2+rc(1)", "build-id", "1.2+rc(1)"};
  m.servers = {Srv({"canary.example.com"}, {version, build})};
  return m;
}

void ExpectExactCanaryValues(const GetFn& get) {
  auto backend = [&](const std::string& path, const std::string& extra) {
    CurlResponse r = get("canary.example.com", path, extra);
    EXPECT_EQ(r.status, 200) << path << ' ' << extra << '\n' << r.headers;
    return r.body.substr(0, 2);
  };
  EXPECT_EQ(backend("/version", ""), "v1");
  // The header: its name in any case, its value exactly.
  EXPECT_EQ(backend("/version", "-H 'Version: two'"), "v2");
  EXPECT_EQ(backend("/version", "-H 'version: two'"), "v2");
  EXPECT_EQ(backend("/version", "-H 'VERSION: two'"), "v2");
  EXPECT_EQ(backend("/version", "-H 'Version: TWO'"), "v1");
  EXPECT_EQ(backend("/version", "-H 'Version: Two'"), "v1");
  EXPECT_EQ(backend("/version", "-H 'Version: two2'"), "v1");
  EXPECT_EQ(backend("/version", "-H 'Version: xtwo'"), "v1");
  // The cookie, among others.
  EXPECT_EQ(backend("/version", "-b 'version=two'"), "v2");
  EXPECT_EQ(backend("/version", "-b 'other=1; version=two'"), "v2");
  EXPECT_EQ(backend("/version", "-b 'version=TWO'"), "v1");
  EXPECT_EQ(backend("/version", "-b 'version=Two'"), "v1");
  EXPECT_EQ(backend("/version", "-b 'version=two2'"), "v1");

  // Regex metacharacters in the value are literal characters.
  EXPECT_EQ(backend("/build", "-H 'X-Build: 1.2+rc(1)'"), "v2");
  EXPECT_EQ(backend("/build", "-H 'x-build: 1.2+rc(1)'"), "v2");
  EXPECT_EQ(backend("/build", "-H 'X-Build: 1x2+rc(1)'"), "v1");
  EXPECT_EQ(backend("/build", "-H 'X-Build: 1.22rc1'"), "v1");
  EXPECT_EQ(backend("/build", "-H 'X-Build: 1.2+RC(1)'"), "v1");
  EXPECT_EQ(backend("/build", "-b 'build-id=1.2+rc(1)'"), "v2");
  EXPECT_EQ(backend("/build", "-b 'a=b; build-id=1.2+rc(1); c=d'"), "v2");
  EXPECT_EQ(backend("/build", "-b 'build-id=1.2+RC(1)'"), "v1");
  EXPECT_EQ(backend("/build", "-b 'build-id=1.22rc1'"), "v1");
}

}  // namespace sg::testing
