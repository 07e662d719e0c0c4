#include "operator/testing/engine_traffic_fixture.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <utility>

#include "operator/testing/test_certificate.h"

namespace sg::testing {
namespace {

using namespace std::chrono_literals;

const char* const kNginx = "/usr/sbin/nginx";
const char* const kCurl = "/usr/bin/curl";

// Until `url` answers `want`, for at most 5 s.
bool WaitForStatus(const std::string& url, int want) {
  for (int i = 0; i < 100; ++i) {
    if (Curl(url).status == want) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

}  // namespace

EngineTrafficFixture::EngineTrafficFixture(std::string proxy_binary, std::string name)
    : proxy_binary_(std::move(proxy_binary)), name_(std::move(name)) {}

void EngineTrafficFixture::SetUp() {
  if (access(proxy_binary_.c_str(), X_OK) != 0 || access(kNginx, X_OK) != 0 ||
      access(kCurl, X_OK) != 0) {
    std::string engine = proxy_binary_ == kNginx ? "" : proxy_binary_ + ", ";
    GTEST_SKIP() << "needs " << engine << kNginx << " and curl";
  }
  std::string templ = "/tmp/" + name_ + "-XXXXXX";
  ASSERT_NE(mkdtemp(templ.data()), nullptr);
  dir_ = templ;
  const nginx::SelfSignedCertificate& cert = TestCertificate();
  std::ofstream(dir_ + "/cert.pem") << cert.certificate_pem << cert.key_pem;
  v1_ = FreeLoopbackPort();
  v2_ = FreeLoopbackPort();
  tls_backend_ = FreeLoopbackPort();
  backend_status_ = FreeLoopbackPort();
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
  server {{ listen 127.0.0.1:{}; return 200 "v1 $request_uri $http_x_forwarded_proto $http_x_request_id $http_x_real_ip upgrade=$http_upgrade\n"; }}
  server {{ listen 127.0.0.1:{}; return 200 "v2 $request_uri $http_x_forwarded_proto $http_x_request_id $http_x_real_ip upgrade=$http_upgrade\n"; }}
  server {{ listen 127.0.0.1:{} ssl; ssl_certificate ../cert.pem; ssl_certificate_key ../cert.pem;
           return 200 "passthrough $ssl_server_name\n"; }}
  server {{ listen 127.0.0.1:{}; location = /up {{ return 200; }} }}
}}
)",
                                    v1_, v2_, tls_backend_, backend_status_);
  const std::string backend_dir = dir_ + "/backend";
  std::filesystem::create_directories(backend_dir);
  std::ofstream(backend_dir + "/nginx.conf") << backend;
  backend_ = std::make_unique<ChildProcess>(
      backend_dir, std::vector<std::string>{kNginx, "-p", backend_dir + "/", "-c",
                                            backend_dir + "/nginx.conf", "-e", "stderr"});
  ASSERT_TRUE(WaitForStatus(fmt::format("http://127.0.0.1:{}/up", backend_status_), 200))
      << backend_->Output();
}

void EngineTrafficFixture::TearDown() {
  proxy_.reset();
  backend_.reset();
  if (!dir_.empty()) std::filesystem::remove_all(dir_);
}

void EngineTrafficFixture::AssignListeners(model::Settings& s) {
  s.http_port = http_ = FreeLoopbackPort();
  s.https_port = https_ = FreeLoopbackPort();
  s.status_port = status_port_ = FreeLoopbackPort();
  s.worker_processes = 1;
}

void EngineTrafficFixture::StartProxyProcess(const std::string& config_file,
                                             const std::string& config,
                                             std::vector<std::string> argv,
                                             std::vector<std::string> env,
                                             const std::map<std::string, std::string>& files) {
  config_ = config;
  std::filesystem::create_directories(ProxyDir());
  std::ofstream(ProxyDir() + "/" + config_file) << config_;
  for (const auto& [name, content] : files) std::ofstream(ProxyDir() + "/" + name) << content;
  proxy_ = std::make_unique<ChildProcess>(ProxyDir(), std::move(argv), std::move(env));
  ASSERT_TRUE(WaitForStatus(fmt::format("http://127.0.0.1:{}/healthz", status_port_), 200))
      << proxy_->Output() << config_;
}

CurlResponse EngineTrafficFixture::Get(const std::string& host, const std::string& path,
                                       const std::string& extra) {
  return Curl(fmt::format("-H 'Host: {}' {} 'http://127.0.0.1:{}{}'", host, extra, http_, path));
}

CurlResponse EngineTrafficFixture::GetTls(const std::string& host, const std::string& path) {
  return Curl(fmt::format("--resolve {0}:{1}:127.0.0.1 'https://{0}:{1}{2}'", host, https_, path));
}

GetFn EngineTrafficFixture::Getter() {
  return [this](const std::string& host, const std::string& path, const std::string& extra) {
    return Get(host, path, extra);
  };
}

std::string EngineTrafficFixture::Backend(int port) const {
  return fmt::format("127.0.0.1:{}", port);
}

}  // namespace sg::testing
