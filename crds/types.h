#pragma once
// The typed form of the v1alpha1 resources, with every default applied.
// Produced only from documents that passed validation (see loader.h); the
// reconcilers and the renderer read these and never the raw JSON.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crds/status.h"

namespace sg::crds {

// A duration as written ("5s") and its value. Keeping the text lets
// renderers emit it unchanged (nginx understands the same units).
struct Duration {
  std::string text;
  std::chrono::milliseconds value{0};

  static Duration Parse(std::string_view text);  // text must be valid (grammar.h)
  bool operator==(const Duration& o) const { return value == o.value && text == o.text; }
};

enum class BackendMode { kTask, kVip };
enum class Delivery { kHot, kRolling };
// The proxy's data plane (reconcilers/dataplane): which engine renders and serves.
enum class ProxyEngine { kNginx, kHaproxy };
enum class PublishMode { kHost, kIngress };
// replicated: `replicas` proxies wherever Swarm places them; global: one per
// node that satisfies the constraints (what host-mode ports want).
enum class ProxyMode { kReplicated, kGlobal };
enum class UpdateOrder { kStartFirst, kStopFirst };
enum class FailureAction { kRollback, kPause, kContinue };
enum class TlsMode { kTerminate, kPassthrough };
// The proxies' access log lines (spec.accessLog.format): none, the combined
// format with swarmgate's fields appended, or one JSON object per line.
enum class AccessLogFormat { kOff, kCombined, kJson };

// The spellings used in resources ("task", "start-first", ...).
const char* ToString(BackendMode v);
const char* ToString(ProxyMode v);
const char* ToString(Delivery v);
const char* ToString(ProxyEngine v);
const char* ToString(PublishMode v);
const char* ToString(UpdateOrder v);
const char* ToString(FailureAction v);
const char* ToString(TlsMode v);
const char* ToString(AccessLogFormat v);

struct ObjectMeta {
  std::string name;
  std::map<std::string, std::string> labels;
};

// ---------------------------------------------------------------- ServiceCluster

struct ProxyPorts {
  int http = 80;
  int https = 443;
};

struct ProxyUpdatePolicy {
  UpdateOrder order = UpdateOrder::kStartFirst;
  int parallelism = 1;
  Duration delay = Duration::Parse("0s");
  FailureAction failure_action = FailureAction::kRollback;
  Duration monitor = Duration::Parse("5s");
};

struct ProxyConfig {
  int worker_connections = 4096;
  Duration keepalive_timeout = Duration::Parse("75s");
  std::string client_max_body_size = "10m";  // as written; nginx takes it verbatim
  uint64_t client_max_body_size_bytes = 10u << 20;
};

struct ProxySpec {
  std::string image = "swarmgate/proxy:latest";
  ProxyEngine engine = ProxyEngine::kNginx;
  ProxyMode mode = ProxyMode::kReplicated;
  int replicas = 2;  // replicated mode only
  Delivery delivery = Delivery::kHot;
  PublishMode publish_mode = PublishMode::kHost;
  ProxyPorts ports;
  std::vector<std::string> constraints;
  Duration stop_grace_period = Duration::Parse("10s");
  ProxyUpdatePolicy update_policy;
  ProxyConfig config;
};

// Off by default: a cluster that sets nothing renders the configuration it
// did before the field existed, so its proxies neither reload nor roll.
struct AccessLog {
  AccessLogFormat format = AccessLogFormat::kOff;
};

// A Kubernetes-style label selector: every pair and every requirement holds.
struct LabelRequirement {
  enum class Operator { kIn, kNotIn, kExists, kDoesNotExist };
  std::string key;
  Operator op = Operator::kExists;
  std::vector<std::string> values;
};

struct LabelSelector {
  std::map<std::string, std::string> match_labels;
  std::vector<LabelRequirement> match_expressions;
};

// Which routes may attach to a cluster (spec.allowedRoutes); see
// crds/route_admission.h.
struct AllowedRoutes {
  std::vector<std::string> hosts;  // empty: any host
  std::optional<LabelSelector> selector;
};

// What answers requests no route claims (spec.defaultBackend): a service and
// port, else a fixed status.
struct DefaultBackend {
  std::string service;  // empty: answer `status`
  int port = 0;
  int status = 404;
};

// Which peers may say who the client is (spec.clientAddress). Empty: the
// connection's own address is the client, as host-mode ports deliver it.
struct ClientAddress {
  // CIDRs of load balancers in front of the proxies: from these alone the
  // last address of X-Forwarded-For is taken as the client (one hop, not a
  // chain, so a client cannot prepend addresses of its choosing).
  std::vector<std::string> trusted_proxies;
  // Every connection to the public ports starts with a PROXY protocol
  // header (v1 or v2) naming the client, as a TCP load balancer sends it.
  bool proxy_protocol = false;
};

// gzip of responses (spec.compression of a cluster or of a route).
struct Compression {
  bool enabled = true;
  // Media types compressed (no parameters).
  std::vector<std::string> types = {"text/html",
                                    "text/plain",
                                    "text/css",
                                    "text/javascript",
                                    "application/javascript",
                                    "application/json",
                                    "application/xml",
                                    "image/svg+xml"};
  // Bytes of Content-Length below which a response is sent as it is; unset:
  // the engine's own (nginx 20; HAProxy has none and refuses a value).
  std::optional<int> min_length;
};

struct ServiceClusterSpec {
  std::string network;  // defaults to sg-<name>
  BackendMode backend_mode = BackendMode::kTask;
  ProxySpec proxy;
  AccessLog access_log;
  std::optional<AllowedRoutes> allowed_routes;
  std::optional<DefaultBackend> default_backend;
  ClientAddress client_address;
  std::optional<Compression> compression;  // the routes' default
};

struct ServiceCluster {
  ObjectMeta metadata;
  ServiceClusterSpec spec;
};

// ------------------------------------------------------------------------- Route

// Header modifiers of a rule (spec.rules[].filters) or of one of its
// backends (backends[].filters). Names are tokens, compared
// case-insensitively. Applied in the order remove, set, add.
struct HeaderValue {
  std::string name;
  std::string value;
};

struct HeaderModifier {
  std::vector<HeaderValue> set;  // replaces every line of the header
  std::vector<HeaderValue> add;  // appends a line, keeping the ones sent
  std::vector<std::string> remove;
};

struct Backend {
  std::string service;
  int port = 0;
  int weight = 100;
  bool canary = false;
  // A rule's backend only (backends[].filters): for this backend's requests
  // and responses alone, after the rule's own.
  std::optional<HeaderModifier> request_headers;
  std::optional<HeaderModifier> response_headers;
};

// A canary rule on a header or cookie. Without a value, any request that
// carries the header or cookie matches.
struct CanaryMatch {
  std::string name;
  std::optional<std::string> value;
};

struct CanaryRules {
  std::optional<CanaryMatch> header;
  std::optional<CanaryMatch> cookie;
};

struct Tls {
  TlsMode mode = TlsMode::kTerminate;
  std::optional<std::string> secret;  // set whenever mode is terminate
  bool redirect_http = false;
};

struct StickySession {
  std::string cookie;
};

struct Timeouts {
  // Per attempt: a failed connect is retried on another task. Connects on a
  // healthy overlay take well under 10 ms; a task on a node that was cut off
  // never answers, and each request sent to it waits this long.
  Duration connect = Duration::Parse("1s");
  Duration read = Duration::Parse("60s");
  Duration send = Duration::Parse("60s");
};

struct HealthCheck {
  // 1: a task is taken out at its first failure, so one on a node that was
  // cut off costs one slow request, not one in every few.
  int max_fails = 1;
  Duration fail_timeout = Duration::Parse("10s");
};

struct RateLimit {
  int requests_per_second = 0;
  int burst = 0;
};

// Client addresses refused (403) or let in (spec.ipAccess): a client in
// `deny` is refused; with `allow` set, so is every client outside it. CIDRs
// as written, IPv4 or IPv6 (a bare address is one host).
struct IpAccess {
  std::vector<std::string> allow;
  std::vector<std::string> deny;
};

// A CORS policy (spec.cors). Origins are exact ("https://app.example.com"),
// a wildcard subdomain ("https://*.example.com": one or more labels), or "*".
struct Cors {
  std::vector<std::string> allow_origins;
  std::vector<std::string> allow_methods = {"GET", "HEAD", "POST"};
  std::vector<std::string> allow_headers;
  std::vector<std::string> expose_headers;
  bool allow_credentials = false;
  std::optional<int> max_age;  // seconds
};

struct Redirect {
  std::string from;
  std::string to;
  int code = 301;
};

// Enforced on the backend services; an unset field leaves the service's own
// setting alone.
struct RouteUpdatePolicy {
  std::optional<UpdateOrder> order;
  std::optional<Duration> delay;
  std::optional<Duration> stop_grace_period;
  bool require_healthcheck = false;
};

// HTTPRoute-style rules (spec.rules). The flat path/backends/canary fields
// are the shorthand for one rule and are kept as they are; the builder
// reads either.
enum class PathMatchType { kPathPrefix, kExact, kRegularExpression };
enum class ValueMatchType { kExact, kRegularExpression };

struct PathMatch {
  PathMatchType type = PathMatchType::kPathPrefix;
  std::string value = "/";
};

// A header (name compared case-insensitively) or query parameter (exactly).
struct ValueMatch {
  ValueMatchType type = ValueMatchType::kExact;
  std::string name;
  std::string value;
};

struct RouteMatch {
  PathMatch path;
  std::vector<ValueMatch> headers;
  std::vector<ValueMatch> query_params;
  std::string method;  // empty: any
};

// Filters of a rule (spec.rules[].filters), in HTTPRoute's shape: a list of
// {type, <field of that type>}, each type at most once.
enum class PathModifierType { kReplaceFullPath, kReplacePrefixMatch };

// ReplacePrefixMatch replaces the matched PathPrefix segment-wise (/foo with
// /bar turns /foo/x into /bar/x); the query string is always kept.
struct PathModifier {
  PathModifierType type = PathModifierType::kReplaceFullPath;
  std::string value;
};

struct UrlRewrite {
  std::optional<std::string> hostname;  // the Host the backend sees
  std::optional<PathModifier> path;
};

// Unset parts keep the request's own scheme, host and path; the port is the
// well-known one of `scheme` when that is set, else the listener's.
struct RequestRedirect {
  std::optional<std::string> scheme;  // "http" | "https"
  std::optional<std::string> hostname;
  std::optional<int> port;
  std::optional<PathModifier> path;
  int status_code = 302;  // 301, 302, 303, 307, 308
};

// A copy of each sampled request goes to the service; its answer is dropped.
struct RequestMirror {
  Backend backend;    // service and port; weight and canary unused
  int percent = 100;  // 1-100
};

struct RouteFilters {
  std::optional<HeaderModifier> request_headers;   // RequestHeaderModifier
  std::optional<HeaderModifier> response_headers;  // ResponseHeaderModifier
  std::optional<UrlRewrite> url_rewrite;           // URLRewrite
  std::optional<RequestRedirect> redirect;         // RequestRedirect
  std::optional<RequestMirror> mirror;             // RequestMirror
};

// Per rule; a zero duration means no limit.
struct RuleTimeouts {
  // The whole request, every attempt included, until the response starts.
  std::optional<Duration> request;
  // One attempt at one task, until its response starts.
  std::optional<Duration> backend_request;
};

// Resends to another task of the same backend. A request that may have
// reached a task is resent only when its method is idempotent.
struct RetryPolicy {
  std::vector<int> codes;           // response statuses that are retried
  int attempts = 1;                 // resends after the first try
  std::optional<Duration> backoff;  // set: refused, no engine waits between tries
};

struct RouteRule {
  std::vector<RouteMatch> matches;  // never empty once decoded
  RouteFilters filters;
  // Empty without a redirect filter: requests get 500, as the Gateway API has it.
  std::vector<Backend> backends;
  RuleTimeouts timeouts;
  std::optional<RetryPolicy> retry;
};

struct RouteSpec {
  std::string service_cluster;
  std::vector<std::string> hosts;
  std::string path = "/";
  std::optional<std::string> rewrite;
  std::vector<Backend> backends;
  std::vector<RouteRule> rules;  // empty: the flat fields are the one rule
  std::optional<CanaryRules> canary;
  // Unset: the cluster's backendMode applies (see EffectiveBackendMode).
  std::optional<BackendMode> backend_mode;
  std::optional<Tls> tls;
  std::optional<StickySession> sticky_session;
  bool websocket = false;
  Timeouts timeouts;
  HealthCheck health_check;
  std::optional<RateLimit> rate_limit;
  std::optional<IpAccess> ip_access;
  std::optional<Cors> cors;
  // Unset: the cluster's spec.compression, if any.
  std::optional<Compression> compression;
  std::vector<Redirect> redirects;
  std::optional<RouteUpdatePolicy> update_policy;
};

struct Route {
  ObjectMeta metadata;
  RouteSpec spec;
};

// Every backend of a route, in the order RouteInput::backends resolves
// them: spec.backends, then each rule's backends in turn, then the backend of
// each rule's mirror filter (so a mirror renames no backend before it).
std::vector<const Backend*> AllBackends(const RouteSpec& spec);

const char* ToString(PathMatchType v);

// The route's own backendMode, else its cluster's (when known), else task.
BackendMode EffectiveBackendMode(const Route& route, const ServiceCluster* cluster);

}  // namespace sg::crds
