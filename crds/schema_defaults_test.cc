// The defaults written in the JSON Schemas (what users and editors read) are
// the defaults the C++ types apply (what the operator does): every `default`
// keyword of both schemas is found by walking them, and a minimal resource
// that omits the field must decode to exactly that value. In the other
// direction, every C++ field with a default of its own must have a `default`
// in the schema.

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/pointer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "crds/grammar.h"
#include "crds/loader.h"
#include "crds/schema.h"
#include "crds/test_util.h"
#include "crds/types.h"

namespace sg::crds {
namespace {

using rapidjson::Value;

// A schema value as compact JSON, so values of any type compare as text.
std::string Json(const Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return buf.GetString();
}

std::string Quoted(const std::string& s) {
  Value v(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
  return Json(v);
}
std::string Int(long long v) { return std::to_string(v); }
std::string Bool(bool v) { return v ? "true" : "false"; }
// A duration's text, checked against its value so the two cannot disagree.
std::string Dur(const Duration& d) {
  EXPECT_EQ(d.value, Duration::Parse(d.text).value) << d.text;
  return Quoted(d.text);
}

std::string List(const std::vector<std::string>& v) {
  std::string out = "[";
  for (const std::string& s : v) out += (out.size() > 1 ? "," : "") + Quoted(s);
  return out + "]";
}

// Every `default` of a schema, by JSON Pointer of the instance ("/spec/path";
// array items are "/0"). A default beside a $ref and one in the referenced
// definition are both collected; if both exist they must agree.
class DefaultCollector {
 public:
  explicit DefaultCollector(const rapidjson::Document& root) : root_(root) {}

  std::map<std::string, std::string> Collect() {
    Walk(root_, "", 0);
    return defaults_;
  }

 private:
  void Record(const std::string& path, const Value& value) {
    const std::string json = Json(value);
    auto [it, inserted] = defaults_.emplace(path, json);
    if (!inserted && it->second != json) {
      ADD_FAILURE() << path << ": the schema gives two defaults, " << it->second << " and " << json;
    }
  }

  void Walk(const Value& node, const std::string& path, int depth) {
    ASSERT_LT(depth, 32) << "schema references loop at " << path;
    if (!node.IsObject()) return;
    if (auto d = node.FindMember("default"); d != node.MemberEnd()) Record(path, d->value);
    if (auto ref = node.FindMember("$ref"); ref != node.MemberEnd() && ref->value.IsString()) {
      const std::string target = ref->value.GetString();
      ASSERT_EQ(target.rfind("#/", 0), 0u) << "only local references are expected: " << target;
      const Value* def = rapidjson::Pointer(target.substr(1).c_str()).Get(root_);
      ASSERT_NE(def, nullptr) << path << ": dangling $ref " << target;
      Walk(*def, path, depth + 1);
    }
    if (auto props = node.FindMember("properties");
        props != node.MemberEnd() && props->value.IsObject()) {
      for (const auto& p : props->value.GetObject()) {
        Walk(p.value, path + "/" + p.name.GetString(), depth + 1);
      }
    }
    if (auto items = node.FindMember("items"); items != node.MemberEnd()) {
      Walk(items->value, path + "/0", depth + 1);
    }
    for (const char* combinator : {"allOf", "anyOf", "oneOf"}) {
      if (auto c = node.FindMember(combinator); c != node.MemberEnd() && c->value.IsArray()) {
        for (const auto& sub : c->value.GetArray()) Walk(sub, path, depth + 1);
      }
    }
  }

  const rapidjson::Document& root_;
  std::map<std::string, std::string> defaults_;
};

std::map<std::string, std::string> SchemaDefaults(Kind kind) {
  rapidjson::Document schema;
  schema.Parse(SchemaText(kind));
  EXPECT_FALSE(schema.HasParseError());
  return DefaultCollector(schema).Collect();
}

// The C++ value at a path of the decoded resource, as JSON; nullopt when the
// minimal resource does not reach it (an optional parent left unset).
template <class T>
using Accessors = std::map<std::string, std::function<std::optional<std::string>(const T&)>>;

// Every field of ServiceCluster with a default of its own, except
// spec.network (derived from the name: "sg-<name>", which JSON Schema cannot
// express).
const Accessors<ServiceCluster>& ClusterAccessors() {
  static const auto* const kAccessors = new Accessors<ServiceCluster>{
      {"/spec/backendMode", [](auto& c) { return Quoted(ToString(c.spec.backend_mode)); }},
      {"/spec/proxy/image", [](auto& c) { return Quoted(c.spec.proxy.image); }},
      {"/spec/proxy/mode", [](auto& c) { return Quoted(ToString(c.spec.proxy.mode)); }},
      {"/spec/proxy/replicas", [](auto& c) { return Int(c.spec.proxy.replicas); }},
      {"/spec/proxy/delivery", [](auto& c) { return Quoted(ToString(c.spec.proxy.delivery)); }},
      {"/spec/proxy/engine", [](auto& c) { return Quoted(ToString(c.spec.proxy.engine)); }},
      {"/spec/proxy/publishMode",
       [](auto& c) { return Quoted(ToString(c.spec.proxy.publish_mode)); }},
      {"/spec/proxy/ports/http", [](auto& c) { return Int(c.spec.proxy.ports.http); }},
      {"/spec/proxy/ports/https", [](auto& c) { return Int(c.spec.proxy.ports.https); }},
      {"/spec/proxy/stopGracePeriod", [](auto& c) { return Dur(c.spec.proxy.stop_grace_period); }},
      {"/spec/proxy/updatePolicy/order",
       [](auto& c) { return Quoted(ToString(c.spec.proxy.update_policy.order)); }},
      {"/spec/proxy/updatePolicy/parallelism",
       [](auto& c) { return Int(c.spec.proxy.update_policy.parallelism); }},
      {"/spec/proxy/updatePolicy/delay",
       [](auto& c) { return Dur(c.spec.proxy.update_policy.delay); }},
      {"/spec/proxy/updatePolicy/failureAction",
       [](auto& c) { return Quoted(ToString(c.spec.proxy.update_policy.failure_action)); }},
      {"/spec/proxy/updatePolicy/monitor",
       [](auto& c) { return Dur(c.spec.proxy.update_policy.monitor); }},
      {"/spec/proxy/config/workerConnections",
       [](auto& c) { return Int(c.spec.proxy.config.worker_connections); }},
      {"/spec/proxy/config/keepaliveTimeout",
       [](auto& c) { return Dur(c.spec.proxy.config.keepalive_timeout); }},
      {"/spec/proxy/config/clientMaxBodySize",
       [](auto& c) -> std::optional<std::string> {
         const ProxyConfig& cfg = c.spec.proxy.config;
         // The byte count is derived from the text: they must agree.
         EXPECT_EQ(ParseSize(cfg.client_max_body_size).value_or(0), cfg.client_max_body_size_bytes);
         return Quoted(cfg.client_max_body_size);
       }},
      {"/spec/accessLog/format",
       [](auto& c) { return Quoted(ToString(c.spec.access_log.format)); }},
      {"/spec/compression/enabled",
       [](auto& c) -> std::optional<std::string> {
         if (!c.spec.compression) return std::nullopt;
         return Bool(c.spec.compression->enabled);
       }},
      {"/spec/compression/types",
       [](auto& c) -> std::optional<std::string> {
         if (!c.spec.compression) return std::nullopt;
         return List(c.spec.compression->types);
       }},
      {"/spec/clientAddress/proxyProtocol",
       [](auto& c) { return Bool(c.spec.client_address.proxy_protocol); }},
  };
  return *kAccessors;
}

// Every field of Route with a default of its own, except spec.backendMode
// (unset: the cluster's applies, so the schema must not state one).
const Accessors<Route>& RouteAccessors() {
  static const auto* const kAccessors = new Accessors<Route>{
      {"/spec/path", [](auto& r) { return Quoted(r.spec.path); }},
      {"/spec/backends/0/weight",
       [](auto& r) -> std::optional<std::string> {
         if (r.spec.backends.empty()) return std::nullopt;
         return Int(r.spec.backends[0].weight);
       }},
      {"/spec/backends/0/canary",
       [](auto& r) -> std::optional<std::string> {
         if (r.spec.backends.empty()) return std::nullopt;
         return Bool(r.spec.backends[0].canary);
       }},
      {"/spec/tls/redirectHTTP",
       [](auto& r) -> std::optional<std::string> {
         if (!r.spec.tls) return std::nullopt;
         return Bool(r.spec.tls->redirect_http);
       }},
      {"/spec/websocket", [](auto& r) { return Bool(r.spec.websocket); }},
      {"/spec/timeouts/connect", [](auto& r) { return Dur(r.spec.timeouts.connect); }},
      {"/spec/timeouts/read", [](auto& r) { return Dur(r.spec.timeouts.read); }},
      {"/spec/timeouts/send", [](auto& r) { return Dur(r.spec.timeouts.send); }},
      {"/spec/healthCheck/maxFails", [](auto& r) { return Int(r.spec.health_check.max_fails); }},
      {"/spec/healthCheck/failTimeout",
       [](auto& r) { return Dur(r.spec.health_check.fail_timeout); }},
      {"/spec/rateLimit/burst",
       [](auto& r) -> std::optional<std::string> {
         if (!r.spec.rate_limit) return std::nullopt;
         return Int(r.spec.rate_limit->burst);
       }},
      {"/spec/redirects/0/code",
       [](auto& r) -> std::optional<std::string> {
         if (r.spec.redirects.empty()) return std::nullopt;
         return Int(r.spec.redirects[0].code);
       }},
      {"/spec/cors/allowMethods",
       [](auto& r) -> std::optional<std::string> {
         if (!r.spec.cors) return std::nullopt;
         return List(r.spec.cors->allow_methods);
       }},
      {"/spec/cors/allowCredentials",
       [](auto& r) -> std::optional<std::string> {
         if (!r.spec.cors) return std::nullopt;
         return Bool(r.spec.cors->allow_credentials);
       }},
      {"/spec/compression/enabled",
       [](auto& r) -> std::optional<std::string> {
         if (!r.spec.compression) return std::nullopt;
         return Bool(r.spec.compression->enabled);
       }},
      {"/spec/compression/types",
       [](auto& r) -> std::optional<std::string> {
         if (!r.spec.compression) return std::nullopt;
         return List(r.spec.compression->types);
       }},
      {"/spec/updatePolicy/requireHealthcheck",
       [](auto& r) -> std::optional<std::string> {
         if (!r.spec.update_policy) return std::nullopt;
         return Bool(r.spec.update_policy->require_healthcheck);
       }},
  };
  return *kAccessors;
}

// Minimal documents: only what is required, plus the optional objects and
// array items that hold defaulted fields, with those fields left out.
constexpr const char* kMinimalClusterNoSpec = R"({
  "apiVersion": "swarmgate.io/v1alpha1", "kind": "ServiceCluster",
  "metadata": {"name": "defaults"}
})";

constexpr const char* kMinimalClusterEmptyObjects = R"({
  "apiVersion": "swarmgate.io/v1alpha1", "kind": "ServiceCluster",
  "metadata": {"name": "defaults"},
  "spec": {"proxy": {"ports": {}, "updatePolicy": {}, "config": {}}, "accessLog": {},
           "compression": {}}
})";

constexpr const char* kMinimalRoute = R"({
  "apiVersion": "swarmgate.io/v1alpha1", "kind": "Route",
  "metadata": {"name": "defaults"},
  "spec": {
    "serviceCluster": "public",
    "hosts": ["a.example.com"],
    "backends": [{"service": "app", "port": 8080}],
    "tls": {"mode": "terminate", "secret": "cert"},
    "timeouts": {},
    "cors": {"allowOrigins": ["*"]},
    "compression": {},
    "healthCheck": {},
    "rateLimit": {"requestsPerSecond": 10},
    "redirects": [{"from": "b.example.com", "to": "https://a.example.com/"}],
    "updatePolicy": {}
  }
})";

// Loads `json` the way `apply` does, and again from its canonical form the
// way the store does; both must give the same values.
template <class T>
std::vector<T> Decode(const std::string& json) {
  std::vector<T> out;
  LoadResult loaded = LoadText(json, "defaults.json");
  EXPECT_TRUE(loaded.ok()) << testing::Dump(loaded);
  if (!loaded.ok() || loaded.resources.size() != 1) {
    ADD_FAILURE() << "expected one resource";
    return out;
  }
  const T* applied = std::get_if<T>(&loaded.resources[0].object);
  if (applied == nullptr) {
    ADD_FAILURE() << "wrong kind";
    return out;
  }
  out.push_back(*applied);
  auto stored = DecodeStored(loaded.resources[0].canonical_json);
  EXPECT_TRUE(stored.ok()) << (stored.ok() ? "" : stored.error().ToString());
  if (stored.ok()) {
    if (const T* s = std::get_if<T>(&stored->object)) out.push_back(*s);
  }
  return out;
}

// Checks the defaults whose path starts with `only` and not with `except`
// (spec.rules cannot appear in one document with the flat fields).
template <class T>
void ExpectDefaultsMatch(Kind kind, const std::string& minimal_json, const Accessors<T>& accessors,
                         const std::string& only = "", const std::string& except = "") {
  auto defaults = SchemaDefaults(kind);
  for (auto it = defaults.begin(); it != defaults.end();) {
    bool in = it->first.rfind(only, 0) == 0 && (except.empty() || it->first.rfind(except, 0) != 0);
    it = in ? std::next(it) : defaults.erase(it);
  }
  ASSERT_FALSE(defaults.empty());
  rapidjson::Document minimal;
  minimal.Parse(minimal_json.c_str());
  ASSERT_FALSE(minimal.HasParseError());

  const std::vector<T> decoded = Decode<T>(minimal_json);
  ASSERT_EQ(decoded.size(), 2u);
  for (const auto& [path, schema_value] : defaults) {
    SCOPED_TRACE(path);
    // The field itself must be absent for its default to be what is read.
    EXPECT_EQ(rapidjson::Pointer(path.c_str()).Get(minimal), nullptr)
        << "the minimal document sets " << path;
    auto accessor = accessors.find(path);
    if (accessor == accessors.end()) {
      ADD_FAILURE() << "the schema has a default for " << path << " (" << schema_value
                    << ") that this test does not check: add an accessor";
      continue;
    }
    for (const T& resource : decoded) {
      const std::optional<std::string> cpp_value = accessor->second(resource);
      ASSERT_TRUE(cpp_value.has_value())
          << "the minimal document does not reach " << path << ": add its parent";
      EXPECT_EQ(*cpp_value, schema_value) << path << ": the schema's default is " << schema_value
                                          << ", the C++ default " << *cpp_value;
    }
  }
  // Every C++ default is documented in the schema.
  for (const auto& entry : accessors) {
    EXPECT_EQ(defaults.count(entry.first), 1u)
        << entry.first << " has a C++ default but no `default` in the schema";
  }
}

TEST(SchemaDefaultsTest, ServiceClusterWithoutSpec) {
  // spec.compression is optional: its defaults are checked with the empty objects.
  Accessors<ServiceCluster> accessors = ClusterAccessors();
  accessors.erase("/spec/compression/enabled");
  accessors.erase("/spec/compression/types");
  ExpectDefaultsMatch<ServiceCluster>(Kind::kServiceCluster, kMinimalClusterNoSpec, accessors, "",
                                      "/spec/compression");
}

TEST(SchemaDefaultsTest, ServiceClusterWithEmptyObjects) {
  ExpectDefaultsMatch<ServiceCluster>(Kind::kServiceCluster, kMinimalClusterEmptyObjects,
                                      ClusterAccessors());
}

TEST(SchemaDefaultsTest, Route) {
  ExpectDefaultsMatch<Route>(Kind::kRoute, kMinimalRoute, RouteAccessors(), "", "/spec/rules");
}

constexpr const char* kMinimalRulesRoute = R"({
  "apiVersion": "swarmgate.io/v1alpha1", "kind": "Route",
  "metadata": {"name": "defaults"},
  "spec": {
    "serviceCluster": "public",
    "hosts": ["a.example.com"],
    "rules": [{
      "matches": [{"path": {}, "headers": [{"name": "x", "value": "1"}],
                   "queryParams": [{"name": "q", "value": "1"}]}],
      "filters": [{"type": "RequestMirror",
                   "requestMirror": {"backend": {"service": "shadow", "port": 8080}}}],
      "backends": [{"service": "app", "port": 8080}],
      "retry": {}
    }, {
      "matches": [{"path": {"value": "/old"}}],
      "filters": [{"type": "RequestRedirect", "requestRedirect": {}}]
    }]
  }
})";

TEST(SchemaDefaultsTest, RouteRules) {
  using Get = std::function<std::optional<std::string>(const Route&)>;
  auto rule = [](const Route& r) -> const RouteRule* {
    return r.spec.rules.empty() ? nullptr : &r.spec.rules[0];
  };
  auto match = [rule](const Route& r) -> const RouteMatch* {
    const RouteRule* x = rule(r);
    return x && !x->matches.empty() ? &x->matches[0] : nullptr;
  };
  auto type = [](ValueMatchType t) {
    return Quoted(t == ValueMatchType::kExact ? "Exact" : "RegularExpression");
  };
  const Accessors<Route> accessors = {
      {"/spec/rules/0/backends/0/weight", Get([rule](const Route& r) -> std::optional<std::string> {
         const RouteRule* x = rule(r);
         if (!x || x->backends.empty()) return std::nullopt;
         return Int(x->backends[0].weight);
       })},
      {"/spec/rules/0/matches/0/path/type",
       Get([match](const Route& r) -> std::optional<std::string> {
         const RouteMatch* m = match(r);
         if (!m) return std::nullopt;
         return Quoted(ToString(m->path.type));
       })},
      {"/spec/rules/0/matches/0/path/value",
       Get([match](const Route& r) -> std::optional<std::string> {
         const RouteMatch* m = match(r);
         if (!m) return std::nullopt;
         return Quoted(m->path.value);
       })},
      {"/spec/rules/0/matches/0/headers/0/type",
       Get([match, type](const Route& r) -> std::optional<std::string> {
         const RouteMatch* m = match(r);
         if (!m || m->headers.empty()) return std::nullopt;
         return type(m->headers[0].type);
       })},
      {"/spec/rules/0/matches/0/queryParams/0/type",
       Get([match, type](const Route& r) -> std::optional<std::string> {
         const RouteMatch* m = match(r);
         if (!m || m->query_params.empty()) return std::nullopt;
         return type(m->query_params[0].type);
       })},
      // A redirect and a mirror exclude each other in a rule: the minimal
      // document has them in two rules, and these look in every rule.
      {"/spec/rules/0/filters/0/requestRedirect/statusCode",
       Get([](const Route& r) -> std::optional<std::string> {
         for (const RouteRule& x : r.spec.rules) {
           if (x.filters.redirect) return Int(x.filters.redirect->status_code);
         }
         return std::nullopt;
       })},
      {"/spec/rules/0/filters/0/requestMirror/percent",
       Get([](const Route& r) -> std::optional<std::string> {
         for (const RouteRule& x : r.spec.rules) {
           if (x.filters.mirror) return Int(x.filters.mirror->percent);
         }
         return std::nullopt;
       })},
      {"/spec/rules/0/retry/attempts", Get([rule](const Route& r) -> std::optional<std::string> {
         const RouteRule* x = rule(r);
         if (!x || !x->retry) return std::nullopt;
         return Int(x->retry->attempts);
       })},
  };
  ExpectDefaultsMatch<Route>(Kind::kRoute, kMinimalRulesRoute, accessors, "/spec/rules");
}

// The defaults of a default-constructed C++ value are those of a decoded
// minimal resource: decoding adds nothing the types do not already say
// (except what depends on the resource, such as the network name).
TEST(SchemaDefaultsTest, DecodedDefaultsAreTheTypesDefaults) {
  ServiceCluster plain_cluster;
  plain_cluster.spec.compression.emplace();
  for (const ServiceCluster& c : Decode<ServiceCluster>(kMinimalClusterEmptyObjects)) {
    for (const auto& [path, get] : ClusterAccessors()) {
      EXPECT_EQ(get(c).value_or("<unset>"), get(plain_cluster).value_or("<unset>")) << path;
    }
    EXPECT_EQ(c.spec.network, "sg-defaults");
  }
  Route plain_route;
  plain_route.spec.backends.emplace_back();
  plain_route.spec.tls.emplace();
  plain_route.spec.rate_limit.emplace();
  plain_route.spec.redirects.emplace_back();
  plain_route.spec.update_policy.emplace();
  plain_route.spec.cors.emplace();
  plain_route.spec.compression.emplace();
  for (const Route& r : Decode<Route>(kMinimalRoute)) {
    for (const auto& [path, get] : RouteAccessors()) {
      EXPECT_EQ(get(r).value_or("<unset>"), get(plain_route).value_or("<unset>")) << path;
    }
    EXPECT_FALSE(r.spec.backend_mode.has_value());
  }
}

// The schemas state no default where the absence itself means something.
TEST(SchemaDefaultsTest, NoDefaultWhereAbsenceMeansInherit) {
  const auto route = SchemaDefaults(Kind::kRoute);
  EXPECT_EQ(route.count("/spec/backendMode"), 0u) << "unset means the cluster's backendMode";
  EXPECT_EQ(route.count("/spec/updatePolicy/order"), 0u) << "unset leaves the service's own";
  EXPECT_EQ(route.count("/spec/updatePolicy/delay"), 0u);
  EXPECT_EQ(route.count("/spec/updatePolicy/stopGracePeriod"), 0u);
  const auto cluster = SchemaDefaults(Kind::kServiceCluster);
  EXPECT_EQ(cluster.count("/spec/network"), 0u) << "derived from the name";
}

}  // namespace
}  // namespace sg::crds
