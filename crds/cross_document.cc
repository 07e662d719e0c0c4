// Cross-document rules (declared in checked_document.h).

#include <map>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "crds/checked_document.h"
#include "crds/decode.h"
#include "crds/diagnostic.h"
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

// What the cluster's engine cannot express. HAProxy has one server
// inactivity timeout for both directions, which takes `read`: a `send` set
// longer than that would be cut short, so it is refused rather than
// shortened. The default `send` is not the user's wish and is not refused
// (a short `read` alone is common).
void CheckEngineRestrictions(CheckedDocument* doc, const Value& root,
                             const std::map<std::string, ClusterInfo>& clusters) {
  auto cluster = GoodString(*doc, &root, {"spec", "serviceCluster"});
  if (!cluster) return;
  auto it = clusters.find(*cluster);
  const std::string& engine = it == clusters.end() ? "" : it->second.engine;
  if (it == clusters.end() || (!engine.empty() && engine != "haproxy")) return;
  if (doc->failed.Touches("spec.timeouts")) return;
  auto send = GoodString(*doc, &root, {"spec", "timeouts", "send"});
  if (!send) return;
  auto read = GoodString(*doc, &root, {"spec", "timeouts", "read"}).value_or(Timeouts{}.read.text);
  auto read_ms = ParseDuration(read);
  auto send_ms = ParseDuration(*send);
  if (!read_ms || !send_ms || *send_ms <= *read_ms) return;
  doc->Report("spec.timeouts.send",
              "expected spec.timeouts.send no longer than spec.timeouts.read on engine haproxy "
              "(ServiceCluster " +
                  Quote(*cluster) +
                  (engine.empty() ? " at " + it->second.doc->Where("metadata.name") +
                                        " names no engine, and a new cluster gets haproxy; set "
                                        "spec.proxy.engine: nginx to keep nginx"
                                  : " at " + it->second.doc->Where("spec.proxy.engine")) +
                  "): HAProxy has one server inactivity timeout for both directions, got send " +
                  *send + " and read " + read);
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
