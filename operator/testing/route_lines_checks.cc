#include "operator/testing/route_lines_checks.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "reconcilers/model/backend_selection.h"

namespace sg::samples {
namespace {

using model::Location;
using model::Server;
using model::TrafficModel;
using model::Upstream;

bool RouteChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }

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

}  // namespace

TrafficModel SeveralRoutesModel() {
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

std::string UpName(const std::string& route, int i) {
  return "r." + route + "." + std::to_string(i);
}

std::vector<std::string> ConfigLines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::string CommentRoute(const std::string& line) {
  size_t p = line.find("# route ");
  if (p == std::string::npos) return "";
  size_t start = p + 8, end = start;
  while (end < line.size() && RouteChar(line[end])) ++end;
  return line.substr(start, end - start);
}

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

RouteLineScan ExpectLinesNameTheirRoutes(const std::string& text,
                                         const std::vector<std::string>& route_of_line,
                                         const std::vector<std::string>& shared_markers,
                                         const std::function<std::string(int)>& route_at_line) {
  RouteLineScan scan;
  scan.lines = ConfigLines(text);
  EXPECT_EQ(route_of_line.size(), scan.lines.size());
  EXPECT_EQ(static_cast<size_t>(std::count(text.begin(), text.end(), '\n')), scan.lines.size());
  for (size_t i = 0; i < scan.lines.size() && i < route_of_line.size(); ++i) {
    const std::string& line = scan.lines[i];
    const std::string& got = route_of_line[i];
    int n = static_cast<int>(i) + 1;
    EXPECT_EQ(route_at_line(n), got);
    if (std::string c = CommentRoute(line); !c.empty()) {
      EXPECT_EQ(got, c) << "line " << n << ": " << line;
      scan.commented_routes.push_back(c);
    }
    for (const std::string& u : UpstreamRoutes(line)) {
      EXPECT_EQ(got, u) << "line " << n << ": " << line;
      ++scan.upstream_lines;
    }
    for (const std::string& shared : shared_markers) {
      if (line.find(shared) != std::string::npos) {
        EXPECT_EQ(got, "") << "line " << n << ": " << line;
      }
    }
  }
  auto& routes = scan.commented_routes;
  std::sort(routes.begin(), routes.end());
  routes.erase(std::unique(routes.begin(), routes.end()), routes.end());
  return scan;
}

std::string RouteOfLineWith(const RouteLineScan& scan,
                            const std::vector<std::string>& route_of_line,
                            const std::string& needle) {
  for (size_t i = 0; i < scan.lines.size() && i < route_of_line.size(); ++i) {
    if (scan.lines[i].find(needle) != std::string::npos) return route_of_line[i];
  }
  ADD_FAILURE() << "no line contains " << needle;
  return "?";
}

}  // namespace sg::samples
