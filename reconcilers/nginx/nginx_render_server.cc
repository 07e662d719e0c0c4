// The http servers: unknown hosts, the status probe, one server per virtual
// host with its locations (and the rate-limit zones they use), host redirects.

#include <algorithm>
#include <boost/algorithm/string/join.hpp>
#include <boost/algorithm/string/predicate.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "reconcilers/model/cors_origin.h"
#include "reconcilers/model/sanitize.h"
#include "reconcilers/nginx/nginx_render.h"

namespace sg::nginx::internal {

namespace {

void Append(model::HeaderEdit& to, const model::HeaderEdit& from) {
  to.set.insert(to.set.end(), from.set.begin(), from.set.end());
  to.add.insert(to.add.end(), from.add.begin(), from.add.end());
  to.remove.insert(to.remove.end(), from.remove.begin(), from.remove.end());
}

}  // namespace

const model::Upstream* ConfigRenderer::UpstreamNamed(const std::string& name) {
  if (upstream_by_name_.empty()) {
    for (const model::Upstream& u : m_.upstreams) upstream_by_name_.emplace(u.name, &u);
  }
  auto it = upstream_by_name_.find(name);
  return it == upstream_by_name_.end() ? nullptr : it->second;
}

bool ConfigRenderer::HasServers(const std::string& upstream) {
  const model::Upstream* u = UpstreamNamed(upstream);
  return u && !u->servers.empty();
}

void ConfigRenderer::HttpsListen(Writer& o, bool default_server) {
  if (passthrough_) {
    o << "        listen 127.0.0.1:" << s_.tls_internal_port << " ssl proxy_protocol";
  } else {
    o << "        listen " << s_.https_port << " ssl";
  }
  // A listening socket's options go on one of its listen directives: the
  // default server's.
  if (default_server && s_.proxy_protocol && !passthrough_) o << " proxy_protocol";
  o << (default_server ? " default_server;\n" : ";\n");
  if (passthrough_) {
    // The client address comes from the stream front-end's PROXY header, so
    // logs, X-Forwarded-For and per-client rate limits see the real client.
    o << "        set_real_ip_from 127.0.0.1;\n        real_ip_header proxy_protocol;\n";
  }
}

void ConfigRenderer::RenderDefaultServers(Writer& o) {
  o << "\n    # Unknown hosts.\n    server {\n";
  o << "        listen " << s_.http_port << " default_server"
    << (s_.proxy_protocol ? " proxy_protocol;\n" : ";\n");
  // The https port is listened on even without TLS routes: host-mode
  // proxies inherit it from the listener service, and a configuration
  // without it would close that socket for good at the next reload.
  HttpsListen(o, true);
  // No certificate for unknown names: refuse the handshake.
  o << "        ssl_reject_handshake on;\n";
  if (m_.fallback.location) {
    RenderFallback(o);
  } else {
    o << "        return " << m_.fallback.status << ";\n";
  }
  o << "    }\n";
}

// Requests no location claims: the cluster's default backend, else its status.
void ConfigRenderer::RenderFallback(Writer& o) {
  const model::Fallback& f = m_.fallback;
  if (!f.location) {
    o << "        location / {\n            return " << f.status << ";\n        }\n";
    return;
  }
  o << "        # default backend\n        location / {\n";
  std::string target = f.location->selection.split.empty()
                           ? std::string()
                           : SafeToken(f.location->selection.split[0].upstream);
  if (target.empty()) {
    o << "            return 503;\n";
  } else {
    o << "            proxy_pass http://" << Tok(target) << ";\n";
  }
  o << "        }\n";
}

void ConfigRenderer::RenderStatusServer(Writer& o) {
  o << "\n    # Probes of the proxy agent and the task health check.\n    server {\n";
  o << "        listen ";
  if (!s_.status_address.empty()) o << Tok(s_.status_address) << ':';
  o << s_.status_port << ";\n";
  o << "        access_log off;\n"
       "        location = /healthz {\n            return 200 \"ok\\n\";\n        }\n"
       "        location = /nginx_status {\n            stub_status;\n        }\n"
       "        location / {\n            return 404;\n        }\n    }\n";
}

void ConfigRenderer::ServerNames(Writer& o, const std::vector<std::string_view>& hosts) {
  o << "        server_name";
  for (std::string_view h : hosts) o << ' ' << Tok(h);
  o << ";\n";
}

void ConfigRenderer::RouteComment(Writer& o, const SortedServer& ss) {
  std::vector<std::string_view> routes;
  for (const model::Location* l : ss.locations) routes.push_back(l->route);
  std::sort(routes.begin(), routes.end());
  routes.erase(std::unique(routes.begin(), routes.end()), routes.end());
  o << "\n    # " << (routes.size() == 1 ? "route" : "routes");
  for (size_t i = 0; i < routes.size(); ++i) o << (i ? ", " : " ") << Tok(routes[i]);
  o << '\n';
}

void ConfigRenderer::Certificate(Writer& o, const model::TlsCertificate& tls) {
  o << "        ssl_certificate " << Tok(JoinCertPath(s_, tls.certificate_file)) << ";\n";
  o << "        ssl_certificate_key " << Tok(JoinCertPath(s_, tls.key_file)) << ";\n";
}

void ConfigRenderer::HttpsRedirect(Writer& o) {
  o << "        return 301 https://$host";
  if (s_.https_port != 443) o << ':' << s_.https_port;
  o << "$request_uri;\n";
}

void ConfigRenderer::RenderServer(Writer& o, const SortedServer& ss) {
  const model::Server& sv = *ss.server;
  if (ss.hosts.empty()) return;
  RouteScope scope(o, ss.Route());
  bool split_http = sv.tls && sv.redirect_http;
  RouteComment(o, ss);
  if (split_http) {
    o << "    server {\n        listen " << s_.http_port << ";\n";
    ServerNames(o, ss.hosts);
    HttpsRedirect(o);
    o << "    }\n";
  }
  o << "    server {\n";
  if (!split_http) o << "        listen " << s_.http_port << ";\n";
  if (sv.tls) HttpsListen(o, false);
  ServerNames(o, ss.hosts);
  if (sv.tls) Certificate(o, *sv.tls);
  bool has_root = false;
  // Two routes claiming one host+match are resolved by the builder (older
  // wins); a duplicate here would fail `nginx -t`, so keep the first.
  std::set<std::string_view> exact, exact_done, prefixes;
  for (const model::Location* l : ss.locations) {
    if (l->path_match == model::PathMatch::kExact) exact.insert(l->path);
  }
  std::vector<const model::Location*> patterns;
  for (const model::Location* l : ss.locations) {
    if (l->path_match == model::PathMatch::kRegex) {
      patterns.push_back(l);
      continue;
    }
    if (l->path_match == model::PathMatch::kExact) {
      if (exact_done.insert(l->path).second) RenderLocation(o, *l, false);
      continue;
    }
    if (!prefixes.insert(BasePath(l->path)).second) continue;
    has_root = has_root || BasePath(l->path) == "/";
    // An exact match of the same path takes the prefix's own "= path".
    RenderLocation(o, *l, exact.count(BasePath(l->path)) > 0);
  }
  // nginx tries patterns in the order they are written, after the longest
  // prefix unless that is a ^~ one: every prefix but "/" is.
  std::stable_sort(patterns.begin(), patterns.end(), model::PrecedesMatch);
  std::set<std::string_view> seen_patterns;
  for (const model::Location* l : patterns) {
    if (seen_patterns.insert(l->path).second) RenderLocation(o, *l, false);
  }
  // Without it nginx would look for static files under its prefix.
  if (!has_root) RenderFallback(o);
  RenderMirrorLocations(o, ss);
  o << "    }\n";
}

std::string ConfigRenderer::MirrorUri(const model::Mirror& m) {
  return "/.sg-mirror/" + SafeToken(m.upstream);
}

// The internal locations the mirror directive copies requests to: each
// proxies the original request line, of a sample of the requests when the
// mirror takes less than all. A mirror without endpoints copies nothing.
void ConfigRenderer::RenderMirrorLocations(Writer& o, const SortedServer& ss) {
  std::set<std::string_view> seen;
  for (const model::Location* l : ss.locations) {
    if (!l->mirror || !HasServers(l->mirror->upstream)) continue;
    if (!seen.insert(l->mirror->upstream).second) continue;
    const model::Mirror& mirror = *l->mirror;
    RouteScope scope(o, l->route);
    o << "        # route " << Tok(l->route) << ": mirror\n";
    o << "        location = " << Tok(MirrorUri(mirror)) << " {\n            internal;\n";
    if (mirror.percent < 100) {
      auto [it, inserted] = mirror_samples_.emplace(mirror.percent, std::string());
      if (inserted) {
        // A subrequest has its own $request_id, a fresh random one: the
        // sample is random, whatever the client sends.
        it->second = "$sg_mirror_" + std::to_string(mirror.percent);
        RouteScope maps_scope(maps_, "");
        maps_ << "    split_clients \"${request_id}\" " << it->second << " {\n        "
              << mirror.percent << "% 1;\n        * \"\";\n    }\n";
      }
      o << "            if (" << it->second << " = \"\") {\n                return 204;\n"
        << "            }\n";
    }
    o << "            proxy_pass http://" << Tok(mirror.upstream) << "$request_uri;\n";
    o << "        }\n";
  }
}

void ConfigRenderer::RenderLocation(Writer& o, const model::Location& loc, bool exact_taken) {
  std::string target = Target(loc);
  std::string zone = target.empty() ? std::string() : Zone(loc);
  std::string_view base = BasePath(loc.path);
  RouteScope scope(o, loc.route);
  o << "        # route " << Tok(loc.route) << '\n';
  if (loc.path_match == model::PathMatch::kExact) {
    o << "        location = " << Tok(loc.path) << " {\n";
    LocationBody(o, loc, target, zone, loc.path, true);
    o << "        }\n";
    return;
  }
  if (loc.path_match == model::PathMatch::kRegex) {
    // The whole path must match.
    o << "        location ~ " << QuotedPattern{"^(?:" + loc.path + ")$"} << " {\n";
    LocationBody(o, loc, target, zone, base, false);
    o << "        }\n";
    return;
  }
  if (base == "/") {
    o << "        location / {\n";
    LocationBody(o, loc, target, zone, base, false);
    o << "        }\n";
    return;
  }
  // "/api" must match "/api" and "/api/..." but not "/apix": an exact location
  // plus a prefix location on "/api/". ^~ keeps any regex location from
  // taking over; among prefixes nginx picks the longest match.
  if (!exact_taken) {
    o << "        location = " << Tok(base) << " {\n";
    LocationBody(o, loc, target, zone, base, true);
    o << "        }\n";
  }
  o << "        location ^~ " << Tok(base) << "/ {\n";
  LocationBody(o, loc, target, zone, base, false);
  o << "        }\n";
}

std::string ConfigRenderer::Zone(const model::Location& loc) {
  const model::RateLimit& rl = loc.rate_limit;
  if (rl.requests_per_second <= 0) return "";
  auto& variants = zone_names_[loc.route];
  for (const auto& [rps, name] : variants) {
    if (rps == rl.requests_per_second) return name;
  }
  // Route names have no "_", so the rate suffix cannot collide with a name.
  std::string name = "rl_" + loc.route;
  if (!variants.empty()) name += "_" + std::to_string(rl.requests_per_second);
  variants.emplace_back(rl.requests_per_second, name);
  RouteScope scope(zones_, loc.route);
  zones_ << "    # route " << Tok(loc.route) << '\n';
  zones_ << "    limit_req_zone $binary_remote_addr zone=" << Tok(name) << ':'
         << Tok(s_.rate_limit_zone_size) << " rate=" << rl.requests_per_second << "r/s;\n";
  return name;
}

// A backend's own header filters apply when it is the location's only one
// (CheckModel refuses them on a split): they join the location's.
void ConfigRenderer::LocationBody(Writer& o, const model::Location& loc, const std::string& target,
                                  const std::string& zone, std::string_view base, bool exact) {
  const model::BackendSelection& sel = loc.selection;
  if (sel.split.size() == 1 && sel.canary_split.empty()) {
    const model::Upstream* u = UpstreamNamed(sel.split[0].upstream);
    if (u && (!u->request_headers.empty() || !u->response_headers.empty())) {
      model::Location merged = loc;
      Append(merged.request_headers, u->request_headers);
      Append(merged.response_headers, u->response_headers);
      LocationDirectives(o, merged, target, zone, base, exact);
      return;
    }
  }
  LocationDirectives(o, loc, target, zone, base, exact);
}

void ConfigRenderer::LocationDirectives(Writer& o, const model::Location& loc,
                                        const std::string& target, const std::string& zone,
                                        std::string_view base, bool exact) {
  constexpr std::string_view in = "            ";
  // First: `return` and `rewrite ... break` end the rewrite directives.
  if (s_.access_log != model::AccessLogFormat::kOff) {
    o << in << "set $sg_route " << Quoted(loc.route) << ";\n";
  }
  AccessRules(o, loc);
  if (loc.redirect) {
    LocationRedirect(o, loc, base, exact);
    return;
  }
  if (loc.fixed_status) {
    o << in << "return " << loc.fixed_status << ";\n";
    return;
  }
  if (target.empty()) {
    o << in << "return 503;\n";
    return;
  }
  if (!zone.empty()) {
    o << in << "limit_req zone=" << Tok(zone);
    if (loc.rate_limit.burst > 0) o << " burst=" << loc.rate_limit.burst << " nodelay";
    o << ";\n";
  }
  const model::Timeouts& t = loc.timeouts;
  // Websockets stay open for long idle periods.
  model::Duration long_idle{3600 * 1000};
  if (t.connect.count() > 0) o << in << "proxy_connect_timeout " << Dur{t.connect} << ";\n";
  if (loc.request_timeout.count() > 0) {
    // The whole request: retries stop when it is spent.
    o << in << "proxy_next_upstream_timeout " << Dur{loc.request_timeout} << ";\n";
  } else if (t.connect.count() > 0) {
    o << in << "proxy_next_upstream_timeout "
      << Dur{t.connect * std::max(1, s_.next_upstream_tries)} << ";\n";
  }
  if (loc.retry) {
    o << in << "proxy_next_upstream error timeout";
    for (int code : loc.retry->codes) o << " http_" << code;
    o << ";\n"
      << in << "proxy_next_upstream_tries " << std::max(0, loc.retry->attempts) + 1 << ";\n";
  }
  if (t.read.count() > 0 || loc.websocket) {
    o << in << "proxy_read_timeout " << Dur{t.read.count() > 0 ? t.read : long_idle} << ";\n";
  }
  if (t.send.count() > 0 || loc.websocket) {
    o << in << "proxy_send_timeout " << Dur{t.send.count() > 0 ? t.send : long_idle} << ";\n";
  }
  if (loc.compression) Compression(o, *loc.compression);
  // Set here, proxy_set_header replaces every inherited one.
  if (loc.websocket || loc.rewrite_host || !loc.request_headers.empty()) {
    RenderProxyHeaders(o, in, loc.websocket, &loc);
  }
  ResponseHeaders(o, loc);
  if (loc.rewrite) PrefixRewrite(o, in, base, *loc.rewrite, exact, " break");
  if (loc.rewrite_full_path) o << in << "rewrite ^ " << Tok(*loc.rewrite_full_path) << " break;\n";
  if (loc.mirror && HasServers(loc.mirror->upstream)) {
    o << in << "mirror " << Tok(MirrorUri(*loc.mirror)) << ";\n";
  }
  o << in << "proxy_pass http://";
  if (target[0] == '$') {
    o << target;  // a variable name built here from Ident: safe
  } else {
    o << Tok(target);
  }
  o << ";\n";
}

void ConfigRenderer::PrefixRewrite(Writer& o, std::string_view in, std::string_view base,
                                   std::string_view to, bool exact, std::string_view flag) {
  if (exact) {
    o << in << "rewrite ^ " << Tok(to) << flag << ";\n";
    return;
  }
  o << in << "rewrite ^" << RegexLiteral{base == "/" ? std::string_view() : base} << "/(.*)$ "
    << Tok(to);
  if (to.empty() || to.back() != '/') o << '/';
  o << "$1" << flag << ";\n";
}

// add_header in a location hides every http-level one: X-Request-Id and the
// session cookie are repeated with the filter's own. A header the filter
// sets replaces the upstream's (hidden, then added); one it adds joins it.
void ConfigRenderer::ResponseHeaders(Writer& o, const model::Location& loc) {
  constexpr std::string_view in = "            ";
  const model::HeaderEdit& e = loc.response_headers;
  for (const std::string& name : e.remove) o << in << "proxy_hide_header " << Tok(name) << ";\n";
  for (const auto& [name, value] : e.set) o << in << "proxy_hide_header " << Tok(name) << ";\n";
  if (loc.cors) {
    // The backend's own CORS headers give way to the policy's.
    for (const char* h : {"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
                          "Access-Control-Expose-Headers"}) {
      o << in << "proxy_hide_header " << h << ";\n";
    }
  }
  const std::string& sticky = loc.selection.sticky_cookie;
  if (sticky.empty() && e.set.empty() && e.add.empty() && !loc.cors) return;
  if (!sticky.empty()) {
    o << in << "add_header Set-Cookie $sg_ss" << CookieSuffix(sticky) << ";\n";
  }
  bool request_id = std::none_of(e.remove.begin(), e.remove.end(), [](const std::string& n) {
    return boost::algorithm::iequals(n, "X-Request-Id");
  });
  if (request_id) o << in << "add_header X-Request-Id $sg_request_id always;\n";
  for (const auto& [name, value] : e.set) {
    o << in << "add_header " << Tok(name) << ' ' << Quoted(value) << " always;\n";
  }
  for (const auto& [name, value] : e.add) {
    o << in << "add_header " << Tok(name) << ' ' << Quoted(value) << " always;\n";
  }
  if (loc.cors) CorsResponseHeaders(o, loc);
}

// `if` with nothing but `return` (and add_header for it) is the safe use of
// `if` in a location. A denied client is refused before anything else: before
// a preflight is answered, a redirect, or a rate limit counts it.
void ConfigRenderer::AccessRules(Writer& o, const model::Location& loc) {
  constexpr std::string_view in = "            ";
  if (!loc.ip_access.deny.empty()) {
    o << in << "if (" << IpVar(loc, true) << ") {\n" << in << "    return 403;\n" << in << "}\n";
  }
  if (!loc.ip_access.allow.empty()) {
    o << in << "if (" << IpVar(loc, false) << " = 0) {\n"
      << in << "    return 403;\n"
      << in << "}\n";
  }
  if (!loc.cors) return;
  const model::Cors& c = *loc.cors;
  const std::string f = CorsVars(loc);
  // A preflight of another origin: answered, without CORS headers, so the
  // browser refuses the request it was asking about.
  o << in << "if ($sg_cors_pf_" << f << " = 1) {\n"
    << in << "    add_header Vary Origin always;\n"
    << in << "    return 204;\n"
    << in << "}\n";
  o << in << "if ($sg_cors_pf_" << f << " = 2) {\n";
  o << in << "    add_header Access-Control-Allow-Origin $sg_cors_" << f << " always;\n";
  o << in << "    add_header Vary Origin always;\n";
  if (!c.methods.empty()) {
    o << in << "    add_header Access-Control-Allow-Methods "
      << Quoted(boost::algorithm::join(c.methods, ", ")) << " always;\n";
  }
  if (!c.allow_headers.empty()) {
    o << in << "    add_header Access-Control-Allow-Headers "
      << Quoted(boost::algorithm::join(c.allow_headers, ", ")) << " always;\n";
  }
  if (c.max_age >= 0)
    o << in << "    add_header Access-Control-Max-Age " << c.max_age << " always;\n";
  if (c.credentials) {
    o << in << "    add_header Access-Control-Allow-Credentials true always;\n";
  }
  o << in << "    return 204;\n" << in << "}\n";
}

// An empty value: add_header sends nothing, so the CORS headers reach
// allowed origins only.
void ConfigRenderer::CorsResponseHeaders(Writer& o, const model::Location& loc) {
  constexpr std::string_view in = "            ";
  const model::Cors& c = *loc.cors;
  const std::string f = CorsVars(loc);
  o << in << "add_header Access-Control-Allow-Origin $sg_cors_" << f << " always;\n";
  o << in << "add_header Vary Origin always;\n";
  if (c.credentials) {
    o << in << "add_header Access-Control-Allow-Credentials $sg_cors_cred_" << f << " always;\n";
  }
  if (!c.expose_headers.empty()) {
    o << in << "add_header Access-Control-Expose-Headers $sg_cors_expose_" << f << " always;\n";
  }
}

std::string ConfigRenderer::IpVar(const model::Location& loc, bool deny) {
  std::string var = std::string(deny ? "$sg_deny_" : "$sg_allow_") + IdentString(loc.route);
  if (ip_vars_.insert(var).second) {
    RouteScope scope(maps_, loc.route);
    // geo reads $remote_addr: the client, after a trusted proxy's
    // X-Forwarded-For (real_ip_header).
    maps_ << "    # route " << Tok(loc.route) << ": clients " << (deny ? "denied" : "allowed")
          << "\n    geo " << var << " {\n        default 0;\n";
    for (const std::string& n : deny ? loc.ip_access.deny : loc.ip_access.allow) {
      maps_ << "        " << Tok(n) << " 1;\n";
    }
    maps_ << "    }\n";
  }
  return var;
}

std::string ConfigRenderer::CorsVars(const model::Location& loc) {
  std::string f = IdentString(loc.route);
  if (!cors_vars_.insert(f).second) return f;
  const model::Cors& c = *loc.cors;
  RouteScope scope(maps_, loc.route);
  maps_ << "    # route " << Tok(loc.route) << ": CORS\n";
  maps_ << "    map $http_origin $sg_cors_" << f << " {\n        default \"\";\n        "
        << QuotedPattern{"~" + model::CorsOriginPattern(c.origins)} << " $http_origin;\n    }\n";
  // "OPTIONS:<requested method>:<allowed origin>"; a preflight carries an
  // Origin (possibly not an allowed one) and Access-Control-Request-Method.
  maps_ << "    map \"$request_method:$http_access_control_request_method:$http_origin:$sg_cors_"
        << f << "\" $sg_cors_pf_" << f
        << " {\n        default 0;\n        \"~^OPTIONS:[^:]+:.+:$\" 1;\n"
           "        \"~^OPTIONS:[^:]+:.+:.+$\" 2;\n    }\n";
  if (c.credentials) {
    maps_ << "    map $sg_cors_" << f << " $sg_cors_cred_" << f
          << " {\n        \"\" \"\";\n        default true;\n    }\n";
  }
  if (!c.expose_headers.empty()) {
    maps_ << "    map $sg_cors_" << f << " $sg_cors_expose_" << f
          << " {\n        \"\" \"\";\n        default "
          << Quoted(boost::algorithm::join(c.expose_headers, ", ")) << ";\n    }\n";
  }
  return f;
}

// nginx always compresses text/html once gzip is on (listing it again is a
// warning); `gzip_proxied any` because whether a request came through
// another proxy is no reason to send it uncompressed.
void ConfigRenderer::Compression(Writer& o, const model::Compression& c) {
  constexpr std::string_view in = "            ";
  o << in << "gzip on;\n" << in << "gzip_proxied any;\n" << in << "gzip_vary on;\n";
  bool listed = false;
  for (const std::string& t : c.types) {
    if (t == "text/html") continue;
    o << (listed ? " " : std::string(in) + "gzip_types ") << Tok(t);
    listed = true;
  }
  if (listed) o << ";\n";
  if (c.min_length >= 0) o << in << "gzip_min_length " << c.min_length << ";\n";
}

std::string ConfigRenderer::RedirectPortVar(int port) {
  auto [it, inserted] = redirect_ports_.emplace(port, std::string());
  if (!inserted) return it->second;
  it->second = "$sg_redirect_port_" + std::to_string(port);
  auto suffix = [](int p, int well_known) {
    return p == well_known ? std::string() : ":" + std::to_string(p);
  };
  RouteScope scope(maps_, "");
  maps_ << "    map $scheme " << it->second << " {\n        https \""
        << suffix(port ? port : s_.https_port, 443) << "\";\n        default \""
        << suffix(port ? port : s_.http_port, 80) << "\";\n    }\n";
  return it->second;
}

// A redirect filter: the request's scheme, host and port unless the filter
// names them (a port that is the scheme's own is left out), and its path
// (or the filter's) with its query.
void ConfigRenderer::LocationRedirect(Writer& o, const model::Location& loc, std::string_view base,
                                      bool exact) {
  constexpr std::string_view in = "            ";
  const model::LocationRedirect& r = *loc.redirect;
  // Without a flag the rewrite only changes $uri, and `return` follows.
  if (r.prefix) PrefixRewrite(o, in, base, *r.prefix, exact, "");
  o << in << "return " << r.code << ' ';
  if (r.scheme.empty()) {
    o << "$scheme://";
  } else {
    o << Tok(r.scheme) << "://";
  }
  if (r.host.empty()) {
    o << "$host";
  } else {
    o << Tok(r.host);
  }
  if (r.scheme.empty()) {
    o << RedirectPortVar(r.port);
  } else if (r.port != 0 && r.port != (r.scheme == "https" ? 443 : 80)) {
    o << ':' << r.port;
  }
  if (r.full_path) {
    o << Tok(*r.full_path) << "$is_args$args";
  } else if (r.prefix) {
    o << "$uri$is_args$args";
  } else {
    o << "$request_uri";
  }
  o << ";\n";
}

void ConfigRenderer::RenderRedirect(Writer& o, const model::HostRedirect& r) {
  RouteScope scope(o, r.route);
  o << "\n    # route " << Tok(r.route) << ": redirect\n    server {\n";
  o << "        listen " << s_.http_port << ";\n";
  if (r.tls) HttpsListen(o, false);
  o << "        server_name " << Tok(r.from_host) << ";\n";
  if (r.tls) Certificate(o, *r.tls);
  // A bare origin ("https://new.example.com" or with a trailing "/") moves a
  // whole site: keep the path and query. A URL with a path is a landing page:
  // send everyone exactly there.
  std::string_view to = r.to_url;
  size_t scheme = to.find("://");
  size_t path = to.find('/', scheme == std::string_view::npos ? 0 : scheme + 3);
  bool bare = path == std::string_view::npos || to.substr(path) == "/";
  if (bare && path != std::string_view::npos) to = to.substr(0, path);
  o << "        return " << r.code << ' ' << Tok(to);
  if (bare) o << "$request_uri";
  o << ";\n    }\n";
}

}  // namespace sg::nginx::internal
