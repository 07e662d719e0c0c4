// Golden-file tests of the nginx renderer: each case builds a model, renders it
// and compares with testdata/render/<case>.conf. SG_UPDATE_GOLDEN=1 rewrites
// the files; review the diff like code. Every golden config must also pass the
// real `nginx -t`.

#include "reconcilers/nginx/nginx_renderer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "operator/testing/access_log_expectations.h"
#include "operator/testing/engine_traffic_fixture.h"
#include "operator/testing/golden_render_checks.h"
#include "operator/testing/loopback_http.h"
#include "operator/testing/routing_expectations.h"
#include "operator/testing/sample_traffic_models.h"
#include "operator/testing/test_certificate.h"
#include "reconcilers/model/backend_selection.h"
#include "reconcilers/nginx/nginx_writer.h"
#include "reconcilers/nginx_check.h"
#include "sg_build_paths.h"

namespace sg::nginx {
namespace {

using model::Server;
using model::TlsCertificate;
using model::TrafficModel;
using samples::Loc;
using samples::Resolved;
using samples::Srv;
using samples::Up;

const char* const kNginx = "/usr/sbin/nginx";

std::string Render(const TrafficModel& m) {
  return RenderNginxConfig(Resolved(m), RenderOptions{});
}

std::string GoldenPath(const std::string& name) {
  return std::string(SG_SOURCE_DIR) + "/reconcilers/nginx/testdata/render/" + name + ".conf";
}

class GoldenTest : public ::testing::TestWithParam<samples::SampleModel> {};

TEST_P(GoldenTest, MatchesGoldenFile) {
  const samples::SampleModel& c = GetParam();
  sg::testing::ExpectMatchesGoldenFile(Render(c.build()), GoldenPath(c.name), c.name);
}

TEST_P(GoldenTest, PassesNginxTest) {
  if (access(kNginx, X_OK) != 0) GTEST_SKIP() << kNginx << " not installed";
  TrafficModel m = Resolved(GetParam().build());
  std::string config = Render(m);
  auto files = sg::testing::TestCertificateFiles(CertificateFiles(m));
  ExecNginxValidator validator(kNginx);
  Status st = validator.Validate(config, files);
  EXPECT_TRUE(st.ok()) << st.error().ToString() << "\n" << config;
}

TEST_P(GoldenTest, ModelStringsAreSafe) {
  Status st = CheckModelStrings(Resolved(GetParam().build()));
  EXPECT_TRUE(st.ok()) << st.error().ToString();
}

TEST_P(GoldenTest, DeterministicWhateverTheInputOrder) {
  sg::testing::ExpectRenderIgnoresInputOrder(GetParam().build(), Render);
}

INSTANTIATE_TEST_SUITE_P(Render, GoldenTest, ::testing::ValuesIn(samples::SampleModels()),
                         sg::testing::SampleModelTestName);

// ---------------------------------------------------------------------------
// Properties checked directly on the output, so a careless golden update
// cannot silently drop them.

bool Contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

TEST(RenderTest, PathRulesAreExpressedAndConditionsRefusedNamingTheField) {
  EXPECT_TRUE(CheckModel(Resolved(samples::RulesPaths())).ok());
  Status st = CheckModel(Resolved(samples::RulesConditions()));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message,
            "route \"site\": nginx cannot express header, query parameter or method matches "
            "(spec.rules[5].matches[0]): it chooses a location by path alone; use "
            "spec.proxy.engine haproxy for this cluster");
}

// A mirror copies a sample of a location's requests to an internal
// location of the same server, which proxies the original request line.
TEST(RenderTest, AMirrorCopiesASampleThroughAnInternalLocation) {
  model::TrafficModel m = samples::RulesFilters();
  m.upstreams.push_back(samples::Up("r.app.0-m", {"10.0.6.9:8080"}));
  m.servers[0].locations[0].mirror = model::Mirror{"r.app.0-m", 25};
  EXPECT_TRUE(CheckModel(Resolved(m)).ok());
  std::string c = Render(m);
  EXPECT_NE(c.find("            mirror /.sg-mirror/r.app.0-m;\n"), std::string::npos) << c;
  EXPECT_NE(c.find("        location = /.sg-mirror/r.app.0-m {\n            internal;\n"
                   "            if ($sg_mirror_25 = \"\") {\n"),
            std::string::npos)
      << c;
  EXPECT_NE(c.find("proxy_pass http://r.app.0-m$request_uri;"), std::string::npos) << c;
  EXPECT_NE(c.find("split_clients \"${request_id}\" $sg_mirror_25 {\n        25% 1;"),
            std::string::npos)
      << c;
  // A mirror without endpoints copies nothing.
  m.upstreams.back().servers.clear();
  c = Render(m);
  EXPECT_EQ(c.find("mirror "), std::string::npos) << c;
  EXPECT_EQ(c.find(".sg-mirror"), std::string::npos) << c;
}

TEST(RenderTest, RefusesPerBackendFiltersOfASplitAndRetriesOfOtherStatuses) {
  model::TrafficModel m = samples::RulesFilters();
  EXPECT_TRUE(CheckModel(Resolved(m)).ok());
  // The per-backend filters of rule 4, now split with a second backend.
  m.upstreams.push_back(samples::Up("r.app.4-1", {"10.0.6.5:8080"}));
  m.servers[0].locations[4].backends.push_back({"r.app.4-1", 1, false});
  Status st = CheckModel(Resolved(m));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message,
            "route \"app\": nginx cannot apply header filters per backend of a split "
            "(spec.rules[4].backends filters): put them on the rule, or use spec.proxy.engine "
            "haproxy for this cluster");
  m = samples::RulesFilters();
  m.servers[0].locations[1].retry->codes = {503, 408};
  st = CheckModel(Resolved(m));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message,
            "route \"app\": nginx cannot retry status 408 (spec.rules[1].retry.codes): it "
            "retries 403, 404, 429, 500, 502, 503 and 504 only");
}

TEST(RenderTest, AnExactRuleTakesThePrefixsOwnExactLocation) {
  std::string c = Render(samples::RulesPaths());
  size_t exact = c.find("location = /login {");
  ASSERT_NE(exact, std::string::npos) << c;
  EXPECT_EQ(c.find("location = /login {", exact + 1), std::string::npos) << c;
  EXPECT_NE(c.find("location ^~ /login/ {"), std::string::npos) << c;
  // Patterns in order of precedence, whole-path, backslashes kept.
  size_t users = c.find("location ~ \"^(?:/users/[0-9]+(/.*)?)$\" {");
  size_t statics = c.find("location ~ \"^(?:/static/.*\\\\.(css|js))$\" {");
  ASSERT_NE(users, std::string::npos) << c;
  ASSERT_NE(statics, std::string::npos) << c;
  EXPECT_LT(users, statics);
}

TEST(RenderTest, ContextRootMatchesExactAndSubpathsOnly) {
  std::string c = Render(samples::ContextRoot());
  EXPECT_TRUE(Contains(c, "location = /api {\n            rewrite ^ / break;"));
  EXPECT_TRUE(Contains(c, "location ^~ /api/ {\n            rewrite ^/api/(.*)$ /$1 break;"));
  EXPECT_TRUE(Contains(c, "location = /old.v1 {"));
  EXPECT_TRUE(Contains(c, "rewrite ^/old\\.v1/(.*)$ /v2/$1 break;"));
  EXPECT_TRUE(Contains(c, "rewrite ^/(.*)$ /app/$1 break;"));
}

TEST(RenderTest, EmptyUpstreamAnswers503AndIsNotDeclared) {
  std::string c = Render(samples::NoEndpoints());
  EXPECT_FALSE(Contains(c, "upstream empty {"));
  EXPECT_TRUE(Contains(c, "location = /dead {\n            return 503;"));
  EXPECT_TRUE(Contains(c, "location = /half {\n            proxy_pass http://live;"));
}

TEST(RenderTest, WeightedSplitIsByRequest) {
  std::string c = Render(samples::WeightedCanary());
  EXPECT_TRUE(Contains(c,
                       "split_clients \"${request_id}\" $sg_w_shop {\n        90% shop-v1;\n"
                       "        * shop-v2;\n    }"));
}

// nginx compares plain string keys of a map case-insensitively; regex keys
// with '~' are case-sensitive.
TEST(RenderTest, CanaryValuesAreAnchoredCaseSensitiveRegexKeys) {
  std::string c = Render(samples::WeightedCanary());
  EXPECT_TRUE(Contains(c, "        \"~^always$\" shop-v2;\n")) << c;
  EXPECT_TRUE(Contains(c, "        \"~^yes$\" cart-b;\n")) << c;

  // Every regex metacharacter is escaped, whether or not the grammar of
  // Route values lets it through today.
  TrafficModel m = samples::WeightedCanary();
  m.servers[0].locations[0].canary.header_value = "a.b+c*d?e(f)g[h]i{2}j|k^l~m";
  std::string meta = Render(m);
  EXPECT_TRUE(Contains(meta,
                       "        \"~^a\\.b\\+c\\*d\\?e\\(f\\)g\\[h\\]i\\{2\\}j\\|k\\^l~m$\" "
                       "shop-v2;\n"))
      << meta;
  if (access(kNginx, X_OK) != 0) GTEST_SKIP() << kNginx << " not installed";
  ExecNginxValidator validator(kNginx);
  Status st = validator.Validate(meta, sg::testing::TestCertificateFiles(CertificateFiles(m)));
  EXPECT_TRUE(st.ok()) << st.error().ToString() << "\n" << meta;
}

TEST(RenderTest, UnsafeStringsAreNeutralisedAndReported) {
  TrafficModel m = samples::OneHost();
  m.servers[0].hosts[0] = "evil.example.com; } include /etc/passwd; server {";
  m.servers[0].locations[0].canary = {"X-A", "x\" $y", "", ""};
  m.servers[0].locations[0].backends.push_back({"shop-v1", 0, true});
  std::string c = Render(m);
  EXPECT_FALSE(Contains(c, "include /etc/passwd;"));
  EXPECT_TRUE(Contains(c, "server_name evil.example.com____include_/etc/passwd__server__;")) << c;
  EXPECT_FALSE(Contains(c, "$y"));
  // Upstream names reach map values too.
  TrafficModel w = samples::WeightedCanary();
  w.upstreams[1].name = w.servers[0].locations[0].backends[1].upstream = "v2;return 200";
  std::string wc = Render(w);
  EXPECT_FALSE(Contains(wc, "v2;return")) << wc;
  EXPECT_TRUE(Contains(wc, "\"~^always$\" v2_return_200;")) << wc;
  EXPECT_FALSE(CheckModelStrings(Resolved(w)).ok());
  Status st = CheckModelStrings(m);
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(Contains(st.error().message, "host")) << st.error().message;
  EXPECT_FALSE(IsSafeToken("a;b"));
  EXPECT_FALSE(IsSafeToken("a b"));
  EXPECT_FALSE(IsSafeToken(""));
  EXPECT_TRUE(IsSafeToken("*.example.com"));
  EXPECT_TRUE(IsSafeQuoted("a b; {x}"));
  EXPECT_FALSE(IsSafeQuoted("a$b"));
}

// The operator renders with access_log "off": a cluster without a format
// keeps that (its configuration is the one it had before clusters chose), a
// cluster with one logs to standard output whatever the option says.
TEST(RenderTest, AccessLogFollowsTheCluster) {
  RenderOptions production;
  production.access_log = "off";
  TrafficModel m = Resolved(samples::ContextRoot());
  std::string off = RenderNginxConfig(m, production);
  EXPECT_TRUE(Contains(off, "    log_format sg '")) << off;
  EXPECT_TRUE(Contains(off, "\n    access_log off;\n")) << off;
  EXPECT_FALSE(Contains(off, "sg_route")) << off;

  for (auto format : {model::AccessLogFormat::kCombined, model::AccessLogFormat::kJson}) {
    m.settings.access_log = format;
    std::string c = RenderNginxConfig(m, production);
    const bool json = format == model::AccessLogFormat::kJson;
    EXPECT_TRUE(Contains(c, json ? "    access_log /dev/stdout sg_json;\n"
                                 : "    access_log /dev/stdout sg_combined;\n"))
        << c;
    EXPECT_FALSE(Contains(c, "\n    access_log off;\n")) << c;
    EXPECT_TRUE(Contains(c, "location = /api {\n            set $sg_route \"api\";\n")) << c;
    // The status server keeps its probes out of the log.
    EXPECT_TRUE(Contains(c, "        access_log off;\n")) << c;
    // Nothing that carries a query string or a credential is in the format.
    const size_t start = c.find("    log_format ");
    const std::string format_text = c.substr(start, c.find(';', start) - start);
    for (const char* leak :
         {"$request ", "$request\"", "$request_uri", "$args", "$query_string", "$remote_user",
          "$http_authorization", "$http_cookie", "$cookie_", "$http_referer", "$request_body"}) {
      EXPECT_FALSE(Contains(format_text, leak)) << leak << " in " << format_text;
    }
    if (access(kNginx, X_OK) != 0) continue;
    ExecNginxValidator validator(kNginx);
    Status st = validator.Validate(c, sg::testing::TestCertificateFiles(CertificateFiles(m)));
    EXPECT_TRUE(st.ok()) << st.error().ToString() << "\n" << c;
  }
}

// ---------------------------------------------------------------------------

TrafficModel ManyRoutes(int n) { return samples::ManyRoutesModel(n); }

// Budget: 100 ms for 10,000 routes, line map included. Printed, not
// asserted: CI machines are shared. After a warm-up (the first render pays
// for fresh memory), the best of five of each filters out scheduling noise.
TEST(RenderBenchmark, TenThousandRoutes) {
  TrafficModel m = Resolved(ManyRoutes(10000));
  std::string c;
  RenderedConfig r = RenderNginx(m, RenderOptions{});  // warm-up: fresh memory
  double text_ms = samples::BestMilliseconds(5, [&] { c = RenderNginxConfig(m, RenderOptions{}); });
  double mapped_ms = samples::BestMilliseconds(5, [&] { r = RenderNginx(m, RenderOptions{}); });
  std::cout << "[ bench    ] render of 10000 routes: " << text_ms << " ms (best of 5), " << c.size()
            << " bytes; with the line map: " << mapped_ms << " ms, " << r.route_of_line.size()
            << " lines\n";
  EXPECT_GT(c.size(), 10000u);
  EXPECT_EQ(r.text, c);
  // The model check runs on every pass, before a known-good text is reused.
  Status st;
  double check_ms = samples::BestMilliseconds(5, [&] { st = CheckModel(m); });
  std::cout << "[ bench    ] nginx model check of 10000 routes: " << check_ms
            << " ms (best of 5)\n";
  EXPECT_TRUE(st.ok()) << st.error().ToString();
}

// nginx's own configuration loading is quadratic in the number of upstream
// blocks (each `upstream` and literal proxy_pass scans the list), so a 10,000
// route config takes nginx tens of seconds; 1,000 routes are checked here.
TEST(RenderBenchmark, ThousandRoutesPassNginxTest) {
  if (access(kNginx, X_OK) != 0) GTEST_SKIP() << kNginx << " not installed";
  TrafficModel m = ManyRoutes(1000);
  ExecNginxValidator validator(kNginx);
  Status st = validator.Validate(Render(m), {});
  EXPECT_TRUE(st.ok()) << st.error().ToString();
}

// ---------------------------------------------------------------------------
// Real traffic through a rendered config: a proxy nginx in front of a backend
// nginx that echoes which backend answered and the URI it received.

using sg::testing::HeaderValue;
using Response = sg::testing::CurlResponse;

class TrafficTest : public sg::testing::EngineTrafficFixture {
 protected:
  TrafficTest() : EngineTrafficFixture(kNginx, "sg-traffic") {}

  // The certificates are found relative to nginx.conf, one directory up.
  // Rendered as the operator does: no access log unless the model asks.
  void StartProxy(TrafficModel m) {
    AssignListeners(m.settings);
    m.settings.tls_internal_port = sg::testing::FreeLoopbackPort();
    m.settings.passthrough_internal_port = sg::testing::FreeLoopbackPort();
    m.settings.certs_dir = "..";
    model::ResolveSelections(m);
    RenderOptions options;
    options.access_log = "off";
    const std::string prefix = ProxyDir() + "/";
    StartProxyProcess("nginx.conf", RenderNginxConfig(m, options),
                      {kNginx, "-p", prefix, "-c", prefix + "nginx.conf", "-e", "stderr"});
  }
};

TEST_F(TrafficTest, RoutesRewritesSplitsAndPinsRequests) {
  StartProxy(sg::testing::SharedRoutingModel(Backend(v1_), Backend(v2_)));

  Response r = Get("shop.example.com", "/hello?q=1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.substr(0, 14), "v1 /hello?q=1 ");
  std::string id = HeaderValue(r.headers, "X-Request-Id");
  EXPECT_EQ(id.size(), 32u) << r.headers;
  EXPECT_TRUE(Contains(r.body, id)) << "the backend sees the id the client gets";
  EXPECT_EQ(Get("unknown.example.com", "/").status, 404);

  sg::testing::ExpectSharedRouting(Getter(), "SG_STICKY=");
}

// nginx compares plain map keys case-insensitively: the canary values are
// regex keys, which this checks with real requests.
TEST_F(TrafficTest, CanaryValuesCompareExactly) {
  StartProxy(sg::testing::ExactCanaryModel(Backend(v1_), Backend(v2_)));
  sg::testing::ExpectExactCanaryValues(Getter());
}

TEST_F(TrafficTest, PassthroughAndTerminateShareTheHttpsPort) {
  TrafficModel m;
  m.upstreams = {Up("v1", {Backend(v1_)})};
  Server shop = Srv({"shop.example.com"}, {Loc("shop", "/", {{"v1", 1, false}})});
  shop.tls = TlsCertificate{"cert.pem", "cert.pem"};
  shop.redirect_http = true;
  m.servers = {shop};
  m.passthrough = {{"vault", {"vault.example.com"}, Up("vault", {Backend(tls_backend_)}), {}}};
  StartProxy(m);

  Response term = GetTls("shop.example.com", "/x");
  EXPECT_EQ(term.status, 200) << proxy_->Output();
  EXPECT_EQ(term.body.substr(0, 11), "v1 /x https");
  Response pt = GetTls("vault.example.com", "/");
  EXPECT_EQ(pt.status, 200) << proxy_->Output();
  EXPECT_EQ(pt.body, "passthrough vault.example.com\n");
  Response redirect = Get("shop.example.com", "/x?y=1");
  EXPECT_EQ(redirect.status, 301);
  EXPECT_EQ(HeaderValue(redirect.headers, "Location"),
            fmt::format("https://shop.example.com:{}/x?y=1", https_));
  // Unknown SNI: no certificate, the handshake is refused.
  EXPECT_EQ(GetTls("other.example.com", "/").status, 0);
}

// The cluster's access log on nginx's standard output (the agent passes it
// on to the task's): every field, valid JSON, no credential.
TEST_F(TrafficTest, AccessLogJsonOnStdout) {
  TrafficModel m = sg::testing::SharedRoutingModel(Backend(v1_), Backend(v2_));
  m.settings.access_log = model::AccessLogFormat::kJson;
  StartProxy(m);
  sg::testing::ExpectAccessLog(
      m.settings.access_log, Getter(), [this] { return proxy_->Output(); }, Backend(v1_));
}

TEST_F(TrafficTest, AccessLogCombinedOnStdout) {
  TrafficModel m = sg::testing::SharedRoutingModel(Backend(v1_), Backend(v2_));
  m.settings.access_log = model::AccessLogFormat::kCombined;
  StartProxy(m);
  sg::testing::ExpectAccessLog(
      m.settings.access_log, Getter(), [this] { return proxy_->Output(); }, Backend(v1_));
}

// Without a format of its own, a cluster rendered as the operator renders it
// logs nothing.
TEST_F(TrafficTest, NoAccessLogByDefault) {
  StartProxy(sg::testing::SharedRoutingModel(Backend(v1_), Backend(v2_)));
  ASSERT_EQ(Get("shop.example.com", "/api/x?token=secret").status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(proxy_->Output().find("/api/x"), std::string::npos) << proxy_->Output();
}

}  // namespace
}  // namespace sg::nginx
