// Golden-file tests of the nginx renderer: each case builds a model, renders it
// and compares with testdata/render/<case>.conf. SG_UPDATE_GOLDEN=1 rewrites
// the files; review the diff like code. Every golden config must also pass the
// real `nginx -t`.

#include "reconcilers/nginx/nginx_renderer.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "operator/testing/loopback_http.h"
#include "operator/testing/routing_expectations.h"
#include "operator/testing/sample_traffic_models.h"
#include "reconcilers/model/backend_selection.h"
#include "reconcilers/nginx/nginx_writer.h"
#include "reconcilers/nginx_check.h"

namespace sg::nginx {
namespace {

using namespace std::chrono_literals;
using model::BackendRef;
using model::HostRedirect;
using model::Location;
using model::PassthroughRoute;
using model::Server;
using model::Settings;
using model::TlsCertificate;
using model::TrafficModel;
using model::Upstream;
using model::UpstreamServer;

const char* const kNginx = "/usr/sbin/nginx";

// The cases (shared with the HAProxy engine's golden test).
using samples::Cert;
using samples::ContextRoot;
using samples::Empty;
using samples::HostRedirects;
using samples::Loc;
using samples::LongestPath;
using samples::NoEndpoints;
using samples::OneHost;
using samples::PassthroughAndTerminate;
using samples::RateLimitTimeoutsHealth;
using samples::Resolved;
using samples::Srv;
using samples::Sticky;
using samples::TlsTerminate;
using samples::Up;
using samples::Websocket;
using samples::WeightedCanary;
using samples::WildcardHost;

using GoldenCase = samples::SampleModel;

std::string Render(const TrafficModel& m) {
  return RenderNginxConfig(Resolved(m), RenderOptions{});
}

const std::vector<GoldenCase>& Cases() { return samples::SampleModels(); }

std::string GoldenPath(const std::string& name) {
  return std::string(SG_SOURCE_DIR) + "/reconcilers/nginx/testdata/render/" + name + ".conf";
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// One self-signed certificate for the whole binary: key generation is slow.
const SelfSignedCertificate& TestCertificate() {
  static const SelfSignedCertificate cert = [] {
    auto c = GenerateSelfSignedCertificate();
    EXPECT_TRUE(c.ok()) << c.error().ToString();
    return c.ok() ? *c : SelfSignedCertificate{};
  }();
  return cert;
}

class GoldenTest : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(GoldenTest, MatchesGoldenFile) {
  const GoldenCase& c = GetParam();
  std::string got = Render(c.build());
  std::string path = GoldenPath(c.name);
  const char* update = std::getenv("SG_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << got;
    GTEST_SKIP() << "rewrote " << path;
  }
  std::string want = ReadAll(path);
  ASSERT_FALSE(want.empty()) << path << " is missing; run with SG_UPDATE_GOLDEN=1";
  EXPECT_EQ(got, want) << "render of " << c.name << " differs from " << path;
}

TEST_P(GoldenTest, PassesNginxTest) {
  if (access(kNginx, X_OK) != 0) GTEST_SKIP() << kNginx << " not installed";
  TrafficModel m = Resolved(GetParam().build());
  std::string config = Render(m);
  auto files = PlaceholderCertificateFiles(CertificateFiles(m), TestCertificate());
  ExecNginxValidator validator(kNginx);
  Status st = validator.Validate(config, files);
  EXPECT_TRUE(st.ok()) << st.error().ToString() << "\n" << config;
}

TEST_P(GoldenTest, ModelStringsAreSafe) {
  Status st = CheckModelStrings(Resolved(GetParam().build()));
  EXPECT_TRUE(st.ok()) << st.error().ToString();
}

TEST_P(GoldenTest, DeterministicWhateverTheInputOrder) {
  TrafficModel m = GetParam().build();
  std::string first = Render(m);
  EXPECT_EQ(first, Render(m));
  std::mt19937 rng(42);
  for (int i = 0; i < 5; ++i) {
    TrafficModel p = m;
    samples::ShuffleModelLists(p, rng);
    EXPECT_EQ(first, Render(p)) << "permutation " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Render, GoldenTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<GoldenCase>& info) {
                           return std::string(info.param.name);
                         });

// ---------------------------------------------------------------------------
// Properties checked directly on the output, so a careless golden update
// cannot silently drop them.

bool Contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

TEST(RenderTest, ContextRootMatchesExactAndSubpathsOnly) {
  std::string c = Render(ContextRoot());
  EXPECT_TRUE(Contains(c, "location = /api {\n            rewrite ^ / break;"));
  EXPECT_TRUE(Contains(c, "location ^~ /api/ {\n            rewrite ^/api/(.*)$ /$1 break;"));
  EXPECT_TRUE(Contains(c, "location = /old.v1 {"));
  EXPECT_TRUE(Contains(c, "rewrite ^/old\\.v1/(.*)$ /v2/$1 break;"));
  EXPECT_TRUE(Contains(c, "rewrite ^/(.*)$ /app/$1 break;"));
}

TEST(RenderTest, EmptyUpstreamAnswers503AndIsNotDeclared) {
  std::string c = Render(NoEndpoints());
  EXPECT_FALSE(Contains(c, "upstream empty {"));
  EXPECT_TRUE(Contains(c, "location = /dead {\n            return 503;"));
  EXPECT_TRUE(Contains(c, "location = /half {\n            proxy_pass http://live;"));
}

TEST(RenderTest, WeightedSplitIsByRequest) {
  std::string c = Render(WeightedCanary());
  EXPECT_TRUE(Contains(c,
                       "split_clients \"${request_id}\" $sg_w_shop {\n        90% shop-v1;\n"
                       "        * shop-v2;\n    }"));
}

TEST(RenderTest, UnsafeStringsAreNeutralisedAndReported) {
  TrafficModel m = OneHost();
  m.servers[0].hosts[0] = "evil.example.com; } include /etc/passwd; server {";
  m.servers[0].locations[0].canary = {"X-A", "x\" $y", "", ""};
  m.servers[0].locations[0].backends.push_back({"shop-v1", 0, true});
  std::string c = Render(m);
  EXPECT_FALSE(Contains(c, "include /etc/passwd;"));
  EXPECT_TRUE(Contains(c, "server_name evil.example.com____include_/etc/passwd__server__;")) << c;
  EXPECT_FALSE(Contains(c, "$y"));
  // Upstream names reach map values too.
  TrafficModel w = WeightedCanary();
  w.upstreams[1].name = w.servers[0].locations[0].backends[1].upstream = "v2;return 200";
  std::string wc = Render(w);
  EXPECT_FALSE(Contains(wc, "v2;return")) << wc;
  EXPECT_TRUE(Contains(wc, "\"always\" v2_return_200;")) << wc;
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

using sg::testing::Curl;
using sg::testing::HeaderValue;
using Response = sg::testing::CurlResponse;

int FreePort() { return sg::testing::FreeLoopbackPort(); }

class NginxProcess {
 public:
  NginxProcess(const std::string& dir, const std::string& config) : dir_(dir) {
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/nginx.conf") << config;
    pid_ = fork();
    if (pid_ == 0) {
      std::string p = dir + "/", c = dir + "/nginx.conf", e = dir + "/error.log";
      execl(kNginx, kNginx, "-p", p.c_str(), "-c", c.c_str(), "-e", e.c_str(), nullptr);
      _exit(127);
    }
  }
  ~NginxProcess() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  std::string ErrorLog() const { return ReadAll(dir_ + "/error.log"); }

 private:
  std::string dir_;
  pid_t pid_ = -1;
};

bool WaitForStatus(const std::string& url, int want) {
  for (int i = 0; i < 100; ++i) {
    if (Curl(url).status == want) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

class TrafficTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kNginx, X_OK) != 0 || access("/usr/bin/curl", X_OK) != 0) {
      GTEST_SKIP() << "needs " << kNginx << " and curl";
    }
    char templ[] = "/tmp/sg-traffic-XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    dir_ = templ;
    const SelfSignedCertificate& cert = TestCertificate();
    std::ofstream(dir_ + "/cert.pem") << cert.certificate_pem << cert.key_pem;
    v1_ = FreePort();
    v2_ = FreePort();
    tls_backend_ = FreePort();
    backend_status_ = FreePort();
    std::string backend = fmt::format(R"(pid backend.pid;
error_log stderr;
daemon off;
events {{ worker_connections 64; }}
http {{
  access_log off;
  default_type text/plain;
  client_body_temp_path client_body_temp;
  proxy_temp_path proxy_temp;
  fastcgi_temp_path fastcgi_temp;
  uwsgi_temp_path uwsgi_temp;
  scgi_temp_path scgi_temp;
  server {{ listen 127.0.0.1:{}; return 200 "v1 $request_uri $http_x_forwarded_proto $http_x_request_id\n"; }}
  server {{ listen 127.0.0.1:{}; return 200 "v2 $request_uri $http_x_forwarded_proto $http_x_request_id\n"; }}
  server {{ listen 127.0.0.1:{} ssl; ssl_certificate ../cert.pem; ssl_certificate_key ../cert.pem;
           return 200 "passthrough $ssl_server_name\n"; }}
  server {{ listen 127.0.0.1:{}; location = /up {{ return 200; }} }}
}}
)",
                                      v1_, v2_, tls_backend_, backend_status_);
    backend_ = std::make_unique<NginxProcess>(dir_ + "/backend", backend);
    ASSERT_TRUE(WaitForStatus(fmt::format("http://127.0.0.1:{}/up", backend_status_), 200))
        << backend_->ErrorLog();
  }

  void TearDown() override {
    proxy_.reset();
    backend_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  void StartProxy(TrafficModel m) {
    Settings& s = m.settings;
    s.http_port = http_ = FreePort();
    s.https_port = https_ = FreePort();
    s.status_port = FreePort();
    s.tls_internal_port = FreePort();
    s.passthrough_internal_port = FreePort();
    s.certs_dir = "..";
    s.worker_processes = 1;
    model::ResolveSelections(m);
    RenderOptions options;
    options.access_log = "off";
    options.error_log = "error.log";
    config_ = RenderNginxConfig(m, options);
    proxy_ = std::make_unique<NginxProcess>(dir_ + "/proxy", config_);
    ASSERT_TRUE(WaitForStatus(fmt::format("http://127.0.0.1:{}/healthz", s.status_port), 200))
        << proxy_->ErrorLog() << config_;
  }

  Response Get(const std::string& host, const std::string& path, const std::string& extra = "") {
    return Curl(fmt::format("-H 'Host: {}' {} 'http://127.0.0.1:{}{}'", host, extra, http_, path));
  }
  Response GetTls(const std::string& host, const std::string& path) {
    return Curl(
        fmt::format("--resolve {0}:{1}:127.0.0.1 'https://{0}:{1}{2}'", host, https_, path));
  }

  std::string Backend(int port) { return fmt::format("127.0.0.1:{}", port); }

  std::string dir_;
  int v1_ = 0, v2_ = 0, tls_backend_ = 0, backend_status_ = 0;
  int http_ = 0, https_ = 0;
  std::string config_;
  std::unique_ptr<NginxProcess> backend_, proxy_;
};

TEST_F(TrafficTest, RoutesRewritesSplitsAndPinsRequests) {
  TrafficModel m;
  m.upstreams = {Up("v1", {Backend(v1_)}), Up("v2", {Backend(v2_)}), Up("none", {})};
  Upstream sticky = Up("sticky", {Backend(v1_), Backend(v2_)});
  sticky.sticky_cookie = "SG_STICKY";
  m.upstreams.push_back(sticky);
  Location api = Loc("api", "/api", {{"v1", 1, false}});
  api.rewrite = "/";
  Location canary = Loc("canary", "/canary", {{"v1", 100, false}, {"v2", 0, true}});
  canary.canary = {"X-Canary", "always", "canary", ""};
  m.servers = {
      Srv({"shop.example.com"}, {Loc("shop", "/", {{"v1", 1, false}}), api, canary,
                                 Loc("split", "/split", {{"v1", 1, false}, {"v2", 1, false}}),
                                 Loc("none", "/none", {{"none", 1, false}})}),
      Srv({"*.sticky.example.com"}, {Loc("sticky", "/", {{"sticky", 1, false}})}),
  };
  StartProxy(m);

  Response r = Get("shop.example.com", "/hello?q=1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.substr(0, 14), "v1 /hello?q=1 ");
  std::string id = HeaderValue(r.headers, "X-Request-Id");
  EXPECT_EQ(id.size(), 32u) << r.headers;
  EXPECT_TRUE(Contains(r.body, id)) << "the backend sees the id the client gets";
  EXPECT_EQ(Get("unknown.example.com", "/").status, 404);

  sg::testing::ExpectSharedRouting([&](const std::string& host, const std::string& path,
                                       const std::string& extra) { return Get(host, path, extra); },
                                   "SG_STICKY=");
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
  EXPECT_EQ(term.status, 200) << proxy_->ErrorLog();
  EXPECT_EQ(term.body.substr(0, 11), "v1 /x https");
  Response pt = GetTls("vault.example.com", "/");
  EXPECT_EQ(pt.status, 200) << proxy_->ErrorLog();
  EXPECT_EQ(pt.body, "passthrough vault.example.com\n");
  Response redirect = Get("shop.example.com", "/x?y=1");
  EXPECT_EQ(redirect.status, 301);
  EXPECT_EQ(HeaderValue(redirect.headers, "Location"),
            fmt::format("https://shop.example.com:{}/x?y=1", https_));
  // Unknown SNI: no certificate, the handshake is refused.
  EXPECT_EQ(GetTls("other.example.com", "/").status, 0);
}

}  // namespace
}  // namespace sg::nginx
