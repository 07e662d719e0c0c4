// Real traffic through a rendered haproxy.cfg: HAProxy in front of a backend
// nginx that echoes which backend answered and the URI it received. Skipped
// where haproxy, nginx or curl is absent.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "operator/testing/access_log_expectations.h"
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

  int metrics_port_ = 0;
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

}  // namespace
}  // namespace sg::haproxy
