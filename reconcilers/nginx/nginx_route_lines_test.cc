// The line -> route map of RenderNginx: every line written for a route names
// it, shared lines name none, and a line number from `nginx -t` leads to the
// route whose directive nginx rejected.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "operator/testing/route_lines_checks.h"
#include "reconcilers/nginx/nginx_renderer.h"
#include "reconcilers/nginx_check.h"

namespace sg::nginx {
namespace {

using model::TrafficModel;
using model::Upstream;

const char* const kNginx = "/usr/sbin/nginx";

using samples::ConfigLines;
using samples::SeveralRoutesModel;
using samples::UpName;

TEST(RouteLines, EveryRouteLineNamesItsRoute) {
  TrafficModel m = SeveralRoutesModel();
  RenderedConfig r = RenderNginx(m, RenderOptions{});
  EXPECT_EQ(r.text, RenderNginxConfig(m, RenderOptions{}));
  auto scan = samples::ExpectLinesNameTheirRoutes(
      r.text, r.route_of_line,
      {"http {", "events {", "stream {", "default_server", "worker_processes", "/healthz",
       "sg_terminate", "ssl_preread", "# routes "},
      [&](int n) { return r.RouteAtLine(n); });
  const std::vector<std::string>& lines = scan.lines;
  EXPECT_EQ(scan.commented_routes,
            (std::vector<std::string>{"api", "cart", "dead", "down", "shop", "vault"}));
  EXPECT_GT(scan.upstream_lines, 12);

  // Each kind of per-route output is attributed.
  auto route_of = [&](const std::string& needle) {
    return samples::RouteOfLineWith(scan, r.route_of_line, needle);
  };
  EXPECT_EQ(route_of("limit_req_zone $binary_remote_addr zone=rl_api:"), "api");
  EXPECT_EQ(route_of("split_clients \"${request_id}\" $sg_w_shop {"), "shop");
  EXPECT_EQ(route_of("split_clients \"$sg_skx_636172742d73657373696f6e\" $sg_w_cart {"), "cart");
  EXPECT_EQ(route_of("map $http_x_canary"), "shop");
  EXPECT_EQ(route_of("\"always\""), "shop");
  // Cookie names that are no variable names are read from the Cookie header.
  EXPECT_EQ(route_of("map $http_cookie $sg_ckx_626574612d75736572 "), "shop");
  EXPECT_EQ(route_of("map $http_cookie $sg_ckx_636172742d73657373696f6e "), "cart");
  EXPECT_EQ(route_of("map $sg_ckx_636172742d73657373696f6e $sg_sk"), "cart");
  EXPECT_EQ(route_of("hash $sg_sk"), "cart");
  EXPECT_EQ(route_of("add_header Set-Cookie"), "cart");
  EXPECT_EQ(route_of("return 503;"), "dead");
  EXPECT_EQ(route_of("server_name www.shop.example.com;"), "shop");
  EXPECT_EQ(route_of("server_name cart.example.com;"), "cart");
  EXPECT_EQ(route_of("server_name shop.example.com;"), "");  // three routes share it
  EXPECT_EQ(route_of("ssl_certificate certs/shop-tls;"), "shop");
  EXPECT_EQ(route_of("server_name old.shop.example.com;"), "shop");
  EXPECT_EQ(route_of("vault.example.com sg_passthrough;"), "vault");
  EXPECT_EQ(route_of("10.0.9.1:8200"), "vault");
  EXPECT_EQ(route_of("# route down: no endpoints"), "down");

  EXPECT_EQ(r.RouteAtLine(0), "");
  EXPECT_EQ(r.RouteAtLine(-3), "");
  EXPECT_EQ(r.RouteAtLine(static_cast<int>(lines.size()) + 1), "");
  EXPECT_EQ(r.RouteAtLine(1), "");  // the header comment
}

// "... in nginx.conf:12" -> 12.
int ErrorLine(const std::string& message) {
  size_t p = message.rfind(".conf:");
  return p == std::string::npos ? 0 : std::atoi(message.c_str() + p + 6);
}

TEST(RouteLines, NginxErrorInALocationLeadsToItsRoute) {
  if (access(kNginx, X_OK) != 0) GTEST_SKIP() << kNginx << " not installed";
  TrafficModel m = SeveralRoutesModel();
  m.passthrough.clear();  // no stream module needed
  RenderedConfig r = RenderNginx(m, RenderOptions{});
  ExecNginxValidator validator(kNginx);
  auto certs = PlaceholderCertificateFiles(CertificateFiles(m), [] {
    auto c = GenerateSelfSignedCertificate();
    EXPECT_TRUE(c.ok());
    return c.ok() ? *c : SelfSignedCertificate{};
  }());
  ASSERT_TRUE(validator.Validate(r.text, certs).ok());

  // Replace one directive inside the api location, keeping the line count.
  std::vector<std::string> lines = ConfigLines(r.text);
  size_t target = lines.size();
  for (size_t i = 0; i < lines.size(); ++i) {
    if (r.route_of_line[i] == "api" && lines[i].find("proxy_pass") != std::string::npos) {
      target = i;
      break;
    }
  }
  ASSERT_LT(target, lines.size());
  std::string broken;
  for (size_t i = 0; i < lines.size(); ++i) {
    broken += i == target ? "            no_such_directive on;" : lines[i];
    broken += '\n';
  }
  Status st = validator.Validate(broken, certs);
  ASSERT_FALSE(st.ok());
  int line = ErrorLine(st.error().message);
  EXPECT_EQ(line, static_cast<int>(target) + 1) << st.error().message;
  EXPECT_EQ(r.RouteAtLine(line), "api") << st.error().message;
}

TEST(RouteLines, NginxErrorInAnUpstreamLeadsToItsRoute) {
  if (access(kNginx, X_OK) != 0) GTEST_SKIP() << kNginx << " not installed";
  TrafficModel m = SeveralRoutesModel();
  m.passthrough.clear();
  for (Upstream& u : m.upstreams) {
    if (u.name == UpName("cart", 1)) u.servers[0].address = "10.0.3.2:99999";
  }
  RenderedConfig r = RenderNginx(m, RenderOptions{});
  ExecNginxValidator validator(kNginx);
  // Certificates are loaded after upstreams are parsed: the port fails first.
  Status st = validator.Validate(r.text, {});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("99999"), std::string::npos) << st.error().message;
  EXPECT_EQ(r.RouteAtLine(ErrorLine(st.error().message)), "cart") << st.error().message;
}

}  // namespace
}  // namespace sg::nginx
