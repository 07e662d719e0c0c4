// CanonicalJson (declared in loader.h).

#include <algorithm>
#include <cstring>
#include <vector>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "crds/loader.h"

namespace sg::crds {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Write(const rapidjson::Value& v, Writer* w) {
  if (v.IsObject()) {
    std::vector<const rapidjson::Value::Member*> members;
    for (const auto& m : v.GetObject()) members.push_back(&m);
    // Byte order of the keys: independent of locale and of input order.
    std::stable_sort(members.begin(), members.end(), [](const auto* a, const auto* b) {
      std::string_view x(a->name.GetString(), a->name.GetStringLength());
      std::string_view y(b->name.GetString(), b->name.GetStringLength());
      return x < y;
    });
    w->StartObject();
    for (const auto* m : members) {
      w->Key(m->name.GetString(), m->name.GetStringLength());
      Write(m->value, w);
    }
    w->EndObject();
  } else if (v.IsArray()) {
    w->StartArray();
    for (const auto& item : v.GetArray()) Write(item, w);
    w->EndArray();
  } else {
    v.Accept(*w);
  }
}

}  // namespace

std::string CanonicalJson(const rapidjson::Value& value) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  Write(value, &w);
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace sg::crds
