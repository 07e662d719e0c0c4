#pragma once
// The fixture of the engines' real-traffic tests: a backend nginx on
// loopback with two plain backends that echo who answered and what they
// received ("v1 <uri> <X-Forwarded-Proto> <X-Request-Id> <X-Real-IP>", "v2
// ..."), a TLS backend for passthrough ("passthrough <SNI>") and the
// placeholder certificate in dir_/cert.pem; each engine's test renders a
// model and starts its proxy in front of them (StartProxyProcess). Skipped
// where the engine, nginx or curl is absent.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "operator/testing/child_process.h"
#include "operator/testing/loopback_http.h"
#include "operator/testing/routing_expectations.h"
#include "reconcilers/model/traffic_model.h"

namespace sg::testing {

class EngineTrafficFixture : public ::testing::Test {
 protected:
  // `proxy_binary`: the engine under test; `name`: the prefix of the
  // scratch directory under /tmp.
  EngineTrafficFixture(std::string proxy_binary, std::string name);

  void SetUp() override;
  void TearDown() override;

  // Fresh loopback ports for the proxy's listeners (http_, https_,
  // status_port_) in `s`, and one worker process.
  void AssignListeners(model::Settings& s);
  // Writes `config` as dir_/proxy/<config_file> and `files` (name ->
  // content) beside it, runs `argv` there with `env` and asserts that the
  // status listener answers /healthz.
  void StartProxyProcess(const std::string& config_file, const std::string& config,
                         std::vector<std::string> argv, std::vector<std::string> env = {},
                         const std::map<std::string, std::string>& files = {});
  std::string ProxyDir() const { return dir_ + "/proxy"; }

  // Requests through the proxy: plain HTTP to `host`, or HTTPS with `host`
  // as SNI.
  CurlResponse Get(const std::string& host, const std::string& path, const std::string& extra = "");
  CurlResponse GetTls(const std::string& host, const std::string& path);
  // Get, for ExpectSharedRouting.
  GetFn Getter();

  // The upstream server address of a backend port.
  std::string Backend(int port) const;

  std::string dir_;
  int v1_ = 0, v2_ = 0, tls_backend_ = 0, backend_status_ = 0;
  int http_ = 0, https_ = 0, status_port_ = 0;
  std::string config_;
  std::unique_ptr<ChildProcess> backend_, proxy_;

 private:
  std::string proxy_binary_;
  std::string name_;
};

}  // namespace sg::testing
