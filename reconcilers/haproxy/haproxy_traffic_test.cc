// Real traffic through a rendered haproxy.cfg: HAProxy in front of a backend
// nginx that echoes which backend answered and the URI it received. Skipped
// where haproxy, nginx or curl is absent.

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "operator/testing/loopback_http.h"
#include "operator/testing/routing_expectations.h"
#include "operator/testing/sample_traffic_models.h"
#include "reconcilers/haproxy/haproxy_renderer.h"
#include "reconcilers/model/backend_selection.h"
#include "reconcilers/nginx_check.h"

namespace sg::haproxy {
namespace {

using namespace std::chrono_literals;
using model::Location;
using model::Server;
using model::TrafficModel;
using model::Upstream;
using samples::Loc;
using samples::Srv;
using samples::Up;

const char* const kHaproxy = "/usr/sbin/haproxy";
const char* const kNginx = "/usr/sbin/nginx";

using sg::testing::Curl;
using sg::testing::HeaderValue;
using Response = sg::testing::CurlResponse;

int FreePort() { return sg::testing::FreeLoopbackPort(); }

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// A child process in `dir`, its output in dir/output.log, stopped on
// destruction.
class Process {
 public:
  Process(const std::string& dir, std::vector<std::string> argv, std::vector<std::string> env = {})
      : dir_(dir) {
    pid_ = fork();
    if (pid_ == 0) {
      if (chdir(dir.c_str()) != 0) _exit(126);
      for (const std::string& e : env) putenv(const_cast<char*>(e.c_str()));
      std::string log = dir + "/output.log";
      FILE* f = freopen(log.c_str(), "w", stdout);
      if (f == nullptr || dup2(fileno(stdout), 2) < 0) _exit(125);
      std::vector<char*> args;
      for (std::string& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
  }
  ~Process() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  std::string Output() const { return ReadAll(dir_ + "/output.log"); }

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

class HaproxyTrafficTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kHaproxy, X_OK) != 0 || access(kNginx, X_OK) != 0 ||
        access("/usr/bin/curl", X_OK) != 0) {
      GTEST_SKIP() << "needs " << kHaproxy << ", " << kNginx << " and curl";
    }
    char templ[] = "/tmp/sg-haproxy-traffic-XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    dir_ = templ;
    auto cert = nginx::GenerateSelfSignedCertificate();
    ASSERT_TRUE(cert.ok()) << cert.error().ToString();
    std::ofstream(dir_ + "/cert.pem") << cert->certificate_pem << cert->key_pem;
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
  server {{ listen 127.0.0.1:{}; return 200 "v1 $request_uri $http_x_forwarded_proto $http_x_request_id $http_x_real_ip\n"; }}
  server {{ listen 127.0.0.1:{}; return 200 "v2 $request_uri $http_x_forwarded_proto $http_x_request_id $http_x_real_ip\n"; }}
  server {{ listen 127.0.0.1:{} ssl; ssl_certificate ../cert.pem; ssl_certificate_key ../cert.pem;
           return 200 "passthrough $ssl_server_name\n"; }}
  server {{ listen 127.0.0.1:{}; location = /up {{ return 200; }} }}
}}
)",
                                      v1_, v2_, tls_backend_, backend_status_);
    std::filesystem::create_directories(dir_ + "/backend");
    std::ofstream(dir_ + "/backend/nginx.conf") << backend;
    backend_ = std::make_unique<Process>(
        dir_ + "/backend", std::vector<std::string>{kNginx, "-p", dir_ + "/backend/", "-c",
                                                    dir_ + "/backend/nginx.conf"});
    ASSERT_TRUE(WaitForStatus(fmt::format("http://127.0.0.1:{}/up", backend_status_), 200))
        << backend_->Output();
  }

  void TearDown() override {
    proxy_.reset();
    backend_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  void StartProxy(TrafficModel m) {
    model::Settings& s = m.settings;
    s.http_port = http_ = FreePort();
    s.https_port = https_ = FreePort();
    s.status_port = FreePort();
    s.certs_dir = dir_;
    s.worker_processes = 1;
    model::ResolveSelections(m);
    ASSERT_TRUE(CheckModel(m).ok()) << CheckModel(m).error().ToString();
    RenderOptions options;
    options.log = false;
    options.terminate_socket = "sg-terminate-" + std::to_string(getpid());
    config_ = RenderHaproxyConfig(m, options);
    std::filesystem::create_directories(dir_ + "/proxy");
    std::ofstream(dir_ + "/proxy/haproxy.cfg") << config_;
    proxy_ = std::make_unique<Process>(
        dir_ + "/proxy", std::vector<std::string>{kHaproxy, "-db", "-f", "haproxy.cfg"},
        std::vector<std::string>{fmt::format("SG_HTTP_BIND=ipv4@127.0.0.1:{}", http_),
                                 fmt::format("SG_HTTPS_BIND=ipv4@127.0.0.1:{}", https_)});
    ASSERT_TRUE(WaitForStatus(fmt::format("http://127.0.0.1:{}/healthz", s.status_port), 200))
        << proxy_->Output() << config_;
    status_port_ = s.status_port;
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
  int http_ = 0, https_ = 0, status_port_ = 0;
  std::string config_;
  std::unique_ptr<Process> backend_, proxy_;
};

TEST_F(HaproxyTrafficTest, RoutesRewritesSplitsAndPinsRequests) {
  TrafficModel m;
  m.upstreams = {Up("v1", {Backend(v1_)}), Up("v2", {Backend(v2_)}), Up("none", {})};
  Upstream sticky = Up("sticky", {Backend(v1_), Backend(v2_)});
  sticky.sticky_cookie = "SG_STICKY";
  m.upstreams.push_back(sticky);
  Upstream s1 = Up("s1", {Backend(v1_)}), s2 = Up("s2", {Backend(v2_)});
  s1.sticky_cookie = s2.sticky_cookie = "SVC";
  m.upstreams.push_back(s1);
  m.upstreams.push_back(s2);
  Location api = Loc("api", "/api", {{"v1", 1, false}});
  api.rewrite = "/";
  Location canary = Loc("canary", "/canary", {{"v1", 100, false}, {"v2", 0, true}});
  canary.canary = {"X-Canary", "always", "canary", ""};
  m.servers = {
      Srv({"shop.example.com"}, {Loc("shop", "/", {{"v1", 1, false}}), api, canary,
                                 Loc("split", "/split", {{"v1", 1, false}, {"v2", 1, false}}),
                                 Loc("none", "/none", {{"none", 1, false}})}),
      Srv({"*.sticky.example.com"}, {Loc("sticky", "/", {{"sticky", 1, false}})}),
      Srv({"svc.example.com"}, {Loc("svc", "/", {{"s1", 1, false}, {"s2", 1, false}})}),
  };
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

  sg::testing::ExpectSharedRouting([&](const std::string& host, const std::string& path,
                                       const std::string& extra) { return Get(host, path, extra); },
                                   "SG_STICKY=sticky~");
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

}  // namespace
}  // namespace sg::haproxy
