#include "crds/decode.h"

#include "crds/grammar.h"

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sg::crds {
namespace {

using rapidjson::Value;

const Value* Member(const Value& obj, const char* key) {
  if (!obj.IsObject()) return nullptr;
  auto m = obj.FindMember(key);
  return m == obj.MemberEnd() ? nullptr : &m->value;
}

void ReadString(const Value& obj, const char* key, std::string* out) {
  const Value* v = Member(obj, key);
  if (v && v->IsString()) out->assign(v->GetString(), v->GetStringLength());
}

std::optional<std::string> OptString(const Value& obj, const char* key) {
  const Value* v = Member(obj, key);
  if (!v || !v->IsString()) return std::nullopt;
  return std::string(v->GetString(), v->GetStringLength());
}

void ReadInt(const Value& obj, const char* key, int* out) {
  const Value* v = Member(obj, key);
  if (v && v->IsInt()) *out = v->GetInt();
}

void ReadBool(const Value& obj, const char* key, bool* out) {
  const Value* v = Member(obj, key);
  if (v && v->IsBool()) *out = v->GetBool();
}

void ReadDuration(const Value& obj, const char* key, Duration* out) {
  if (auto s = OptString(obj, key)) *out = Duration::Parse(*s);
}

std::optional<Duration> OptDuration(const Value& obj, const char* key) {
  if (auto s = OptString(obj, key)) return Duration::Parse(*s);
  return std::nullopt;
}

const Value& Object(const Value& obj, const char* key) {
  static const Value kEmpty(rapidjson::kObjectType);
  const Value* v = Member(obj, key);
  return v && v->IsObject() ? *v : kEmpty;
}

BackendMode ParseBackendMode(const std::string& s) {
  return s == "vip" ? BackendMode::kVip : BackendMode::kTask;
}

UpdateOrder ParseOrder(const std::string& s) {
  return s == "stop-first" ? UpdateOrder::kStopFirst : UpdateOrder::kStartFirst;
}

// Calls `fn` on each element of the array `obj`.`key`; on none when `key` is
// missing or not an array (the schema has refused that already).
template <class F>
void ForEachItem(const Value& obj, const char* key, F fn) {
  if (const Value* list = Member(obj, key); list && list->IsArray()) {
    for (const auto& item : list->GetArray()) fn(item);
  }
}

// Each element of the array `obj`.`key`, decoded by `decode`.
template <class F>
auto DecodeList(const Value& obj, const char* key, F decode) {
  std::vector<decltype(decode(std::declval<const Value&>()))> out;
  ForEachItem(obj, key, [&](const Value& item) { out.push_back(decode(item)); });
  return out;
}

std::vector<std::string> Strings(const Value& obj, const char* key) {
  std::vector<std::string> out;
  ForEachItem(obj, key, [&](const Value& item) {
    if (item.IsString()) out.emplace_back(item.GetString(), item.GetStringLength());
  });
  return out;
}

// The string members of the mapping `obj`.`key` (labels).
std::map<std::string, std::string> StringMap(const Value& obj, const char* key) {
  std::map<std::string, std::string> out;
  for (const auto& m : Object(obj, key).GetObject()) {
    if (!m.value.IsString()) continue;
    out[std::string(m.name.GetString(), m.name.GetStringLength())] =
        std::string(m.value.GetString(), m.value.GetStringLength());
  }
  return out;
}

ObjectMeta DecodeMeta(const Value& doc) {
  ObjectMeta meta;
  const Value& m = Object(doc, "metadata");
  ReadString(m, "name", &meta.name);
  meta.labels = StringMap(m, "labels");
  return meta;
}

std::vector<HeaderValue> HeaderValues(const Value& obj, const char* key) {
  return DecodeList(obj, key, [](const Value& item) {
    HeaderValue h;
    ReadString(item, "name", &h.name);
    ReadString(item, "value", &h.value);
    return h;
  });
}

HeaderModifier DecodeHeaderModifier(const Value& obj) {
  HeaderModifier m;
  m.set = HeaderValues(obj, "set");
  m.add = HeaderValues(obj, "add");
  m.remove = Strings(obj, "remove");
  return m;
}

// The header modifier of `filter` into `request` or `response`, when it is
// one (rules and their backends share these two filters). Validation made
// the type name the one field present, so the type decides.
void DecodeHeaderFilters(const Value& filter, std::optional<HeaderModifier>* request,
                         std::optional<HeaderModifier>* response) {
  const std::optional<std::string> type = OptString(filter, "type");
  if (type == "RequestHeaderModifier") {
    *request = DecodeHeaderModifier(Object(filter, "requestHeaderModifier"));
  } else if (type == "ResponseHeaderModifier") {
    *response = DecodeHeaderModifier(Object(filter, "responseHeaderModifier"));
  }
}

// The backends listed at `obj`.backends (spec.backends or a rule's; only a
// rule's may have filters).
std::vector<Backend> DecodeBackends(const Value& obj) {
  return DecodeList(obj, "backends", [](const Value& item) {
    Backend backend;
    ReadString(item, "service", &backend.service);
    ReadInt(item, "port", &backend.port);
    ReadInt(item, "weight", &backend.weight);
    ReadBool(item, "canary", &backend.canary);
    ForEachItem(item, "filters", [&](const Value& f) {
      DecodeHeaderFilters(f, &backend.request_headers, &backend.response_headers);
    });
    return backend;
  });
}

std::optional<PathModifier> DecodePathModifier(const Value& obj) {
  const Value* path = Member(obj, "path");
  if (!path || !path->IsObject()) return std::nullopt;
  PathModifier m;
  if (OptString(*path, "type") == "ReplacePrefixMatch") {
    m.type = PathModifierType::kReplacePrefixMatch;
    ReadString(*path, "replacePrefixMatch", &m.value);
  } else {
    ReadString(*path, "replaceFullPath", &m.value);
  }
  return m;
}

RouteFilters DecodeFilters(const Value& rule) {
  RouteFilters out;
  ForEachItem(rule, "filters", [&](const Value& f) {
    DecodeHeaderFilters(f, &out.request_headers, &out.response_headers);
    const std::string type = OptString(f, "type").value_or("");
    if (type == "URLRewrite") {
      const Value& r = Object(f, "urlRewrite");
      UrlRewrite rewrite;
      rewrite.hostname = OptString(r, "hostname");
      rewrite.path = DecodePathModifier(r);
      out.url_rewrite = std::move(rewrite);
    } else if (type == "RequestRedirect") {
      const Value& r = Object(f, "requestRedirect");
      RequestRedirect redirect;
      redirect.scheme = OptString(r, "scheme");
      redirect.hostname = OptString(r, "hostname");
      if (const Value* port = Member(r, "port"); port && port->IsInt()) {
        redirect.port = port->GetInt();
      }
      redirect.path = DecodePathModifier(r);
      ReadInt(r, "statusCode", &redirect.status_code);
      out.redirect = std::move(redirect);
    } else if (type == "RequestMirror") {
      const Value& m = Object(f, "requestMirror");
      RequestMirror mirror;
      const Value& backend = Object(m, "backend");
      ReadString(backend, "service", &mirror.backend.service);
      ReadInt(backend, "port", &mirror.backend.port);
      ReadInt(m, "percent", &mirror.percent);
      out.mirror = std::move(mirror);
    }
  });
  return out;
}

std::optional<CanaryMatch> DecodeMatch(const Value& obj, const char* key) {
  const Value* v = Member(obj, key);
  if (!v || !v->IsObject()) return std::nullopt;
  CanaryMatch match;
  ReadString(*v, "name", &match.name);
  match.value = OptString(*v, "value");
  return match;
}

std::vector<ValueMatch> DecodeValueMatches(const Value& obj, const char* key) {
  return DecodeList(obj, key, [](const Value& item) {
    ValueMatch m;
    if (OptString(item, "type").value_or("Exact") == "RegularExpression") {
      m.type = ValueMatchType::kRegularExpression;
    }
    ReadString(item, "name", &m.name);
    ReadString(item, "value", &m.value);
    return m;
  });
}

RouteRule DecodeRule(const Value& obj) {
  RouteRule rule;
  rule.matches = DecodeList(obj, "matches", [](const Value& item) {
    RouteMatch m;
    const Value& path = Object(item, "path");
    std::string type = OptString(path, "type").value_or("PathPrefix");
    m.path.type = type == "Exact"               ? PathMatchType::kExact
                  : type == "RegularExpression" ? PathMatchType::kRegularExpression
                                                : PathMatchType::kPathPrefix;
    ReadString(path, "value", &m.path.value);
    m.headers = DecodeValueMatches(item, "headers");
    m.query_params = DecodeValueMatches(item, "queryParams");
    ReadString(item, "method", &m.method);
    return m;
  });
  if (rule.matches.empty()) rule.matches.emplace_back();
  rule.filters = DecodeFilters(obj);
  rule.backends = DecodeBackends(obj);
  const Value& timeouts = Object(obj, "timeouts");
  rule.timeouts.request = OptDuration(timeouts, "request");
  rule.timeouts.backend_request = OptDuration(timeouts, "backendRequest");
  if (const Value* r = Member(obj, "retry"); r && r->IsObject()) {
    RetryPolicy retry;
    ForEachItem(*r, "codes", [&](const Value& code) {
      if (code.IsInt()) retry.codes.push_back(code.GetInt());
    });
    ReadInt(*r, "attempts", &retry.attempts);
    retry.backoff = OptDuration(*r, "backoff");
    rule.retry = std::move(retry);
  }
  return rule;
}

LabelSelector DecodeSelector(const Value& obj) {
  LabelSelector selector;
  selector.match_labels = StringMap(obj, "matchLabels");
  selector.match_expressions = DecodeList(obj, "matchExpressions", [](const Value& item) {
    LabelRequirement r;
    ReadString(item, "key", &r.key);
    std::string op = OptString(item, "operator").value_or("Exists");
    r.op = op == "In"             ? LabelRequirement::Operator::kIn
           : op == "NotIn"        ? LabelRequirement::Operator::kNotIn
           : op == "DoesNotExist" ? LabelRequirement::Operator::kDoesNotExist
                                  : LabelRequirement::Operator::kExists;
    r.values = Strings(item, "values");
    return r;
  });
  return selector;
}

std::optional<Compression> DecodeCompression(const Value& obj) {
  const Value* c = Member(obj, "compression");
  if (!c || !c->IsObject()) return std::nullopt;
  Compression out;
  ReadBool(*c, "enabled", &out.enabled);
  if (Member(*c, "types")) out.types = Strings(*c, "types");
  if (const Value* m = Member(*c, "minLength"); m && m->IsInt()) out.min_length = m->GetInt();
  return out;
}

}  // namespace

ServiceCluster DecodeServiceCluster(const Value& doc) {
  ServiceCluster sc;
  sc.metadata = DecodeMeta(doc);
  const Value& spec = Object(doc, "spec");
  sc.spec.network = "sg-" + sc.metadata.name;
  ReadString(spec, "network", &sc.spec.network);
  if (auto mode = OptString(spec, "backendMode")) sc.spec.backend_mode = ParseBackendMode(*mode);

  ProxySpec& proxy = sc.spec.proxy;
  const Value& p = Object(spec, "proxy");
  ReadString(p, "image", &proxy.image);
  if (auto s = OptString(p, "engine")) {
    proxy.engine = *s == "haproxy" ? ProxyEngine::kHaproxy : ProxyEngine::kNginx;
  }
  if (auto s = OptString(p, "mode")) {
    proxy.mode = *s == "global" ? ProxyMode::kGlobal : ProxyMode::kReplicated;
  }
  ReadInt(p, "replicas", &proxy.replicas);
  if (auto s = OptString(p, "delivery")) {
    proxy.delivery = *s == "rolling" ? Delivery::kRolling : Delivery::kHot;
  }
  if (auto s = OptString(p, "publishMode")) {
    proxy.publish_mode = *s == "ingress" ? PublishMode::kIngress : PublishMode::kHost;
  }
  const Value& ports = Object(p, "ports");
  ReadInt(ports, "http", &proxy.ports.http);
  ReadInt(ports, "https", &proxy.ports.https);
  proxy.constraints = Strings(p, "constraints");
  ReadDuration(p, "stopGracePeriod", &proxy.stop_grace_period);

  const Value& up = Object(p, "updatePolicy");
  if (auto s = OptString(up, "order")) proxy.update_policy.order = ParseOrder(*s);
  ReadInt(up, "parallelism", &proxy.update_policy.parallelism);
  ReadDuration(up, "delay", &proxy.update_policy.delay);
  if (auto s = OptString(up, "failureAction")) {
    proxy.update_policy.failure_action = *s == "pause"      ? FailureAction::kPause
                                         : *s == "continue" ? FailureAction::kContinue
                                                            : FailureAction::kRollback;
  }
  ReadDuration(up, "monitor", &proxy.update_policy.monitor);

  const Value& cfg = Object(p, "config");
  ReadInt(cfg, "workerConnections", &proxy.config.worker_connections);
  ReadDuration(cfg, "keepaliveTimeout", &proxy.config.keepalive_timeout);
  if (auto s = OptString(cfg, "clientMaxBodySize")) {
    proxy.config.client_max_body_size = *s;
    proxy.config.client_max_body_size_bytes = ParseSize(*s).value_or(0);
  }

  if (auto s = OptString(Object(spec, "accessLog"), "format")) {
    sc.spec.access_log.format = *s == "json"       ? AccessLogFormat::kJson
                                : *s == "combined" ? AccessLogFormat::kCombined
                                                   : AccessLogFormat::kOff;
  }
  if (const Value* a = Member(spec, "allowedRoutes"); a && a->IsObject()) {
    AllowedRoutes allowed;
    allowed.hosts = Strings(*a, "hosts");
    if (const Value* sel = Member(*a, "selector"); sel && sel->IsObject()) {
      allowed.selector = DecodeSelector(*sel);
    }
    sc.spec.allowed_routes = std::move(allowed);
  }
  if (const Value* d = Member(spec, "defaultBackend"); d && d->IsObject()) {
    DefaultBackend backend;
    ReadString(*d, "service", &backend.service);
    ReadInt(*d, "port", &backend.port);
    ReadInt(*d, "status", &backend.status);
    sc.spec.default_backend = std::move(backend);
  }
  sc.spec.client_address.trusted_proxies = Strings(Object(spec, "clientAddress"), "trustedProxies");
  ReadBool(Object(spec, "clientAddress"), "proxyProtocol", &sc.spec.client_address.proxy_protocol);
  sc.spec.compression = DecodeCompression(spec);
  return sc;
}

Route DecodeRoute(const Value& doc) {
  Route route;
  route.metadata = DecodeMeta(doc);
  const Value& spec = Object(doc, "spec");
  RouteSpec& rs = route.spec;
  ReadString(spec, "serviceCluster", &rs.service_cluster);
  rs.hosts = Strings(spec, "hosts");
  ReadString(spec, "path", &rs.path);
  rs.rewrite = OptString(spec, "rewrite");
  rs.backends = DecodeBackends(spec);
  rs.rules = DecodeList(spec, "rules", DecodeRule);
  if (const Value* c = Member(spec, "canary"); c && c->IsObject()) {
    rs.canary = CanaryRules{DecodeMatch(*c, "header"), DecodeMatch(*c, "cookie")};
  }
  if (auto mode = OptString(spec, "backendMode")) rs.backend_mode = ParseBackendMode(*mode);
  if (const Value* t = Member(spec, "tls"); t && t->IsObject()) {
    Tls tls;
    if (auto mode = OptString(*t, "mode")) {
      tls.mode = *mode == "passthrough" ? TlsMode::kPassthrough : TlsMode::kTerminate;
    }
    tls.secret = OptString(*t, "secret");
    ReadBool(*t, "redirectHTTP", &tls.redirect_http);
    rs.tls = std::move(tls);
  }
  if (const Value* s = Member(spec, "stickySession"); s && s->IsObject()) {
    StickySession sticky;
    ReadString(*s, "cookie", &sticky.cookie);
    rs.sticky_session = std::move(sticky);
  }
  ReadBool(spec, "websocket", &rs.websocket);
  const Value& timeouts = Object(spec, "timeouts");
  ReadDuration(timeouts, "connect", &rs.timeouts.connect);
  ReadDuration(timeouts, "read", &rs.timeouts.read);
  ReadDuration(timeouts, "send", &rs.timeouts.send);
  const Value& hc = Object(spec, "healthCheck");
  ReadInt(hc, "maxFails", &rs.health_check.max_fails);
  ReadDuration(hc, "failTimeout", &rs.health_check.fail_timeout);
  if (const Value* r = Member(spec, "rateLimit"); r && r->IsObject()) {
    RateLimit limit;
    ReadInt(*r, "requestsPerSecond", &limit.requests_per_second);
    ReadInt(*r, "burst", &limit.burst);
    rs.rate_limit = limit;
  }
  if (const Value* a = Member(spec, "ipAccess"); a && a->IsObject()) {
    rs.ip_access = IpAccess{Strings(*a, "allow"), Strings(*a, "deny")};
  }
  if (const Value* c = Member(spec, "cors"); c && c->IsObject()) {
    Cors cors;
    cors.allow_origins = Strings(*c, "allowOrigins");
    if (Member(*c, "allowMethods")) cors.allow_methods = Strings(*c, "allowMethods");
    cors.allow_headers = Strings(*c, "allowHeaders");
    cors.expose_headers = Strings(*c, "exposeHeaders");
    ReadBool(*c, "allowCredentials", &cors.allow_credentials);
    if (const Value* m = Member(*c, "maxAge"); m && m->IsInt()) cors.max_age = m->GetInt();
    rs.cors = std::move(cors);
  }
  rs.compression = DecodeCompression(spec);
  rs.redirects = DecodeList(spec, "redirects", [](const Value& item) {
    Redirect redirect;
    ReadString(item, "from", &redirect.from);
    ReadString(item, "to", &redirect.to);
    ReadInt(item, "code", &redirect.code);
    return redirect;
  });
  if (const Value* u = Member(spec, "updatePolicy"); u && u->IsObject()) {
    RouteUpdatePolicy policy;
    if (auto s = OptString(*u, "order")) policy.order = ParseOrder(*s);
    policy.delay = OptDuration(*u, "delay");
    policy.stop_grace_period = OptDuration(*u, "stopGracePeriod");
    ReadBool(*u, "requireHealthcheck", &policy.require_healthcheck);
    rs.update_policy = std::move(policy);
  }
  return route;
}

}  // namespace sg::crds
