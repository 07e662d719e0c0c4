#include "operator/cli/resource_view.h"

#include <algorithm>

namespace sg::cli {
namespace {

const rapidjson::Value* Member(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject()) return nullptr;
  auto it = v.FindMember(name);
  return it == v.MemberEnd() ? nullptr : &it->value;
}

std::string StringOf(const rapidjson::Value* v) {
  return v && v->IsString() ? std::string(v->GetString(), v->GetStringLength()) : std::string();
}

}  // namespace

ResourceView::ResourceView(store::StoredResource stored) : stored_(std::move(stored)) {
  data_.Parse(stored_.data.c_str(), stored_.data.size());
  if (data_.HasParseError()) data_.SetObject();
  if (!stored_.status_json.empty()) status_.Parse(stored_.status_json.c_str());
  if (stored_.status_json.empty() || status_.HasParseError()) status_.SetObject();
}

std::string ResourceView::KindLower() const {
  return stored_.kind == crds::Kind::kRoute ? "route" : "servicecluster";
}

int64_t ResourceView::ObservedGeneration() const {
  const auto* g = Member(status_, "observedGeneration");
  return g && g->IsInt64() ? g->GetInt64() : 0;
}

std::vector<ConditionView> ResourceView::Conditions() const {
  std::vector<ConditionView> out;
  const auto* conds = Member(status_, "conditions");
  if (!conds || !conds->IsArray()) return out;
  for (const auto& c : conds->GetArray()) {
    out.push_back({StringOf(Member(c, "type")), StringOf(Member(c, "status")),
                   StringOf(Member(c, "reason")), StringOf(Member(c, "message")),
                   StringOf(Member(c, "lastTransitionTime"))});
  }
  return out;
}

std::string ResourceView::Ready() const {
  if (ObservedGeneration() < stored_.generation) return "Unknown";
  for (const auto& c : Conditions()) {
    if (c.type == "Ready") return c.status.empty() ? "Unknown" : c.status;
  }
  return "Unknown";
}

std::vector<std::string> ResourceView::Endpoints() const {
  std::vector<std::string> out;
  const auto* eps = Member(status_, "endpoints");
  if (!eps || !eps->IsArray()) return out;
  for (const auto& e : eps->GetArray()) {
    if (e.IsString()) out.emplace_back(e.GetString());
  }
  return out;
}

std::string ResourceView::SpecString(const char* field) const {
  const auto* spec = Member(data_, "spec");
  return spec ? StringOf(Member(*spec, field)) : std::string();
}

std::vector<std::string> ResourceView::SpecStrings(const char* field) const {
  std::vector<std::string> out;
  const auto* spec = Member(data_, "spec");
  const auto* arr = spec ? Member(*spec, field) : nullptr;
  if (!arr || !arr->IsArray()) return out;
  for (const auto& v : arr->GetArray()) {
    if (v.IsString()) out.emplace_back(v.GetString());
  }
  return out;
}

std::vector<std::string> ResourceView::BackendSummaries() const {
  std::vector<std::string> out;
  const auto* spec = Member(data_, "spec");
  const auto* arr = spec ? Member(*spec, "backends") : nullptr;
  if (!arr || !arr->IsArray()) return out;
  for (const auto& b : arr->GetArray()) {
    std::string s = StringOf(Member(b, "service"));
    const auto* port = Member(b, "port");
    if (port && port->IsInt()) s += ":" + std::to_string(port->GetInt());
    const auto* weight = Member(b, "weight");
    if (weight && weight->IsInt()) s += " w" + std::to_string(weight->GetInt());
    const auto* canary = Member(b, "canary");
    if (canary && canary->IsBool() && canary->GetBool()) s += " (canary)";
    out.push_back(s);
  }
  return out;
}

std::string ResourceView::ProxyReplicas() const {
  std::string desired = "2";
  const auto* spec = Member(data_, "spec");
  const auto* proxy = spec ? Member(*spec, "proxy") : nullptr;
  const auto* replicas = proxy ? Member(*proxy, "replicas") : nullptr;
  if (replicas && replicas->IsInt()) desired = std::to_string(replicas->GetInt());
  const auto* proxies = Member(status_, "proxyReplicas");
  if (proxies && proxies->IsObject()) {
    const auto* running = Member(*proxies, "running");
    const auto* want = Member(*proxies, "desired");
    if (want && want->IsInt()) desired = std::to_string(want->GetInt());
    if (running && running->IsInt()) return std::to_string(running->GetInt()) + "/" + desired;
  }
  return "-/" + desired;
}

void ResourceView::ToDocument(rapidjson::Document* doc) const {
  auto& a = doc->GetAllocator();
  doc->SetObject();
  doc->AddMember("apiVersion", "swarmgate.io/v1alpha1", a);
  doc->AddMember("kind", rapidjson::StringRef(crds::KindName(stored_.kind)), a);
  rapidjson::Value meta(rapidjson::kObjectType);
  meta.AddMember("name", rapidjson::Value(stored_.name.c_str(), a), a);
  if (const auto* m = Member(data_, "metadata")) {
    if (const auto* labels = Member(*m, "labels")) {
      meta.AddMember("labels", rapidjson::Value(*labels, a), a);
    }
  }
  meta.AddMember("generation", stored_.generation, a);
  meta.AddMember("creationTimestamp", rapidjson::Value(stored_.created_at.c_str(), a), a);
  doc->AddMember("metadata", meta, a);
  if (const auto* spec = Member(data_, "spec")) {
    doc->AddMember("spec", rapidjson::Value(*spec, a), a);
  }
  if (status_.IsObject() && status_.MemberCount() > 0) {
    doc->AddMember("status", rapidjson::Value(status_, a), a);
  }
}

}  // namespace sg::cli
