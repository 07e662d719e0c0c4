// The HTTP front-end: every public request is routed here in stages, each
// setting one transaction variable:
//   txn.sg_srv  the virtual host: exact names through a map (a tree lookup),
//               then wildcards, longest first, as nginx picks server_name;
//   txn.sg_loc  the location of that host: "<sg_srv><path>/" through a
//               prefix map, whose lookup is the longest match (nginx's
//               longest context root);
//   txn.sg_be   the backend of a location with one upstream, through a map;
// then the own rules of the locations that have any (rate limit, rewrite,
// canary and sticky inputs, weighted splits). A plain route costs a request
// three map lookups whatever the number of routes. Unknown hosts and paths
// end at the cluster's default backend, else its status (404 by default).

#include <algorithm>
#include <boost/algorithm/string/join.hpp>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_set>
#include <vector>

#include "reconcilers/haproxy/haproxy_render.h"
#include "reconcilers/model/cors_origin.h"

namespace sg::haproxy::internal {
namespace {

bool IsWildcard(std::string_view host) { return host.size() > 2 && host.substr(0, 2) == "*."; }

bool SameRules(const model::Location& a, const model::Location& b) {
  return BasePath(a.path) == BasePath(b.path) && a.path_match == b.path_match &&
         a.rewrite == b.rewrite && a.rewrite_full_path == b.rewrite_full_path &&
         a.rewrite_host == b.rewrite_host && a.request_headers == b.request_headers &&
         a.response_headers == b.response_headers && a.redirect == b.redirect &&
         a.fixed_status == b.fixed_status && a.retry == b.retry && a.mirror == b.mirror &&
         a.request_timeout == b.request_timeout && a.selection == b.selection &&
         a.canary == b.canary && a.websocket == b.websocket &&
         a.timeouts.connect == b.timeouts.connect && a.timeouts.read == b.timeouts.read &&
         a.timeouts.send == b.timeouts.send &&
         a.rate_limit.requests_per_second == b.rate_limit.requests_per_second &&
         a.rate_limit.burst == b.rate_limit.burst && a.ip_access == b.ip_access &&
         a.cors == b.cors && a.compression == b.compression;
}

// A regular expression between single quotes, where HAProxy takes every
// byte as it is: anything that would end the word or the line becomes '_',
// which no origin contains (CheckModel reports such a pattern).
std::string QuotedRegex(std::string_view p) {
  std::string out = "'";
  for (char c : p) out += c > 0x20 && c < 0x7f && c != '\'' ? c : '_';
  return out + "'";
}

// On every answer of a CORS location, HAProxy's own included (403, 429,
// 503, redirects, preflights), like nginx's `add_header ... always`: a
// script sees the status of an answer only with these headers. The
// backend's own CORS headers give way to the policy's.
void CorsResponseRules(Writer& o, const std::string& cond, const model::Cors& c) {
  for (const char* h : {"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
                        "Access-Control-Expose-Headers"}) {
    o << "    http-after-response del-header " << h << cond << '\n';
  }
  const std::string allowed = cond + " { var(txn.sg_cors) -m found }";
  o << "    http-after-response set-header Access-Control-Allow-Origin %[var(txn.sg_cors)]"
    << allowed << '\n';
  // Allowed or not, the answer depends on Origin: a cache keeps one per
  // origin.
  o << "    http-after-response add-header Vary Origin" << cond << '\n';
  if (c.credentials) {
    o << "    http-after-response set-header Access-Control-Allow-Credentials true" << allowed
      << '\n';
  }
  if (!c.expose_headers.empty()) {
    o << "    http-after-response set-header Access-Control-Expose-Headers "
      << FmtQuoted{boost::algorithm::join(c.expose_headers, ", ")} << allowed << '\n';
  }
}

// One name of a host rule: a virtual host or a redirect's from_host.
struct HostEntry {
  std::string_view host;
  std::string_view id;
  bool tls;
  std::string_view route;
  size_t order;
};

}  // namespace

std::vector<std::string> WordChunks(const std::vector<std::string>& list) {
  std::vector<std::string> out;
  for (size_t i = 0; i < list.size(); ++i) {
    if (i % kListWordsPerLine == 0) out.emplace_back();
    out.back() += ' ' + SafeWord(list[i]);
  }
  return out;
}

void ConfigRenderer::RenderHttpFrontend(Writer& o) {
  o << "\n# Public HTTP";
  if (tls_) o << " and terminated HTTPS";
  o << ": routed by Host (without port, case-insensitive), then by\n"
       "# context root. Unknown hosts and paths ";
  if (m_.fallback.location) {
    o << "go to the default backend.\n";
  } else {
    o << "answer " << m_.fallback.status << ".\n";
  }
  o << "frontend sg:http\n";
  // Behind a TCP balancer every connection starts with a PROXY header (v1
  // or v2), whose address becomes the connection's source.
  const char* accept_proxy = s_.proxy_protocol ? " accept-proxy" : "";
  o << "    bind \"${" << kHttpBindEnv << "}\"" << accept_proxy << "\n";
  if (tls_) {
    // The certificate is picked by SNI among the names each one holds;
    // strict-sni refuses the handshake for any other name.
    if (passthrough_) {
      // Handed over by the SNI front-end (sg:https), with the client address
      // in a PROXY header.
      o << "    bind abns@" << Name{options_.terminate_socket} << " accept-proxy ssl";
    } else {
      o << "    bind \"${" << kHttpsBindEnv << "}\"" << accept_proxy << " ssl";
    }
    for (const std::string& c : certificates_) o << " crt " << Word{c};
    o << " strict-sni\n";
  }
  LogFormat(o);
  o << "    acl sg_tls ssl_fc\n"
       "    acl sg_routed var(txn.sg_srv) -m found\n"
       "    acl sg_located var(txn.sg_loc) -m found\n";
  // txn.sg_p is the path with a '/' appended: "/api/" then prefixes both
  // "/api" and "/api/x" but not "/apix".
  o << "    http-request set-var(txn.host) req.hdr(host),field(1,:),lower\n"
       "    http-request set-var(txn.sg_p) path,concat(/)\n"
       "    http-request set-var(txn.sg_rand) rand(10000)\n";
  TrustedProxyRules(o);
  if (ClusterLog()) {
    // For the access log, before any rewrite: the path without its query
    // string, and the headers logged (the log is written after the request
    // has gone, when its headers can no longer be fetched).
    o << "    http-request set-var(txn.sg_path) path\n"
         "    http-request set-var(txn.sg_ref) req.fhdr(referer),field(1,?)\n"
         "    http-request set-var(txn.sg_ua) req.fhdr(user-agent)\n";
  }
  // Keep the caller's request id so a trace spans the load balancer in front
  // of the proxies; otherwise a random UUID.
  o << "    http-request set-var(txn.sg_rid) req.fhdr(x-request-id)\n"
       "    http-request set-var(txn.sg_rid) uuid(4) unless { var(txn.sg_rid) -m len ge 1 }\n";

  HostRules(o);
  RedirectRules(o);
  LocationRules(o);

  Writer use(1024 + 256 * variants_.size());
  Writer late(256);
  if (!backends_map_.empty()) {
    o << "    http-request set-var(txn.sg_be) var(txn.sg_loc),map_str(" << backends_map_ << ")\n";
    use << "    use_backend %[var(txn.sg_be)] if { var(txn.sg_be) -m found }\n";
  }
  for (const Variant& v : variants_) VariantRules(o, late, use, v);

  FallbackRules(o, use);
  if (s_.client_max_body_size > 0) {
    o << "    http-request deny deny_status 413 if { req.hdr_val(content-length) gt "
      << s_.client_max_body_size << " }\n";
  }
  if (s_.next_upstream_tries > 1) {
    // Like nginx: a request that may have reached a task is resent only when
    // its method is idempotent.
    o << "    http-request disable-l7-retry if { method POST PATCH LOCK }\n";
  }
  // Upgrades reach the task only where websockets are on, as with nginx
  // (which forwards Upgrade only there): elsewhere the task sees a plain
  // request. One rule whatever the number of routes.
  o << "    http-request del-header Upgrade";
  if (!websocket_list_.empty()) {
    o << " unless { var(txn.sg_loc) -m str -f " << websocket_list_ << " }";
  }
  o << '\n';
  // Host as nginx's $host: the name without the port, lower-cased.
  o << "    http-request set-header Host %[var(txn.host)]\n"
       "    http-request set-header X-Request-Id %[var(txn.sg_rid)]\n";
  if (TrustsProxies()) {
    // What option forwardfor adds without trusted proxies: the connection's
    // peer after the addresses the request came with, as a line of its own
    // (lines of a header join as one comma-separated list).
    o << "    http-request add-header X-Forwarded-For %[var(txn.sg_peer)]\n";
  }
  o << "    http-request set-header X-Real-IP %[src]\n"
       "    http-request set-header X-Forwarded-Host %[var(txn.host)]\n";
  if (tls_) {
    o << "    http-request set-header X-Forwarded-Proto https if sg_tls\n"
         "    http-request set-header X-Forwarded-Port "
      << s_.https_port << " if sg_tls\n";
    o << "    http-request set-header X-Forwarded-Proto http unless sg_tls\n"
         "    http-request set-header X-Forwarded-Port "
      << s_.http_port << " unless sg_tls\n";
  } else {
    o << "    http-request set-header X-Forwarded-Proto http\n"
         "    http-request set-header X-Forwarded-Port "
      << s_.http_port << '\n';
  }
  o.Append(std::move(late));
  o.Append(std::move(use));
  if (ClusterLog()) {
    // The upstream's own status: http-response rules see only responses that
    // came from a server, not HAProxy's (404, 429, 503, redirects). The
    // address of the server the request went to, also when it failed; none
    // when no server was chosen.
    o << "    http-response set-var(txn.sg_ust) status\n"
         "    http-after-response set-var-fmt(txn.sg_ups) \"%si:%sp\" if { srv_name -m found }\n";
  }
  o << "    http-after-response set-header X-Request-Id %[var(txn.sg_rid)]\n";
}

// Behind load balancers: from a trusted peer, the last address of
// X-Forwarded-For (the one the balancer appended; a client cannot choose it
// by sending the header itself) becomes src, so that the access rules, rate
// limits, X-Real-IP and the access log see the client. A header without an
// address leaves the peer as the client.
void ConfigRenderer::TrustedProxyRules(Writer& o) {
  if (!TrustsProxies()) return;
  // The peer, for X-Forwarded-For: set-src replaces src.
  o << "    http-request set-var(txn.sg_peer) src\n";
  const std::vector<std::string> chunks = WordChunks(s_.trusted_proxies);
  std::string trusted = "{ src" + chunks.front() + " }";
  if (chunks.size() > 1) {
    // Decided before src changes.
    for (const std::string& c : chunks) {
      o << "    http-request set-var(txn.sg_trusted) bool(true) if { src" << c << " }\n";
    }
    trusted = "{ var(txn.sg_trusted) -m bool }";
  }
  o << "    http-request set-src req.hdr_ip(x-forwarded-for,-1) if " << trusted
    << " { req.hdr_ip(x-forwarded-for,-1) -m found }\n";
}

// Requests no location claims: the cluster's default backend, else a status.
// The default backend's requests get the same headers as a route's.
void ConfigRenderer::FallbackRules(Writer& o, Writer& use) {
  const model::Fallback& f = m_.fallback;
  int status = f.status;
  if (f.location) {
    const auto& split = f.location->selection.split;
    if (!split.empty()) {
      use << "    default_backend " << BackendName(UpstreamNamed(split[0].upstream), Profile{})
          << '\n';
      return;
    }
    status = 503;
  }
  // HAProxy has an error page for these codes only; others get no body.
  static constexpr int kPages[] = {200, 400, 401, 403, 404, 405, 407, 408, 410,
                                   413, 425, 429, 500, 501, 502, 503, 504};
  bool page = std::find(std::begin(kPages), std::end(kPages), status) != std::end(kPages);
  o << "    http-request return status " << status << (page ? " default-errorfiles" : "")
    << " unless sg_located\n";
}

// The cluster's access log has the fields and layout of nginx's (see
// model::AccessLogFormat): the route is the location's variant id without
// its ":N" suffix, the time is when the line is written, the bytes are those
// sent to the client with the headers (%B), the request time is %Ta in ms.
// Strings from the request are escaped: JSON escapes for json, backslashes
// before '"', backslash and ']' (E) for combined. Nothing else of the request is
// logged: no query string, no Authorization or Cookie.
void ConfigRenderer::LogFormat(Writer& o) {
  // The client: the connection's address (%ci), or, behind trusted load
  // balancers, the one X-Forwarded-For named (src, after set-src).
  const char* client = TrustsProxies() ? "%[src]" : "%ci";
  switch (s_.access_log) {
    case model::AccessLogFormat::kJson:
      o << "    log-format '{\"time\":\"%[date,utime(%Y-%m-%dT%H:%M:%S+00:00)]\","
           "\"remote_addr\":\""
        << client
        << "\",\"host\":\"%[var(txn.host),json(utf8s)]\","
           "\"method\":\"%HM\",\"path\":\"%[var(txn.sg_path),json(utf8s)]\","
           "\"protocol\":\"%HV\",\"status\":%ST,\"bytes\":%B,\"request_time_ms\":%Ta,"
           "\"upstream_addr\":\"%[var(txn.sg_ups)]\",\"upstream_status\":\"%[var(txn.sg_ust)]\","
           "\"route\":\"%[var(txn.sg_loc),field(1,:),json(utf8s)]\","
           "\"request_id\":\"%[var(txn.sg_rid),json(utf8s)]\","
           "\"referer\":\"%[var(txn.sg_ref),json(utf8s)]\","
           "\"user_agent\":\"%[var(txn.sg_ua),json(utf8s)]\"}'\n";
      return;
    case model::AccessLogFormat::kCombined:
      o << "    log-format '" << client
        << " - - [%[date,utime(%d/%b/%Y:%H:%M:%S +0000)]] "
           "\"%HM %{+E}[var(txn.sg_path)] %HV\" %ST %B \"%{+E}[var(txn.sg_ref)]\" "
           "\"%{+E}[var(txn.sg_ua)]\" %Ta \"%[var(txn.sg_ups)]\" \"%[var(txn.sg_ust)]\" "
           "\"%[var(txn.sg_loc),field(1,:)]\" \"%{+E}[var(txn.sg_rid)]\" "
           "\"%{+E}[var(txn.host)]\"'\n";
      return;
    case model::AccessLogFormat::kOff:
      break;
  }
  // The render options' own log, unchanged since before clusters chose one.
  if (options_.log) {
    o << "    log-format \"%ci - [%tr] \\\"%[var(txn.host)]\\\" \\\"%HM %HU %HV\\\" %ST %B %Ta "
         "\\\"%b/%s\\\" %tsc %[var(txn.sg_rid)]\"\n";
  }
}

std::string ConfigRenderer::AddSideFile(std::string_view stem, std::string_view extension,
                                        FileLines lines) {
  if (lines.content.empty()) return "";
  std::string name = SideFileName(stem, extension, lines.content);
  side_files_.push_back({{name, std::move(lines.content)}, std::move(lines.routes)});
  return name;
}

void ConfigRenderer::BuildRoutingFiles() {
  // Exact hosts: the first virtual host (or redirect) naming a host takes it,
  // as the first matching rule did; plain HTTP requests see every host, TLS
  // requests only the hosts served over TLS.
  FileLines hosts, tls_hosts;
  std::unordered_set<std::string_view> seen, tls_seen;
  auto host = [&](std::string_view h, std::string_view id, bool tls, std::string_view route) {
    if (IsWildcard(h)) return;
    const std::string line = SafeWord(h) + " " + std::string(id);
    if (seen.insert(h).second) hosts.Add(line, route);
    if (tls && tls_seen.insert(h).second) tls_hosts.Add(line, route);
  };
  for (const SortedServer& ss : servers_) {
    for (std::string_view h : ss.hosts) host(h, ss.id, ss.server->tls.has_value(), ss.Route());
  }
  for (size_t i = 0; i < redirects_.size(); ++i) {
    const model::HostRedirect& r = *redirects_[i];
    host(r.from_host, redirect_ids_[i], r.tls.has_value(), r.route);
  }
  hosts_map_ = AddSideFile("sg-hosts", "map", std::move(hosts));
  tls_hosts_map_ = AddSideFile("sg-tls-hosts", "map", std::move(tls_hosts));

  // Locations: one key per host and context root; the map's prefix tree
  // returns the longest. Variants are registered here, in render order.
  FileLines paths, https;
  for (const SortedServer& ss : servers_) {
    if (ss.hosts.empty()) continue;
    if (ss.server->tls && ss.server->redirect_http) https.Add(ss.id, ss.Route());
    for (const model::Location* l : ss.locations) {
      const Variant& v = VariantOf(*l);
      if (ss.by_rules) continue;  // LocationRules
      std::string_view base = BasePath(l->path);
      paths.Add(ss.id + (base == "/" ? std::string() : SafeWord(base)) + "/ " + v.id, l->route);
    }
  }
  paths_map_ = AddSideFile("sg-paths", "map", std::move(paths));
  https_list_ = AddSideFile("sg-https", "lst", std::move(https));

  // Backends in the order the selection rules name them, so that a profile
  // keeps its name; a location with one upstream, no canary and no session
  // cookie goes through the backend map instead of rules of its own.
  FileLines backends, websocket;
  for (const Variant& v : variants_) {
    const model::Location& loc = *v.location;
    const model::BackendSelection& sel = loc.selection;
    if (loc.websocket) websocket.Add(v.id, loc.route);
    if (sel.split.empty()) continue;
    if (!sel.canary_split.empty()) SplitBackends(loc, sel.canary_split);
    std::vector<std::string> names = SplitBackends(loc, sel.split);
    if (ByMap(v)) backends.Add(v.id + " " + names.front(), loc.route);
  }
  backends_map_ = AddSideFile("sg-backends", "map", std::move(backends));
  websocket_list_ = AddSideFile("sg-websocket", "lst", std::move(websocket));
}

bool ConfigRenderer::ByMap(const Variant& v) const {
  const model::BackendSelection& sel = v.location->selection;
  return sel.split.size() == 1 && sel.canary_split.empty() && sel.sticky_cookie.empty();
}

void ConfigRenderer::HostRules(Writer& o) {
  if (!hosts_map_.empty()) {
    o << "    http-request set-var(txn.sg_srv) var(txn.host),map_str(" << hosts_map_
      << ") unless sg_tls\n";
  }
  if (!tls_hosts_map_.empty()) {
    o << "    http-request set-var(txn.sg_srv) var(txn.host),map_str(" << tls_hosts_map_
      << ") if sg_tls\n";
  }
  std::vector<HostEntry> wildcards;
  size_t order = 0;
  for (const SortedServer& ss : servers_) {
    for (std::string_view h : ss.hosts) {
      if (IsWildcard(h)) {
        wildcards.push_back({h, ss.id, ss.server->tls.has_value(), ss.Route(), order++});
      }
    }
  }
  for (size_t i = 0; i < redirects_.size(); ++i) {
    const model::HostRedirect& r = *redirects_[i];
    if (IsWildcard(r.from_host)) {
      wildcards.push_back({r.from_host, redirect_ids_[i], r.tls.has_value(), r.route, order++});
    }
  }
  // nginx's order for wildcard names: the longest suffix wins.
  std::stable_sort(wildcards.begin(), wildcards.end(), [](const HostEntry& a, const HostEntry& b) {
    if (a.host.size() != b.host.size()) return a.host.size() > b.host.size();
    return std::tie(a.host, a.order) < std::tie(b.host, b.order);
  });
  for (const HostEntry& e : wildcards) {
    RouteScope scope(o, e.route);
    o << "    http-request set-var(txn.sg_srv) str(" << e.id
      << ") if !sg_routed { var(txn.host) -m end " << Word{e.host.substr(1)} << " }"
      << (e.tls ? "\n" : " !sg_tls\n");
  }
}

void ConfigRenderer::RedirectRules(Writer& o) {
  if (!https_list_.empty()) {
    o << "    http-request redirect location https://%[var(txn.host)]";
    if (s_.https_port != 443) o << ':' << s_.https_port;
    o << "%[pathq] code 301 if !sg_tls { var(txn.sg_srv) -m str -f " << https_list_ << " }\n";
  }
  for (size_t i = 0; i < redirects_.size(); ++i) {
    RenderRedirect(o, *redirects_[i], redirect_ids_[i]);
  }
}

void ConfigRenderer::RenderRedirect(Writer& o, const model::HostRedirect& r,
                                    const std::string& id) {
  RouteScope scope(o, r.route);
  // A bare origin ("https://new.example.com" or with a trailing "/") moves a
  // whole site: keep the path and query. A URL with a path is a landing page:
  // send everyone exactly there.
  std::string_view to = r.to_url;
  size_t scheme = to.find("://");
  size_t path = to.find('/', scheme == std::string_view::npos ? 0 : scheme + 3);
  bool bare = path == std::string_view::npos || to.substr(path) == "/";
  if (bare && path != std::string_view::npos) to = to.substr(0, path);
  int code = r.code;
  if (code != 301 && code != 302 && code != 303 && code != 307 && code != 308) code = 302;
  o << "    http-request redirect location " << Fmt{to};
  if (bare) o << "%[pathq]";
  o << " code " << code << " if { var(txn.sg_srv) -m str " << id << " }\n";
}

const Variant& ConfigRenderer::VariantOf(const model::Location& loc) {
  auto& list = variants_by_route_[loc.route];
  for (const Variant* v : list) {
    if (SameRules(*v->location, loc)) return *v;
  }
  std::string id = SafeName(loc.route);
  if (!list.empty()) id += ":" + std::to_string(list.size() + 1);
  variants_.push_back({&loc, std::move(id)});
  list.push_back(&variants_.back());
  return variants_.back();
}

// The condition "the request was located at variant `v`". Anonymous rather
// than a named `acl`: HAProxy looks a named ACL up by a walk over every ACL
// of the proxy, so with one per route a configuration of 10,000 routes took
// 5 s instead of 1 s to load.
namespace {
std::string LocatedAt(const Variant& v) { return "{ var(txn.sg_loc) -m str " + v.id + " }"; }
}  // namespace

void ConfigRenderer::LocationRules(Writer& o) {
  if (!paths_map_.empty()) {
    o << "    http-request set-var(txn.sg_loc) var(txn.sg_srv),concat(,txn.sg_p,),map_beg("
      << paths_map_ << ")\n";
  }
  // Hosts routed by rules: the first location whose match holds, in order
  // of precedence. Patterns match the whole value; values compare exactly.
  for (const SortedServer& ss : servers_) {
    if (!ss.by_rules || ss.hosts.empty()) continue;
    for (const model::Location* l : ss.locations) {
      RouteScope scope(o, l->route);
      o << "    http-request set-var(txn.sg_loc) str(" << VariantOf(*l).id
        << ") if !sg_located { var(txn.sg_srv) -m str " << ss.id << " }";
      MatchConditions(o, *l);
      o << '\n';
    }
  }
}

namespace {

void Pattern(Writer& o, std::string_view p) { o << "'^(?:" << std::string(p) << ")$'"; }

void ValueCondition(Writer& o, const char* fetch, const model::ValueMatch& v) {
  o << " { " << fetch << '(' << Arg{v.name} << ") ";
  if (v.regex) {
    o << "-m reg ";
    Pattern(o, v.value);
  } else {
    o << "-m str '" << v.value << '\'';
  }
  o << " }";
}

}  // namespace

void ConfigRenderer::MatchConditions(Writer& o, const model::Location& l) {
  switch (l.path_match) {
    case model::PathMatch::kExact:
      o << " { path -m str " << Word{l.path} << " }";
      break;
    case model::PathMatch::kRegex:
      o << " { path -m reg ";
      Pattern(o, l.path);
      o << " }";
      break;
    case model::PathMatch::kPrefix:
      // txn.sg_p is the path with '/' appended: "/api/" starts "/api/" and
      // "/api/x/" but not "/apix/".
      if (BasePath(l.path) != "/") {
        o << " { var(txn.sg_p) -m beg " << Word{BasePath(l.path)} << "/ }";
      }
      break;
  }
  if (!l.method.empty()) o << " { method " << Word{l.method} << " }";
  // Every line of a header sent several times is tried.
  for (const model::ValueMatch& h : l.headers) ValueCondition(o, "req.fhdr", h);
  for (const model::ValueMatch& q : l.query) ValueCondition(o, "urlp", q);
}

void ConfigRenderer::VariantRules(Writer& o, Writer& late, Writer& use, const Variant& v) {
  const model::Location& loc = *v.location;
  // The comment naming the route only above rules there are.
  Writer rules(256), headers(256);
  {
    RouteScope scope(rules, loc.route);
    RequestRules(rules, v);
    RouteScope header_scope(headers, loc.route);
    HeaderRules(headers, v);
  }
  if (!rules.empty()) {
    RouteScope scope(o, loc.route);
    o << "    # route " << Name{loc.route} << '\n';
    o.Append(std::move(rules));
  }
  if (!headers.empty()) {
    RouteScope scope(late, loc.route);
    late << "    # route " << Name{loc.route} << '\n';
    late.Append(std::move(headers));
  }
  // A redirect, a fixed status or 503 above, or the backend map.
  if (loc.redirect || loc.fixed_status || loc.selection.split.empty() || ByMap(v)) return;
  RouteScope use_scope(use, loc.route);
  use << "    # route " << Name{loc.route} << '\n';
  SelectionRules(use, v);
}

void ConfigRenderer::RequestRules(Writer& o, const Variant& v) {
  const model::Location& loc = *v.location;
  const model::BackendSelection& sel = loc.selection;
  const std::string acl = LocatedAt(v);
  AccessRules(o, acl, loc);
  if (loc.redirect) {
    RedirectLocation(o, acl, loc);
    return;
  }
  if (loc.fixed_status) {
    o << "    http-request return status " << loc.fixed_status << " default-errorfiles if " << acl
      << '\n';
    return;
  }
  if (sel.split.empty()) {
    o << "    http-request return status 503 default-errorfiles if " << acl << '\n';
    return;
  }
  if (loc.rate_limit.requests_per_second > 0) {
    std::string table = RateTable(loc);
    // Only accepted requests count (gpc0, incremented after the deny), as
    // in nginx's limit_req: a client that slows down is let through again
    // at once instead of paying for the requests it was refused.
    o << "    http-request track-sc0 src table " << table << " if " << acl << '\n';
    o << "    http-request deny deny_status 429 if " << acl << " { sc_gpc0_rate(0," << table
      << ") ge " << loc.rate_limit.requests_per_second + std::max(0, loc.rate_limit.burst)
      << " }\n";
    o << "    http-request sc-inc-gpc0(0) if " << acl << '\n';
  }
  if (!sel.sticky_cookie.empty()) {
    // The session cookie names the upstream (and, when the upstream sticks
    // to a server too, "<upstream>~<server>"); its first field picks the
    // upstream while that one is live.
    o << "    http-request set-var(txn.sg_sc) req.cook(" << Arg{sel.sticky_cookie}
      << "),field(1,~) if " << acl << '\n';
  }
  if (loc.rewrite) RewriteRules(o, acl, loc, *loc.rewrite);
  if (loc.rewrite_full_path) {
    // set-path keeps the query string.
    o << "    http-request set-path " << Fmt{*loc.rewrite_full_path} << " if " << acl << '\n';
  }
  if (!sel.canary_split.empty()) {
    const model::CanaryRule& rule = loc.canary;
    std::string canary = "canary:" + v.id;
    auto match = [&](const char* fetch, const std::string& name, const char* occurrence,
                     const std::string& value) {
      o << "    acl " << canary << ' ' << fetch << '(' << Arg{name} << occurrence << ')';
      if (value.empty()) {
        o << " -m len ge 1\n";
      } else {
        // Values compare exactly, case included (no -i); the header name
        // of req.fhdr is case-insensitive, as HTTP has it.
        o << " -m str " << Quoted{value} << '\n';
      }
    };
    if (!rule.header_name.empty()) match("req.fhdr", rule.header_name, ",1", rule.header_value);
    if (!rule.cookie_name.empty()) match("req.cook", rule.cookie_name, "", rule.cookie_value);
  }
}

// Before anything else of the location: a refused client is not redirected,
// answered a preflight, nor counted by a rate limit.
void ConfigRenderer::AccessRules(Writer& o, const std::string& acl, const model::Location& loc) {
  for (const std::string& c : WordChunks(loc.ip_access.deny)) {
    o << "    http-request deny deny_status 403 if " << acl << " { src" << c << " }\n";
  }
  const std::vector<std::string> allow = WordChunks(loc.ip_access.allow);
  if (allow.size() == 1) {
    o << "    http-request deny deny_status 403 if " << acl << " !{ src" << allow[0] << " }\n";
  } else if (allow.size() > 1) {
    for (const std::string& c : allow) {
      o << "    http-request set-var(txn.sg_allowed) bool(true) if " << acl << " { src" << c
        << " }\n";
    }
    o << "    http-request deny deny_status 403 if " << acl
      << " !{ var(txn.sg_allowed) -m bool }\n";
  }
  if (!loc.cors) return;
  const model::Cors& c = *loc.cors;
  // The allowed origin, echoed in the answer. The last Origin line whole: a
  // pattern tried on every value of the header could accept one origin and
  // echo another.
  o << "    http-request set-var(txn.sg_cors) req.fhdr(origin,-1) if " << acl
    << " { req.fhdr(origin,-1) -m reg " << QuotedRegex(model::CorsOriginPattern(c.origins))
    << " }\n";
  // Preflights are answered here, whatever the backend would say; one from
  // another origin gets no CORS header, so the browser refuses the request
  // it asked about. Access-Control-Allow-Origin, Vary and the credentials
  // come with every answer of the location (HeaderRules).
  const std::string preflight =
      " METH_OPTIONS { req.fhdr(access-control-request-method) -m found } { req.fhdr(origin) -m "
      "found }";
  o << "    http-request return status 204";
  if (!c.methods.empty()) {
    o << " hdr Access-Control-Allow-Methods " << FmtQuoted{boost::algorithm::join(c.methods, ", ")};
  }
  if (!c.allow_headers.empty()) {
    o << " hdr Access-Control-Allow-Headers "
      << FmtQuoted{boost::algorithm::join(c.allow_headers, ", ")};
  }
  if (c.max_age >= 0) o << " hdr Access-Control-Max-Age " << c.max_age;
  o << " if " << acl << preflight << " { var(txn.sg_cors) -m found }\n";
  o << "    http-request return status 204 if " << acl << preflight << '\n';
}

void ConfigRenderer::SelectionRules(Writer& use, const Variant& v) {
  const model::Location& loc = *v.location;
  const model::BackendSelection& sel = loc.selection;
  const std::string acl = LocatedAt(v);
  bool sticky = !sel.sticky_cookie.empty();
  bool has_rule = !loc.canary.header_name.empty() || !loc.canary.cookie_name.empty();
  if (!sel.canary_split.empty() && has_rule) {
    SplitRules(use, loc, acl + " canary:" + v.id, sel.canary_split, sticky);
  }
  SplitRules(use, loc, acl, sel.split, sticky);
}

// use_backend rules for one split: a session cookie naming one of its
// upstreams first (sticky), then a random number in [0, 10000) against the
// cumulative shares in basis points; the last upstream takes the rest.
void ConfigRenderer::SplitRules(Writer& use, const model::Location& loc, const std::string& cond,
                                const std::vector<model::WeightedUpstream>& split, bool sticky) {
  const std::vector<std::string> names = SplitBackends(loc, split);
  if (sticky) {
    for (size_t i = 0; i < split.size(); ++i) {
      use << "    use_backend " << names[i] << " if " << cond << " { var(txn.sg_sc) -m str "
          << Name{split[i].upstream} << " }\n";
    }
  }
  int cumulative = 0;
  for (size_t i = 0; i < split.size(); ++i) {
    use << "    use_backend " << names[i] << " if " << cond;
    if (i + 1 < split.size()) {
      cumulative += split[i].basis_points;
      use << " { var(txn.sg_rand) -m int lt " << cumulative << " }";
    }
    use << '\n';
  }
}

std::vector<std::string> ConfigRenderer::SplitBackends(
    const model::Location& loc, const std::vector<model::WeightedUpstream>& split) {
  std::vector<std::string> names;
  names.reserve(split.size());
  for (const model::WeightedUpstream& w : split) {
    const model::Upstream& u = UpstreamNamed(w.upstream);
    names.push_back(BackendName(u, ProfileOf(loc, u)));
  }
  return names;
}

void HeaderEditRules(Writer& o, const char* side, const model::HeaderEdit& e,
                     std::string_view cond) {
  for (const std::string& name : e.remove) {
    o << "    " << side << " del-header " << Arg{name} << cond << '\n';
  }
  for (const auto& [name, value] : e.set) {
    o << "    " << side << " set-header " << Arg{name} << ' ' << FmtQuoted{value} << cond << '\n';
  }
  for (const auto& [name, value] : e.add) {
    o << "    " << side << " add-header " << Arg{name} << ' ' << FmtQuoted{value} << cond << '\n';
  }
}

void ConfigRenderer::HeaderRules(Writer& o, const Variant& v) {
  const model::Location& loc = *v.location;
  const std::string cond = " if " + LocatedAt(v);
  if (!loc.redirect && !loc.fixed_status) {
    if (loc.rewrite_host) {
      o << "    http-request set-header Host " << Word{*loc.rewrite_host} << cond << '\n';
    }
    HeaderEditRules(o, "http-request", loc.request_headers, cond);
    HeaderEditRules(o, "http-response", loc.response_headers, cond);
  }
  if (loc.cors) CorsResponseRules(o, cond, *loc.cors);
}

// The Location of a redirect: the request's scheme, host and port unless
// the redirect names them, and its path (as the rules before it rewrote it)
// with its query. A port that is the scheme's own is left out.
void ConfigRenderer::RedirectLocation(Writer& o, const std::string& acl,
                                      const model::Location& loc) {
  const model::LocationRedirect& r = *loc.redirect;
  if (r.prefix) RewriteRules(o, acl, loc, *r.prefix);
  if (r.full_path) o << "    http-request set-path " << Fmt{*r.full_path} << " if " << acl << '\n';
  auto line = [&](std::string_view scheme, int port, const char* cond) {
    o << "    http-request redirect location " << Fmt{scheme} << "://";
    if (r.host.empty()) {
      o << "%[var(txn.host)]";
    } else {
      o << Fmt{r.host};
    }
    const int well_known = scheme == "https" ? 443 : 80;
    if (port != 0 && port != well_known) o << ':' << port;
    o << "%[pathq] code " << r.code << " if " << acl << cond << '\n';
  };
  if (!r.scheme.empty()) {
    line(r.scheme, r.port, "");
  } else if (tls_) {
    line("https", r.port ? r.port : s_.https_port, " sg_tls");
    line("http", r.port ? r.port : s_.http_port, " !sg_tls");
  } else {
    line("http", r.port ? r.port : s_.http_port, "");
  }
}

void ConfigRenderer::RewriteRules(Writer& o, const std::string& acl, const model::Location& loc,
                                  std::string_view to) {
  std::string_view base = BasePath(loc.path);
  bool slash = !to.empty() && to.back() == '/';
  if (base == "/") {
    o << "    http-request replace-path ^/(.*) " << Fmt{to} << (slash ? "" : "/") << "\\1 if "
      << acl << '\n';
    return;
  }
  // The exact context root becomes the target itself; the guard on the
  // original path keeps the second rule off a target that starts with the
  // context root again.
  o << "    http-request set-path " << Fmt{to} << " if " << acl << " { var(txn.sg_p) -m str "
    << Word{base} << "/ }\n";
  o << "    http-request replace-path ^" << RegexLiteral{base} << "/(.*) " << Fmt{to}
    << (slash ? "" : "/") << "\\1 if " << acl << " !{ var(txn.sg_p) -m str " << Word{base}
    << "/ }\n";
}

}  // namespace sg::haproxy::internal
