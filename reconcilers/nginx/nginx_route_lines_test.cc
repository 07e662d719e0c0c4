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

#include "reconcilers/model/backend_selection.h"
#include "reconcilers/nginx/nginx_renderer.h"
#include "reconcilers/nginx_check.h"

namespace sg::nginx {
namespace {

using model::Location;
using model::Server;
using model::TrafficModel;
using model::Upstream;

const char* const kNginx = "/usr/sbin/nginx";

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

// Every kind of per-route output: split_clients, canary header and cookie
// maps, a cookie extracted from the Cookie header, sticky sessions, rate-limit
// zones, a route on two hosts, two routes on one host, no endpoints, a
// redirect, TLS passthrough with and without endpoints.
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

TEST(RouteLines, EveryRouteLineNamesItsRoute) {
  TrafficModel m = SeveralRoutes();
  RenderedConfig r = RenderNginx(m, RenderOptions{});
  EXPECT_EQ(r.text, RenderNginxConfig(m, RenderOptions{}));
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
    if (line.find("# routes ") != std::string::npos) {
      EXPECT_EQ(got, "") << "a server of several routes is shared: line " << n;
    }
    for (const char* shared : {"http {", "events {", "stream {", "default_server",
                               "worker_processes", "/healthz", "sg_terminate", "ssl_preread"}) {
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
  TrafficModel m = SeveralRoutes();
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
  std::vector<std::string> lines = Lines(r.text);
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
  TrafficModel m = SeveralRoutes();
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
