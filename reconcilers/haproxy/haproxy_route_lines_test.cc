// The line -> route map of RenderHaproxy: every line written for a route
// names it, shared lines name none, and a line number from `haproxy -c` leads
// to the route whose directive HAProxy rejected.

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "operator/testing/route_lines_harness.h"
#include "reconcilers/haproxy/haproxy_renderer.h"
#include "reconcilers/haproxy_check.h"

namespace sg::haproxy {
namespace {

using model::TrafficModel;
using samples::SeveralRoutesModel;

const char* const kHaproxy = "/usr/sbin/haproxy";

sg::testing::RouteLinesEngine Haproxy() {
  return {
      [](const TrafficModel& m) {
        return sg::testing::RouteMapped(RenderHaproxy(m, RenderOptions{}));
      },
      [](const TrafficModel& m) { return RenderHaproxyConfig(m, RenderOptions{}); },
      [](const std::string& config, const sg::testing::CheckFiles& files) {
        return ExecHaproxyValidator(kHaproxy).Validate(config, files);
      },
      CertificateFiles,
      [](const std::string& message) { return HaproxyErrorLine(message); },
  };
}

TEST(HaproxyRouteLines, EveryRouteLineNamesItsRoute) {
  auto sample = sg::testing::ExpectEveryRouteLineNamesItsRoute(
      Haproxy(),
      {"global", "defaults", "frontend sg:", "bind ", "sg_routed var", "/healthz", "sg:terminate",
       "req.ssl_hello_type", "unless sg_located", "X-Forwarded"},
      {
          {"backend rl:api", "api"},
          {"backend rl:shop", "shop"},
          {"track-sc0 src table rl:api", "api"},
          {"deny_status 429 if { var(txn.sg_loc) -m str shop }", "shop"},
          {"acl canary:shop req.fhdr(X-Canary,1)", "shop"},
          {"acl canary:shop req.cook(beta-user)", "shop"},
          {"/ cart", "cart"},
          {"req.cook(cart-session),field(1,~) if { var(txn.sg_loc) -m str cart }", "cart"},
          {"cookie cart-session insert", "cart"},
          {"replace-path ^/api/(.*)", "api"},
          {"timeout connect 2s", "api"},
          {"/api/ api", "api"},
          {"return status 503 default-errorfiles if { var(txn.sg_loc) -m str dead }", "dead"},
          {"#@ www.shop.example.com ", "shop"},
          {"#@ cart.example.com ", "cart"},
          {"#@ shop.example.com ", ""},  // three routes share it
          {"#@ old.shop.example.com ", "shop"},
          {"redirect location https://shop.example.com%[pathq]", "shop"},
          {"redirect location https://%[var(txn.host)]", ""},  // one rule for all,
          {"req.ssl_sni -i vault.example.com", "vault"},
          {"10.0.9.1:8200", "vault"},
          {"# no endpoints: not served", "down"},
      });
  // A rate limit's table belongs to the route of its backend.
  EXPECT_EQ(sample.RouteOf("stick-table type ipv6"), sample.RouteOf("backend rl:"));
}

TEST(HaproxyRouteLines, HaproxyErrorInARouteRuleLeadsToItsRoute) {
  if (access(kHaproxy, X_OK) != 0) GTEST_SKIP() << kHaproxy << " not installed";
  sg::testing::ExpectRejectedRouteLineLeadsToItsRoute(Haproxy(), SeveralRoutesModel(), "track-sc0",
                                                      "    no_such_keyword on");
}

TEST(HaproxyRouteLines, HaproxyErrorInABackendLeadsToItsRoute) {
  if (access(kHaproxy, X_OK) != 0) GTEST_SKIP() << kHaproxy << " not installed";
  sg::testing::ExpectRejectedUpstreamLeadsToItsRoute(
      Haproxy(), SeveralRoutesModel(), sg::testing::UpstreamCheckFiles::kCertificates);
}

}  // namespace
}  // namespace sg::haproxy
