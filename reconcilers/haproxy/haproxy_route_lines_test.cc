// The line -> route map of RenderHaproxy: every line written for a route
// names it, shared lines name none, and a line number from `haproxy -c` leads
// to the route whose directive HAProxy rejected.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "operator/testing/route_lines_checks.h"
#include "reconcilers/haproxy/haproxy_renderer.h"
#include "reconcilers/haproxy_check.h"
#include "reconcilers/nginx_check.h"

namespace sg::haproxy {
namespace {

using model::TrafficModel;
using model::Upstream;

const char* const kHaproxy = "/usr/sbin/haproxy";

using samples::ConfigLines;
using samples::SeveralRoutesModel;
using samples::UpName;

TEST(HaproxyRouteLines, EveryRouteLineNamesItsRoute) {
  TrafficModel m = SeveralRoutesModel();
  RenderedConfig r = RenderHaproxy(m, RenderOptions{});
  EXPECT_EQ(r.text, RenderHaproxyConfig(m, RenderOptions{}));
  auto scan = samples::ExpectLinesNameTheirRoutes(
      r.text, r.route_of_line,
      {"global", "defaults", "frontend sg:", "bind ", "sg_routed var", "/healthz", "sg:terminate",
       "req.ssl_hello_type", "unless sg_located", "X-Forwarded"},
      [&](int n) { return r.RouteAtLine(n); });
  const std::vector<std::string>& lines = scan.lines;
  EXPECT_EQ(scan.commented_routes,
            (std::vector<std::string>{"api", "cart", "dead", "down", "shop", "vault"}));
  EXPECT_GT(scan.upstream_lines, 12);

  // Each kind of per-route output is attributed.
  auto route_of = [&](const std::string& needle) {
    return samples::RouteOfLineWith(scan, r.route_of_line, needle);
  };
  EXPECT_EQ(route_of("backend rl:api"), "api");
  EXPECT_EQ(route_of("backend rl:shop"), "shop");
  EXPECT_EQ(route_of("stick-table type ipv6"), route_of("backend rl:"));
  EXPECT_EQ(route_of("track-sc0 src table rl:api"), "api");
  EXPECT_EQ(route_of("deny_status 429 if loc:shop"), "shop");
  EXPECT_EQ(route_of("acl canary:shop req.fhdr(X-Canary,1)"), "shop");
  EXPECT_EQ(route_of("acl canary:shop req.cook(beta-user)"), "shop");
  EXPECT_EQ(route_of("acl loc:cart "), "cart");
  EXPECT_EQ(route_of("req.cook(cart-session),field(1,~) if loc:cart"), "cart");
  EXPECT_EQ(route_of("cookie cart-session insert"), "cart");
  EXPECT_EQ(route_of("replace-path ^/api/(.*)"), "api");
  EXPECT_EQ(route_of("timeout connect 2s"), "api");
  EXPECT_EQ(route_of("str(api) if !sg_located"), "api");
  EXPECT_EQ(route_of("return status 503 default-errorfiles if loc:dead"), "dead");
  EXPECT_EQ(route_of("-m str www.shop.example.com }"), "shop");
  EXPECT_EQ(route_of("-m str cart.example.com }"), "cart");
  EXPECT_EQ(route_of("-m str shop.example.com }"), "");  // three routes share it
  EXPECT_EQ(route_of("-m str old.shop.example.com }"), "shop");
  EXPECT_EQ(route_of("redirect location https://shop.example.com%[pathq]"), "shop");
  EXPECT_EQ(route_of("redirect location https://%[var(txn.host)]"), "shop");
  EXPECT_EQ(route_of("req.ssl_sni -i vault.example.com"), "vault");
  EXPECT_EQ(route_of("10.0.9.1:8200"), "vault");
  EXPECT_EQ(route_of("# no endpoints: not served"), "down");

  EXPECT_EQ(r.RouteAtLine(0), "");
  EXPECT_EQ(r.RouteAtLine(-3), "");
  EXPECT_EQ(r.RouteAtLine(static_cast<int>(lines.size()) + 1), "");
  EXPECT_EQ(r.RouteAtLine(1), "");  // the header comment
}

std::map<std::string, std::string> Certificates(const TrafficModel& m) {
  static const nginx::SelfSignedCertificate cert = [] {
    auto c = nginx::GenerateSelfSignedCertificate();
    EXPECT_TRUE(c.ok());
    return c.ok() ? *c : nginx::SelfSignedCertificate{};
  }();
  std::map<std::string, std::string> files;
  for (const std::string& f : CertificateFiles(m)) files[f] = cert.certificate_pem + cert.key_pem;
  return files;
}

TEST(HaproxyRouteLines, HaproxyErrorInARouteRuleLeadsToItsRoute) {
  if (access(kHaproxy, X_OK) != 0) GTEST_SKIP() << kHaproxy << " not installed";
  TrafficModel m = SeveralRoutesModel();
  RenderedConfig r = RenderHaproxy(m, RenderOptions{});
  ExecHaproxyValidator validator(kHaproxy);
  Status ok = validator.Validate(r.text, Certificates(m));
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();

  // Replace one of api's rules, keeping the line count.
  std::vector<std::string> lines = ConfigLines(r.text);
  size_t target = lines.size();
  for (size_t i = 0; i < lines.size(); ++i) {
    if (r.route_of_line[i] == "api" && lines[i].find("use_backend") != std::string::npos) {
      target = i;
      break;
    }
  }
  ASSERT_LT(target, lines.size());
  std::string broken;
  for (size_t i = 0; i < lines.size(); ++i) {
    broken += i == target ? "    no_such_keyword on" : lines[i];
    broken += '\n';
  }
  Status st = validator.Validate(broken, Certificates(m));
  ASSERT_FALSE(st.ok());
  int line = HaproxyErrorLine(st.error().message);
  EXPECT_EQ(line, static_cast<int>(target) + 1) << st.error().message;
  EXPECT_EQ(r.RouteAtLine(line), "api") << st.error().message;
}

TEST(HaproxyRouteLines, HaproxyErrorInABackendLeadsToItsRoute) {
  if (access(kHaproxy, X_OK) != 0) GTEST_SKIP() << kHaproxy << " not installed";
  TrafficModel m = SeveralRoutesModel();
  for (Upstream& u : m.upstreams) {
    if (u.name == UpName("cart", 1)) u.servers[0].address = "10.0.3.2:99999";
  }
  RenderedConfig r = RenderHaproxy(m, RenderOptions{});
  ExecHaproxyValidator validator(kHaproxy);
  Status st = validator.Validate(r.text, Certificates(m));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("99999"), std::string::npos) << st.error().message;
  EXPECT_EQ(r.RouteAtLine(HaproxyErrorLine(st.error().message)), "cart") << st.error().message;
}

}  // namespace
}  // namespace sg::haproxy
