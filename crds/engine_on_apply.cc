#include "crds/engine_on_apply.h"

#include <rapidjson/document.h>

#include "crds/loader.h"

namespace sg::crds {
namespace {

// The string at spec.proxy.engine, if any.
std::optional<std::string> EngineOf(const rapidjson::Value& root) {
  if (!root.IsObject()) return std::nullopt;
  auto spec = root.FindMember("spec");
  if (spec == root.MemberEnd() || !spec->value.IsObject()) return std::nullopt;
  auto proxy = spec->value.FindMember("proxy");
  if (proxy == spec->value.MemberEnd() || !proxy->value.IsObject()) return std::nullopt;
  auto engine = proxy->value.FindMember("engine");
  if (engine == proxy->value.MemberEnd() || !engine->value.IsString()) return std::nullopt;
  return std::string(engine->value.GetString(), engine->value.GetStringLength());
}

}  // namespace

Result<std::string> WithEngineOnApply(std::string_view document,
                                      const std::optional<std::string>& stored) {
  rapidjson::Document doc;
  doc.Parse(document.data(), document.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return InvalidArgument("ServiceCluster document is not a JSON object");
  }
  if (EngineOf(doc)) return std::string(document);
  std::string engine = kNewClusterEngine;
  if (stored) {
    rapidjson::Document old;
    old.Parse(stored->data(), stored->size());
    if (old.HasParseError()) return InvalidArgument("stored ServiceCluster is not JSON");
    auto kept = EngineOf(old);
    if (!kept) return std::string(document);  // stored without one: it runs nginx
    engine = *kept;
  }
  auto& alloc = doc.GetAllocator();
  if (!doc.HasMember("spec") || !doc["spec"].IsObject()) {
    doc.RemoveMember("spec");
    doc.AddMember("spec", rapidjson::Value(rapidjson::kObjectType), alloc);
  }
  rapidjson::Value& spec = doc["spec"];
  if (!spec.HasMember("proxy") || !spec["proxy"].IsObject()) {
    spec.RemoveMember("proxy");
    spec.AddMember("proxy", rapidjson::Value(rapidjson::kObjectType), alloc);
  }
  spec["proxy"].AddMember("engine", rapidjson::Value(engine.c_str(), alloc), alloc);
  return CanonicalJson(doc);
}

}  // namespace sg::crds
