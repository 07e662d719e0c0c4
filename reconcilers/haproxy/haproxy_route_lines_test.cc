// The line -> route map of RenderHaproxy: every line written for a route
// names it, shared lines name none, and a line number from `haproxy -c` leads
// to the route whose directive HAProxy rejected.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "reconcilers/haproxy/haproxy_renderer.h"
#include "reconcilers/haproxy_check.h"
#include "reconcilers/model/backend_selection.h"
#include "reconcilers/nginx_check.h"

namespace sg::haproxy {
namespace {

using model::Location;
using model::Server;
using model::TrafficModel;
using model::Upstream;

const char* const kHaproxy = "/usr/sbin/haproxy";

std::string UpName(const std::string& route, int i) {
  return "r." + route + "." + std::to_string(i);
}

Upstream Up(const std::string& route, int i, std::vector<std::string> addresses) {
  Upstream u;
  u.name = UpName(route, i);
  u.route = route;
  for (std::string& a : addresses) u.servers.push_back({std::move(a), 1});
  return u;
}

Location Loc(const std::string& route, const std::string& path,
             std::vector<model::BackendRef> backends) {
  Location l;
  l.route = route;
  l.path = path;
  l.backends = std::move(backends);
  return l;
}

// Every kind of per-route output: weighted splits, canary header and cookie
// rules, sticky sessions, rate-limit tables, rewrites, a route on two hosts,
// two routes on one host, no endpoints, a redirect, TLS passthrough with and
// without endpoints.
TrafficModel SeveralRoutes() {
  TrafficModel m;
  m.upstreams = {
      Up("shop", 0, {"10.0.1.1:80", "10.0.1.2:80"}),
      Up("shop", 1, {"10.0.1.3:80"}),
      Up("api", 0, {"10.0.2.1:80"}),
      Up("cart", 0, {"10.0.3.1:80"}),
      Up("cart", 1, {"10.0.3.2:80"}),
      Up("dead", 0, {}),
  };
  for (Upstream& u : m.upstreams) {
    if (u.route == "cart") u.sticky_cookie = "cart-session";
  }
  Location shop = Loc("shop", "/", {{UpName("shop", 0), 90, false}, {UpName("shop", 1), 10, true}});
  shop.canary = {"X-Canary", "always", "beta-user", ""};
  shop.rate_limit = {50, 10};
  Location api = Loc("api", "/api", {{UpName("api", 0), 1, false}});
  api.rate_limit = {100, 0};
  api.rewrite = "/";
  api.timeouts.connect = model::Duration{2000};
  Location cart = Loc("cart", "/", {{UpName("cart", 0), 1, false}, {UpName("cart", 1), 1, false}});
  Location dead = Loc("dead", "/dead", {{UpName("dead", 0), 1, false}});
  Server shop_server;
  shop_server.hosts = {"shop.example.com"};
  shop_server.locations = {shop, api, dead};
  Server www;
  www.hosts = {"www.shop.example.com"};
  www.locations = {shop};
  www.tls = model::TlsCertificate{"shop-tls", "shop-tls"};
  www.redirect_http = true;
  Server cart_server;
  cart_server.hosts = {"cart.example.com"};
  cart_server.locations = {cart};
  m.servers = {shop_server, www, cart_server};
  m.redirects.push_back({"shop", "old.shop.example.com", "https://shop.example.com", 301, {}});
  model::PassthroughRoute vault;
  vault.route = "vault";
  vault.hosts = {"vault.example.com", "*.vault.example.com"};
  vault.upstream = Up("vault", 0, {"10.0.9.1:8200"});
  model::PassthroughRoute down;
  down.route = "down";
  down.hosts = {"down.example.com"};
  down.upstream = Up("down", 0, {});
  m.passthrough = {vault, down};
  model::ResolveSelections(m);
  return m;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

bool RouteChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }

// The route named by a "# route X" comment on `line`, or "".
std::string CommentRoute(const std::string& line) {
  size_t p = line.find("# route ");
  if (p == std::string::npos) return "";
  size_t start = p + 8, end = start;
  while (end < line.size() && RouteChar(line[end])) ++end;
  return line.substr(start, end - start);
}

// Routes of every upstream name "r.X.N" on `line`.
std::vector<std::string> UpstreamRoutes(const std::string& line) {
  std::vector<std::string> out;
  for (size_t p = line.find("r."); p != std::string::npos; p = line.find("r.", p + 1)) {
    if (p > 0 && (RouteChar(line[p - 1]) || line[p - 1] == '.')) continue;
    size_t end = p + 2;
    while (end < line.size() && RouteChar(line[end])) ++end;
    if (end == p + 2 || end + 1 >= line.size() || line[end] != '.') continue;
    if (line[end + 1] < '0' || line[end + 1] > '9') continue;
    out.push_back(line.substr(p + 2, end - p - 2));
  }
  return out;
}

TEST(HaproxyRouteLines, EveryRouteLineNamesItsRoute) {
  TrafficModel m = SeveralRoutes();
  RenderedConfig r = RenderHaproxy(m, RenderOptions{});
  EXPECT_EQ(r.text, RenderHaproxyConfig(m, RenderOptions{}));
  std::vector<std::string> lines = Lines(r.text);
  ASSERT_EQ(r.route_of_line.size(), lines.size());
  ASSERT_EQ(static_cast<size_t>(std::count(r.text.begin(), r.text.end(), '\n')), lines.size());

  std::vector<std::string> seen_routes;
  int upstream_lines = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    const std::string& got = r.route_of_line[i];
    int n = static_cast<int>(i) + 1;
    EXPECT_EQ(r.RouteAtLine(n), got);
    if (std::string c = CommentRoute(line); !c.empty()) {
      EXPECT_EQ(got, c) << "line " << n << ": " << line;
      seen_routes.push_back(c);
    }
    for (const std::string& u : UpstreamRoutes(line)) {
      EXPECT_EQ(got, u) << "line " << n << ": " << line;
      ++upstream_lines;
    }
    for (const char* shared :
         {"global", "defaults", "frontend sg:", "bind ", "sg_routed var", "/healthz",
          "sg:terminate", "req.ssl_hello_type", "unless sg_located", "X-Forwarded"}) {
      if (line.find(shared) != std::string::npos) {
        EXPECT_EQ(got, "") << "line " << n << ": " << line;
      }
    }
  }
  std::sort(seen_routes.begin(), seen_routes.end());
  seen_routes.erase(std::unique(seen_routes.begin(), seen_routes.end()), seen_routes.end());
  EXPECT_EQ(seen_routes,
            (std::vector<std::string>{"api", "cart", "dead", "down", "shop", "vault"}));
  EXPECT_GT(upstream_lines, 12);

  // Each kind of per-route output is attributed.
  auto route_of = [&](const std::string& needle) {
    for (size_t i = 0; i < lines.size(); ++i) {
      if (lines[i].find(needle) != std::string::npos) return r.route_of_line[i];
    }
    ADD_FAILURE() << "no line contains " << needle;
    return std::string("?");
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
  TrafficModel m = SeveralRoutes();
  RenderedConfig r = RenderHaproxy(m, RenderOptions{});
  ExecHaproxyValidator validator(kHaproxy);
  Status ok = validator.Validate(r.text, Certificates(m));
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();

  // Replace one of api's rules, keeping the line count.
  std::vector<std::string> lines = Lines(r.text);
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
  TrafficModel m = SeveralRoutes();
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
