#include "crds/schema_explain.h"

#include <rapidjson/document.h>
#include <rapidjson/pointer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cctype>

#include "crds/schema.h"

namespace sg::crds {
namespace {

using rapidjson::Value;

std::string Str(const Value& v) { return std::string(v.GetString(), v.GetStringLength()); }

// A value as it is written in YAML: strings bare, other values as JSON.
std::string Display(const Value& v) {
  if (v.IsString()) return Str(v);
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return buf.GetString();
}

const Value* Member(const Value& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// "e.g." and "i.e." do not end a sentence.
std::string FirstSentence(const std::string& text) {
  for (size_t dot = text.find(". "); dot != std::string::npos; dot = text.find(". ", dot + 1)) {
    if (dot >= 3 &&
        (text.compare(dot - 3, 3, "e.g") == 0 || text.compare(dot - 3, 3, "i.e") == 0)) {
      continue;
    }
    return text.substr(0, dot + 1);
  }
  return text;
}

// One position in a schema: the schema as written there, which may carry a
// description and a default beside its $ref (a field's own words), and the
// schema its local $refs lead to (the definition that validates it).
struct Node {
  const Value* written = nullptr;
  const Value* resolved = nullptr;
};

class SchemaDoc {
 public:
  explicit SchemaDoc(Kind kind) { doc_.Parse(SchemaText(kind)); }

  bool ok() const { return !doc_.HasParseError() && doc_.IsObject(); }
  Node Root() const { return At(doc_); }

  Node At(const Value& written) const {
    const Value* s = &written;
    for (int hops = 0; hops < 8; ++hops) {
      const Value* next = RefTarget(*s);
      if (!next) break;
      s = next;
    }
    return Node{&written, s};
  }

  // The first `keyword` on the way from the written schema to the resolved
  // one: a field's own description or default wins over its definition's.
  const Value* Find(const Node& node, const char* keyword) const {
    const Value* s = node.written;
    for (int hops = 0; s && hops < 9; ++hops) {
      if (const Value* v = Member(*s, keyword)) return v;
      s = RefTarget(*s);
    }
    return nullptr;
  }

  std::string Text(const Node& node, const char* keyword) const {
    const Value* v = Find(node, keyword);
    return v && v->IsString() ? Str(*v) : "";
  }

  // The schema of each item of an array, or of each value of a map.
  std::optional<Node> Element(const Node& node) const {
    const std::string type = BaseType(node);
    const Value* element = nullptr;
    if (type == "array") element = Member(*node.resolved, "items");
    if (type == "object" && !Member(*node.resolved, "properties")) {
      element = Member(*node.resolved, "additionalProperties");
    }
    if (!element || !element->IsObject()) return std::nullopt;
    return At(*element);
  }

  // The object whose fields a path continues into: arrays lead into their
  // items, however deep.
  Node Container(Node node) const {
    for (int depth = 0; depth < 8 && BaseType(node) == "array"; ++depth) {
      auto element = Element(node);
      if (!element) break;
      node = *element;
    }
    return node;
  }

  // The JSON Schema type, or one inferred from enum values.
  std::string BaseType(const Node& node) const {
    const Value& s = *node.resolved;
    if (const Value* t = Member(s, "type")) {
      if (t->IsString()) return Str(*t);
      if (t->IsArray()) {
        std::string joined;
        for (const Value& x : t->GetArray()) {
          if (x.IsString()) joined += (joined.empty() ? "" : "|") + Str(x);
        }
        return joined;
      }
    }
    if (const Value* e = Member(s, "enum"); e && e->IsArray() && !e->Empty()) {
      const Value& first = (*e)[0];
      if (first.IsString()) return "string";
      if (first.IsInt64() || first.IsUint64()) return "integer";
      if (first.IsBool()) return "boolean";
      if (first.IsNumber()) return "number";
    }
    return "any";
  }

  // BaseType with what arrays hold ("[]object") and maps map to
  // ("map[string]string").
  std::string TypeName(const Node& node, int depth = 0) const {
    const std::string type = BaseType(node);
    auto element = depth < 8 ? Element(node) : std::nullopt;
    if (type == "array") return "[]" + (element ? TypeName(*element, depth + 1) : "any");
    if (type == "object" && element) return "map[string]" + TypeName(*element, depth + 1);
    return type;
  }

  std::vector<std::string> FieldNames(const Node& object) const {
    std::vector<std::string> names;
    if (const Value* props = Member(*object.resolved, "properties"); props && props->IsObject()) {
      for (const auto& p : props->GetObject()) names.push_back(Str(p.name));
    }
    return names;
  }

  const Value* Field(const Node& object, const std::string& name) const {
    const Value* props = Member(*object.resolved, "properties");
    if (!props || !props->IsObject()) return nullptr;
    auto it = props->FindMember(Value(name.c_str(), static_cast<rapidjson::SizeType>(name.size())));
    return it == props->MemberEnd() ? nullptr : &it->value;
  }

  bool Required(const Node& object, const std::string& name) const {
    const Value* required = Member(*object.resolved, "required");
    if (!required || !required->IsArray()) return false;
    for (const Value& r : required->GetArray()) {
      if (r.IsString() && Str(r) == name) return true;
    }
    return false;
  }

 private:
  const Value* RefTarget(const Value& schema) const {
    const Value* ref = Member(schema, "$ref");
    if (!ref || !ref->IsString()) return nullptr;
    const std::string target = Str(*ref);
    // The per-kind schemas refer only inside themselves.
    if (target.empty() || target[0] != '#') return nullptr;
    return rapidjson::Pointer(target.substr(1).c_str()).Get(doc_);
  }

  rapidjson::Document doc_;
};

std::string Range(const Value& schema) {
  const Value* min = Member(schema, "minimum");
  const Value* max = Member(schema, "maximum");
  bool has_min = min && min->IsNumber(), has_max = max && max->IsNumber();
  if (has_min && has_max) return Display(*min) + "-" + Display(*max);
  if (has_min) return ">= " + Display(*min);
  if (has_max) return "<= " + Display(*max);
  return "";
}

// "1-64 items", "at least 1 field", "at most 64 entries": a count between
// the schema's min_key and max_key.
std::string Count(const Value& schema, const char* min_key, const char* max_key, const char* one,
                  const char* many) {
  const Value* min = Member(schema, min_key);
  const Value* max = Member(schema, max_key);
  uint64_t lo = min && min->IsUint64() ? min->GetUint64() : 0;
  bool has_max = max && max->IsUint64();
  auto plural = [&](uint64_t n) { return std::string(n == 1 ? one : many); };
  if (lo > 0 && has_max) {
    return std::to_string(lo) + "-" + Display(*max) + " " + plural(max->GetUint64());
  }
  if (lo > 0) return "at least " + std::to_string(lo) + " " + plural(lo);
  if (has_max) return "at most " + Display(*max) + " " + plural(max->GetUint64());
  return "";
}

std::string Limits(const SchemaDoc& schema, const Node& node) {
  const Value& s = *node.resolved;
  const std::string type = schema.BaseType(node);
  if (type == "string") return Count(s, "minLength", "maxLength", "character", "characters");
  if (type == "array") {
    std::string items = Count(s, "minItems", "maxItems", "item", "items");
    const Value* unique = Member(s, "uniqueItems");
    if (unique && unique->IsBool() && unique->GetBool()) {
      items += items.empty() ? "unique items" : ", unique";
    }
    return items;
  }
  if (type == "object") {
    if (Member(s, "properties"))
      return Count(s, "minProperties", "maxProperties", "field", "fields");
    return Count(s, "minProperties", "maxProperties", "entry", "entries");
  }
  return "";
}

// A value's constraints: what an enum allows, a number's range, a string's
// format as its definition describes it.
void DescribeValue(const SchemaDoc& schema, const Node& value, const std::string& description,
                   Explanation& e) {
  if (const Value* options = Member(*value.resolved, "enum"); options && options->IsArray()) {
    for (const Value& o : options->GetArray()) e.values.push_back(Display(o));
  }
  e.range = Range(*value.resolved);
  // A string that refers to a definition (a duration, a host name, ...) is
  // explained by the definition's description: its format.
  if (schema.BaseType(value) == "string" && value.resolved != value.written) {
    const Value* format = Member(*value.resolved, "description");
    if (format && format->IsString() && Str(*format) != description) e.format = Str(*format);
  }
}

std::vector<FieldSummary> Fields(const SchemaDoc& schema, const Node& object) {
  std::vector<FieldSummary> fields;
  const Value* props = Member(*object.resolved, "properties");
  if (!props || !props->IsObject()) return fields;
  for (const auto& p : props->GetObject()) {
    Node child = schema.At(p.value);
    FieldSummary f;
    f.name = Str(p.name);
    f.type = schema.TypeName(child);
    f.required = schema.Required(object, f.name);
    if (const Value* d = schema.Find(child, "default")) f.default_value = Display(*d);
    f.summary = FirstSentence(schema.Text(child, "description"));
    fields.push_back(std::move(f));
  }
  return fields;
}

// "a string", "an integer", "a map[string]string": what a field without
// fields is.
std::string WithArticle(const std::string& type) {
  bool vowel = !type.empty() && std::string("aeiou").find(type[0]) != std::string::npos;
  return (vowel ? "an " : "a ") + type;
}

// A segment without its "[]" or "[N]"; nullopt when the brackets hold
// something else.
std::optional<std::string> FieldName(const std::string& segment) {
  size_t open = segment.find('[');
  if (open == std::string::npos) return segment;
  if (segment.back() != ']') return std::nullopt;
  for (size_t i = open + 1; i + 1 < segment.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(segment[i]))) return std::nullopt;
  }
  return segment.substr(0, open);
}

std::vector<std::string> Split(std::string_view text, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == sep) {
      parts.emplace_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

}  // namespace

Result<Explanation> Explain(std::string_view path) {
  const std::vector<std::string> segments = Split(path, '.');
  auto kind = ParseKind(segments[0]);
  if (!kind) {
    return InvalidArgument("unknown kind \"" + segments[0] +
                           "\": expected route (routes) or servicecluster (serviceclusters, sc), "
                           "e.g. route.spec.timeouts");
  }
  SchemaDoc schema(*kind);
  // The schemas are part of the build and covered by tests.
  if (!schema.ok())
    return Internal(std::string("the embedded schema of ") + KindName(*kind) +
                    " is not a JSON object");

  Explanation e;
  e.kind = *kind;
  Node node = schema.Root();
  std::string where = segments[0];  // what the user wrote so far, for messages
  for (size_t i = 1; i < segments.size(); ++i) {
    auto name = FieldName(segments[i]);
    if (!name || name->empty()) {
      return InvalidArgument("invalid field name \"" + segments[i] + "\" after " + where +
                             ": expected NAME, NAME[] or NAME[N]");
    }
    // A path continues through an array into its items: "backends[]".
    if (schema.BaseType(node) == "array") e.path += "[]";
    Node object = schema.Container(node);
    const Value* field = schema.Field(object, *name);
    if (!field) {
      std::vector<std::string> valid = schema.FieldNames(object);
      if (valid.empty()) {
        return InvalidArgument(where + " has no field \"" + *name + "\": it is " +
                               WithArticle(schema.TypeName(node)));
      }
      return InvalidArgument(where + " has no field \"" + *name +
                             "\"; its fields: " + JoinNames(valid));
    }
    e.required = schema.Required(object, *name);
    node = schema.At(*field);
    where += "." + *name;
    e.path += (e.path.empty() ? "" : ".") + *name;
  }

  e.type = schema.TypeName(node);
  e.description = schema.Text(node, "description");
  if (const Value* d = schema.Find(node, "default")) e.default_value = Display(*d);
  e.limits = Limits(schema, node);
  auto element = schema.Element(node);
  if (schema.BaseType(node) == "array" && element) {
    const Value* own = Member(*element->written, "description");
    if (own && own->IsString()) e.item_description = Str(*own);
  }
  DescribeValue(schema, element ? *element : node, e.description, e);
  e.fields = Fields(schema, schema.Container(node));
  return e;
}

}  // namespace sg::crds
