// Golden-file tests of the HAProxy renderer: the sample models the nginx
// golden test renders (operator/testing/sample_traffic_models.h), compared
// with testdata/render/<case>.cfg. SG_UPDATE_GOLDEN=1 rewrites the files;
// review the diff like code. Every golden config must also pass the real
// `haproxy -c`, without warnings.

#include "reconcilers/haproxy/haproxy_renderer.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "operator/common/process.h"
#include "operator/testing/golden_render_checks.h"
#include "operator/testing/sample_traffic_models.h"
#include "operator/testing/test_certificate.h"
#include "reconcilers/haproxy/haproxy_side_files.h"
#include "reconcilers/haproxy/haproxy_writer.h"
#include "reconcilers/haproxy_check.h"
#include "sg_build_paths.h"

namespace sg::haproxy {
namespace {

using model::TrafficModel;
using samples::Loc;
using samples::Resolved;
using samples::Srv;
using samples::Up;

const char* const kHaproxy = "/usr/sbin/haproxy";

std::string Render(const TrafficModel& m) {
  return RenderHaproxyConfig(Resolved(m), RenderOptions{});
}

std::string GoldenPath(const std::string& name) {
  return std::string(SG_SOURCE_DIR) + "/reconcilers/haproxy/testdata/render/" + name + ".cfg";
}

std::map<std::string, std::string> PlaceholderFiles(const TrafficModel& m) {
  return sg::testing::TestCertificateFiles(CertificateFiles(m));
}

// `haproxy -c` on `config` in a fresh directory; its whole output, and
// whether it accepted the file.
std::pair<bool, std::string> RunCheck(const std::string& config,
                                      const std::map<std::string, std::string>& files) {
  char templ[] = "/tmp/sg-haproxy-golden-XXXXXX";
  EXPECT_NE(mkdtemp(templ), nullptr);
  std::string dir = templ;
  for (const auto& [name, content] : files) {
    std::filesystem::create_directories(std::filesystem::path(dir + "/" + name).parent_path());
    std::ofstream(dir + "/" + name) << content;
  }
  std::ofstream(dir + "/haproxy.cfg") << config;
  auto side = SideFiles(config);
  EXPECT_TRUE(side.ok()) << side.error().ToString();
  if (side.ok()) {
    for (const SideFile& f : *side) std::ofstream(dir + "/" + f.name) << f.content;
  }
  ProcessOptions options;
  options.timeout = std::chrono::seconds(60);
  options.environment = {"SG_HTTP_BIND=ipv4@127.0.0.1:80", "SG_HTTPS_BIND=ipv4@127.0.0.1:443"};
  auto run = RunProcess({kHaproxy, "-c", "-C", dir, "-f", dir + "/haproxy.cfg"}, options);
  std::filesystem::remove_all(dir);
  if (!run.ok()) return {false, run.error().ToString()};
  return {run->exit_code == 0, run->output};
}

class HaproxyGoldenTest : public ::testing::TestWithParam<samples::SampleModel> {};

TEST_P(HaproxyGoldenTest, MatchesGoldenFile) {
  const samples::SampleModel& c = GetParam();
  sg::testing::ExpectMatchesGoldenFile(Render(c.build()), GoldenPath(c.name), c.name);
}

TEST_P(HaproxyGoldenTest, PassesHaproxyCheckWithoutWarnings) {
  if (access(kHaproxy, X_OK) != 0) GTEST_SKIP() << kHaproxy << " not installed";
  TrafficModel m = Resolved(GetParam().build());
  std::string config = RenderHaproxyConfig(m, RenderOptions{});
  auto [ok, output] = RunCheck(config, PlaceholderFiles(m));
  EXPECT_TRUE(ok) << output << "\n" << config;
  EXPECT_EQ(output.find("[WARNING]"), std::string::npos) << output;
  // The validator the data plane uses agrees.
  ExecHaproxyValidator validator(kHaproxy);
  Status st = validator.Validate(config, PlaceholderFiles(m));
  EXPECT_TRUE(st.ok()) << st.error().ToString();
}

TEST_P(HaproxyGoldenTest, ModelIsExpressible) {
  Status st = CheckModel(Resolved(GetParam().build()));
  EXPECT_TRUE(st.ok()) << st.error().ToString();
}

TEST_P(HaproxyGoldenTest, DeterministicWhateverTheInputOrder) {
  sg::testing::ExpectRenderIgnoresInputOrder(GetParam().build(), Render);
}

INSTANTIATE_TEST_SUITE_P(HaproxyRender, HaproxyGoldenTest,
                         ::testing::ValuesIn(samples::SampleModels()),
                         sg::testing::SampleModelTestName);

TEST(HaproxyCheckTest, RefusesMirrorsAndRetriesOfOtherStatuses) {
  model::TrafficModel m = samples::RulesFilters();
  m.upstreams.push_back(Up("r.app.0-m", {"10.0.6.9:8080"}));
  m.servers[0].locations[0].mirror = model::Mirror{"r.app.0-m", 100};
  Status st = CheckModel(Resolved(m));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message,
            "route \"app\": HAProxy 2.6 cannot mirror requests (spec.rules[0].filters "
            "RequestMirror); use spec.proxy.engine nginx for this cluster");
  m = samples::RulesFilters();
  m.servers[0].locations[1].retry->codes = {429};
  st = CheckModel(Resolved(m));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message,
            "route \"app\": HAProxy cannot retry status 429 (spec.rules[1].retry.codes): "
            "retry-on takes 401, 403, 404, 408, 425, 500, 501, 502, 503 and 504");
}

TEST(HaproxyCheckTest, RefusesAMinimumCompressionLength) {
  model::TrafficModel m = samples::OneHost();
  m.servers[0].locations[0].compression = model::Compression{{"text/plain"}, -1};
  Status st = CheckModel(Resolved(m));
  EXPECT_TRUE(st.ok()) << st.error().ToString();
  m.servers[0].locations[0].compression->min_length = 0;
  st = CheckModel(Resolved(m));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message,
            "route \"shop\": HAProxy 2.6 cannot leave small responses uncompressed "
            "(spec.compression.minLength); leave it out or use spec.proxy.engine nginx for "
            "this cluster");
}

// ---------------------------------------------------------------------------
// Client policies: trusted load balancers, client networks, CORS and
// compression, in models of their own beside the shared samples.

// Every policy on one route ("api", on two hosts: the second without
// compression, so it is a variant and a backend of its own), a redirect of
// denied clients' route, "*" origins on a route without endpoints; behind
// trusted load balancers, with the combined access log.
TrafficModel ClientPolicies() {
  TrafficModel m;
  m.settings.trusted_proxies = {"10.0.0.0/8", "2001:db8:1b::/48"};
  m.settings.access_log = model::AccessLogFormat::kCombined;
  m.upstreams.push_back(Up("r.api.0", {"10.0.3.2:8080"}));
  m.upstreams.push_back(Up("r.gone.0", {}));
  model::Location api = Loc("api", "/", {{"r.api.0", 1, false}});
  api.ip_access = {{"10.1.0.0/16", "2001:db8::/32"}, {"10.1.2.0/24", "2001:db8:bad::/48"}};
  api.cors = model::Cors{{"https://app.example.com", "https://*.example.org"},
                         {"GET", "POST"},
                         {"Content-Type", "X-Token"},
                         {"X-Total"},
                         true,
                         600};
  api.compression = model::Compression{{"text/html", "application/json"}, -1};
  api.rate_limit = {10, 5};
  model::Location api2 = api;
  api2.compression.reset();
  model::Location moved = Loc("moved", "/old", {});
  moved.redirect =
      model::LocationRedirect{"https", "www.example.com", 0, std::nullopt, std::nullopt, 301};
  moved.ip_access.deny = {"192.0.2.0/24"};
  model::Location gone = Loc("gone", "/gone", {{"r.gone.0", 1, false}});
  gone.cors = model::Cors{{"*"}, {"GET"}, {}, {}, false, -1};
  m.servers.push_back(Srv({"api.example.com"}, {api, moved, gone}));
  m.servers.push_back(Srv({"api2.example.com"}, {api2}));
  return m;
}

// Lists longer than one HAProxy line holds (64 words): trusted proxies,
// allowed and denied networks over several rules, media types over several
// lines; the JSON access log.
TrafficModel ClientPoliciesLongLists() {
  TrafficModel m;
  m.settings.access_log = model::AccessLogFormat::kJson;
  for (int i = 0; i < 45; ++i) m.settings.trusted_proxies.push_back(fmt::format("10.0.{}.0/24", i));
  m.settings.trusted_proxies.push_back("2001:db8:1b::/48");
  m.upstreams.push_back(Up("r.app.0", {"10.0.4.2:8080"}));
  model::Location app = Loc("app", "/", {{"r.app.0", 1, false}});
  for (int i = 0; i < 50; ++i) {
    app.ip_access.allow.push_back(fmt::format("10.{}.0.0/16", 100 + i));
    app.ip_access.deny.push_back(fmt::format("2001:db8:{:x}::/48", i));
  }
  app.compression = model::Compression{{"text/plain"}, -1};
  for (int i = 0; i < 44; ++i) {
    app.compression->types.push_back(fmt::format("application/vnd.sg-{}+json", i));
  }
  m.servers.push_back(Srv({"app.example.com"}, {app}));
  return m;
}

const std::vector<samples::SampleModel>& PolicyModels() {
  static const std::vector<samples::SampleModel> cases = {
      {"client_policies", ClientPolicies},
      {"client_policies_long_lists", ClientPoliciesLongLists},
  };
  return cases;
}

// The engine's own samples: the same checks as the shared ones.
INSTANTIATE_TEST_SUITE_P(HaproxyPolicies, HaproxyGoldenTest, ::testing::ValuesIn(PolicyModels()),
                         sg::testing::SampleModelTestName);

// ---------------------------------------------------------------------------
// Properties checked directly on the output, so a careless golden update
// cannot silently drop them.

bool Contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

// The operator renders with log = false: a cluster without a format keeps
// that (no log line at all, its configuration is the one it had before
// clusters chose), a cluster with one logs to standard output.
TEST(HaproxyRenderTest, AccessLogFollowsTheCluster) {
  RenderOptions production;
  production.log = false;
  TrafficModel m = Resolved(samples::PassthroughAndTerminate());
  std::string off = RenderHaproxyConfig(m, production);
  for (const char* line : {"\n    log ", "log-format", "no log", "option tcplog"}) {
    EXPECT_FALSE(Contains(off, line)) << line << " in\n" << off;
  }

  for (auto format : {model::AccessLogFormat::kCombined, model::AccessLogFormat::kJson}) {
    m.settings.access_log = format;
    std::string c = RenderHaproxyConfig(m, production);
    EXPECT_TRUE(Contains(c, "global\n")) << c;
    EXPECT_TRUE(Contains(c, "    log stdout format raw local0\n")) << c;
    EXPECT_TRUE(Contains(c, "defaults\n    mode http\n    log global\n    option dontlognull\n"))
        << c;
    // The probes stay out of the log, and so do passthrough connections,
    // which the HTTP formats cannot describe (nginx logs none either).
    EXPECT_TRUE(Contains(c, "frontend sg:status\n    bind 127.0.0.1:8082\n    no log\n")) << c;
    EXPECT_FALSE(Contains(c, "option tcplog")) << c;
    EXPECT_TRUE(Contains(c, "    http-request set-var(txn.sg_path) path\n")) << c;
    EXPECT_TRUE(Contains(c, "    http-response set-var(txn.sg_ust) status\n")) << c;
    const size_t start = c.find("    log-format '");
    ASSERT_NE(start, std::string::npos) << c;
    const std::string format_text = c.substr(start, c.find('\n', start) - start);
    EXPECT_EQ(Contains(format_text, "'{\"time\""), format == model::AccessLogFormat::kJson)
        << format_text;
    // Nothing that carries a query string or a credential is in the format.
    for (const char* leak : {"%HU", "%HQ", "%r ", "%r\"", "%hr", "%hrl", "%CC", "%HP ",
                             "authorization", "cookie", "url", "query"}) {
      EXPECT_FALSE(Contains(format_text, leak)) << leak << " in " << format_text;
    }
    if (access(kHaproxy, X_OK) != 0) continue;
    auto [ok, output] = RunCheck(c, PlaceholderFiles(m));
    EXPECT_TRUE(ok) << output << "\n" << c;
    EXPECT_EQ(output.find("[WARNING]"), std::string::npos) << output;
  }
}

TEST(HaproxyRenderTest, PublicListenersComeFromTheEnvironment) {
  std::string plain = Render(samples::OneHost());
  EXPECT_TRUE(Contains(plain, "    bind \"${SG_HTTP_BIND}\"\n"));
  EXPECT_FALSE(Contains(plain, "SG_HTTPS_BIND}\""));  // no TLS: no https front-end
  EXPECT_TRUE(Contains(plain,
                       "stats socket unix@haproxy.sock mode 600 level admin "
                       "expose-fd listeners\n"));
  std::string tls = Render(samples::TlsTerminate());
  EXPECT_TRUE(Contains(tls,
                       "    bind \"${SG_HTTPS_BIND}\" ssl crt certs/blog-tls.crt crt "
                       "certs/shop-tls.crt strict-sni\n"))
      << tls;
  std::string pt = Render(samples::PassthroughAndTerminate());
  EXPECT_TRUE(Contains(pt, "frontend sg:https\n    bind \"${SG_HTTPS_BIND}\"\n")) << pt;
  EXPECT_TRUE(Contains(pt, "bind abns@sg-terminate accept-proxy ssl crt")) << pt;
  EXPECT_TRUE(Contains(pt, "server terminate abns@sg-terminate send-proxy-v2")) << pt;
  EXPECT_TRUE(Contains(pt, "use_backend tls:vault if { req.ssl_sni -i vault.example.com }"));
  EXPECT_TRUE(
      Contains(pt, "use_backend tls:vault if { req.ssl_sni -i -m end .vault.example.com }"));
  EXPECT_FALSE(Contains(pt, "tls:down"));
}

TEST(HaproxyRenderTest, StatusListenerAnswersHealthAndMetrics) {
  std::string c = Render(samples::Empty());
  EXPECT_TRUE(Contains(c, "frontend sg:status\n    bind 127.0.0.1:8082\n")) << c;
  EXPECT_TRUE(Contains(c, "string \"ok\\n\" if { path /healthz }"));
  EXPECT_TRUE(Contains(c, "use-service prometheus-exporter if { path /metrics }"));
  EXPECT_TRUE(Contains(c, "option idle-close-on-response\n"));
}

TEST(HaproxyRenderTest, ContextRootMatchesExactAndSubpathsOnly) {
  std::string c = Render(samples::ContextRoot());
  // "<host id><context root>/" against "<host id><path>/" in a prefix map.
  EXPECT_TRUE(Contains(c, "var(txn.sg_srv),concat(,txn.sg_p,),map_beg(sg-paths.")) << c;
  EXPECT_TRUE(std::regex_search(c, std::regex("\n#@ h[0-9a-f]{8}/api/ api\n"))) << c;
  EXPECT_TRUE(Contains(
      c,
      "http-request set-path / if { var(txn.sg_loc) -m str api } { var(txn.sg_p) -m str /api/ }"));
  EXPECT_TRUE(
      Contains(c,
               "http-request replace-path ^/api/(.*) /\\1 if { var(txn.sg_loc) -m str api } "
               "!{ var(txn.sg_p) -m str /api/ }"));
  EXPECT_TRUE(
      Contains(c, "replace-path ^/old.v1/(.*) /v2/\\1 if { var(txn.sg_loc) -m str legacy }"));
  EXPECT_TRUE(Contains(c, "replace-path ^/(.*) /app/\\1 if { var(txn.sg_loc) -m str app }\n"));
}

// The prefix map's lookup returns the longest matching key whatever the
// order of the entries (HaproxyTrafficTest proves it against HAProxy).
TEST(HaproxyRenderTest, EveryContextRootIsAPathMapEntry) {
  std::string c = Render(samples::LongestPath());
  for (const char* line : {"/api/v2/ api-v2\n", "/api/ api\n", "/ web\n"}) {
    EXPECT_TRUE(std::regex_search(c, std::regex("\n#@ h[0-9a-f]{8}" + std::string(line)))) << c;
  }
}

// A host's id comes from its names: another virtual host (sorted before it)
// leaves its map lines as they were, so a new route changes only its own.
TEST(HaproxyRenderTest, ANewHostLeavesTheMapLinesOfTheOthers) {
  TrafficModel before = samples::LongestPath();
  TrafficModel after = before;
  after.upstreams.push_back(Up("aaa", {"10.0.9.9:80"}));
  after.servers.push_back(Srv({"aaa.example.com"}, {Loc("aaa", "/", {{"aaa", 1, false}})}));
  auto map_lines = [](const std::string& config) {
    std::set<std::string> lines;
    std::istringstream in(config);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("#@ ", 0) == 0) lines.insert(line);
    }
    return lines;
  };
  const auto old_lines = map_lines(Render(before));
  const auto new_lines = map_lines(Render(after));
  for (const std::string& line : old_lines) {
    EXPECT_TRUE(new_lines.count(line)) << line << " changed";
  }
  EXPECT_EQ(new_lines.size(), old_lines.size() + 3);  // host, path, backend
}

TEST(HaproxyRenderTest, EmptySelectionAnswers503) {
  std::string c = Render(samples::NoEndpoints());
  EXPECT_TRUE(Contains(
      c, "http-request return status 503 default-errorfiles if { var(txn.sg_loc) -m str dead }\n"));
  // One upstream: its backend comes from the backend map.
  EXPECT_TRUE(Contains(c, "\n#@ half live\n")) << c;
  EXPECT_FALSE(Contains(c, "#@ dead ")) << c;
}

TEST(HaproxyRenderTest, WeightedSplitIsByRequestAndCanaryFirst) {
  std::string c = Render(samples::WeightedCanary());
  EXPECT_TRUE(Contains(c, "acl canary:shop req.fhdr(X-Canary,1) -m str \"always\"\n")) << c;
  EXPECT_TRUE(Contains(c, "acl canary:shop req.cook(canary) -m len ge 1\n"));
  // Values compare exactly, case included: no -i.
  EXPECT_TRUE(Contains(c, "acl canary:cart req.cook(cart_beta) -m str \"yes\"\n")) << c;
  EXPECT_TRUE(Contains(c,
                       "    use_backend shop-v2 if { var(txn.sg_loc) -m str shop } canary:shop\n"
                       "    use_backend shop-v1 if { var(txn.sg_loc) -m str shop } { "
                       "var(txn.sg_rand) -m int lt 9000 }\n"
                       "    use_backend shop-v2 if { var(txn.sg_loc) -m str shop }\n"));
}

TEST(HaproxyRenderTest, StickySelectionHonoursTheCookieThenSplits) {
  std::string c = Render(samples::Sticky());
  EXPECT_TRUE(Contains(
      c,
      "set-var(txn.sg_sc) req.cook(SG_STICKY),field(1,~) if { var(txn.sg_loc) -m str session }"));
  EXPECT_TRUE(Contains(
      c,
      "use_backend session-v1 if { var(txn.sg_loc) -m str session } { var(txn.sg_sc) -m str "
      "session-v1 }\n"));
  EXPECT_TRUE(Contains(c, "cookie SG_STICKY insert indirect nocache httponly"));
  EXPECT_TRUE(Contains(c, "cookie session-v1~")) << c;
}

TEST(HaproxyRenderTest, UnsafeStringsAreNeutralisedAndReported) {
  TrafficModel m = samples::OneHost();
  m.servers[0].hosts[0] = "evil.example.com }\n    http-request return status 299 #";
  m.servers[0].locations[0].canary = {"X-A),req.hdr(b", "x\" $y", "", ""};
  m.servers[0].locations[0].backends.push_back({"shop-v1", 0, true});
  std::string c = Render(m);
  EXPECT_FALSE(Contains(c, "\n    http-request return status 299")) << c;
  EXPECT_FALSE(Contains(c, "$y"));
  EXPECT_FALSE(Contains(c, "req.hdr(b"));
  Status st = CheckModel(Resolved(m));
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(Contains(st.error().message, "host")) << st.error().message;
  EXPECT_FALSE(IsSafeWord("a b"));
  EXPECT_FALSE(IsSafeWord("a#b"));
  EXPECT_FALSE(IsSafeWord(""));
  EXPECT_TRUE(IsSafeWord("*.example.com"));
  EXPECT_TRUE(IsSafeQuoted("a b; {x}"));
  EXPECT_FALSE(IsSafeQuoted("a$b"));
  EXPECT_FALSE(IsSafeName("a/b"));
  EXPECT_TRUE(IsSafeName("r.shop-1_x:2"));
  EXPECT_FALSE(IsSafeArg("a,b"));
}

TEST(HaproxyRenderTest, KeysHaproxyCannotLoadAreReported) {
  TrafficModel m = samples::TlsTerminate();  // x.crt + x.key: ssl-load-extra-del-ext
  EXPECT_TRUE(CheckModel(Resolved(m)).ok());
  EXPECT_TRUE(Contains(Render(m), "    ssl-load-extra-del-ext\n"));
  m.servers[1].tls = model::TlsCertificate{"blog.pem", "blog.pem.key"};
  Status st = CheckModel(Resolved(m));
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(Contains(st.error().message, "blog.pem.key")) << st.error().message;
  // Keys in the certificate file need nothing.
  m.servers[0].tls = model::TlsCertificate{"shop.pem", "shop.pem"};
  EXPECT_TRUE(CheckModel(Resolved(m)).ok());
  EXPECT_FALSE(Contains(Render(m), "ssl-load-extra-del-ext"));
  m.servers[1].tls = model::TlsCertificate{"blog.pem", "keys/blog"};
  EXPECT_FALSE(CheckModel(Resolved(m)).ok());
}

// ---------------------------------------------------------------------------

TrafficModel ManyRoutes(int n) { return samples::ManyRoutesModel(n); }

// Budget: 100 ms for 10,000 routes, line map included. Printed, not asserted.
TEST(HaproxyRenderBenchmark, TenThousandRoutes) {
  TrafficModel m = Resolved(ManyRoutes(10000));
  std::string c;
  RenderedConfig r = RenderHaproxy(m, RenderOptions{});  // warm-up: fresh memory
  double text_ms =
      samples::BestMilliseconds(5, [&] { c = RenderHaproxyConfig(m, RenderOptions{}); });
  double mapped_ms = samples::BestMilliseconds(5, [&] { r = RenderHaproxy(m, RenderOptions{}); });
  std::cout << "[ bench    ] haproxy render of 10000 routes: " << text_ms << " ms (best of 5), "
            << c.size() << " bytes; with the line map: " << mapped_ms << " ms, "
            << r.route_of_line.size() << " lines\n";
  EXPECT_EQ(r.text, c);
  // The model check runs on every pass, before a known-good text is reused.
  Status st;
  double check_ms = samples::BestMilliseconds(5, [&] { st = CheckModel(m); });
  std::cout << "[ bench    ] haproxy model check of 10000 routes: " << check_ms
            << " ms (best of 5)\n";
  EXPECT_TRUE(st.ok()) << st.error().ToString();
}

TEST(HaproxyRenderBenchmark, ThousandRoutesPassHaproxyCheck) {
  if (access(kHaproxy, X_OK) != 0) GTEST_SKIP() << kHaproxy << " not installed";
  ExecHaproxyValidator validator(kHaproxy);
  auto start = std::chrono::steady_clock::now();
  Status st = validator.Validate(Render(ManyRoutes(1000)), {});
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(st.ok()) << st.error().ToString();
  std::cout << "[ bench    ] haproxy -c of 1000 routes: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
}

// The text between `from` and the next line starting with `to` (the whole
// rest when there is none).
std::string Section(const std::string& c, const std::string& from, const std::string& to = "\n\n") {
  size_t start = c.find(from);
  if (start == std::string::npos) return "";
  size_t end = c.find(to, start + from.size());
  return c.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

TEST(HaproxyRenderTest, TrustedProxiesNameTheClientBeforeAnythingUsesIt) {
  std::string c = Render(ClientPolicies());
  const std::string peer = "    http-request set-var(txn.sg_peer) src\n";
  const std::string set_src =
      "    http-request set-src req.hdr_ip(x-forwarded-for,-1) if { src 10.0.0.0/8 "
      "2001:db8:1b::/48 } { req.hdr_ip(x-forwarded-for,-1) -m found }\n";
  const size_t at = c.find(peer + set_src);
  ASSERT_NE(at, std::string::npos) << c;
  for (const char* later : {"track-sc0 src", "deny deny_status 403", "X-Real-IP %[src]"}) {
    const size_t use = c.find(later);
    EXPECT_TRUE(use != std::string::npos && use > at) << later << " before set-src:\n" << c;
  }
  // The peer appended to the header as it came; forwardfor would append the
  // client the header named.
  EXPECT_TRUE(Contains(c, "    http-request add-header X-Forwarded-For %[var(txn.sg_peer)]\n"))
      << c;
  EXPECT_FALSE(Contains(c, "option forwardfor")) << c;
  EXPECT_TRUE(Contains(c, "    log-format '%[src] - - [")) << c;
  EXPECT_FALSE(Contains(c, "%ci")) << c;
  std::string json = Render(ClientPoliciesLongLists());
  EXPECT_TRUE(Contains(json, "\"remote_addr\":\"%[src]\"")) << json;
  // More networks than a line holds: decided before src changes.
  EXPECT_TRUE(
      Contains(json, "    http-request set-var(txn.sg_trusted) bool(true) if { src 10.0.0.0/24 "))
      << json;
  EXPECT_TRUE(Contains(json,
                       "    http-request set-src req.hdr_ip(x-forwarded-for,-1) if { "
                       "var(txn.sg_trusted) -m bool } { req.hdr_ip(x-forwarded-for,-1) -m found "
                       "}\n"))
      << json;

  // Without trusted proxies nothing of it is rendered.
  std::string plain = Render(samples::AccessLogJson());
  EXPECT_TRUE(Contains(plain, "    option forwardfor\n"));
  EXPECT_TRUE(Contains(plain, "\"remote_addr\":\"%ci\""));
  for (const char* absent : {"sg_peer", "set-src", "sg_trusted"}) {
    EXPECT_FALSE(Contains(plain, absent)) << absent;
  }
}

TEST(HaproxyRenderTest, ClientNetworksComeFirstInEveryLocation) {
  std::string c = Render(ClientPolicies());
  const std::string api = "{ var(txn.sg_loc) -m str api }";
  const std::string deny = "    http-request deny deny_status 403 if " + api +
                           " { src 10.1.2.0/24 2001:db8:bad::/48 }\n"
                           "    http-request deny deny_status 403 if " +
                           api + " !{ src 10.1.0.0/16 2001:db8::/32 }\n";
  EXPECT_TRUE(Contains(c, "    # route api\n" + deny)) << c;
  // Before the rate limit and the CORS answers.
  EXPECT_LT(c.find(deny), c.find("track-sc0 src table rl:api")) << c;
  EXPECT_LT(c.find(deny), c.find("set-var(txn.sg_cors) req.fhdr(origin,-1) if " + api)) << c;
  // A redirect refuses the client before redirecting it.
  EXPECT_TRUE(Contains(c,
                       "    # route moved\n"
                       "    http-request deny deny_status 403 if { var(txn.sg_loc) -m str moved } "
                       "{ src 192.0.2.0/24 }\n"
                       "    http-request redirect location https://www.example.com%[pathq] code "
                       "301 if { var(txn.sg_loc) -m str moved }\n"))
      << c;

  std::string many = Render(ClientPoliciesLongLists());
  const std::string app = "{ var(txn.sg_loc) -m str app }";
  // 50 of each: two rules each; the allowed ones through a variable.
  EXPECT_TRUE(
      Contains(many, "    http-request deny deny_status 403 if " + app + " { src 2001:db8:0::/48 "))
      << many;
  EXPECT_TRUE(Contains(
      many, "    http-request deny deny_status 403 if " + app + " { src 2001:db8:28::/48 "))
      << many;
  EXPECT_TRUE(Contains(many, "    http-request set-var(txn.sg_allowed) bool(true) if " + app +
                                 " { src 10.100.0.0/16 "))
      << many;
  EXPECT_TRUE(Contains(many, "    http-request set-var(txn.sg_allowed) bool(true) if " + app +
                                 " { src 10.140.0.0/16 "))
      << many;
  EXPECT_TRUE(Contains(many, "    http-request deny deny_status 403 if " + app +
                                 " !{ var(txn.sg_allowed) -m bool }\n"))
      << many;
}

TEST(HaproxyRenderTest, CorsPreflightsAndResponseHeaders) {
  std::string c = Render(ClientPolicies());
  const std::string api = "{ var(txn.sg_loc) -m str api }";
  const std::string preflight =
      " METH_OPTIONS { req.fhdr(access-control-request-method) -m found } { req.fhdr(origin) -m "
      "found }";
  EXPECT_TRUE(Contains(
      c, "    http-request set-var(txn.sg_cors) req.fhdr(origin,-1) if " + api +
             " { req.fhdr(origin,-1) -m reg "
             "'^(https://app\\.example\\.com|https://([a-z0-9-]+\\.)+example\\.org)$' }\n"
             "    http-request return status 204 hdr Access-Control-Allow-Methods \"GET, POST\" "
             "hdr Access-Control-Allow-Headers \"Content-Type, X-Token\" hdr "
             "Access-Control-Max-Age 600 if " +
             api + preflight + " { var(txn.sg_cors) -m found }\n" +
             "    http-request return status 204 if " + api + preflight + "\n"))
      << c;
  EXPECT_TRUE(Contains(
      c, "    http-after-response del-header Access-Control-Allow-Origin if " + api +
             "\n"
             "    http-after-response del-header Access-Control-Allow-Credentials if " +
             api +
             "\n"
             "    http-after-response del-header Access-Control-Expose-Headers if " +
             api +
             "\n"
             "    http-after-response set-header Access-Control-Allow-Origin %[var(txn.sg_cors)] "
             "if " +
             api + " { var(txn.sg_cors) -m found }\n" +
             "    http-after-response add-header Vary Origin if " + api + "\n" +
             "    http-after-response set-header Access-Control-Allow-Credentials true if " + api +
             " { var(txn.sg_cors) -m found }\n" +
             "    http-after-response set-header Access-Control-Expose-Headers \"X-Total\" if " +
             api + " { var(txn.sg_cors) -m found }\n"))
      << c;
  // "*": any origin, echoed; no credentials, nothing exposed. Also on the
  // 503 of a route without endpoints, which the CORS rules precede.
  const std::string gone = "{ var(txn.sg_loc) -m str gone }";
  EXPECT_TRUE(Contains(c, "    http-request set-var(txn.sg_cors) req.fhdr(origin,-1) if " + gone +
                              " { req.fhdr(origin,-1) -m reg '^.+$' }\n"))
      << c;
  EXPECT_LT(c.find("set-var(txn.sg_cors) req.fhdr(origin,-1) if " + gone),
            c.find("return status 503 default-errorfiles if " + gone));
  EXPECT_TRUE(Contains(c,
                       "    http-request return status 204 hdr Access-Control-Allow-Methods "
                       "\"GET\" if " +
                           gone + preflight + " { var(txn.sg_cors) -m found }\n"))
      << c;
  EXPECT_TRUE(Contains(c, "add-header Vary Origin if " + gone + "\n")) << c;
  EXPECT_FALSE(Contains(c, "Access-Control-Allow-Credentials true if " + gone)) << c;
  EXPECT_FALSE(Contains(c, "Access-Control-Expose-Headers \"X-Total\" if " + gone)) << c;
}

TEST(HaproxyRenderTest, CompressionIsABackendSetting) {
  std::string c = Render(ClientPolicies());
  // One backend of r.api.0 for each host's variant: the one with compression
  // and the one without.
  EXPECT_TRUE(Contains(c, " api:2\n")) << c;
  const std::string with = Section(c, "\nbackend r.api.0\n");
  const std::string without = Section(c, "\nbackend r.api.0:2\n");
  ASSERT_FALSE(with.empty()) << c;
  ASSERT_FALSE(without.empty()) << c;
  const std::string lines =
      "    compression algo gzip\n    compression type text/html application/json\n";
  EXPECT_NE(Contains(with, lines), Contains(without, lines)) << with << "\n" << without;
  EXPECT_TRUE(Contains(c, lines)) << c;
  // Nothing else, and no backend of a model without it, compresses.
  size_t first = c.find("compression algo");
  EXPECT_EQ(c.find("compression algo", first + 1), std::string::npos) << c;
  // More types than a line holds: lines that add up.
  std::string many = Render(ClientPoliciesLongLists());
  EXPECT_TRUE(Contains(many,
                       "    compression algo gzip\n    compression type text/plain "
                       "application/vnd.sg-0+json "))
      << many;
  EXPECT_TRUE(Contains(many,
                       " application/vnd.sg-38+json\n    compression type "
                       "application/vnd.sg-39+json "))
      << many;
  for (const samples::SampleModel& sample : samples::SampleModels()) {
    const TrafficModel m = sample.build();
    bool compresses = false;
    for (const model::Server& sv : m.servers) {
      for (const model::Location& l : sv.locations) compresses = compresses || l.compression;
    }
    if (!compresses) {
      EXPECT_FALSE(Contains(Render(m), "compression")) << sample.name;
    }
  }
}

// Locations of one route that differ only in a client policy are not one
// variant: each keeps its own rules.
TEST(HaproxyRenderTest, ClientPoliciesSeparateVariants) {
  for (int policy = 0; policy < 3; ++policy) {
    TrafficModel m = samples::OneHost();
    model::Server second = m.servers[0];
    second.hosts = {"other.example.com"};
    model::Location& l = second.locations[0];
    if (policy == 0) l.ip_access.deny = {"192.0.2.1"};
    if (policy == 1) l.cors = model::Cors{{"*"}, {"GET"}, {}, {}, false, -1};
    if (policy == 2) l.compression = model::Compression{{"text/plain"}, -1};
    m.servers.push_back(second);
    std::string c = Render(m);
    EXPECT_TRUE(Contains(c, " shop:2\n")) << policy << "\n" << c;
  }
}

}  // namespace
}  // namespace sg::haproxy
