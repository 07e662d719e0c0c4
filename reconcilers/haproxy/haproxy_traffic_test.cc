// Real traffic through a rendered haproxy.cfg: HAProxy in front of a backend
// nginx that echoes which backend answered and the URI it received. Skipped
// where haproxy, nginx or curl is absent.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <strings.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "operator/testing/access_log_expectations.h"
#include "operator/testing/child_process.h"
#include "operator/testing/engine_traffic_fixture.h"
#include "operator/testing/loopback_http.h"
#include "operator/testing/routing_expectations.h"
#include "operator/testing/sample_traffic_models.h"
#include "reconcilers/haproxy/haproxy_renderer.h"
#include "reconcilers/haproxy/haproxy_side_files.h"
#include "reconcilers/model/backend_selection.h"

namespace sg::haproxy {
namespace {

using model::Server;
using model::TrafficModel;
using model::Upstream;
using samples::Loc;
using samples::Srv;
using samples::Up;

const char* const kHaproxy = "/usr/sbin/haproxy";

using sg::testing::Curl;
using sg::testing::HeaderValue;
using Response = sg::testing::CurlResponse;

// Polls `done` until it holds or `timeout` has passed; whether it held.
bool WaitUntil(const std::function<bool()>& done,
               std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// The lines of header `name` (case-insensitive) in `headers`, in order.
std::vector<std::string> HeaderLines(const std::string& headers, const std::string& name) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < headers.size()) {
    size_t end = headers.find('\n', start);
    if (end == std::string::npos) end = headers.size();
    std::string line = headers.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    start = end + 1;
    if (line.size() <= name.size() || line[name.size()] != ':') continue;
    if (strncasecmp(line.c_str(), name.c_str(), name.size()) != 0) continue;
    size_t value = line.find_first_not_of(' ', name.size() + 1);
    out.push_back(value == std::string::npos ? "" : line.substr(value));
  }
  return out;
}

// A body long enough for compression to pay off, in one line.
std::string BigBody() {
  std::string body;
  for (int i = 0; i < 80; ++i) body += "swarmgate compression check " + std::to_string(i) + "; ";
  return body;
}

class HaproxyTrafficTest : public sg::testing::EngineTrafficFixture {
 protected:
  HaproxyTrafficTest() : EngineTrafficFixture(kHaproxy, "sg-haproxy-traffic") {}

  // HAProxy reads the certificates from the fixture's directory and binds
  // the public listeners the agent would pass in the environment.
  void StartProxy(TrafficModel m) {
    AssignListeners(m.settings);
    m.settings.certs_dir = dir_;
    model::ResolveSelections(m);
    ASSERT_TRUE(CheckModel(m).ok()) << CheckModel(m).error().ToString();
    RenderOptions options;
    options.log = false;
    options.metrics_port = metrics_port_ = sg::testing::FreeLoopbackPort();
    options.terminate_socket = "sg-terminate-" + std::to_string(getpid());
    const std::string config = RenderHaproxyConfig(m, options);
    auto side = SideFiles(config);
    ASSERT_TRUE(side.ok()) << side.error().ToString();
    std::map<std::string, std::string> files;
    for (const SideFile& f : *side) files[f.name] = f.content;
    StartProxyProcess("haproxy.cfg", config, {kHaproxy, "-db", "-f", "haproxy.cfg"},
                      {fmt::format("SG_HTTP_BIND=ipv4@127.0.0.1:{}", http_),
                       fmt::format("SG_HTTPS_BIND=ipv4@127.0.0.1:{}", https_)},
                      files);
  }

  // A backend of this test's own, for what the fixture's backends do not
  // show: /xff echoes X-Forwarded-For and X-Real-IP, /cors answers with CORS
  // headers of its own, /big and /big.bin answer BigBody() as text/plain and
  // as application/octet-stream. Its address.
  std::string StartEchoBackend() {
    const int port = sg::testing::FreeLoopbackPort();
    const std::string dir = dir_ + "/echo";
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/nginx.conf") << fmt::format(
        R"(pid echo.pid;
error_log stderr;
daemon off;
events {{ worker_connections 64; }}
http {{
  access_log off;
  gzip off;
  client_body_temp_path client_body_temp;
  proxy_temp_path proxy_temp;
  fastcgi_temp_path fastcgi_temp;
  uwsgi_temp_path uwsgi_temp;
  scgi_temp_path scgi_temp;
  server {{
    listen 127.0.0.1:{};
    default_type text/plain;
    location = /xff {{ return 200 "xff=[$http_x_forwarded_for] real=[$http_x_real_ip]\n"; }}
    location = /cors {{
      add_header Access-Control-Allow-Origin https://backend.invalid;
      add_header Access-Control-Allow-Credentials false;
      add_header Access-Control-Expose-Headers X-Backend-Own;
      return 200 "cors\n";
    }}
    location = /big {{ return 200 "{}"; }}
    location = /big.bin {{ default_type application/octet-stream; return 200 "{}"; }}
    location = /up {{ return 200; }}
  }}
}}
)",
        port, BigBody(), BigBody());
    echo_ = std::make_unique<sg::testing::ChildProcess>(
        dir, std::vector<std::string>{"/usr/sbin/nginx", "-p", dir + "/", "-c", dir + "/nginx.conf",
                                      "-e", "stderr"});
    const std::string up = fmt::format("'http://127.0.0.1:{}/up'", port);
    EXPECT_TRUE(WaitUntil([&] { return Curl(up).status == 200; })) << echo_->Output();
    return Backend(port);
  }

  void TearDown() override {
    echo_.reset();
    EngineTrafficFixture::TearDown();
  }

  int metrics_port_ = 0;
  std::unique_ptr<sg::testing::ChildProcess> echo_;
};

// The exporter on the metrics listener counts each route's requests by
// backend and status class: what the proxies' scrape job reads.
TEST_F(HaproxyTrafficTest, MetricsListenerCountsRequestsPerBackend) {
  TrafficModel m;
  m.upstreams.push_back(Up("r.shop.0", {Backend(v1_)}));
  m.servers.push_back(Srv({"shop.example.com"}, {Loc("shop", "/", {{"r.shop.0", 1, false}})}));
  StartProxy(m);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(Get("shop.example.com", "/").status, 200);
  Response metrics = Curl(fmt::format("'http://127.0.0.1:{}/metrics'", metrics_port_));
  ASSERT_EQ(metrics.status, 200) << metrics.headers;
  const std::string line =
      "haproxy_backend_http_responses_total{proxy=\"r.shop.0\",code=\"2xx\"} 5";
  EXPECT_NE(metrics.body.find(line), std::string::npos) << line << " not in:\n"
                                                        << metrics.body.substr(0, 2000);
  EXPECT_EQ(Curl(fmt::format("'http://127.0.0.1:{}/healthz'", metrics_port_)).status, 404);
}

TEST_F(HaproxyTrafficTest, RoutesRewritesSplitsAndPinsRequests) {
  TrafficModel m = sg::testing::SharedRoutingModel(Backend(v1_), Backend(v2_));
  // Sticky sessions over two upstreams: the cookie names the upstream.
  Upstream s1 = Up("s1", {Backend(v1_)}), s2 = Up("s2", {Backend(v2_)});
  s1.sticky_cookie = s2.sticky_cookie = "SVC";
  m.upstreams.push_back(s1);
  m.upstreams.push_back(s2);
  m.servers.push_back(
      Srv({"svc.example.com"}, {Loc("svc", "/", {{"s1", 1, false}, {"s2", 1, false}})}));
  StartProxy(m);

  Response r = Get("Shop.Example.com:8080", "/hello?q=1");
  EXPECT_EQ(r.status, 200) << proxy_->Output();
  EXPECT_EQ(r.body.substr(0, 14), "v1 /hello?q=1 ") << r.body;
  std::string id = HeaderValue(r.headers, "X-Request-Id");
  EXPECT_EQ(id.size(), 36u) << r.headers;
  EXPECT_TRUE(r.body.find(id) != std::string::npos) << "the backend sees the id the client gets";
  EXPECT_TRUE(r.body.find(" http ") != std::string::npos) << r.body;
  EXPECT_EQ(Get("unknown.example.com", "/").status, 404);
  EXPECT_EQ(HeaderValue(Get("unknown.example.com", "/", "-H 'X-Request-Id: abc'").headers,
                        "X-Request-Id"),
            "abc");

  sg::testing::ExpectSharedRouting(Getter(), "SG_STICKY=sticky~");
  // An empty canary cookie is no canary request.
  EXPECT_EQ(Get("shop.example.com", "/canary", "-b 'canary='").body.substr(0, 2), "v1");

  // Sticky to a backend service: the session cookie names the upstream.
  std::set<std::string> services;
  for (int client = 0; client < 20; ++client) {
    Response first = Get("svc.example.com", "/");
    std::string cookie = HeaderValue(first.headers, "Set-Cookie");
    ASSERT_EQ(cookie.rfind("SVC=s", 0), 0u) << first.headers;
    cookie = cookie.substr(0, cookie.find(';'));
    std::string backend = first.body.substr(0, 2);
    services.insert(backend);
    for (int i = 0; i < 3; ++i) {
      Response again = Get("svc.example.com", "/", "-b '" + cookie + "'");
      EXPECT_EQ(again.body.substr(0, 2), backend) << cookie;
    }
  }
  EXPECT_EQ(services.size(), 2u);

  // The status listener.
  EXPECT_EQ(Curl(fmt::format("http://127.0.0.1:{}/healthz", status_port_)).body, "ok\n");
  Response metrics = Curl(fmt::format("http://127.0.0.1:{}/metrics", status_port_));
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("haproxy_process_"), std::string::npos);
}

TEST_F(HaproxyTrafficTest, CanaryValuesCompareExactly) {
  StartProxy(sg::testing::ExactCanaryModel(Backend(v1_), Backend(v2_)));
  sg::testing::ExpectExactCanaryValues(Getter());
}

TEST_F(HaproxyTrafficTest, PassthroughAndTerminateShareTheHttpsPort) {
  TrafficModel m;
  m.upstreams = {Up("v1", {Backend(v1_)})};
  Server shop = Srv({"shop.example.com"}, {Loc("shop", "/", {{"v1", 1, false}})});
  shop.tls = model::TlsCertificate{"cert.pem", "cert.pem"};
  shop.redirect_http = true;
  m.servers = {shop};
  m.redirects.push_back({"shop", "old.example.com", "https://shop.example.com/", 308, {}});
  m.passthrough = {{"vault", {"vault.example.com"}, Up("vault", {Backend(tls_backend_)}), {}}};
  StartProxy(m);

  // The placeholder certificate is for CN=placeholder: strict-sni would refuse
  // shop.example.com, so this case checks the handshake by the name it holds.
  Response term = Curl(fmt::format(
      "--resolve placeholder:{0}:127.0.0.1 -H 'Host: shop.example.com' 'https://placeholder:{0}/x'",
      https_));
  EXPECT_EQ(term.status, 200) << proxy_->Output();
  EXPECT_EQ(term.body.substr(0, 11), "v1 /x https") << term.body;
  EXPECT_NE(term.body.find("127.0.0.1"), std::string::npos)
      << "the client address survives the hand-over: " << term.body;
  Response pt = GetTls("vault.example.com", "/");
  EXPECT_EQ(pt.status, 200) << proxy_->Output();
  EXPECT_EQ(pt.body, "passthrough vault.example.com\n");
  Response redirect = Get("shop.example.com", "/x?y=1");
  EXPECT_EQ(redirect.status, 301);
  EXPECT_EQ(HeaderValue(redirect.headers, "Location"),
            fmt::format("https://shop.example.com:{}/x?y=1", https_));
  Response moved = Get("old.example.com", "/a?b=1");
  EXPECT_EQ(moved.status, 308);
  EXPECT_EQ(HeaderValue(moved.headers, "Location"), "https://shop.example.com/a?b=1");
  // Unknown SNI: no certificate, the handshake is refused.
  EXPECT_EQ(GetTls("other.example.com", "/").status, 0);
}

// The cluster's access log on HAProxy's standard output (the agent passes
// it on to the task's): every field, valid JSON, no credential.
TEST_F(HaproxyTrafficTest, AccessLogJsonOnStdout) {
  TrafficModel m = sg::testing::SharedRoutingModel(Backend(v1_), Backend(v2_));
  m.settings.access_log = model::AccessLogFormat::kJson;
  StartProxy(m);
  sg::testing::ExpectAccessLog(
      m.settings.access_log, Getter(), [this] { return proxy_->Output(); }, Backend(v1_));
}

TEST_F(HaproxyTrafficTest, AccessLogCombinedOnStdout) {
  TrafficModel m = sg::testing::SharedRoutingModel(Backend(v1_), Backend(v2_));
  m.settings.access_log = model::AccessLogFormat::kCombined;
  StartProxy(m);
  sg::testing::ExpectAccessLog(
      m.settings.access_log, Getter(), [this] { return proxy_->Output(); }, Backend(v1_));
}

// A location's networks decide before anything else of it: a denied client
// gets 403 from a redirect and from a rate-limited route alike, and never
// uses up the rate limit. Loopback has many addresses: curl binds
// 127.0.0.2 to be another client.
TEST_F(HaproxyTrafficTest, IpAccessRefusesClientsOutsideTheLocationsNetworks) {
  TrafficModel m;
  m.upstreams.push_back(Up("v1", {Backend(v1_)}));
  auto loc = [](const char* route, const char* path) {
    return Loc(route, path, {{"v1", 1, false}});
  };
  model::Location deny = loc("deny", "/deny");
  deny.ip_access.deny = {"2001:db8::/32", "127.0.0.0/8"};
  model::Location allow = loc("allow", "/allow");
  allow.ip_access.allow = {"2001:db8::/32", "127.0.0.1"};
  // Allowed unless denied: deny is checked first.
  model::Location both = loc("both", "/both");
  both.ip_access.allow = {"127.0.0.0/8"};
  both.ip_access.deny = {"127.0.0.2/32"};
  // More networks than one rule holds: 127.0.0.2 is in the second rule.
  model::Location many = loc("many", "/many");
  for (int i = 0; i < 60; ++i) many.ip_access.allow.push_back(fmt::format("10.9.{}.0/24", i));
  many.ip_access.allow.push_back("127.0.0.2");
  model::Location limited = loc("limited", "/limited");
  limited.ip_access.deny = {"127.0.0.2"};
  limited.rate_limit = {1, 0};
  model::Location moved = Loc("moved", "/moved", {});
  moved.redirect =
      model::LocationRedirect{"https", "elsewhere.example.com", 0, std::nullopt, std::nullopt, 302};
  moved.ip_access.deny = {"127.0.0.2"};
  m.servers.push_back(Srv({"ip.example.com"}, {deny, allow, both, many, limited, moved}));
  StartProxy(m);

  const std::string other = "--interface 127.0.0.2";
  auto status = [&](const char* path, const std::string& extra = "") {
    Response r = Get("ip.example.com", path, extra);
    return std::to_string(r.status) + " " + r.body.substr(0, 2);
  };
  EXPECT_EQ(status("/deny"), "403 <h") << config_;
  EXPECT_EQ(status("/deny", other), "403 <h");
  EXPECT_EQ(status("/allow"), "200 v1");
  EXPECT_EQ(status("/allow", other), "403 <h");
  EXPECT_EQ(status("/both"), "200 v1");
  EXPECT_EQ(status("/both", other), "403 <h");
  EXPECT_EQ(status("/many"), "403 <h");
  EXPECT_EQ(status("/many", other), "200 v1");
  // Denied before the redirect.
  Response redirect = Get("ip.example.com", "/moved");
  EXPECT_EQ(redirect.status, 302) << redirect.headers;
  EXPECT_EQ(HeaderValue(redirect.headers, "Location"), "https://elsewhere.example.com/moved");
  EXPECT_EQ(Get("ip.example.com", "/moved", other).status, 403);
  // Denied before the rate limit (one request a second) counts: every
  // request of the denied client is refused with 403, never 429.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(status("/limited", other), "403 <h") << i;
  EXPECT_EQ(status("/limited"), "200 v1");
}

// Behind a trusted load balancer the last address of X-Forwarded-For is the
// client for the access rules, X-Real-IP and the access log; upstreams get
// the header as it came with the peer appended. From other peers the header
// is not believed.
TEST_F(HaproxyTrafficTest, TrustedProxyNamesTheClient) {
  const std::string echo = StartEchoBackend();
  TrafficModel m;
  m.settings.trusted_proxies = {"2001:db8::/32", "127.0.0.1/32"};
  m.settings.access_log = model::AccessLogFormat::kJson;
  m.upstreams.push_back(Up("echo", {echo}));
  model::Location l = Loc("lb", "/", {{"echo", 1, false}});
  l.ip_access.deny = {"192.0.2.0/24"};
  m.servers.push_back(Srv({"lb.example.com"}, {l}));
  StartProxy(m);

  auto get = [&](const std::string& xff, const std::string& extra = "") {
    return Get("lb.example.com", "/xff", "-H 'X-Forwarded-For: " + xff + "' " + extra);
  };
  Response denied = get("192.0.2.7");
  EXPECT_EQ(denied.status, 403) << denied.headers << denied.body << "\n" << config_;
  // Only the last address counts: what a client put in front is not it.
  EXPECT_EQ(get("203.0.113.9, 192.0.2.7").status, 403);
  Response client = get("192.0.2.7, 203.0.113.9");
  EXPECT_EQ(client.status, 200) << client.headers;
  EXPECT_EQ(client.body, "xff=[192.0.2.7, 203.0.113.9, 127.0.0.1] real=[203.0.113.9]\n");
  // A header without an address: the peer is the client.
  Response garbage = get("not-an-address");
  EXPECT_EQ(garbage.body, "xff=[not-an-address, 127.0.0.1] real=[127.0.0.1]\n");
  Response none = Get("lb.example.com", "/xff");
  EXPECT_EQ(none.body, "xff=[127.0.0.1] real=[127.0.0.1]\n");
  // 127.0.0.2 is no trusted proxy: its header is passed on, not believed.
  Response untrusted = get("192.0.2.7", "--interface 127.0.0.2");
  EXPECT_EQ(untrusted.status, 200) << untrusted.headers;
  EXPECT_EQ(untrusted.body, "xff=[192.0.2.7, 127.0.0.2] real=[127.0.0.2]\n");

  // The access log names the client the balancer gave.
  const std::string want = "\"remote_addr\":\"203.0.113.9\"";
  const std::string denied_line = "\"remote_addr\":\"192.0.2.7\"";
  EXPECT_TRUE(WaitUntil([&] {
    const std::string out = proxy_->Output();
    return out.find(want) != std::string::npos && out.find(denied_line) != std::string::npos;
  })) << want
      << " and " << denied_line << " not in:\n"
      << proxy_->Output();
}

// Preflights are answered by the proxy; every answer of the location, the
// proxy's own included, carries the CORS headers for an allowed origin and
// none (the backend's removed) for another.
TEST_F(HaproxyTrafficTest, CorsAnswersPreflightsAndHeadersAllowedOrigins) {
  const std::string echo = StartEchoBackend();
  TrafficModel m;
  m.upstreams.push_back(Up("echo", {echo}));
  m.upstreams.push_back(Up("none", {}));
  model::Location api = Loc("api", "/", {{"echo", 1, false}});
  api.cors = model::Cors{{"https://app.example.com", "https://*.example.org"},
                         {"GET", "PUT"},
                         {"Content-Type", "X-Token"},
                         {"X-Total", "X-Page"},
                         true,
                         600};
  // No endpoints: HAProxy's own 503, for any origin.
  model::Location gone = Loc("gone", "/gone", {{"none", 1, false}});
  gone.cors = model::Cors{{"*"}, {"GET"}, {}, {}, false, -1};
  m.servers.push_back(Srv({"cors.example.com"}, {api, gone}));
  StartProxy(m);

  auto preflight = [&](const std::string& origin) {
    return Get("cors.example.com", "/cors",
               "-X OPTIONS -H 'Origin: " + origin + "' -H 'Access-Control-Request-Method: PUT'");
  };
  for (const char* origin : {"https://app.example.com", "https://a.b.example.org"}) {
    Response r = preflight(origin);
    EXPECT_EQ(r.status, 204) << origin << "\n" << r.headers << "\n" << config_;
    EXPECT_EQ(HeaderLines(r.headers, "Access-Control-Allow-Origin"),
              std::vector<std::string>{origin})
        << r.headers;
    EXPECT_EQ(HeaderValue(r.headers, "Access-Control-Allow-Methods"), "GET, PUT") << r.headers;
    EXPECT_EQ(HeaderValue(r.headers, "Access-Control-Allow-Headers"), "Content-Type, X-Token");
    EXPECT_EQ(HeaderValue(r.headers, "Access-Control-Max-Age"), "600");
    EXPECT_EQ(HeaderValue(r.headers, "Access-Control-Allow-Credentials"), "true");
    EXPECT_EQ(HeaderLines(r.headers, "Vary"), std::vector<std::string>{"Origin"}) << r.headers;
    EXPECT_EQ(r.body, "");
  }
  // Another origin (the wildcard's own domain is not one of its
  // subdomains): answered, but with nothing a browser would accept.
  for (const char* origin : {"https://evil.example.com", "https://example.org"}) {
    Response r = preflight(origin);
    EXPECT_EQ(r.status, 204) << origin << "\n" << r.headers;
    for (const char* h : {"Access-Control-Allow-Origin", "Access-Control-Allow-Methods",
                          "Access-Control-Allow-Headers", "Access-Control-Allow-Credentials",
                          "Access-Control-Max-Age"}) {
      EXPECT_EQ(HeaderValue(r.headers, h), "") << origin << " got " << h << ":\n" << r.headers;
    }
    EXPECT_EQ(HeaderLines(r.headers, "Vary"), std::vector<std::string>{"Origin"}) << r.headers;
  }

  // Actual requests reach the backend; the policy's headers replace its own.
  Response allowed = Get("cors.example.com", "/cors", "-H 'Origin: https://app.example.com'");
  EXPECT_EQ(allowed.status, 200) << allowed.headers;
  EXPECT_EQ(allowed.body, "cors\n");
  EXPECT_EQ(HeaderLines(allowed.headers, "Access-Control-Allow-Origin"),
            std::vector<std::string>{"https://app.example.com"})
      << allowed.headers;
  EXPECT_EQ(HeaderLines(allowed.headers, "Access-Control-Allow-Credentials"),
            std::vector<std::string>{"true"})
      << allowed.headers;
  EXPECT_EQ(HeaderLines(allowed.headers, "Access-Control-Expose-Headers"),
            std::vector<std::string>{"X-Total, X-Page"})
      << allowed.headers;
  EXPECT_EQ(HeaderLines(allowed.headers, "Vary"), std::vector<std::string>{"Origin"})
      << allowed.headers;
  Response other = Get("cors.example.com", "/cors", "-H 'Origin: https://evil.example.com'");
  EXPECT_EQ(other.status, 200) << other.headers;
  for (const char* h : {"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
                        "Access-Control-Expose-Headers"}) {
    EXPECT_EQ(HeaderValue(other.headers, h), "") << h << " passed:\n" << other.headers;
  }
  EXPECT_EQ(HeaderLines(other.headers, "Vary"), std::vector<std::string>{"Origin"});
  // An OPTIONS request that is no preflight goes to the backend.
  EXPECT_EQ(
      Get("cors.example.com", "/cors", "-X OPTIONS -H 'Origin: https://app.example.com'").body,
      "cors\n");

  // "*" echoes whichever origin asks, also on the proxy's own answers.
  Response unavailable = Get("cors.example.com", "/gone", "-H 'Origin: https://any.example.net'");
  EXPECT_EQ(unavailable.status, 503) << unavailable.headers;
  EXPECT_EQ(HeaderValue(unavailable.headers, "Access-Control-Allow-Origin"),
            "https://any.example.net")
      << unavailable.headers;
  EXPECT_EQ(HeaderValue(unavailable.headers, "Access-Control-Allow-Credentials"), "");
}

// Listed media types are gzipped for clients that accept it; other types,
// other clients and locations without compression get the body as it is.
TEST_F(HaproxyTrafficTest, CompressionGzipsListedTypesForClientsThatAcceptIt) {
  const std::string echo = StartEchoBackend();
  TrafficModel m;
  m.upstreams.push_back(Up("echo", {echo}));
  model::Location gz = Loc("gz", "/", {{"echo", 1, false}});
  gz.compression = model::Compression{{"text/plain", "application/json"}, -1};
  m.servers.push_back(Srv({"gz.example.com"}, {gz}));
  // The same upstream without compression: a backend of its own.
  m.servers.push_back(Srv({"plain.example.com"}, {Loc("plain", "/", {{"echo", 1, false}})}));
  StartProxy(m);

  const std::string body = BigBody();
  Response raw = Get("gz.example.com", "/big", "-H 'Accept-Encoding: gzip'");
  EXPECT_EQ(raw.status, 200) << raw.headers;
  EXPECT_EQ(HeaderValue(raw.headers, "Content-Encoding"), "gzip") << raw.headers << "\n" << config_;
  ASSERT_GE(raw.body.size(), 2u);
  EXPECT_EQ(raw.body.substr(0, 2), "\x1f\x8b") << "not a gzip stream";
  EXPECT_LT(raw.body.size(), body.size() / 2);
  // curl decodes it back to what the backend sent.
  Response decoded = Get("gz.example.com", "/big", "--compressed");
  EXPECT_EQ(HeaderValue(decoded.headers, "Content-Encoding"), "gzip") << decoded.headers;
  EXPECT_EQ(decoded.body, body);

  for (const auto& [host, path, extra] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"gz.example.com", "/big", ""},
           {"gz.example.com", "/big.bin", "-H 'Accept-Encoding: gzip'"},
           {"plain.example.com", "/big", "-H 'Accept-Encoding: gzip'"}}) {
    Response r = Get(host, path, extra);
    EXPECT_EQ(r.status, 200) << host << path << "\n" << r.headers;
    EXPECT_EQ(HeaderValue(r.headers, "Content-Encoding"), "")
        << host << path << " " << extra << "\n"
        << r.headers;
    EXPECT_EQ(r.body, body) << host << path << " " << extra;
  }
}

}  // namespace
}  // namespace sg::haproxy
