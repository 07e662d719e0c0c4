#include "operator/docker/service_spec_edit.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace sg::docker {
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

bool ApplyUpdateSettings(const UpdateSettings& settings, std::string* spec_json) {
  rapidjson::Document d;
  d.Parse(spec_json->c_str(), spec_json->size());
  if (d.HasParseError() || !d.IsObject()) return false;
  auto& a = d.GetAllocator();
  bool changed = false;
  if (settings.order || settings.delay_ns) {
    auto& update = Object(d, "UpdateConfig", a);
    if (settings.order) {
      const std::string& want = *settings.order;
      bool same = update.HasMember("Order") && update["Order"].IsString() &&
                  update["Order"].GetString() == want;
      // Docker's default order is stop-first when the field is absent.
      if (!update.HasMember("Order") && want == "stop-first") same = true;
      if (!same) {
        if (update.HasMember("Order")) update.RemoveMember("Order");
        update.AddMember("Order", rapidjson::Value(want.c_str(), a), a);
        changed = true;
      }
    }
    if (settings.delay_ns) changed |= SetInt(update, "Delay", *settings.delay_ns, a);
  }
  if (settings.stop_grace_ns) {
    auto& task = Object(d, "TaskTemplate", a);
    auto& container = Object(task, "ContainerSpec", a);
    changed |= SetInt(container, "StopGracePeriod", *settings.stop_grace_ns, a);
  }
  if (!changed) return false;
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  d.Accept(w);
  *spec_json = std::string(buf.GetString(), buf.GetSize());
  return true;
}

}  // namespace sg::docker
