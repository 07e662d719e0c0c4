#include "crds/semantic.h"

#include <cctype>
#include <map>
#include <set>
#include <string_view>

#include "crds/diagnostic.h"
#include "crds/grammar.h"
#include "crds/regex_check.h"
#include "crds/source_map.h"

namespace sg::crds {
namespace {

using rapidjson::Value;
using Grammar = std::string (*)(std::string_view);

std::string_view View(const Value& v) { return {v.GetString(), v.GetStringLength()}; }

class Checker {
 public:
  Checker(const FailedPaths& failed, std::vector<FieldIssue>* out) : failed_(failed), out_(out) {}

  // The member `key` of `obj` if present and its path has not already failed.
  const Value* Get(const Value* obj, const char* key, const std::string& path) const {
    if (!obj || !obj->IsObject() || failed_.Covers(path)) return nullptr;
    auto m = obj->FindMember(key);
    return m == obj->MemberEnd() ? nullptr : &m->value;
  }

  // Later checks skip `path` too: one error per field.
  void Add(const std::string& path, std::string message) {
    out_->push_back(FieldIssue{path, std::move(message)});
    failed_.Add(path);
  }

  void String(const Value* obj, const char* key, const std::string& parent, Grammar grammar) {
    std::string path = ChildPath(parent, key);
    if (const Value* v = Get(obj, key, path); v && v->IsString()) StringValue(*v, path, grammar);
  }

  void StringValue(const Value& v, const std::string& path, Grammar grammar) {
    if (failed_.Covers(path)) return;
    std::string expected = grammar(View(v));
    if (!expected.empty()) Add(path, "expected " + expected + ", got " + Quote(View(v)));
  }

  void StringList(const Value* obj, const char* key, const std::string& parent, Grammar grammar) {
    std::string path = ChildPath(parent, key);
    const Value* list = Get(obj, key, path);
    if (!list || !list->IsArray()) return;
    for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
      if ((*list)[i].IsString()) StringValue((*list)[i], IndexPath(path, i), grammar);
    }
  }

  void Duration(const Value* obj, const char* key, const std::string& parent, bool allow_zero) {
    std::string path = ChildPath(parent, key);
    const Value* v = Get(obj, key, path);
    if (!v || !v->IsString()) return;
    std::string expected = CheckDuration(View(*v), allow_zero);
    if (!expected.empty()) Add(path, "expected " + expected + ", got " + Quote(View(*v)));
  }

  void Int(const Value* obj, const char* key, const std::string& parent, int64_t min, int64_t max) {
    std::string path = ChildPath(parent, key);
    const Value* v = Get(obj, key, path);
    if (!v || !v->IsNumber()) return;
    bool ok = v->IsInt64() && v->GetInt64() >= min && v->GetInt64() <= max;
    if (!ok) {
      std::string got = v->IsInt64()    ? std::to_string(v->GetInt64())
                        : v->IsUint64() ? std::to_string(v->GetUint64())
                                        : std::to_string(v->GetDouble());
      Add(path, "expected an integer " + std::to_string(min) + "-" + std::to_string(max) +
                    ", got " + got);
    }
  }

  void Metadata(const Value& doc) {
    const Value* meta = Get(&doc, "metadata", "metadata");
    String(meta, "name", "metadata", CheckResourceName);
    Labels(meta, "labels", "metadata.labels");
  }

  // A map of label keys to values at `obj`.`key` (metadata.labels, a
  // selector's matchLabels).
  void Labels(const Value* obj, const char* key, const std::string& labels_path) {
    const Value* labels = Get(obj, key, labels_path);
    if (!labels || !labels->IsObject()) return;
    for (const auto& m : labels->GetObject()) {
      std::string path = ChildPath(labels_path, View(m.name));
      if (failed_.Covers(path)) continue;
      std::string expected = CheckLabelKey(View(m.name));
      if (!expected.empty()) {
        Add(path, "expected " + expected + ", got key " + Quote(View(m.name)));
      } else if (m.value.IsString()) {
        StringValue(m.value, path, CheckLabelValue);
      }
    }
  }

  bool Failed(const std::string& path) const { return failed_.Touches(path); }

 private:
  FailedPaths failed_;
  std::vector<FieldIssue>* out_;
};

void CheckAllowedRoutes(const Value* allowed, Checker& c) {
  const std::string a = "spec.allowedRoutes";
  c.StringList(allowed, "hosts", a, CheckHost);
  const std::string s = a + ".selector";
  const Value* selector = c.Get(allowed, "selector", s);
  c.Labels(selector, "matchLabels", s + ".matchLabels");
  const Value* exprs = c.Get(selector, "matchExpressions", s + ".matchExpressions");
  if (!exprs || !exprs->IsArray()) return;
  for (rapidjson::SizeType i = 0; i < exprs->Size(); ++i) {
    const std::string path = IndexPath(s + ".matchExpressions", i);
    const Value& e = (*exprs)[i];
    c.String(&e, "key", path, CheckLabelKey);
    const Value* op = c.Get(&e, "operator", path + ".operator");
    const Value* values = c.Get(&e, "values", path + ".values");
    if (!op || !op->IsString()) continue;
    std::string_view o = View(*op);
    bool set_op = o == "In" || o == "NotIn";
    size_t n = values && values->IsArray() ? values->Size() : 0;
    if (set_op && n == 0) {
      c.Add(path + ".values", "expected at least one value with operator " + std::string(o));
    } else if (!set_op && n > 0) {
      c.Add(path + ".values",
            "expected no values with operator " + std::string(o) + ", got " + std::to_string(n));
    }
  }
}

// Either a service and its port, or a fixed status.
void CheckDefaultBackend(const Value* backend, Checker& c) {
  const std::string d = "spec.defaultBackend";
  if (!backend || !backend->IsObject()) return;
  c.String(backend, "service", d, CheckDockerName);
  bool service = backend->HasMember("service");
  bool port = backend->HasMember("port");
  bool status = backend->HasMember("status");
  if (service && status && !c.Failed(d + ".status")) {
    c.Add(d + ".status", "expected either service and port or status, got both service and status");
  } else if (service && !port && !c.Failed(d)) {
    c.Add(d + ".port", "expected the service's container port with service");
  } else if (port && !service && !c.Failed(d + ".port")) {
    c.Add(d + ".service", "expected a service with port");
  }
}

void CheckServiceCluster(const Value& doc, Checker& c) {
  c.Metadata(doc);
  const Value* spec = c.Get(&doc, "spec", "spec");
  c.String(spec, "network", "spec", CheckDockerName);
  const Value* proxy = c.Get(spec, "proxy", "spec.proxy");
  const std::string p = "spec.proxy";
  c.String(proxy, "image", p, CheckImage);
  c.Int(proxy, "replicas", p, 0, 1000);
  if (const Value* mode = c.Get(proxy, "mode", p + ".mode");
      mode && mode->IsString() && std::string(mode->GetString()) == "global") {
    if (const Value* r = c.Get(proxy, "replicas", p + ".replicas");
        r && !c.Failed(p + ".replicas")) {
      c.Add(p + ".replicas",
            "expected no replicas with mode global (one proxy per eligible node), got " +
                std::to_string(r->IsInt64() ? r->GetInt64() : 0));
    }
  }
  c.StringList(proxy, "constraints", p, CheckConstraint);
  c.Duration(proxy, "stopGracePeriod", p, true);

  const Value* ports = c.Get(proxy, "ports", p + ".ports");
  c.Int(ports, "http", p + ".ports", 1, 65535);
  c.Int(ports, "https", p + ".ports", 1, 65535);
  const Value* http = c.Get(ports, "http", p + ".ports.http");
  const Value* https = c.Get(ports, "https", p + ".ports.https");
  int64_t http_port = http && http->IsInt64() ? http->GetInt64() : 80;
  int64_t https_port = https && https->IsInt64() ? https->GetInt64() : 443;
  if (http_port == https_port && !c.Failed(p + ".ports")) {
    c.Add(p + ".ports.https", "expected a port different from the http port " +
                                  std::to_string(http_port) + ", got " +
                                  std::to_string(https_port));
  }

  const Value* up = c.Get(proxy, "updatePolicy", p + ".updatePolicy");
  c.Int(up, "parallelism", p + ".updatePolicy", 0, 1000);
  c.Duration(up, "delay", p + ".updatePolicy", true);
  c.Duration(up, "monitor", p + ".updatePolicy", true);

  const Value* cfg = c.Get(proxy, "config", p + ".config");
  c.Int(cfg, "workerConnections", p + ".config", 1, 1048576);
  c.Duration(cfg, "keepaliveTimeout", p + ".config", true);
  c.String(cfg, "clientMaxBodySize", p + ".config", CheckSize);

  CheckAllowedRoutes(c.Get(spec, "allowedRoutes", "spec.allowedRoutes"), c);
  CheckDefaultBackend(c.Get(spec, "defaultBackend", "spec.defaultBackend"), c);
  const Value* client = c.Get(spec, "clientAddress", "spec.clientAddress");
  c.StringList(client, "trustedProxies", "spec.clientAddress", CheckCidr);
  const Value* pp = c.Get(client, "proxyProtocol", "spec.clientAddress.proxyProtocol");
  if (pp && pp->IsBool() && pp->GetBool() &&
      c.Get(client, "trustedProxies", "spec.clientAddress.trustedProxies")) {
    // Both engines take the client from one source: the PROXY header, or
    // X-Forwarded-For.
    c.Add("spec.clientAddress.proxyProtocol",
          "expected either proxyProtocol or trustedProxies: with the PROXY protocol the client "
          "is the address its header names, and X-Forwarded-For is not read");
  }
}

void CheckCanaryMatch(const Value* canary, const char* key, Checker& c) {
  std::string path = ChildPath("spec.canary", key);
  const Value* match = c.Get(canary, key, path);
  c.String(match, "name", path, CheckToken);
  c.String(match, "value", path, CheckHeaderValue);
}

// The backends at `parent`.backends: grammar of each, then the rules that
// relate them. Whether any is a canary.
bool CheckBackends(const Value* parent, const std::string& parent_path, Checker& c) {
  const std::string list_path = parent_path + ".backends";
  const Value* backends = c.Get(parent, "backends", list_path);
  bool any_canary = false;
  if (backends && backends->IsArray()) {
    int64_t positive = 0;
    std::map<std::string, std::string> seen;  // service:port -> first path
    for (rapidjson::SizeType i = 0; i < backends->Size(); ++i) {
      const Value& b = (*backends)[i];
      std::string path = IndexPath(list_path, i);
      c.String(&b, "service", path, CheckDockerName);
      c.Int(&b, "port", path, 1, 65535);
      c.Int(&b, "weight", path, 0, 100);
      if (!b.IsObject()) continue;
      const Value* weight = c.Get(&b, "weight", path + ".weight");
      if (!weight || (weight->IsInt64() && weight->GetInt64() > 0)) ++positive;
      const Value* canary = c.Get(&b, "canary", path + ".canary");
      if (canary && canary->IsBool() && canary->GetBool()) any_canary = true;
      const Value* service = c.Get(&b, "service", path + ".service");
      const Value* port = c.Get(&b, "port", path + ".port");
      if (service && service->IsString() && port && port->IsInt64() && !c.Failed(path)) {
        std::string key = std::string(View(*service)) + ":" + std::to_string(port->GetInt64());
        auto [it, inserted] = seen.emplace(key, path);
        if (!inserted) {
          c.Add(path, "expected each service and port once, got " + key + " again (first at " +
                          it->second + ")");
        }
      }
    }
    if (backends->Size() > 0 && positive == 0 && !c.Failed(list_path)) {
      c.Add(list_path, "expected at least one backend with weight > 0, got all weights 0");
    }
  }
  return any_canary;
}

// A value of a match: a string of the grammar, or a pattern.
void CheckMatchValue(const Value* obj, const std::string& path, bool regex, Grammar grammar,
                     Checker& c) {
  const Value* v = c.Get(obj, "value", path + ".value");
  if (!v || !v->IsString()) return;
  std::string expected = regex ? CheckRegex(View(*v)) : grammar(View(*v));
  if (!expected.empty())
    c.Add(path + ".value", "expected " + expected + ", got " + Quote(View(*v)));
}

bool IsRegex(const Value* obj) {
  if (!obj || !obj->IsObject()) return false;
  auto m = obj->FindMember("type");
  return m != obj->MemberEnd() && m->value.IsString() && View(m->value) == "RegularExpression";
}

void CheckValueMatches(const Value* match, const char* key, const std::string& match_path,
                       bool case_insensitive_names, Checker& c) {
  const std::string list_path = ChildPath(match_path, key);
  const Value* list = c.Get(match, key, list_path);
  if (!list || !list->IsArray()) return;
  std::map<std::string, std::string> seen;  // name -> first path
  for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
    const Value& m = (*list)[i];
    const std::string path = IndexPath(list_path, i);
    c.String(&m, "name", path, CheckToken);
    CheckMatchValue(&m, path, IsRegex(&m), CheckHeaderValue, c);
    const Value* name = c.Get(&m, "name", path + ".name");
    if (!name || !name->IsString()) continue;
    std::string key_name(View(*name));
    if (case_insensitive_names) {
      for (char& ch : key_name)
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
    auto [it, inserted] = seen.emplace(key_name, path);
    if (!inserted) {
      c.Add(path + ".name", "expected each name once in a match, got " + Quote(View(*name)) +
                                " again (first at " + it->second + ")");
    }
  }
}

std::string Lower(std::string_view v) {
  std::string out(v);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

// Where a filter sends a request (urlRewrite.hostname) or a client
// (requestRedirect.hostname): one host, so no wildcard.
std::string CheckExactHost(std::string_view v) {
  const char* kExpected =
      "a lowercase host name (RFC 1123 labels of at most 63 letters, digits and '-', at most "
      "253 characters) without a wildcard";
  if (v.substr(0, 2) == "*." || !CheckHost(v).empty()) return kExpected;
  return {};
}

// Header filter values are written into nginx.conf and haproxy.cfg inside
// quotes: a quote or backslash would end or escape the string and '$' would
// expand a variable; backticks are refused with them so that no quoting
// character of any kind reaches a config. Spaces at either end are not part
// of an HTTP field value (RFC 7230 strips them), so they could not arrive as
// written.
std::string CheckModifiedHeaderValue(std::string_view v) {
  const char* kExpected =
      "a header value of 1-1024 printable ASCII characters without quotes, backslashes, '$' or "
      "backticks, not starting or ending with a space (values are written into nginx.conf and "
      "haproxy.cfg)";
  if (v.empty() || v.size() > 1024 || v.front() == ' ' || v.back() == ' ') return kExpected;
  for (char ch : v) {
    if (ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\'' || ch == '\\' || ch == '$' || ch == '`') {
      return kExpected;
    }
  }
  return {};
}

// Headers the proxies own: they frame the message or belong to one hop, and
// each engine sets them itself; changing them would corrupt the exchange.
// Lower case.
constexpr std::string_view kHopByHopHeaders[] = {
    "connection", "keep-alive", "transfer-encoding", "content-length",
    "te",         "trailer",    "upgrade",           "proxy-connection"};

// A header modifier at `path` (requestHeaderModifier or
// responseHeaderModifier): names, values, and each name once across set, add
// and remove, since the engines apply the three in a fixed order and a name
// in two of them would make one cancel the other.
void CheckHeaderModifier(const Value* modifier, const std::string& path, bool request, Checker& c) {
  if (!modifier || !modifier->IsObject()) return;
  std::map<std::string, std::string> seen;  // lower-case name -> first path
  auto name = [&](const Value& v, const std::string& name_path) {
    if (!v.IsString() || c.Failed(name_path)) return;
    c.StringValue(v, name_path, CheckToken);
    if (c.Failed(name_path)) return;
    const std::string lower = Lower(View(v));
    if (lower == "host") {
      c.Add(name_path, request ? "expected a header name other than Host, got " + Quote(View(v)) +
                                     "; set the Host the backend sees with urlRewrite.hostname"
                               : "expected a header name other than Host, which is a request "
                                 "header, got " +
                                     Quote(View(v)));
      return;
    }
    for (std::string_view hop : kHopByHopHeaders) {
      if (lower != hop) continue;
      c.Add(name_path,
            "expected a header name other than the hop-by-hop and framing headers Connection, "
            "Keep-Alive, Transfer-Encoding, Content-Length, TE, Trailer, Upgrade and "
            "Proxy-Connection, which the proxies set themselves, got " +
                Quote(View(v)));
      return;
    }
    auto [it, inserted] = seen.emplace(lower, name_path);
    if (!inserted) {
      c.Add(name_path, "expected each header name once in set, add and remove, got " +
                           Quote(View(v)) + " again (first at " + it->second + ")");
    }
  };
  for (const char* key : {"set", "add"}) {
    const std::string list_path = ChildPath(path, key);
    const Value* list = c.Get(modifier, key, list_path);
    if (!list || !list->IsArray()) continue;
    for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
      const Value& item = (*list)[i];
      const std::string item_path = IndexPath(list_path, i);
      if (const Value* n = c.Get(&item, "name", item_path + ".name")) name(*n, item_path + ".name");
      c.String(&item, "value", item_path, CheckModifiedHeaderValue);
    }
  }
  const std::string remove_path = path + ".remove";
  if (const Value* list = c.Get(modifier, "remove", remove_path); list && list->IsArray()) {
    for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
      name((*list)[i], IndexPath(remove_path, i));
    }
  }
}

// A urlRewrite.path or requestRedirect.path at `path`: `type` names the one
// field that holds the new path.
void CheckPathModifier(const Value* modifier, const std::string& path, Checker& c) {
  const Value* type = c.Get(modifier, "type", path + ".type");
  if (!type || !type->IsString()) return;
  const bool full = View(*type) == "ReplaceFullPath";
  const char* want = full ? "replaceFullPath" : "replacePrefixMatch";
  const char* other = full ? "replacePrefixMatch" : "replaceFullPath";
  const std::string t(View(*type));
  if (!modifier->HasMember(want)) {
    c.Add(ChildPath(path, want),
          "required field is missing: path type " + t + " takes the new path from " + want);
  }
  if (modifier->HasMember(other) && !c.Failed(ChildPath(path, other))) {
    c.Add(ChildPath(path, other),
          std::string("expected only ") + want + " with path type " + t + ", got " + other);
  }
  c.String(modifier, want, path, CheckPath);
}

// ReplacePrefixMatch replaces the prefix the request matched, which only a
// PathPrefix match has. `type_path` is the path modifier's type field.
void CheckPrefixReplaceable(const Value& rule, const std::string& rule_path,
                            const std::string& type_path, Checker& c) {
  if (c.Failed(type_path)) return;
  auto matches = rule.FindMember("matches");
  if (matches == rule.MemberEnd() || !matches->value.IsArray()) return;  // PathPrefix /
  for (rapidjson::SizeType m = 0; m < matches->value.Size(); ++m) {
    const std::string match_path = IndexPath(rule_path + ".matches", m);
    if (c.Failed(match_path + ".path")) return;
    std::string_view type = "PathPrefix";
    const Value* path = c.Get(&matches->value[m], "path", match_path + ".path");
    if (const Value* t = c.Get(path, "type", match_path + ".path.type"); t && t->IsString()) {
      type = View(*t);
    }
    if (type != "PathPrefix") {
      c.Add(type_path,
            "expected ReplacePrefixMatch only in a rule whose matches are all PathPrefix (it "
            "replaces the prefix the request matched), got " +
                match_path + " of type " + std::string(type) + "; use ReplaceFullPath");
      return;
    }
  }
}

// The filter types and the field each one carries.
constexpr std::pair<std::string_view, const char*> kFilterFields[] = {
    {"RequestHeaderModifier", "requestHeaderModifier"},
    {"ResponseHeaderModifier", "responseHeaderModifier"},
    {"URLRewrite", "urlRewrite"},
    {"RequestRedirect", "requestRedirect"},
    {"RequestMirror", "requestMirror"},
};

// The filters at `owner`.filters, a rule's (`rule` set) or a backend's: each
// carries exactly the field its type names, each type once. Returns the
// index of each type's filter.
std::map<std::string, rapidjson::SizeType> CheckFilters(const Value* owner,
                                                        const std::string& owner_path,
                                                        const Value* rule, Checker& c) {
  std::map<std::string, rapidjson::SizeType> types;
  const std::string list_path = owner_path + ".filters";
  const Value* list = c.Get(owner, "filters", list_path);
  if (!list || !list->IsArray()) return types;
  for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
    const Value& f = (*list)[i];
    const std::string path = IndexPath(list_path, i);
    const Value* type = c.Get(&f, "type", path + ".type");
    if (!type || !type->IsString()) continue;
    const std::string t(View(*type));
    const char* field = nullptr;
    for (const auto& [name, carried] : kFilterFields) {
      if (name == t) field = carried;
    }
    if (!field) continue;  // the schema refused the type
    auto [first, inserted] = types.emplace(t, i);
    if (!inserted) {
      c.Add(path + ".type", "expected each filter type once in a " +
                                std::string(rule ? "rule" : "backend") + ", got " + t +
                                " again (first at " + IndexPath(list_path, first->second) + ")");
      continue;
    }
    const std::string field_path = ChildPath(path, field);
    if (!f.HasMember(field)) {
      c.Add(field_path, "required field is missing: a filter of type " + t + " carries " + field);
    }
    for (const auto& [name, other] : kFilterFields) {
      const std::string other_path = ChildPath(path, other);
      if (other == field || !f.HasMember(other) || c.Failed(other_path)) continue;
      c.Add(other_path, std::string("expected only ") + field + " in a filter of type " + t +
                            ", got " + other + " too");
    }
    const Value* body = c.Get(&f, field, field_path);
    if (!body) continue;
    if (t == "RequestHeaderModifier" || t == "ResponseHeaderModifier") {
      CheckHeaderModifier(body, field_path, t == "RequestHeaderModifier", c);
    } else if (t == "URLRewrite" || t == "RequestRedirect") {
      c.String(body, "hostname", field_path, CheckExactHost);
      const std::string pm_path = field_path + ".path";
      const Value* pm = c.Get(body, "path", pm_path);
      CheckPathModifier(pm, pm_path, c);
      const Value* pm_type = c.Get(pm, "type", pm_path + ".type");
      if (rule && pm_type && pm_type->IsString() && View(*pm_type) == "ReplacePrefixMatch") {
        CheckPrefixReplaceable(*rule, owner_path, pm_path + ".type", c);
      }
    } else if (t == "RequestMirror") {
      const std::string b = field_path + ".backend";
      const Value* backend = c.Get(body, "backend", b);
      c.String(backend, "service", b, CheckDockerName);
      c.Int(backend, "port", b, 1, 65535);
      c.Int(body, "percent", field_path, 1, 100);
    }
  }
  return types;
}

// A rule's timeouts (0s: no limit) and retry policy.
void CheckTimeoutsAndRetry(const Value& rule, const std::string& rule_path, Checker& c) {
  const std::string t = rule_path + ".timeouts";
  const Value* timeouts = c.Get(&rule, "timeouts", t);
  c.Duration(timeouts, "request", t, true);
  c.Duration(timeouts, "backendRequest", t, true);
  const Value* request = c.Get(timeouts, "request", t + ".request");
  const Value* backend_request = c.Get(timeouts, "backendRequest", t + ".backendRequest");
  if (request && request->IsString() && backend_request && backend_request->IsString()) {
    auto whole = ParseDuration(View(*request));
    auto attempt = ParseDuration(View(*backend_request));
    if (whole && attempt && whole->count() > 0 && *attempt > *whole) {
      c.Add(t + ".backendRequest", "expected backendRequest no longer than request (" +
                                       std::string(View(*request)) +
                                       "): one attempt cannot outlast the whole request, got " +
                                       std::string(View(*backend_request)));
    }
  }

  const std::string r = rule_path + ".retry";
  const Value* retry = c.Get(&rule, "retry", r);
  c.Int(retry, "attempts", r, 0, 10);
  if (c.Get(retry, "backoff", r + ".backoff")) {
    c.Add(r + ".backoff",
          "expected no backoff: neither nginx nor HAProxy waits between retries; remove " + r +
              ".backoff");
  }
}

// A rule's filters, how they combine with each other and with its
// backends, and its backends' own filters.
void CheckRuleFilters(const Value& rule, const std::string& rule_path, Checker& c) {
  const auto types = CheckFilters(&rule, rule_path, &rule, c);
  auto filter_path = [&](const char* type) {
    return IndexPath(rule_path + ".filters", types.at(type));
  };
  // Two filters that exclude each other: the error goes to the later one.
  auto exclusive = [&](const char* a, const char* b, const std::string& why) {
    if (!types.count(a) || !types.count(b)) return;
    const bool a_first = types.at(a) < types.at(b);
    const std::string later = filter_path(a_first ? b : a);
    const std::string earlier = filter_path(a_first ? a : b);
    if (c.Failed(later) || c.Failed(earlier)) return;
    c.Add(later + ".type", std::string("expected either ") + a + " or " + b +
                               " in a rule, got both (" + (a_first ? a : b) + " at " + earlier +
                               "): " + why);
  };
  exclusive("URLRewrite", "RequestRedirect",
            "a redirect sends the client elsewhere, so nothing is rewritten for a backend");
  exclusive("RequestRedirect", "RequestMirror",
            "a redirect answers every request itself, so none is proxied to copy");
  const std::string backends_path = rule_path + ".backends";
  const Value* backends = c.Get(&rule, "backends", backends_path);
  if (!backends || !backends->IsArray()) return;
  if (types.count("RequestRedirect") && !c.Failed(backends_path)) {
    c.Add(backends_path, "expected no backends in a rule with a RequestRedirect filter (" +
                             filter_path("RequestRedirect") +
                             "), which answers every request itself, got " +
                             std::to_string(backends->Size()));
  }
  for (rapidjson::SizeType i = 0; i < backends->Size(); ++i) {
    CheckFilters(&(*backends)[i], IndexPath(backends_path, i), nullptr, c);
  }
}

// spec.rules: the one-rule shorthand or rules, never both; each match's
// values checked by their type (patterns compiled as the engines will).
void CheckRules(const Value* spec, Checker& c) {
  const Value* rules = c.Get(spec, "rules", "spec.rules");
  if (!rules) {
    if (spec->IsObject() && !spec->HasMember("backends") && !c.Failed("spec.backends")) {
      c.Add("spec.backends", "required field is missing: expected backends, or rules");
    }
    return;
  }
  for (const char* flat : {"path", "rewrite", "backends", "canary"}) {
    const std::string path = ChildPath("spec", flat);
    if (c.Get(spec, flat, path) && !c.Failed(path)) {
      c.Add(path, std::string("expected either rules or the one-rule shorthand (path, rewrite, "
                              "backends, canary), got both spec.rules and spec.") +
                      flat);
    }
  }
  if (!rules->IsArray()) return;
  for (rapidjson::SizeType r = 0; r < rules->Size(); ++r) {
    const Value& rule = (*rules)[r];
    const std::string rule_path = IndexPath("spec.rules", r);
    CheckBackends(&rule, rule_path, c);
    const Value* matches = c.Get(&rule, "matches", rule_path + ".matches");
    if (rule.IsObject()) {
      CheckRuleFilters(rule, rule_path, c);
      CheckTimeoutsAndRetry(rule, rule_path, c);
    }
    if (!matches || !matches->IsArray()) continue;
    for (rapidjson::SizeType m = 0; m < matches->Size(); ++m) {
      const Value& match = (*matches)[m];
      const std::string match_path = IndexPath(rule_path + ".matches", m);
      const std::string path_path = match_path + ".path";
      const Value* path = c.Get(&match, "path", path_path);
      CheckMatchValue(path, path_path, IsRegex(path), CheckPath, c);
      CheckValueMatches(&match, "headers", match_path, true, c);
      CheckValueMatches(&match, "queryParams", match_path, false, c);
    }
  }
}

// "*" among other origins would make them pointless; credentials with "*"
// are fine, since the allowed origin is echoed, never "*".
void CheckCors(const Value* cors, Checker& c) {
  const std::string path = "spec.cors.allowOrigins";
  const Value* origins = c.Get(cors, "allowOrigins", path);
  if (!origins || !origins->IsArray() || origins->Size() < 2) return;
  for (rapidjson::SizeType i = 0; i < origins->Size(); ++i) {
    if ((*origins)[i].IsString() && View((*origins)[i]) == "*") {
      c.Add(IndexPath(path, i), "expected \"*\" alone (it allows every origin), got it among " +
                                    std::to_string(origins->Size()) + " origins");
      return;
    }
  }
}

void CheckRoute(const Value& doc, Checker& c) {
  c.Metadata(doc);
  const Value* spec = c.Get(&doc, "spec", "spec");
  if (!spec || !spec->IsObject()) return;
  const std::string s = "spec";
  c.String(spec, "serviceCluster", s, CheckResourceName);
  c.StringList(spec, "hosts", s, CheckHost);
  c.String(spec, "path", s, CheckPath);
  c.String(spec, "rewrite", s, CheckPath);

  bool any_canary = CheckBackends(spec, "spec", c);
  CheckRules(spec, c);
  const Value* canary = c.Get(spec, "canary", "spec.canary");
  CheckCanaryMatch(canary, "header", c);
  CheckCanaryMatch(canary, "cookie", c);
  bool has_canary_rules =
      canary && canary->IsObject() && (canary->HasMember("header") || canary->HasMember("cookie"));
  if (has_canary_rules && !any_canary && !c.Failed("spec.backends") && !c.Failed("spec.canary")) {
    c.Add("spec.canary",
          "expected a backend with canary: true for the canary rules to send traffic to, got "
          "none");
  }

  const Value* sticky = c.Get(spec, "stickySession", "spec.stickySession");
  c.String(sticky, "cookie", "spec.stickySession", CheckToken);

  const Value* tls = c.Get(spec, "tls", "spec.tls");
  c.String(tls, "secret", "spec.tls", CheckDockerName);
  const Value* mode = c.Get(tls, "mode", "spec.tls.mode");
  if (mode && mode->IsString() && tls->IsObject()) {
    bool has_secret = tls->HasMember("secret");
    if (View(*mode) == "terminate" && !has_secret) {
      c.Add("spec.tls.secret",
            "required field is missing: tls mode terminate needs the Docker secret holding the "
            "certificate chain and key");
    }
    if (View(*mode) == "passthrough") {
      if (has_secret && !c.Failed("spec.tls.secret")) {
        c.Add("spec.tls.secret",
              "expected no secret with tls mode passthrough (the backends terminate TLS), got " +
                  Quote(tls->FindMember("secret")->value.IsString()
                            ? View(tls->FindMember("secret")->value)
                            : std::string_view("?")));
      }
      const Value* path = c.Get(spec, "path", "spec.path");
      if (path && path->IsString() && View(*path) != "/") {
        c.Add("spec.path",
              "expected no path (or \"/\") with tls mode passthrough, which routes "
              "by SNI and never sees the URL, got " +
                  Quote(View(*path)));
      }
      if (c.Get(spec, "rewrite", "spec.rewrite")) {
        c.Add("spec.rewrite",
              "expected no rewrite with tls mode passthrough, which never sees "
              "the URL");
      }
      if (has_canary_rules && !c.Failed("spec.canary")) {
        c.Add("spec.canary",
              "expected no header or cookie canary rules with tls mode "
              "passthrough, which never sees HTTP headers");
      }
      if (sticky && !c.Failed("spec.stickySession")) {
        c.Add("spec.stickySession",
              "expected no sticky session with tls mode passthrough, "
              "which never sees cookies");
      }
      for (const char* key : {"ipAccess", "cors", "compression"}) {
        const std::string field = std::string("spec.") + key;
        if (c.Get(spec, key, field) && !c.Failed(field)) {
          c.Add(field, "expected no " + std::string(key) +
                           " with tls mode passthrough, which never sees HTTP requests");
        }
      }
      if (c.Get(spec, "rules", "spec.rules") && !c.Failed("spec.rules")) {
        c.Add("spec.rules",
              "expected backends instead of rules with tls mode passthrough, which routes by "
              "SNI and never sees the request");
      }
    }
  }

  const Value* timeouts = c.Get(spec, "timeouts", "spec.timeouts");
  c.Duration(timeouts, "connect", "spec.timeouts", false);
  c.Duration(timeouts, "read", "spec.timeouts", false);
  c.Duration(timeouts, "send", "spec.timeouts", false);

  const Value* hc = c.Get(spec, "healthCheck", "spec.healthCheck");
  c.Int(hc, "maxFails", "spec.healthCheck", 0, 1000);
  c.Duration(hc, "failTimeout", "spec.healthCheck", false);

  const Value* rl = c.Get(spec, "rateLimit", "spec.rateLimit");
  c.Int(rl, "requestsPerSecond", "spec.rateLimit", 1, 1000000);
  c.Int(rl, "burst", "spec.rateLimit", 0, 1000000);

  const Value* access = c.Get(spec, "ipAccess", "spec.ipAccess");
  c.StringList(access, "allow", "spec.ipAccess", CheckCidr);
  c.StringList(access, "deny", "spec.ipAccess", CheckCidr);
  CheckCors(c.Get(spec, "cors", "spec.cors"), c);

  std::set<std::string_view> hosts;
  if (const Value* h = c.Get(spec, "hosts", "spec.hosts"); h && h->IsArray()) {
    for (const Value& host : h->GetArray()) {
      if (host.IsString()) hosts.insert(View(host));
    }
  }
  const Value* redirects = c.Get(spec, "redirects", "spec.redirects");
  if (redirects && redirects->IsArray()) {
    for (rapidjson::SizeType i = 0; i < redirects->Size(); ++i) {
      const Value& r = (*redirects)[i];
      std::string path = IndexPath("spec.redirects", i);
      c.String(&r, "from", path, CheckHost);
      c.String(&r, "to", path, CheckRedirectUrl);
      const Value* code = c.Get(&r, "code", path + ".code");
      if (code && (!code->IsInt64() || (code->GetInt64() != 301 && code->GetInt64() != 302 &&
                                        code->GetInt64() != 307 && code->GetInt64() != 308))) {
        c.Add(path + ".code", "expected one of: 301, 302, 307, 308; got " +
                                  (code->IsInt64() ? std::to_string(code->GetInt64())
                                                   : std::string("a non-integer")));
      }
      const Value* from = c.Get(&r, "from", path + ".from");
      if (from && from->IsString() && hosts.count(View(*from))) {
        c.Add(path + ".from",
              "expected a host this route does not serve (a redirect from it "
              "would loop), got " +
                  Quote(View(*from)));
      }
    }
  }

  const Value* up = c.Get(spec, "updatePolicy", "spec.updatePolicy");
  c.Duration(up, "delay", "spec.updatePolicy", true);
  c.Duration(up, "stopGracePeriod", "spec.updatePolicy", true);
}

}  // namespace

std::vector<FieldIssue> CheckSemantics(Kind kind, const rapidjson::Value& document,
                                       const FailedPaths& failed) {
  std::vector<FieldIssue> issues;
  if (!document.IsObject()) return issues;
  Checker checker(failed, &issues);
  if (kind == Kind::kServiceCluster) {
    CheckServiceCluster(document, checker);
  } else {
    CheckRoute(document, checker);
  }
  return issues;
}

}  // namespace sg::crds
