#include "crds/decode.h"

#include "crds/grammar.h"

#include <map>

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

std::vector<std::string> Strings(const Value& obj, const char* key) {
  std::vector<std::string> out;
  if (const Value* list = Member(obj, key); list && list->IsArray()) {
    for (const auto& item : list->GetArray()) {
      if (item.IsString()) out.emplace_back(item.GetString(), item.GetStringLength());
    }
  }
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
  std::vector<HeaderValue> out;
  if (const Value* items = Member(obj, key); items && items->IsArray()) {
    for (const auto& item : items->GetArray()) {
      HeaderValue h;
      ReadString(item, "name", &h.name);
      ReadString(item, "value", &h.value);
      out.push_back(std::move(h));
    }
  }
  return out;
}

HeaderModifier DecodeHeaderModifier(const Value& obj) {
  HeaderModifier m;
  m.set = HeaderValues(obj, "set");
  m.add = HeaderValues(obj, "add");
  m.remove = Strings(obj, "remove");
  return m;
}

// The header modifier a filter of `type` carries, if `filter` is of that type.
// Validation made the type name the one field present, so the type decides.
std::optional<HeaderModifier> FilterHeaders(const Value& filter, const char* type,
                                            const char* key) {
  if (OptString(filter, "type") != type) return std::nullopt;
  return DecodeHeaderModifier(Object(filter, key));
}

// The backends listed at `obj`.backends (spec.backends or a rule's; only a
// rule's may have filters).
std::vector<Backend> DecodeBackends(const Value& obj) {
  std::vector<Backend> out;
  if (const Value* b = Member(obj, "backends"); b && b->IsArray()) {
    for (const auto& item : b->GetArray()) {
      Backend backend;
      ReadString(item, "service", &backend.service);
      ReadInt(item, "port", &backend.port);
      ReadInt(item, "weight", &backend.weight);
      ReadBool(item, "canary", &backend.canary);
      if (const Value* filters = Member(item, "filters"); filters && filters->IsArray()) {
        for (const auto& f : filters->GetArray()) {
          if (auto h = FilterHeaders(f, "RequestHeaderModifier", "requestHeaderModifier")) {
            backend.request_headers = std::move(h);
          }
          if (auto h = FilterHeaders(f, "ResponseHeaderModifier", "responseHeaderModifier")) {
            backend.response_headers = std::move(h);
          }
        }
      }
      out.push_back(std::move(backend));
    }
  }
  return out;
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
  const Value* filters = Member(rule, "filters");
  if (!filters || !filters->IsArray()) return out;
  for (const auto& f : filters->GetArray()) {
    if (auto h = FilterHeaders(f, "RequestHeaderModifier", "requestHeaderModifier")) {
      out.request_headers = std::move(h);
    }
    if (auto h = FilterHeaders(f, "ResponseHeaderModifier", "responseHeaderModifier")) {
      out.response_headers = std::move(h);
    }
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
  }
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
  std::vector<ValueMatch> out;
  if (const Value* list = Member(obj, key); list && list->IsArray()) {
    for (const auto& item : list->GetArray()) {
      ValueMatch m;
      if (OptString(item, "type").value_or("Exact") == "RegularExpression") {
        m.type = ValueMatchType::kRegularExpression;
      }
      ReadString(item, "name", &m.name);
      ReadString(item, "value", &m.value);
      out.push_back(std::move(m));
    }
  }
  return out;
}

RouteRule DecodeRule(const Value& obj) {
  RouteRule rule;
  if (const Value* list = Member(obj, "matches"); list && list->IsArray()) {
    for (const auto& item : list->GetArray()) {
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
      rule.matches.push_back(std::move(m));
    }
  }
  if (rule.matches.empty()) rule.matches.emplace_back();
  rule.filters = DecodeFilters(obj);
  rule.backends = DecodeBackends(obj);
  const Value& timeouts = Object(obj, "timeouts");
  rule.timeouts.request = OptDuration(timeouts, "request");
  rule.timeouts.backend_request = OptDuration(timeouts, "backendRequest");
  if (const Value* r = Member(obj, "retry"); r && r->IsObject()) {
    RetryPolicy retry;
    if (const Value* codes = Member(*r, "codes"); codes && codes->IsArray()) {
      for (const auto& code : codes->GetArray()) {
        if (code.IsInt()) retry.codes.push_back(code.GetInt());
      }
    }
    ReadInt(*r, "attempts", &retry.attempts);
    retry.backoff = OptDuration(*r, "backoff");
    rule.retry = std::move(retry);
  }
  return rule;
}

LabelSelector DecodeSelector(const Value& obj) {
  LabelSelector selector;
  selector.match_labels = StringMap(obj, "matchLabels");
  if (const Value* list = Member(obj, "matchExpressions"); list && list->IsArray()) {
    for (const auto& item : list->GetArray()) {
      LabelRequirement r;
      ReadString(item, "key", &r.key);
      std::string op = OptString(item, "operator").value_or("Exists");
      r.op = op == "In"             ? LabelRequirement::Operator::kIn
             : op == "NotIn"        ? LabelRequirement::Operator::kNotIn
             : op == "DoesNotExist" ? LabelRequirement::Operator::kDoesNotExist
                                    : LabelRequirement::Operator::kExists;
      r.values = Strings(item, "values");
      selector.match_expressions.push_back(std::move(r));
    }
  }
  return selector;
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
  if (const Value* rules = Member(spec, "rules"); rules && rules->IsArray()) {
    for (const auto& item : rules->GetArray()) rs.rules.push_back(DecodeRule(item));
  }
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
  if (const Value* r = Member(spec, "redirects"); r && r->IsArray()) {
    for (const auto& item : r->GetArray()) {
      Redirect redirect;
      ReadString(item, "from", &redirect.from);
      ReadString(item, "to", &redirect.to);
      ReadInt(item, "code", &redirect.code);
      rs.redirects.push_back(std::move(redirect));
    }
  }
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
