// The line -> route map of RenderNginx: every line written for a route names
// it, shared lines name none, and a line number from `nginx -t` leads to the
// route whose directive nginx rejected.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "operator/testing/route_lines_harness.h"
#include "reconcilers/nginx/nginx_renderer.h"
#include "reconcilers/nginx_check.h"

namespace sg::nginx {
namespace {

using model::TrafficModel;
using samples::SeveralRoutesModel;

const char* const kNginx = "/usr/sbin/nginx";

// "... in nginx.conf:12" -> 12.
int ErrorLine(const std::string& message) {
  size_t p = message.rfind(".conf:");
  return p == std::string::npos ? 0 : std::atoi(message.c_str() + p + 6);
}

sg::testing::RouteLinesEngine Nginx() {
  return {
      [](const TrafficModel& m) {
        return sg::testing::RouteMapped(RenderNginx(m, RenderOptions{}));
      },
      [](const TrafficModel& m) { return RenderNginxConfig(m, RenderOptions{}); },
      [](const std::string& config, const sg::testing::CheckFiles& files) {
        return ExecNginxValidator(kNginx).Validate(config, files);
      },
      CertificateFiles,
      ErrorLine,
  };
}

// Without passthrough routes: no stream module needed for `nginx -t`.
TrafficModel SeveralHttpRoutesModel() {
  TrafficModel m = SeveralRoutesModel();
  m.passthrough.clear();
  return m;
}

TEST(RouteLines, EveryRouteLineNamesItsRoute) {
  sg::testing::ExpectEveryRouteLineNamesItsRoute(
      Nginx(),
      {"http {", "events {", "stream {", "default_server", "worker_processes", "/healthz",
       "sg_terminate", "ssl_preread", "# routes "},
      {
          {"limit_req_zone $binary_remote_addr zone=rl_api:", "api"},
          {"split_clients \"${request_id}\" $sg_w_shop {", "shop"},
          {"split_clients \"$sg_skx_636172742d73657373696f6e\" $sg_w_cart {", "cart"},
          {"map $http_x_canary", "shop"},
          {"\"~^always$\"", "shop"},
          // Cookie names that are no variable names are read from the Cookie header.
          {"map $http_cookie $sg_ckx_626574612d75736572 ", "shop"},
          {"map $http_cookie $sg_ckx_636172742d73657373696f6e ", "cart"},
          {"map $sg_ckx_636172742d73657373696f6e $sg_sk", "cart"},
          {"hash $sg_sk", "cart"},
          {"add_header Set-Cookie", "cart"},
          {"return 503;", "dead"},
          {"server_name www.shop.example.com;", "shop"},
          {"server_name cart.example.com;", "cart"},
          {"server_name shop.example.com;", ""},  // three routes share it
          {"ssl_certificate certs/shop-tls;", "shop"},
          {"server_name old.shop.example.com;", "shop"},
          {"vault.example.com sg_passthrough;", "vault"},
          {"10.0.9.1:8200", "vault"},
          {"# route down: no endpoints", "down"},
      });
}

TEST(RouteLines, NginxErrorInALocationLeadsToItsRoute) {
  if (access(kNginx, X_OK) != 0) GTEST_SKIP() << kNginx << " not installed";
  sg::testing::ExpectRejectedRouteLineLeadsToItsRoute(
      Nginx(), SeveralHttpRoutesModel(), "proxy_pass", "            no_such_directive on;");
}

TEST(RouteLines, NginxErrorInAnUpstreamLeadsToItsRoute) {
  if (access(kNginx, X_OK) != 0) GTEST_SKIP() << kNginx << " not installed";
  // Certificates are loaded after upstreams are parsed: the port fails first.
  sg::testing::ExpectRejectedUpstreamLeadsToItsRoute(Nginx(), SeveralHttpRoutesModel(),
                                                     sg::testing::UpstreamCheckFiles::kNone);
}

}  // namespace
}  // namespace sg::nginx
