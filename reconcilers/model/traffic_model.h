#pragma once
// The traffic model: a plain, value-typed description of what one
// ServiceCluster's proxies must do, whatever engine serves it. It holds no API
// types and no logic, so the builder (resources + endpoints -> model) and each
// engine's renderer (model -> nginx.conf, later haproxy.cfg) can be written and
// tested apart, the way ingress-nginx separates its store, model and templates.
//
// Policy is decided before a renderer sees the model: every location carries
// its resolved BackendSelection (which upstreams take which share, canary
// override, session cookie), so engines only translate it into their syntax.
// Engine run-time details (pid file, logs, modules) are render options of that
// engine, not part of the model.
//
// Every string here ends up inside a configuration file. The API layer
// guarantees strict grammars (hosts, paths, names, header and cookie names are
// tokens); renderers still neutralise anything that could break out of a
// directive (see sg::nginx::CheckModelStrings).

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sg::model {

using Duration = std::chrono::milliseconds;

// Per-location timeouts; zero means "use the cluster default".
struct Timeouts {
  Duration connect{0};
  Duration read{0};
  Duration send{0};
};

// The access log a cluster asks for (ServiceCluster spec.accessLog). The
// fields are the same in every engine and format: time, client address,
// host, method, path without its query string, protocol, status, bytes sent,
// request time in ms, upstream address and status, route, request id,
// referer (without its query string) and user agent; a field without a value
// is "-". No other request header is logged, so credentials (Authorization,
// Cookie, tokens in query strings) never reach the log.
enum class AccessLogFormat { kOff, kCombined, kJson };

struct Settings {
  int worker_processes = 0;  // 0: auto (one per CPU)
  int worker_connections = 4096;
  Duration keepalive_timeout{75000};
  long long client_max_body_size = 10LL << 20;  // bytes; 0: unlimited
  int http_port = 80;
  int https_port = 443;
  // Loopback ports used only when TLS passthrough routes exist: the stream
  // front-end on https_port hands terminated TLS to tls_internal_port and
  // passthrough TLS to passthrough_internal_port, both with the PROXY protocol.
  int tls_internal_port = 8443;
  int passthrough_internal_port = 8444;
  // The agent's probe port: /healthz and the engine's status page.
  std::string status_address = "127.0.0.1";  // empty: all addresses
  int status_port = 8082;
  // Directory of certificate and key files; TlsCertificate paths are relative to it.
  std::string certs_dir = "certs";
  // Shared memory per rate-limited route (size with k or m suffix).
  std::string rate_limit_zone_size = "1m";
  // A Route's defaults (crds/types.h), so a route that sets none needs no
  // timeout of its own. Connect: per attempt, and a failed connect is
  // retried on another task, so it bounds what a task on a lost node costs a
  // request; overlay connects on a healthy cluster take well under 10 ms.
  Timeouts default_timeouts{Duration{1000}, Duration{60000}, Duration{60000}};
  // Retries on another task after connect errors, timeouts, 502 and 503.
  int next_upstream_tries = 3;
  // kOff: the engine's render options alone decide (the operator renders no
  // access log), so a cluster that sets nothing keeps its configuration.
  AccessLogFormat access_log = AccessLogFormat::kOff;
  // CIDRs of load balancers whose X-Forwarded-For names the client (its
  // last address only). Empty: the connection's peer is the client.
  std::vector<std::string> trusted_proxies;
  // The public listeners expect a PROXY protocol header on every connection
  // and take the client from it.
  bool proxy_protocol = false;
};

// Header changes, applied in the order remove, set, add (names are tokens;
// values are printable ASCII without quotes, backslashes or '$', see
// crds/semantic.cc). Empty: nothing changes.
struct HeaderEdit {
  std::vector<std::pair<std::string, std::string>> set;  // replaces every line
  std::vector<std::pair<std::string, std::string>> add;  // appends a line
  std::vector<std::string> remove;

  bool empty() const { return set.empty() && add.empty() && remove.empty(); }
  bool operator==(const HeaderEdit& o) const {
    return set == o.set && add == o.add && remove == o.remove;
  }
};

// One task (ip:port) or, in vip mode, the service VIP.
struct UpstreamServer {
  std::string address;  // "10.0.1.5:8080"
  int weight = 1;
};

// A group of equivalent servers, usually one backend service of one route.
struct Upstream {
  std::string name;                     // unique among upstreams; [A-Za-z0-9._-]
  std::string route;                    // owning Route; "" when shared or unknown
  std::vector<UpstreamServer> servers;  // empty: no endpoints, traffic gets 503
  // Passive health: after max_fails failures within fail_timeout a server is
  // skipped for fail_timeout.
  int max_fails = 1;
  Duration fail_timeout{10000};
  int keepalive = 32;         // idle connections kept per worker; 0: none
  std::string sticky_cookie;  // non-empty: hash on this cookie (sticky sessions)
  // A rule backend's own filters: for the requests sent to this upstream and
  // their responses, after the location's.
  HeaderEdit request_headers;
  HeaderEdit response_headers;
};

// One backend of a location as the route declares it. Weights split requests,
// independent of replica counts. Input of the backend selection
// (model/backend_selection.h); renderers read Location::selection instead.
struct BackendRef {
  std::string upstream;  // an Upstream::name
  int weight = 1;
  bool canary = false;  // receives requests matched by the canary rule
};

// Requests matching either rule go to the canary backends only (split by their
// weights). Values match case-insensitively; an empty value matches any
// non-empty header or cookie value.
struct CanaryRule {
  std::string header_name;
  std::string header_value;
  std::string cookie_name;
  std::string cookie_value;

  bool operator==(const CanaryRule& o) const {
    return header_name == o.header_name && header_value == o.header_value &&
           cookie_name == o.cookie_name && cookie_value == o.cookie_value;
  }
};

// One upstream's share of a split, in basis points (1/100 of a percent).
struct WeightedUpstream {
  std::string upstream;  // an Upstream::name with at least one server
  int basis_points = 0;  // > 0

  bool operator==(const WeightedUpstream& o) const {
    return upstream == o.upstream && basis_points == o.basis_points;
  }
};

// Where a location's requests go, decided by the builder. Each split lists
// live upstreams only, in a stable order, with shares summing to 10000; the
// last entry absorbs the rounding remainder.
struct BackendSelection {
  // Empty: no backend has endpoints, requests get 503.
  std::vector<WeightedUpstream> split;
  // Requests matching the location's canary rule. Empty when there is no rule,
  // no live canary backend, or the canaries would split exactly like `split`:
  // such requests then follow `split`.
  std::vector<WeightedUpstream> canary_split;
  // Non-empty: split on this session cookie instead of per request, so a
  // session keeps its backend service; new clients get the cookie.
  std::string sticky_cookie;

  bool operator==(const BackendSelection& o) const {
    return split == o.split && canary_split == o.canary_split && sticky_cookie == o.sticky_cookie;
  }
};

struct RateLimit {
  int requests_per_second = 0;  // 0: no limit
  int burst = 0;
};

// Client networks (CIDRs) refused with 403: those in `deny`, and, when
// `allow` is not empty, those outside it. Empty: every client.
struct IpAccess {
  std::vector<std::string> allow;
  std::vector<std::string> deny;

  bool empty() const { return allow.empty() && deny.empty(); }
  bool operator==(const IpAccess& o) const { return allow == o.allow && deny == o.deny; }
};

// A CORS policy: preflights are answered by the proxy (204); responses to
// an allowed origin carry the CORS headers, replacing the upstream's.
struct Cors {
  // Exact origins, "scheme://*.domain[:port]" wildcards, or "*" alone; see
  // CorsOriginPattern (model/cors_origin.h).
  std::vector<std::string> origins;
  std::vector<std::string> methods;
  std::vector<std::string> allow_headers;
  std::vector<std::string> expose_headers;
  bool credentials = false;
  int max_age = -1;  // seconds; -1: not sent

  bool operator==(const Cors& o) const {
    return origins == o.origins && methods == o.methods && allow_headers == o.allow_headers &&
           expose_headers == o.expose_headers && credentials == o.credentials &&
           max_age == o.max_age;
  }
};

// gzip of the responses of these media types, for clients that accept it.
struct Compression {
  std::vector<std::string> types;
  int min_length = -1;  // bytes of Content-Length; -1: the engine's own

  bool operator==(const Compression& o) const {
    return types == o.types && min_length == o.min_length;
  }
};

// A location that answers with a redirect instead of proxying. Unset parts
// keep the request's: its scheme, host and path (the query is always kept).
// The port: `port` when set, else the well-known one of `scheme` when that is
// set (and then left out), else the port the request came in on.
struct LocationRedirect {
  std::string scheme;  // "", "http" or "https"
  std::string host;    // "": the request's
  int port = 0;        // 0: see above
  // At most one of these: the whole path, or the location's prefix (a
  // kPrefix location) replaced.
  std::optional<std::string> full_path;
  std::optional<std::string> prefix;
  int code = 302;

  bool operator==(const LocationRedirect& o) const {
    return scheme == o.scheme && host == o.host && port == o.port && full_path == o.full_path &&
           prefix == o.prefix && code == o.code;
  }
};

// Resends of a request to another task of its upstream, after connect
// failures and these statuses.
struct RetryPolicy {
  std::vector<int> codes;
  int attempts = 1;  // resends after the first try

  bool operator==(const RetryPolicy& o) const { return codes == o.codes && attempts == o.attempts; }
};

// A copy of a share of a location's requests, whose answers are dropped.
struct Mirror {
  std::string upstream;  // an Upstream::name; no servers: nothing is copied
  int percent = 100;

  bool operator==(const Mirror& o) const { return upstream == o.upstream && percent == o.percent; }
};

// How a location's path matches the request path (without its query).
enum class PathMatch {
  kPrefix,  // the context root: "/api" matches "/api" and "/api/...", not "/apix"
  kExact,   // the path itself
  kRegex,   // a PCRE pattern the whole path matches (validated, see crds/regex_check.h)
};

// A header (name compared case-insensitively) or query parameter (exactly):
// `value` exactly, or a PCRE pattern the whole value matches.
struct ValueMatch {
  std::string name;
  std::string value;
  bool regex = false;

  bool operator==(const ValueMatch& o) const {
    return name == o.name && value == o.value && regex == o.regex;
  }
};

// A match of a virtual host's requests: the path, and, for a conditional
// location, headers, query parameters and a method that must all hold.
// Precedence among a host's locations (PrecedesMatch in render_order.h):
// exact paths, then prefixes other than "/" longest first, then patterns,
// then the prefix "/"; among equal paths a method, more headers, more query
// parameters, then `rank`.
struct Location {
  std::string route;  // owning Route name: comments, variable and zone names
  std::string path = "/";
  PathMatch path_match = PathMatch::kPrefix;
  std::vector<ValueMatch> headers;  // all must match
  std::vector<ValueMatch> query;    // all must match
  std::string method;               // empty: any
  // Where the match was written ("spec.rules[0].matches[1]"), for an engine
  // that cannot express it; empty for the one-rule shorthand.
  std::string match_field;
  // Ties between equal matches: the route's age among the cluster's routes
  // (oldest first), then the rule's order in it.
  int rank = 0;
  std::optional<std::string> rewrite;  // replaces `path` (a prefix) in the upstream request URI
  std::optional<std::string> rewrite_full_path;  // replaces the whole path; query kept
  std::optional<std::string> rewrite_host;       // the Host the upstream sees
  HeaderEdit request_headers;                    // on the request sent upstream
  HeaderEdit response_headers;                   // on the upstream's response
  // Set: the location answers this redirect and has no backends.
  std::optional<LocationRedirect> redirect;
  // Non-zero: the location answers this status and has no backends (500 for
  // a rule with neither backends nor a redirect).
  int fixed_status = 0;
  std::optional<RetryPolicy> retry;  // unset: the cluster's default retries
  std::optional<Mirror> mirror;
  // The whole request, retries included, until the response starts; zero:
  // not limited beyond `timeouts` (see Timeouts for the per-attempt ones).
  Duration request_timeout{0};
  std::vector<BackendRef> backends;  // as declared; see `selection`
  CanaryRule canary;
  BackendSelection selection;  // what renderers emit
  bool websocket = false;
  Timeouts timeouts;
  RateLimit rate_limit;
  IpAccess ip_access;                      // checked before anything else
  std::optional<Cors> cors;                // unset: the upstream's own headers pass
  std::optional<Compression> compression;  // unset: responses as sent
};

// Paths relative to Settings::certs_dir (or absolute).
struct TlsCertificate {
  std::string certificate_file;  // PEM chain
  std::string key_file;          // PEM key
};

// A virtual host: names are exact ("shop.example.com") or one leading wildcard
// ("*.example.com").
struct Server {
  std::vector<std::string> hosts;
  std::optional<TlsCertificate> tls;  // set: terminate TLS for these hosts
  bool redirect_http = false;         // with tls: plain http answers 301 to https
  std::vector<Location> locations;
};

// `from_host` answers every request with a redirect to `to_url`.
struct HostRedirect {
  std::string route;
  std::string from_host;
  std::string to_url;  // "https://shop.example.com" or "https://x.example.com/landing"
  int code = 301;
  std::optional<TlsCertificate> tls;  // set: also answer https for from_host
};

// Routed by SNI on the https port without decrypting.
struct PassthroughRoute {
  std::string route;
  std::vector<std::string> hosts;
  Upstream upstream;  // keepalive and sticky_cookie do not apply to TCP
  // `upstream` alone when it has servers; empty: not served (no endpoints).
  BackendSelection selection;
};

// What answers requests no location claims: unknown hosts on the http port
// (unknown TLS names have no certificate and are refused at the handshake),
// and paths of a known host that none of its locations matches.
struct Fallback {
  // Set: requests go to its selection (path "/", route "", one upstream, no
  // rule of its own; an empty selection answers 503). Unset: `status`.
  std::optional<Location> location;
  int status = 404;
};

struct TrafficModel {
  Settings settings;
  Fallback fallback;
  std::vector<Upstream> upstreams;
  std::vector<Server> servers;
  std::vector<HostRedirect> redirects;
  std::vector<PassthroughRoute> passthrough;
};

}  // namespace sg::model
