#include "reconcilers/route/update_policy.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace sg::reconcilers {
namespace {

rapidjson::Value& Object(rapidjson::Value& parent, const char* name,
                         rapidjson::Document::AllocatorType& a) {
  if (!parent.HasMember(name) || !parent[name].IsObject()) {
    if (parent.HasMember(name)) parent.RemoveMember(name);
    parent.AddMember(rapidjson::Value(name, a), rapidjson::Value(rapidjson::kObjectType), a);
  }
  return parent[name];
}

bool SetInt(rapidjson::Value& obj, const char* name, int64_t v,
            rapidjson::Document::AllocatorType& a) {
  if (obj.HasMember(name) && obj[name].IsInt64() && obj[name].GetInt64() == v) return false;
  if (!obj.HasMember(name) && v == 0) return false;  // Docker omits zero values
  if (obj.HasMember(name)) obj.RemoveMember(name);
  obj.AddMember(rapidjson::Value(name, a), rapidjson::Value(v), a);
  return true;
}

}  // namespace

bool ApplyUpdatePolicy(const crds::RouteUpdatePolicy& policy, std::string* spec_json) {
  rapidjson::Document d;
  d.Parse(spec_json->c_str(), spec_json->size());
  if (d.HasParseError() || !d.IsObject()) return false;
  auto& a = d.GetAllocator();
  bool changed = false;
  if (policy.order || policy.delay) {
    auto& update = Object(d, "UpdateConfig", a);
    if (policy.order) {
      const char* want =
          *policy.order == crds::UpdateOrder::kStartFirst ? "start-first" : "stop-first";
      bool same = update.HasMember("Order") && update["Order"].IsString() &&
                  std::string(update["Order"].GetString()) == want;
      // Docker's default order is stop-first when the field is absent.
      if (!update.HasMember("Order") && std::string(want) == "stop-first") same = true;
      if (!same) {
        if (update.HasMember("Order")) update.RemoveMember("Order");
        update.AddMember("Order", rapidjson::Value(want, a), a);
        changed = true;
      }
    }
    if (policy.delay) {
      changed |= SetInt(update, "Delay", policy.delay->value.count() * 1000000LL, a);
    }
  }
  if (policy.stop_grace_period) {
    auto& task = Object(d, "TaskTemplate", a);
    auto& container = Object(task, "ContainerSpec", a);
    changed |= SetInt(container, "StopGracePeriod",
                      policy.stop_grace_period->value.count() * 1000000LL, a);
  }
  if (!changed) return false;
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  d.Accept(w);
  *spec_json = std::string(buf.GetString(), buf.GetSize());
  return true;
}

}  // namespace sg::reconcilers
