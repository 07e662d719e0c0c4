// Golden-file tests of the HAProxy renderer: the sample models the nginx
// golden test renders (operator/testing/sample_traffic_models.h), compared
// with testdata/render/<case>.cfg. SG_UPDATE_GOLDEN=1 rewrites the files;
// review the diff like code. Every golden config must also pass the real
// `haproxy -c`, without warnings.

#include "reconcilers/haproxy/haproxy_renderer.h"

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

}  // namespace
}  // namespace sg::haproxy
