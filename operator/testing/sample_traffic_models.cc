#include "operator/testing/sample_traffic_models.h"

#include <algorithm>

#include <chrono>
#include <optional>
#include <utility>

#include "reconcilers/model/backend_selection.h"

namespace sg::samples {

using namespace std::chrono_literals;
using model::BackendRef;
using model::HostRedirect;
using model::Location;
using model::PassthroughRoute;
using model::Server;
using model::TlsCertificate;
using model::TrafficModel;
using model::Upstream;

Upstream Up(std::string name, std::vector<std::string> addresses) {
  Upstream u;
  u.name = std::move(name);
  for (std::string& a : addresses) u.servers.push_back({std::move(a), 1});
  return u;
}

Location Loc(std::string route, std::string path, std::vector<BackendRef> backends) {
  Location l;
  l.route = std::move(route);
  l.path = std::move(path);
  l.backends = std::move(backends);
  return l;
}

Server Srv(std::vector<std::string> hosts, std::vector<Location> locations) {
  Server s;
  s.hosts = std::move(hosts);
  s.locations = std::move(locations);
  return s;
}

TlsCertificate Cert(const std::string& name) { return {name + ".crt", name + ".key"}; }

TrafficModel Empty() { return TrafficModel{}; }

TrafficModel OneHost() {
  TrafficModel m;
  m.upstreams.push_back(Up("shop-v1", {"10.0.1.5:8080", "10.0.1.4:8080"}));
  m.servers.push_back(Srv({"shop.example.com"}, {Loc("shop", "/", {{"shop-v1", 1, false}})}));
  return m;
}

TrafficModel ContextRoot() {
  TrafficModel m;
  m.upstreams.push_back(Up("api-v1", {"10.0.2.5:8080"}));
  m.upstreams.push_back(Up("legacy-v1", {"10.0.3.5:8080"}));
  m.upstreams.push_back(Up("app-v1", {"10.0.4.5:3000"}));
  Location api = Loc("api", "/api", {{"api-v1", 1, false}});
  api.rewrite = "/";  // /api -> /, /api/x -> /x
  Location legacy = Loc("legacy", "/old.v1/", {{"legacy-v1", 1, false}});
  legacy.rewrite = "/v2";  // /old.v1 -> /v2, /old.v1/x -> /v2/x
  Location app = Loc("app", "/", {{"app-v1", 1, false}});
  app.rewrite = "/app/";  // /x -> /app/x
  m.servers.push_back(Srv({"example.com"}, {api, legacy, app}));
  return m;
}

TrafficModel LongestPath() {
  TrafficModel m;
  m.upstreams.push_back(Up("web", {"10.0.1.2:80"}));
  m.upstreams.push_back(Up("api", {"10.0.1.3:80"}));
  m.upstreams.push_back(Up("api-v2", {"10.0.1.4:80"}));
  m.servers.push_back(Srv({"example.com"}, {Loc("api-v2", "/api/v2", {{"api-v2", 1, false}}),
                                            Loc("web", "/", {{"web", 1, false}}),
                                            Loc("api", "/api", {{"api", 1, false}})}));
  return m;
}

TrafficModel WeightedCanary() {
  TrafficModel m;
  m.upstreams.push_back(Up("shop-v1", {"10.0.1.5:8080", "10.0.1.6:8080", "10.0.1.7:8080"}));
  m.upstreams.push_back(Up("shop-v2", {"10.0.1.9:8080"}));
  Location shop = Loc("shop", "/", {{"shop-v1", 90, false}, {"shop-v2", 10, true}});
  shop.canary = {"X-Canary", "always", "canary", ""};
  // Three-way split with two canaries sharing the override, cookie by value.
  m.upstreams.push_back(Up("cart-a", {"10.0.2.1:80"}));
  m.upstreams.push_back(Up("cart-b", {"10.0.2.2:80"}));
  m.upstreams.push_back(Up("cart-c", {"10.0.2.3:80"}));
  Location cart =
      Loc("cart", "/cart", {{"cart-a", 2, false}, {"cart-b", 1, true}, {"cart-c", 0, true}});
  cart.canary = {"", "", "cart_beta", "yes"};
  m.servers.push_back(Srv({"shop.example.com"}, {shop, cart}));
  return m;
}

TrafficModel Sticky() {
  TrafficModel m;
  Upstream a = Up("session-v1", {"10.0.5.1:8080", "10.0.5.2:8080"});
  a.sticky_cookie = "SG_STICKY";
  Upstream b = Up("session-v2", {"10.0.5.3:8080"});
  b.sticky_cookie = "SG_STICKY";
  Upstream c = Up("legacy", {"10.0.6.1:8080"});
  c.sticky_cookie = "legacy-session";  // not spellable as $cookie_NAME
  m.upstreams = {a, b, c};
  m.servers.push_back(
      Srv({"app.example.com"},
          {Loc("session", "/", {{"session-v1", 3, false}, {"session-v2", 1, false}}),
           Loc("legacy", "/legacy", {{"legacy", 1, false}})}));
  return m;
}

TrafficModel Websocket() {
  TrafficModel m;
  m.upstreams.push_back(Up("chat", {"10.0.7.1:9000"}));
  Location ws = Loc("chat", "/ws", {{"chat", 1, false}});
  ws.websocket = true;
  Location ws2 = Loc("chat-slow", "/ws-slow", {{"chat", 1, false}});
  ws2.websocket = true;
  ws2.timeouts.read = 300s;
  m.servers.push_back(Srv({"chat.example.com"}, {ws, ws2}));
  return m;
}

TrafficModel TlsTerminate() {
  TrafficModel m;
  m.upstreams.push_back(Up("shop-v1", {"10.0.1.5:8080"}));
  m.upstreams.push_back(Up("blog", {"10.0.8.1:80"}));
  Server shop = Srv({"shop.example.com"}, {Loc("shop", "/", {{"shop-v1", 1, false}})});
  shop.tls = Cert("shop-tls");
  shop.redirect_http = true;
  Server blog = Srv({"blog.example.com"}, {Loc("blog", "/", {{"blog", 1, false}})});
  blog.tls = Cert("blog-tls");  // served on http and https
  m.servers = {shop, blog};
  return m;
}

TrafficModel PassthroughAndTerminate() {
  TrafficModel m = TlsTerminate();
  PassthroughRoute db{"vault",
                      {"vault.example.com", "*.vault.example.com"},
                      Up("vault", {"10.0.9.1:8200", "10.0.9.2:8200"}),
                      {}};
  db.upstream.max_fails = 2;
  PassthroughRoute down{"down", {"down.example.com"}, Up("down", {}), {}};
  m.passthrough = {db, down};
  return m;
}

TrafficModel RateLimitTimeoutsHealth() {
  TrafficModel m;
  Upstream u = Up("orders", {"10.0.10.1:8080", "10.0.10.2:8080"});
  u.max_fails = 3;
  u.fail_timeout = 10s;
  u.keepalive = 64;
  u.servers[1].weight = 2;
  m.upstreams.push_back(u);
  Location l = Loc("orders", "/orders", {{"orders", 1, false}});
  l.rate_limit = {100, 200};
  l.timeouts = {2s, 1500ms, 1s};
  Location slow = Loc("orders-export", "/export", {{"orders", 1, false}});
  slow.rate_limit = {5, 0};
  slow.timeouts.read = 120s;
  m.servers.push_back(Srv({"orders.example.com"}, {l, slow}));
  m.settings.next_upstream_tries = 2;
  return m;
}

TrafficModel HostRedirects() {
  TrafficModel m;
  m.upstreams.push_back(Up("shop-v1", {"10.0.1.5:8080"}));
  m.servers.push_back(Srv({"shop.example.com"}, {Loc("shop", "/", {{"shop-v1", 1, false}})}));
  m.redirects.push_back({"shop", "old.example.com", "https://shop.example.com", 301, std::nullopt});
  m.redirects.push_back(
      {"shop", "www.shop.example.com", "https://shop.example.com/", 308, Cert("www-shop-tls")});
  m.redirects.push_back(
      {"promo", "promo.example.com", "https://shop.example.com/sale?src=promo", 302, std::nullopt});
  return m;
}

TrafficModel NoEndpoints() {
  TrafficModel m;
  m.upstreams.push_back(Up("empty", {}));
  m.upstreams.push_back(Up("live", {"10.0.11.1:80"}));
  m.upstreams.push_back(Up("canary-empty", {}));
  Location dead = Loc("dead", "/dead", {{"empty", 1, false}});
  // The empty backend's share goes to the live one; the canary rule has no live
  // canary and falls through.
  Location half =
      Loc("half", "/half", {{"empty", 50, false}, {"live", 50, false}, {"canary-empty", 0, true}});
  half.canary.header_name = "X-Canary";
  half.canary.header_value = "always";
  Location missing = Loc("missing", "/missing", {{"not-declared", 1, false}});
  m.servers.push_back(Srv({"svc.example.com"}, {dead, half, missing}));
  return m;
}

TrafficModel WildcardHost() {
  TrafficModel m;
  m.upstreams.push_back(Up("tenants", {"10.0.12.1:80"}));
  m.upstreams.push_back(Up("admin", {"10.0.12.2:80"}));
  Server all = Srv({"*.apps.example.com", "apps.example.com"},
                   {Loc("tenants", "/", {{"tenants", 1, false}})});
  all.tls = Cert("apps-wildcard");
  m.servers = {all, Srv({"admin.apps.example.com"}, {Loc("admin", "/", {{"admin", 1, false}})})};
  return m;
}

TrafficModel AccessLogCombined() {
  TrafficModel m = HostRedirects();
  m.upstreams.push_back(Up("api", {"10.0.13.1:8080"}));
  m.upstreams.push_back(Up("gone", {}));
  Location api = Loc("api", "/api", {{"api", 1, false}});
  api.rewrite = "/";
  m.servers.push_back(Srv({"api.example.com"}, {api, Loc("gone", "/gone", {{"gone", 1, false}})}));
  m.settings.access_log = model::AccessLogFormat::kCombined;
  return m;
}

TrafficModel AccessLogJson() {
  TrafficModel m = PassthroughAndTerminate();
  m.settings.access_log = model::AccessLogFormat::kJson;
  return m;
}

// The cluster's default backend: unknown hosts, and paths of a host that
// only serves a context root.
TrafficModel DefaultBackend() {
  TrafficModel m;
  m.upstreams.push_back(Up("api-v1", {"10.0.2.5:8080"}));
  m.upstreams.push_back(Up("d.default", {"10.0.9.5:8080", "10.0.9.4:8080"}));
  m.upstreams.back().max_fails = 1;
  m.servers.push_back(Srv({"api.example.com"}, {Loc("api", "/api", {{"api-v1", 1, false}})}));
  Location fallback;
  fallback.backends = {{"d.default", 1, false}};
  m.fallback.location = fallback;
  return m;
}

// A fixed status for requests no route claims.
TrafficModel DefaultStatus() {
  TrafficModel m = DefaultBackend();
  m.upstreams.pop_back();
  m.fallback.location.reset();
  m.fallback.status = 421;
  return m;
}

// Route rules matched by path only, which both engines express: an exact
// path beside a prefix of the same path, patterns in order of precedence,
// prefixes and the root.
TrafficModel RulesPaths() {
  TrafficModel m;
  for (const char* u : {"r.site.0-0", "r.site.1-0", "r.site.2-0", "r.site.3-0", "r.site.4-0"}) {
    m.upstreams.push_back(Up(u, {"10.0.5." + std::to_string(m.upstreams.size() + 2) + ":8080"}));
  }
  auto loc = [](const char* path, model::PathMatch match, const char* upstream, int rank,
                const char* field) {
    Location l = Loc("site", path, {{upstream, 1, false}});
    l.path_match = match;
    l.rank = rank;
    l.match_field = field;
    return l;
  };
  m.servers.push_back(
      Srv({"site.example.com"},
          {loc("/login", model::PathMatch::kExact, "r.site.0-0", 0, "spec.rules[0].matches[0]"),
           loc("/login", model::PathMatch::kPrefix, "r.site.1-0", 1, "spec.rules[1].matches[0]"),
           loc("/users/[0-9]+(/.*)?", model::PathMatch::kRegex, "r.site.2-0", 2,
               "spec.rules[2].matches[0]"),
           loc("/static/.*\\.(css|js)", model::PathMatch::kRegex, "r.site.3-0", 3,
               "spec.rules[3].matches[0]"),
           loc("/", model::PathMatch::kPrefix, "r.site.4-0", 4, "spec.rules[4].matches[0]")}));
  return m;
}

// Route rules with headers, query parameters and methods (HAProxy only):
// the host is routed by rules in order of precedence.
TrafficModel RulesConditions() {
  TrafficModel m = RulesPaths();
  m.upstreams.push_back(Up("r.site.5-0", {"10.0.5.20:8080"}));
  Location v2 = Loc("site", "/api", {{"r.site.5-0", 1, false}});
  v2.headers = {{"X-Version", "two", false}, {"User-Agent", ".*Mobile.*", true}};
  v2.query = {{"tab", "orders", false}};
  v2.method = "GET";
  v2.rank = 5;
  v2.match_field = "spec.rules[5].matches[0]";
  m.servers.back().locations.push_back(v2);
  return m;
}

TrafficModel RulesFilters() {
  TrafficModel m;
  m.settings.https_port = 8443;
  m.upstreams.push_back(Up("r.app.0-0", {"10.0.6.2:8080"}));
  m.upstreams.push_back(Up("r.app.1-0", {"10.0.6.3:8080"}));
  m.upstreams.push_back(Up("r.app.4-0", {"10.0.6.4:8080"}));
  m.upstreams[2].request_headers.set = {{"X-Backend", "four"}};
  m.upstreams[2].response_headers.remove = {"Server"};
  auto loc = [](const char* path, const char* upstream, int rank) {
    Location l = Loc("app", path, {});
    if (upstream) l.backends = {{upstream, 1, false}};
    l.rank = rank;
    l.match_field = "spec.rules[" + std::to_string(rank) + "].matches[0]";
    return l;
  };
  // Rule 0: header filters both ways, Host and prefix rewrite.
  Location api = loc("/api", "r.app.0-0", 0);
  api.request_headers.remove = {"X-Debug"};
  api.request_headers.set = {{"X-Tenant", "blue team"}, {"X-Forwarded-Proto", "https"}};
  api.request_headers.add = {{"X-Trace", "a=1;b=50%"}};
  api.response_headers.set = {{"Cache-Control", "no-store"}};
  api.response_headers.add = {{"X-Served-By", "swarmgate"}};
  api.response_headers.remove = {"X-Powered-By"};
  api.rewrite_host = "internal.example.com";
  api.rewrite = "/v2";
  // Rule 1: the whole path replaced; its own timeouts and retries.
  Location legacy = loc("/legacy", "r.app.1-0", 1);
  legacy.path_match = model::PathMatch::kExact;
  legacy.rewrite_full_path = "/new/home";
  legacy.timeouts.read = std::chrono::milliseconds(2000);
  legacy.request_timeout = std::chrono::milliseconds(5000);
  legacy.retry = model::RetryPolicy{{503, 504}, 2};
  // Rule 2: a redirect to another scheme, host and prefix.
  Location moved = loc("/old", nullptr, 2);
  moved.redirect = model::LocationRedirect{"https",      "www.example.com",   0,
                                           std::nullopt, std::string("/new"), 301};
  // Rule 3: a redirect keeping scheme and host, to a fixed path on a port.
  Location to_port = loc("/elsewhere", nullptr, 3);
  to_port.redirect =
      model::LocationRedirect{"", "", 9090, std::string("/landing"), std::nullopt, 307};
  // Rule 4: per-backend filters; rule 5: no backends.
  Location backend = loc("/backend", "r.app.4-0", 4);
  Location none = loc("/none", nullptr, 5);
  none.fixed_status = 500;
  m.servers.push_back(Srv({"app.example.com"}, {api, legacy, moved, to_port, backend, none}));
  return m;
}

TrafficModel Middlewares() {
  TrafficModel m;
  m.settings.trusted_proxies = {"10.0.0.0/24", "fd00::/8"};
  m.upstreams.push_back(Up("api", {"10.0.3.2:8080"}));
  m.upstreams.push_back(Up("static", {"10.0.3.3:8080"}));
  m.upstreams.push_back(Up("open", {"10.0.3.4:8080"}));
  Location api = Loc("api", "/", {{"api", 1, false}});
  api.ip_access = {{"10.1.0.0/16", "2001:db8::/32"}, {"10.1.2.0/24"}};
  api.cors = model::Cors{{"https://app.example.com", "https://*.example.org"},
                         {"GET", "POST"},
                         {"Content-Type", "Authorization"},
                         {"X-Total"},
                         true,
                         600};
  api.compression = model::Compression{{"text/html", "application/json"}, -1};
  Location deny = Loc("api", "/admin", {{"api", 1, false}});
  deny.ip_access = api.ip_access;
  deny.cors = api.cors;
  deny.fixed_status = 500;
  Location files = Loc("static", "/", {{"static", 1, false}});
  files.compression = model::Compression{{"text/css", "text/plain"}, -1};
  files.ip_access = {{}, {"192.0.2.0/24"}};
  Location open = Loc("open", "/", {{"open", 1, false}});
  open.cors = model::Cors{{"*"}, {"GET"}, {}, {}, false, -1};
  m.servers.push_back(Srv({"api.example.com"}, {api, deny}));
  m.servers.push_back(Srv({"static.example.com"}, {files}));
  m.servers.push_back(Srv({"open.example.com"}, {open}));
  return m;
}

// Behind a TCP balancer, with a passthrough route: the PROXY protocol on
// every public listener.
TrafficModel ProxyProtocol() {
  TrafficModel m = PassthroughAndTerminate();
  m.settings.proxy_protocol = true;
  return m;
}

TrafficModel ProxyProtocolTerminate() {
  TrafficModel m = TlsTerminate();
  m.settings.proxy_protocol = true;
  return m;
}

TrafficModel Resolved(TrafficModel m) {
  model::ResolveSelections(m);
  return m;
}

// Several routes to the tasks of one service: each route has its own
// upstream, so the same addresses appear in several backends.
TrafficModel SharedService() {
  TrafficModel m;
  const std::vector<std::string> tasks = {"10.0.7.2:8080", "10.0.7.3:8080"};
  for (const char* name : {"docs", "shop", "slow"}) m.upstreams.push_back(Up(name, tasks));
  m.upstreams.push_back(Up("other", {"10.0.8.2:8080"}));
  Location slow = Loc("slow", "/", {{"slow", 1, false}});
  slow.timeouts.read = 120s;
  m.servers.push_back(Srv({"docs.example.com"}, {Loc("docs", "/", {{"docs", 1, false}})}));
  m.servers.push_back(Srv({"shop.example.com"}, {Loc("shop", "/", {{"shop", 1, false}})}));
  m.servers.push_back(Srv({"slow.example.com"}, {slow}));
  m.servers.push_back(Srv({"other.example.com"}, {Loc("other", "/", {{"other", 1, false}})}));
  return m;
}

const std::vector<SampleModel>& SampleModels() {
  static const std::vector<SampleModel> cases = {
      {"empty", Empty},
      {"one_host", OneHost},
      {"context_root_rewrite", ContextRoot},
      {"longest_path", LongestPath},
      {"weighted_canary", WeightedCanary},
      {"sticky", Sticky},
      {"websocket", Websocket},
      {"tls_terminate_sni", TlsTerminate},
      {"tls_passthrough_and_terminate", PassthroughAndTerminate},
      {"rate_limit_timeouts_health", RateLimitTimeoutsHealth},
      {"host_redirect", HostRedirects},
      {"no_endpoints", NoEndpoints},
      {"wildcard_host", WildcardHost},
      {"shared_service", SharedService},
      {"access_log_combined", AccessLogCombined},
      {"access_log_json", AccessLogJson},
      {"default_backend", DefaultBackend},
      {"default_status", DefaultStatus},
      {"rules_paths", RulesPaths},
      {"rules_conditions", RulesConditions},
      {"rules_filters", RulesFilters},
      {"middlewares", Middlewares},
      {"proxy_protocol", ProxyProtocol},
      {"proxy_protocol_terminate", ProxyProtocolTerminate},
  };
  return cases;
}

model::TrafficModel ShopAndBlogModel(bool tls) {
  model::TrafficModel m;
  m.settings.certs_dir = "/run/secrets";
  model::Upstream u;
  u.name = "r.shop.0";
  u.route = "shop";
  u.servers.push_back({"10.0.1.7:8080", 1});
  m.upstreams.push_back(u);
  model::Server s;
  s.hosts = {"shop.example.com"};
  if (tls) s.tls = model::TlsCertificate{"shop-tls", "shop-tls"};
  model::Location l;
  l.route = "shop";
  l.backends = {{"r.shop.0", 1, false}};
  s.locations.push_back(l);
  m.servers.push_back(s);
  model::Server other;
  other.hosts = {"blog.example.com"};
  model::Location lb;
  lb.route = "blog";
  other.locations.push_back(lb);
  m.servers.push_back(other);
  model::ResolveSelections(m);
  return m;
}

model::TrafficModel ManyRoutesModel(int n) {
  model::TrafficModel m;
  m.upstreams.reserve(2 * static_cast<size_t>(n));
  m.servers.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    std::string r = "route-" + std::to_string(i);
    std::string host_part = std::to_string(i / 250) + "." + std::to_string(i % 250) + ":8080";
    model::Upstream a = Up(r + "-v1", {"10.1." + host_part, "10.2." + host_part});
    model::Upstream b = Up(r + "-v2", {"10.3." + host_part});
    model::Location l = Loc(r, i % 2 ? "/api" : "/", {{a.name, 90, false}, {b.name, 10, true}});
    if (i % 3 == 0) l.canary = {"X-Canary", "always", "", ""};
    if (i % 5 == 0) l.rate_limit = {100, 50};
    m.upstreams.push_back(std::move(a));
    m.upstreams.push_back(std::move(b));
    m.servers.push_back(Srv({r + ".example.com"}, {std::move(l)}));
  }
  return m;
}

double BestMilliseconds(int runs, const std::function<void()>& fn) {
  double best = 1e18;
  for (int i = 0; i < runs; ++i) {
    auto start = std::chrono::steady_clock::now();
    fn();
    auto took = std::chrono::steady_clock::now() - start;
    best = std::min(best,
                    std::chrono::duration_cast<std::chrono::microseconds>(took).count() / 1000.0);
  }
  return best;
}

void ShuffleModelLists(model::TrafficModel& m, std::mt19937& rng) {
  auto mix = [&](auto& v) { std::shuffle(v.begin(), v.end(), rng); };
  mix(m.upstreams);
  for (model::Upstream& u : m.upstreams) mix(u.servers);
  mix(m.servers);
  for (model::Server& s : m.servers) {
    mix(s.hosts);
    mix(s.locations);
    for (model::Location& l : s.locations) mix(l.backends);
  }
  mix(m.redirects);
  mix(m.passthrough);
  for (model::PassthroughRoute& p : m.passthrough) {
    mix(p.hosts);
    mix(p.upstream.servers);
  }
}

}  // namespace sg::samples
