// Cross-document rules (declared in checked_document.h).

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "crds/checked_document.h"
#include "crds/decode.h"
#include "crds/diagnostic.h"
#include "crds/engine_on_apply.h"
#include "crds/grammar.h"
#include "crds/host_ports.h"
#include "crds/source_map.h"
#include "crds/types.h"

namespace sg::crds {
namespace {

using rapidjson::Value;

const Value* Find(const Value* obj, const char* key) {
  if (!obj || !obj->IsObject()) return nullptr;
  auto m = obj->FindMember(key);
  return m == obj->MemberEnd() ? nullptr : &m->value;
}

// The string at `path` (a chain of keys) unless it is absent, not a string or
// already failed.
std::optional<std::string> GoodString(const CheckedDocument& doc, const Value* v,
                                      std::initializer_list<const char*> keys) {
  std::string path;
  for (const char* key : keys) {
    path = ChildPath(path, key);
    v = Find(v, key);
  }
  if (!v || !v->IsString() || doc.failed.Covers(path)) return std::nullopt;
  return std::string(v->GetString(), v->GetStringLength());
}

struct ClusterInfo {
  std::string backend_mode = "task";
  std::string engine;  // "": none named, so haproxy if apply creates it
  const CheckedDocument* doc = nullptr;
};

struct Claim {
  std::string route;
  std::string where;
};

void CheckVipRestrictions(CheckedDocument* doc, const Value& root,
                          const std::map<std::string, ClusterInfo>& clusters) {
  const Value* spec = Find(&root, "spec");
  std::string mode = "task";
  std::string origin;
  if (auto own = GoodString(*doc, &root, {"spec", "backendMode"})) {
    mode = *own;
    origin = "set on the route";
  } else if (doc->failed.Covers("spec.backendMode")) {
    return;
  } else if (auto cluster = GoodString(*doc, &root, {"spec", "serviceCluster"})) {
    auto it = clusters.find(*cluster);
    if (it == clusters.end()) return;
    mode = it->second.backend_mode;
    origin = "inherited from ServiceCluster " + Quote(*cluster) + " at " +
             it->second.doc->Where("spec.backendMode");
  }
  if (mode != "vip") return;
  auto reject = [&](const std::string& path, const std::string& what) {
    if (doc->failed.Touches(path)) return;
    doc->Report(path, what + " need backendMode task, got vip (" + origin + ")");
  };
  if (Find(spec, "stickySession")) reject("spec.stickySession", "sticky sessions");
  const Value* canary = Find(spec, "canary");
  if (Find(canary, "header")) reject("spec.canary.header", "canary header rules");
  if (Find(canary, "cookie")) reject("spec.canary.cookie", "canary cookie rules");
}

// The statuses each engine can retry on: HAProxy's retry-on names a fixed
// list of statuses, nginx's proxy_next_upstream its http_* conditions. The
// renderers refuse any other code too (the route becomes InvalidConfig);
// refusing it at apply says so before anything is stored.
constexpr int kHaproxyRetryCodes[] = {401, 403, 404, 408, 425, 500, 501, 502, 503, 504};
constexpr int kNginxRetryCodes[] = {403, 404, 429, 500, 502, 503, 504};

template <size_t N>
std::string CodeList(const int (&codes)[N]) {
  std::string out;
  for (int code : codes) out += (out.empty() ? "" : ", ") + std::to_string(code);
  return out;
}

// What a route's cluster runs, for messages: "engine haproxy (ServiceCluster
// "public" at f.yaml:6)".
struct EngineContext {
  std::string engine;  // "nginx" or "haproxy"
  std::string origin;  // the parenthesis above, without "engine ..."
};

// The engine of the route's cluster when the cluster is in the same input:
// the one it names, else the one a new cluster gets on apply.
std::optional<EngineContext> RouteEngine(const CheckedDocument& doc, const Value& root,
                                         const std::map<std::string, ClusterInfo>& clusters) {
  auto cluster = GoodString(doc, &root, {"spec", "serviceCluster"});
  if (!cluster) return std::nullopt;
  auto it = clusters.find(*cluster);
  if (it == clusters.end()) return std::nullopt;
  const ClusterInfo& info = it->second;
  EngineContext out;
  out.engine = info.engine.empty() ? kNewClusterEngine : info.engine;
  out.origin =
      "ServiceCluster " + Quote(*cluster) +
      (info.engine.empty() ? " at " + info.doc->Where("metadata.name") +
                                 " names no engine, and a new cluster gets " + kNewClusterEngine +
                                 "; set spec.proxy.engine: nginx to keep nginx"
                           : " at " + info.doc->Where("spec.proxy.engine"));
  return out;
}

// HAProxy has one server inactivity timeout for both directions, which takes
// `read`: a `send` set longer than that would be cut short, so it is refused
// rather than shortened. The default `send` is not the user's wish and is not
// refused (a short `read` alone is common).
void CheckHaproxySendTimeout(CheckedDocument* doc, const Value& root, const EngineContext& e) {
  if (doc->failed.Touches("spec.timeouts")) return;
  auto send = GoodString(*doc, &root, {"spec", "timeouts", "send"});
  if (!send) return;
  auto read = GoodString(*doc, &root, {"spec", "timeouts", "read"}).value_or(Timeouts{}.read.text);
  auto read_ms = ParseDuration(read);
  auto send_ms = ParseDuration(*send);
  if (!read_ms || !send_ms || *send_ms <= *read_ms) return;
  doc->Report("spec.timeouts.send",
              "expected spec.timeouts.send no longer than spec.timeouts.read on engine haproxy (" +
                  e.origin +
                  "): HAProxy has one server inactivity timeout for both directions, got send " +
                  *send + " and read " + read);
}

// What an engine cannot do with a rule's filters and retries.
template <size_t N>
void CheckRuleOnEngine(CheckedDocument* doc, const Value& rule, const std::string& rule_path,
                       const EngineContext& e, const int (&retry_codes)[N]) {
  const bool haproxy = e.engine == "haproxy";
  const std::string where = " on engine " + e.engine + " (" + e.origin + ")";
  const Value* filters = Find(&rule, "filters");
  if (haproxy && filters && filters->IsArray()) {
    for (rapidjson::SizeType i = 0; i < filters->Size(); ++i) {
      const std::string path = IndexPath(rule_path + ".filters", i);
      const Value* type = Find(&(*filters)[i], "type");
      if (!type || !type->IsString() || std::string_view(type->GetString()) != "RequestMirror" ||
          doc->failed.Touches(path)) {
        continue;
      }
      doc->Report(path + ".requestMirror",
                  "expected no RequestMirror filter" + where +
                      ": HAProxy 2.6 cannot mirror requests; use spec.proxy.engine nginx");
    }
  }
  const Value* codes = Find(Find(&rule, "retry"), "codes");
  if (codes && codes->IsArray() && !doc->failed.Touches(rule_path + ".retry.codes")) {
    for (rapidjson::SizeType i = 0; i < codes->Size(); ++i) {
      const Value& code = (*codes)[i];
      if (!code.IsInt()) continue;
      bool known = false;
      for (int ok : retry_codes) known |= ok == code.GetInt();
      if (known) continue;
      doc->Report(IndexPath(rule_path + ".retry.codes", i),
                  "expected a status " + std::string(haproxy ? "HAProxy" : "nginx") +
                      " can retry on (" + CodeList(retry_codes) + ")" + where + ", got " +
                      std::to_string(code.GetInt()));
    }
  }
  const Value* backends = Find(&rule, "backends");
  if (!haproxy && backends && backends->IsArray() && backends->Size() > 1) {
    for (rapidjson::SizeType i = 0; i < backends->Size(); ++i) {
      const std::string path = IndexPath(rule_path + ".backends", i) + ".filters";
      if (!Find(&(*backends)[i], "filters") || doc->failed.Touches(path)) continue;
      doc->Report(path, "expected no backend filters in a rule with " +
                            std::to_string(backends->Size()) + " backends" + where +
                            ": nginx cannot apply header filters per backend of a split; put "
                            "them on the rule (" +
                            rule_path + ".filters), or use spec.proxy.engine haproxy");
    }
  }
}

// HAProxy 2.6 compresses every response of a listed type, whatever its size.
void CheckHaproxyCompression(CheckedDocument* doc, const Value& root, const std::string& origin) {
  const Value* min = Find(Find(Find(&root, "spec"), "compression"), "minLength");
  if (!min || doc->failed.Touches("spec.compression")) return;
  doc->Report("spec.compression.minLength",
              "expected no minLength on engine haproxy (" + origin +
                  "): HAProxy 2.6 cannot leave small responses uncompressed; leave it out or use "
                  "spec.proxy.engine nginx");
}

// What the cluster's engine cannot express, when the cluster is in the same
// input (else the renderer refuses it when the route reaches the proxies).
void CheckEngineRestrictions(CheckedDocument* doc, const Value& root,
                             const std::map<std::string, ClusterInfo>& clusters) {
  auto engine = RouteEngine(*doc, root, clusters);
  if (!engine) return;
  if (engine->engine == "haproxy") {
    CheckHaproxySendTimeout(doc, root, *engine);
    CheckHaproxyCompression(doc, root, engine->origin);
  }
  const Value* rules = Find(Find(&root, "spec"), "rules");
  if (!rules || !rules->IsArray() || doc->failed.Covers("spec.rules")) return;
  for (rapidjson::SizeType r = 0; r < rules->Size(); ++r) {
    const std::string rule_path = IndexPath("spec.rules", r);
    if (doc->failed.Covers(rule_path)) continue;
    if (engine->engine == "haproxy") {
      CheckRuleOnEngine(doc, (*rules)[r], rule_path, *engine, kHaproxyRetryCodes);
    } else {
      CheckRuleOnEngine(doc, (*rules)[r], rule_path, *engine, kNginxRetryCodes);
    }
  }
}

}  // namespace

void CheckAcrossDocuments(std::vector<CheckedDocument>* documents) {
  std::map<std::pair<Kind, std::string>, const CheckedDocument*> by_name;
  std::map<std::string, ClusterInfo> clusters;
  std::vector<CheckedDocument*> routes;

  for (CheckedDocument& doc : *documents) {
    if (!doc.kind) continue;
    const Value& root = *doc.parsed.json;
    auto name = GoodString(doc, &root, {"metadata", "name"});
    if (!name) continue;
    auto [it, inserted] = by_name.emplace(std::make_pair(*doc.kind, *name), &doc);
    if (!inserted) {
      doc.Report("metadata.name",
                 "expected each resource once, got " + std::string(KindName(*doc.kind)) + " " +
                     Quote(*name) + " again (first at " + it->second->Where("metadata.name") + ")");
      continue;
    }
    if (*doc.kind == Kind::kServiceCluster) {
      ClusterInfo info;
      info.doc = &doc;
      if (auto mode = GoodString(doc, &root, {"spec", "backendMode"})) info.backend_mode = *mode;
      if (auto engine = GoodString(doc, &root, {"spec", "proxy", "engine"})) info.engine = *engine;
      if (info.engine == "haproxy") {
        CheckHaproxyCompression(&doc, root,
                                "spec.proxy.engine at " + doc.Where("spec.proxy.engine"));
      }
      clusters[*name] = info;
    } else {
      routes.push_back(&doc);
    }
  }

  // Host ports: each valid ServiceCluster against the ones before it.
  std::vector<std::pair<ServiceCluster, const CheckedDocument*>> host_clusters;
  for (CheckedDocument& doc : *documents) {
    if (doc.kind != Kind::kServiceCluster || !doc.diagnostics.empty()) continue;
    ServiceCluster cluster = DecodeServiceCluster(*doc.parsed.json);
    for (const auto& [earlier, earlier_doc] : host_clusters) {
      if (auto clash = FindHostPortClash(cluster, earlier, earlier_doc->Where("metadata.name"))) {
        doc.Report(clash->path, clash->message);
        break;
      }
    }
    host_clusters.emplace_back(std::move(cluster), &doc);
  }

  // (cluster, host, path) -> first route that claims it, in input order.
  std::map<std::tuple<std::string, std::string, std::string>, Claim> claims;
  for (CheckedDocument* doc : routes) {
    const Value& root = *doc->parsed.json;
    CheckVipRestrictions(doc, root, clusters);
    CheckEngineRestrictions(doc, root, clusters);

    auto name = GoodString(*doc, &root, {"metadata", "name"});
    auto cluster = GoodString(*doc, &root, {"spec", "serviceCluster"});
    std::string path = "/";
    if (Find(Find(&root, "spec"), "path")) {
      auto good = GoodString(*doc, &root, {"spec", "path"});
      if (!good) continue;
      path = *good;
    }
    const Value* hosts = Find(Find(&root, "spec"), "hosts");
    if (!name || !cluster || !hosts || !hosts->IsArray()) continue;
    for (rapidjson::SizeType i = 0; i < hosts->Size(); ++i) {
      std::string host_path = IndexPath("spec.hosts", i);
      const Value& host = (*hosts)[i];
      if (!host.IsString() || doc->failed.Covers(host_path)) continue;
      std::string h(host.GetString(), host.GetStringLength());
      auto [it, inserted] =
          claims.emplace(std::make_tuple(*cluster, h, path), Claim{*name, doc->Where(host_path)});
      if (!inserted && it->second.route != *name) {
        doc->Report(host_path, "expected a host and path no other route of ServiceCluster " +
                                   Quote(*cluster) + " claims, got host " + Quote(h) + " path " +
                                   Quote(path) + " already claimed by Route " +
                                   Quote(it->second.route) + " at " + it->second.where);
      }
    }
  }
}

}  // namespace sg::crds
