#include "crds/status.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace sg::crds {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Key(Writer* w, const char* key) { w->Key(key); }
void String(Writer* w, const std::string& s) {
  w->String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

bool GetString(const rapidjson::Value& obj, const char* key, std::string* out) {
  auto m = obj.FindMember(key);
  if (m == obj.MemberEnd()) return true;  // absent: keep the default
  if (!m->value.IsString()) return false;
  out->assign(m->value.GetString(), m->value.GetStringLength());
  return true;
}

}  // namespace

bool Condition::operator==(const Condition& o) const {
  return type == o.type && status == o.status && reason == o.reason && message == o.message &&
         last_transition_time == o.last_transition_time;
}

bool ResourceStatus::operator==(const ResourceStatus& o) const {
  return observed_generation == o.observed_generation && conditions == o.conditions &&
         endpoints == o.endpoints && proxy_replicas == o.proxy_replicas;
}

const Condition* ResourceStatus::FindCondition(std::string_view type) const {
  for (const Condition& c : conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

bool ResourceStatus::SetCondition(Condition condition, const std::string& now) {
  for (Condition& c : conditions) {
    if (c.type != condition.type) continue;
    condition.last_transition_time = c.status == condition.status ? c.last_transition_time : now;
    if (c == condition) return false;
    c = std::move(condition);
    return true;
  }
  condition.last_transition_time = now;
  conditions.push_back(std::move(condition));
  return true;
}

std::string EncodeStatus(const ResourceStatus& status) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  Key(&w, "observedGeneration");
  w.Int64(status.observed_generation);
  Key(&w, "conditions");
  w.StartArray();
  for (const Condition& c : status.conditions) {
    w.StartObject();
    Key(&w, "type");
    String(&w, c.type);
    Key(&w, "status");
    String(&w, c.status);
    Key(&w, "reason");
    String(&w, c.reason);
    Key(&w, "message");
    String(&w, c.message);
    Key(&w, "lastTransitionTime");
    String(&w, c.last_transition_time);
    w.EndObject();
  }
  w.EndArray();
  if (!status.endpoints.empty()) {
    Key(&w, "endpoints");
    w.StartArray();
    for (const std::string& e : status.endpoints) String(&w, e);
    w.EndArray();
  }
  if (status.proxy_replicas) {
    Key(&w, "proxyReplicas");
    w.StartObject();
    Key(&w, "desired");
    w.Int(status.proxy_replicas->desired);
    Key(&w, "running");
    w.Int(status.proxy_replicas->running);
    w.EndObject();
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

sg::Result<ResourceStatus> DecodeStatus(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return sg::InvalidArgument("status: expected a JSON object");
  }
  ResourceStatus status;
  if (auto m = doc.FindMember("observedGeneration"); m != doc.MemberEnd()) {
    if (!m->value.IsInt64())
      return sg::InvalidArgument("status.observedGeneration: expected an integer");
    status.observed_generation = m->value.GetInt64();
  }
  if (auto m = doc.FindMember("conditions"); m != doc.MemberEnd()) {
    if (!m->value.IsArray()) return sg::InvalidArgument("status.conditions: expected a list");
    for (const auto& item : m->value.GetArray()) {
      Condition c;
      if (!item.IsObject() || !GetString(item, "type", &c.type) ||
          !GetString(item, "status", &c.status) || !GetString(item, "reason", &c.reason) ||
          !GetString(item, "message", &c.message) ||
          !GetString(item, "lastTransitionTime", &c.last_transition_time)) {
        return sg::InvalidArgument("status.conditions: expected objects of strings");
      }
      status.conditions.push_back(std::move(c));
    }
  }
  if (auto m = doc.FindMember("endpoints"); m != doc.MemberEnd()) {
    if (!m->value.IsArray()) return sg::InvalidArgument("status.endpoints: expected a list");
    for (const auto& item : m->value.GetArray()) {
      if (!item.IsString()) return sg::InvalidArgument("status.endpoints: expected strings");
      status.endpoints.emplace_back(item.GetString(), item.GetStringLength());
    }
  }
  if (auto m = doc.FindMember("proxyReplicas"); m != doc.MemberEnd()) {
    const auto& v = m->value;
    if (!v.IsObject() || !v.HasMember("desired") || !v["desired"].IsInt() ||
        !v.HasMember("running") || !v["running"].IsInt()) {
      return sg::InvalidArgument("status.proxyReplicas: expected {desired, running} integers");
    }
    status.proxy_replicas = ProxyReplicas{v["desired"].GetInt(), v["running"].GetInt()};
  }
  return status;
}

}  // namespace sg::crds
