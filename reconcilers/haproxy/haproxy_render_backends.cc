// Backends, one per upstream and profile, each written for the route that
// owns the upstream, and the stick tables of rate-limited routes.

#include <algorithm>
#include <cctype>
#include <string>
#include <unordered_map>

#include "reconcilers/haproxy/haproxy_render.h"

namespace sg::haproxy::internal {
namespace {

constexpr model::Duration kLongIdle{3600 * 1000};  // websockets stay open for long idle periods

// "1m" (nginx's zone size) as a number of stick-table entries: nginx keeps
// about 64 bytes per client address, so 1m holds some 16,000 of them.
std::string TableSize(const std::string& zone) {
  long long n = 0;
  size_t i = 0;
  while (i < zone.size() && std::isdigit(static_cast<unsigned char>(zone[i])) && n < (1LL << 40)) {
    n = n * 10 + (zone[i++] - '0');
  }
  if (i < zone.size()) {
    char unit = static_cast<char>(std::tolower(static_cast<unsigned char>(zone[i++])));
    if (unit == 'k') {
      n <<= 10;
    } else if (unit == 'm') {
      n <<= 20;
    } else if (unit == 'g') {
      n <<= 30;
    } else {
      n = 0;
    }
  }
  if (i != zone.size() || n <= 0) n = 1LL << 20;
  long long entries = std::max(1LL, n / 64);
  if (entries % 1024 == 0) return std::to_string(entries / 1024) + "k";
  return std::to_string(entries);
}

}  // namespace

// HAProxy has one inactivity timeout towards the server, which covers both
// directions: it takes the location's read timeout (the one that ends a
// request waiting for its response). Websockets get the same value as their
// tunnel timeout, by default an hour.
Profile ConfigRenderer::ProfileOf(const model::Location& loc, const model::Upstream& u) const {
  Profile p;
  const model::Timeouts& t = loc.timeouts;
  if (t.connect.count() > 0 && t.connect != s_.default_timeouts.connect) p.connect = t.connect;
  model::Duration read = t.read.count() > 0 ? t.read
                         : loc.websocket    ? kLongIdle
                                            : ServerTimeoutDefault();
  if (read != ServerTimeoutDefault()) p.server = read;
  if (loc.websocket) p.tunnel = read;
  const std::string& cookie = loc.selection.sticky_cookie;
  if (!cookie.empty() && u.sticky_cookie != cookie) p.set_cookie = cookie;
  p.retry = loc.retry;
  if (loc.compression) {
    // Without a type HAProxy would compress every response, images and
    // archives too; nginx's gzip with no gzip_types compresses text/html.
    p.compress_types = loc.compression->types;
    if (p.compress_types->empty()) p.compress_types->push_back("text/html");
  }
  return p;
}

std::string ConfigRenderer::BackendName(const model::Upstream& u, const Profile& p) {
  std::vector<Backend>& list = backends_[&u];
  for (const Backend& b : list) {
    if (b.profile == p) return b.name;
  }
  // Upstream names have no ':', so a suffixed name never collides.
  std::string name = SafeName(u.name);
  if (!list.empty()) name += ":" + std::to_string(list.size() + 1);
  list.push_back({&u, p, name});
  return name;
}

const model::Upstream& ConfigRenderer::UpstreamNamed(const std::string& name) {
  auto it = upstream_by_name_.find(name);
  if (it != upstream_by_name_.end()) return *it->second;
  // A selection naming an undeclared upstream is a builder bug: serve it as
  // an upstream without endpoints (503) rather than a config HAProxy rejects.
  model::Upstream u;
  u.name = name;
  undeclared_.push_back(std::move(u));
  upstream_by_name_.emplace(undeclared_.back().name, &undeclared_.back());
  return undeclared_.back();
}

std::string ConfigRenderer::RateTable(const model::Location& loc) {
  const model::RateLimit& rl = loc.rate_limit;
  auto& list = tables_[loc.route];
  for (const auto& [rps, name] : list) {
    if (rps == rl.requests_per_second) return name;
  }
  std::string name = "rl:" + SafeName(loc.route);
  if (!list.empty()) name += ":" + std::to_string(rl.requests_per_second);
  list.emplace_back(rl.requests_per_second, name);
  table_order_.emplace_back(&loc, name);
  return name;
}

void ConfigRenderer::RenderBackends(Writer& o) {
  std::vector<const model::Upstream*> all = upstreams_sorted_;
  for (const model::Upstream& u : undeclared_) all.push_back(&u);
  for (const model::Upstream* u : all) {
    auto it = backends_.find(u);
    if (it == backends_.end()) {
      // Not used by any location: still declared, so the runtime API can
      // address its servers.
      BackendName(*u, Profile{});
      it = backends_.find(u);
    }
    for (const Backend& b : it->second) RenderBackend(o, b);
  }
  if (!table_order_.empty()) {
    o << "\n# Rate limits: requests per second of each client address, per route.\n";
  }
  std::string size = TableSize(s_.rate_limit_zone_size);
  for (const auto& [loc, name] : table_order_) {
    RouteScope scope(o, loc->route);
    o << "# route " << Name{loc->route} << '\n';
    o << "backend " << name << "\n    stick-table type ipv6 size " << size
      << " expire 10s store gpc0_rate(1s)\n";
  }
}

model::Duration ConfigRenderer::CheckTimeout(const Profile& p) const {
  return p.server.count() > 0 ? p.server : s_.default_timeouts.read;
}

bool ConfigRenderer::BackendSettings(Writer& o, const model::Upstream& u, const Profile& p,
                                     size_t servers) {
  if (p.connect.count() > 0) o << "    timeout connect " << Dur{p.connect} << '\n';
  if (p.server.count() > 0) o << "    timeout server " << Dur{p.server} << '\n';
  if (p.tunnel.count() > 0) o << "    timeout tunnel " << Dur{p.tunnel} << '\n';
  if (p.compress_types) {
    // Only for clients whose Accept-Encoding names gzip, and only responses
    // the server did not encode itself. The types of several lines add up.
    o << "    compression algo gzip\n";
    for (const std::string& chunk : WordChunks(*p.compress_types)) {
      o << "    compression type" << chunk << '\n';
    }
  }
  const bool cookie = !u.sticky_cookie.empty() && servers > 0;
  if (cookie) {
    // Sticky sessions: a new client gets the cookie of the server that
    // answered ("<upstream>~<server>"); while that server is up, its requests
    // go there. When it goes away only its sessions move (redispatch).
    o << "    cookie " << Arg{u.sticky_cookie}
      << " insert indirect nocache httponly attr \"SameSite=Lax\"\n";
    // A cookie naming a server that is gone is hashed rather than spread
    // round robin, so that session lands on one server (and is re-pinned
    // there) instead of hopping; new clients (no cookie) go round robin.
    // The value is taken before cookie processing, which strips it.
    o << "    http-request set-var(txn.sg_ck) req.cook(" << Arg{u.sticky_cookie} << ")\n";
    o << "    balance hash var(txn.sg_ck)\n";
    o << "    hash-type consistent\n";
  }
  // A frozen task accepts connections (the kernel answers) but never
  // responds, and a request retried elsewhere after its read timeout is not
  // counted by `observe`: an HTTP check that must be answered within the
  // read timeout finds it. Any status counts as alive.
  if (u.max_fails > 0 && servers > 0) {
    o << "    option httpchk GET /\n";
    o << "    http-check expect rstatus ^[1-5]\n";
    o << "    timeout check " << Dur{CheckTimeout(p)} << '\n';
  }
  if (p.retry) {
    // The rule's own: connection failures (nothing was sent) and its codes.
    o << "    retries " << std::max(0, p.retry->attempts) << '\n';
    o << "    retry-on conn-failure empty-response";
    for (int code : p.retry->codes) o << ' ' << code;
    o << '\n';
  } else if (servers == 1 && s_.next_upstream_tries > 1) {
    // One server: a read timeout is not retried on it (nginx tries the next
    // server only); connection failures still are (a reused connection the
    // task closed).
    o << "    retry-on conn-failure empty-response 502 503\n";
  }
  // The backend's own header filters, after the location's.
  HeaderEditRules(o, "http-request", u.request_headers, "");
  HeaderEditRules(o, "http-response", u.response_headers, "");
  if (!p.set_cookie.empty()) {
    o << "    http-response add-header Set-Cookie \"" << Arg{p.set_cookie} << '=' << Name{u.name}
      << "; Path=/; HttpOnly; SameSite=Lax\" unless { var(txn.sg_sc) -m str " << Name{u.name}
      << " }\n";
  }
  return cookie;
}

void ConfigRenderer::RenderSpareBackends(Writer& o) {
  if (options_.spare_backends <= 0) return;
  o << "\n# Spare backends, without servers: a new route whose backend has the same\n"
       "# settings as one of these is served through the runtime API (map entries\n"
       "# and servers added) until the next reload renders its own backend.\n";
  model::Upstream plain;  // a route's upstream with the defaults: health checked
  plain.max_fails = 1;
  for (size_t servers : {size_t{1}, size_t{2}}) {
    for (int i = 0; i < options_.spare_backends; ++i) {
      o << "backend " << kSpareBackendPrefix << static_cast<int>(servers) << ':' << i << '\n';
      BackendSettings(o, plain, Profile{}, servers);
    }
  }
}

void ConfigRenderer::RenderBackend(Writer& o, const Backend& b) {
  const model::Upstream& u = *b.upstream;
  const Profile& p = b.profile;
  RouteScope scope(o, u.route);
  o << '\n';
  if (!u.route.empty()) o << "# route " << Name{u.route} << '\n';
  o << "backend " << b.name << '\n';
  const bool cookie = BackendSettings(o, u, p, u.servers.size());
  if (u.servers.empty()) {
    o << "    # no endpoints: requests get 503\n";
    return;
  }
  const model::Duration check_timeout = CheckTimeout(p);
  std::unordered_map<std::string, int> seen;
  // What a server's check depends on besides its address (see ServerLine).
  const std::string check_settings =
      u.max_fails > 0 ? std::to_string(u.max_fails) + " " + std::to_string(check_timeout.count())
                      : std::string();
  for (const model::UpstreamServer* sv : SortedServers(u)) {
    std::string name = SafeName(sv->address);
    int n = ++seen[name];
    if (n > 1) name += "-" + std::to_string(n);
    std::string track;
    if (!check_settings.empty() && n == 1) {
      // Many routes often lead to one service: without this, each of its
      // tasks would be probed once per backend (1,000 routes, 1,000 probes of
      // one task every 2 s, on every proxy).
      auto [leader, first] =
          check_leaders_.emplace(sv->address + " " + check_settings, b.name + "/" + name);
      if (!first) track = leader->second;
    }
    ServerLine(o, u, *sv, name, cookie, true, track);
  }
}

void ConfigRenderer::ServerLine(Writer& o, const model::Upstream& u,
                                const model::UpstreamServer& sv, const std::string& name,
                                bool cookie, bool http, const std::string& track) {
  o << "    server " << name << ' ' << Word{sv.address};
  int weight = std::clamp(sv.weight, 1, 256);
  if (weight != 1) o << " weight " << weight;
  if (cookie) o << " cookie " << Name{u.name} << '~' << ShortHash(name);
  if (!track.empty()) {
    // Up and down with the server that checks this task. Passive health
    // (`observe`) stays with the checking server: a tracking server follows
    // only the tracked one's state changes, so one that `observe` marked down
    // would have nothing to bring it back while the task keeps passing its
    // checks.
    o << " track " << track;
    if (http) o << " pool-max-conn " << std::max(0, u.keepalive);
    o << '\n';
    return;
  }
  // Health: after max_fails failed connects in a row (1 by default: a task
  // on a lost node never answers, and every request sent to it would wait
  // the connect timeout) the server is marked down until its check is
  // answered again. Connects only (layer4): a 5xx is the application's
  // answer, and the check, which takes any status for alive, would bring the
  // server back within 2 s anyway. HTTP servers are checked every 2 s (see
  // RenderBackend), which also finds a frozen task, and come back on the
  // first answer; TCP servers get a connect check every fail_timeout.
  if (u.max_fails > 0 && http) {
    o << " check inter 2s fall " << u.max_fails << " rise 1 observe layer4 error-limit "
      << u.max_fails << " on-error mark-down";
  } else if (u.max_fails > 0) {
    o << " check";
    if (u.fail_timeout.count() > 0) o << " inter " << Dur{u.fail_timeout};
    o << " rise 1 observe layer4 error-limit " << u.max_fails << " on-error mark-down";
  }
  if (http) o << " pool-max-conn " << std::max(0, u.keepalive);
  o << '\n';
}

}  // namespace sg::haproxy::internal
