#include "crds/schema.h"

// Patterns are ECMAScript regexes evaluated with std::regex, the same engine
// the walker below uses, so both agree on what a pattern means. RapidJSON
// 1.1.0's switch is inverted: defining USE_INTERNALREGEX (to anything) turns
// the internal engine off and std::regex on, while defining USE_STDREGEX
// disables patterns altogether. This is the only file that includes
// rapidjson/schema.h, so the choice cannot differ between translation units.
#define RAPIDJSON_SCHEMA_USE_INTERNALREGEX 0
#include <rapidjson/pointer.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <stdexcept>

#include "crds/diagnostic.h"
#include "crds/source_map.h"

namespace sg::crds {
namespace {

using rapidjson::Value;

struct CompiledSchema {
  rapidjson::Document document;
  std::unique_ptr<rapidjson::SchemaDocument> schema;
};

const CompiledSchema& Compiled(Kind kind) {
  static const auto* compiled = [] {
    auto* c = new std::map<Kind, CompiledSchema>();
    for (Kind k : {Kind::kServiceCluster, Kind::kRoute}) {
      CompiledSchema& entry = (*c)[k];
      entry.document.Parse(SchemaText(k));
      // The schemas are part of the source tree and covered by tests; a parse
      // failure here is a build defect, not an input error.
      if (entry.document.HasParseError()) throw std::logic_error("embedded schema is not JSON");
      entry.schema = std::make_unique<rapidjson::SchemaDocument>(entry.document);
    }
    return c;
  }();
  return compiled->at(kind);
}

const std::regex& CachedRegex(const std::string& pattern) {
  static std::mutex mu;
  static std::map<std::string, std::regex> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(pattern);
  if (it == cache.end()) {
    it = cache.emplace(pattern, std::regex(pattern, std::regex::ECMAScript)).first;
  }
  return it->second;
}

std::string Str(const Value& v) { return std::string(v.GetString(), v.GetStringLength()); }

bool IsInteger(const Value& v) { return v.IsInt64() || v.IsUint64(); }

std::string Describe(const Value& v) {
  if (v.IsNull()) return "null";
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsUint64()) return std::to_string(v.GetUint64());
  if (v.IsNumber()) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    v.Accept(w);
    return buf.GetString();
  }
  if (v.IsString()) return Quote(Str(v));
  if (v.IsArray()) return "a list";
  return "a mapping";
}

std::string DescribeWithType(const Value& v) {
  if (v.IsString()) return "string " + Describe(v);
  if (IsInteger(v)) return "integer " + Describe(v);
  if (v.IsNumber()) return "number " + Describe(v);
  if (v.IsBool()) return "boolean " + Describe(v);
  return Describe(v);
}

std::string TypePhrase(const std::string& type) {
  if (type == "object") return "a mapping";
  if (type == "array") return "a list";
  if (type == "string") return "a string";
  if (type == "integer") return "an integer";
  if (type == "number") return "a number";
  if (type == "boolean") return "true or false";
  return "null";
}

bool HasType(const Value& v, const std::string& type) {
  if (type == "object") return v.IsObject();
  if (type == "array") return v.IsArray();
  if (type == "string") return v.IsString();
  if (type == "integer") return IsInteger(v);
  if (type == "number") return v.IsNumber();
  if (type == "boolean") return v.IsBool();
  if (type == "null") return v.IsNull();
  return false;
}

size_t CodePoints(const Value& v) {
  size_t n = 0;
  const char* s = v.GetString();
  for (rapidjson::SizeType i = 0; i < v.GetStringLength(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::string Plural(uint64_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

// Collects every violation of a schema by walking schema and document
// together. Covers the keywords the swarmgate schemas use, with their
// draft-04 meaning (the same in draft-07 for these keywords).
class Walker {
 public:
  explicit Walker(const Value& root) : root_(root) {}

  void Walk(const Value& schema_in, const Value& v, const std::string& path) {
    const Value& schema = Resolve(schema_in);
    if (!schema.IsObject()) return;
    if (!CheckType(schema, v, path)) return;
    if (auto e = schema.FindMember("enum"); e != schema.MemberEnd() && e->value.IsArray()) {
      bool found = false;
      std::string choices;
      for (const Value& option : e->value.GetArray()) {
        if (option == v) found = true;
        if (!choices.empty()) choices += ", ";
        choices += option.IsString() ? Str(option) : Describe(option);
      }
      if (!found) {
        Add(path, "expected one of: " + choices + "; got " + Describe(v));
        return;
      }
    }
    if (v.IsString()) WalkString(schema, v, path);
    if (v.IsNumber()) WalkNumber(schema, v, path);
    if (v.IsArray()) WalkArray(schema, v, path);
    if (v.IsObject()) WalkObject(schema, v, path);
  }

  std::vector<FieldIssue> issues;

 private:
  const Value& Resolve(const Value& schema) {
    const Value* s = &schema;
    for (int hops = 0; hops < 8 && s->IsObject(); ++hops) {
      auto ref = s->FindMember("$ref");
      if (ref == s->MemberEnd() || !ref->value.IsString()) break;
      std::string target = Str(ref->value);
      if (target.empty() || target[0] != '#') break;
      const Value* next = rapidjson::Pointer(target.substr(1).c_str()).Get(root_);
      if (!next) break;
      s = next;
    }
    return *s;
  }

  void Add(const std::string& path, std::string message) {
    issues.push_back(FieldIssue{path, std::move(message)});
  }

  bool CheckType(const Value& schema, const Value& v, const std::string& path) {
    auto t = schema.FindMember("type");
    if (t == schema.MemberEnd()) return true;
    std::vector<std::string> types;
    if (t->value.IsString()) types.push_back(Str(t->value));
    if (t->value.IsArray()) {
      for (const Value& x : t->value.GetArray()) {
        if (x.IsString()) types.push_back(Str(x));
      }
    }
    std::string expected;
    for (const std::string& type : types) {
      if (HasType(v, type)) return true;
      if (!expected.empty()) expected += " or ";
      expected += TypePhrase(type);
    }
    Add(path, "expected " + expected + ", got " + DescribeWithType(v));
    return false;
  }

  std::string Expected(const Value& schema, const std::string& fallback) {
    auto d = schema.FindMember("description");
    if (d != schema.MemberEnd() && d->value.IsString()) return Str(d->value);
    return fallback;
  }

  void WalkString(const Value& schema, const Value& v, const std::string& path) {
    size_t n = CodePoints(v);
    auto min = schema.FindMember("minLength");
    if (min != schema.MemberEnd() && min->value.IsUint64() && n < min->value.GetUint64()) {
      Add(path, "expected at least " + Plural(min->value.GetUint64(), "character") + ", got " +
                    (n == 0 ? std::string("an empty string") : Describe(v)));
      return;
    }
    auto max = schema.FindMember("maxLength");
    if (max != schema.MemberEnd() && max->value.IsUint64() && n > max->value.GetUint64()) {
      Add(path, "expected at most " + Plural(max->value.GetUint64(), "character") + ", got " +
                    Plural(n, "character") + ": " + Describe(v));
      return;
    }
    auto pattern = schema.FindMember("pattern");
    if (pattern != schema.MemberEnd() && pattern->value.IsString()) {
      std::string s = Str(v);
      if (!std::regex_search(s, CachedRegex(Str(pattern->value)))) {
        Add(path, "expected " + Expected(schema, "a string matching " + Str(pattern->value)) +
                      ", got " + Describe(v));
      }
    }
  }

  void WalkNumber(const Value& schema, const Value& v, const std::string& path) {
    auto min = schema.FindMember("minimum");
    auto max = schema.FindMember("maximum");
    bool has_min = min != schema.MemberEnd() && min->value.IsNumber();
    bool has_max = max != schema.MemberEnd() && max->value.IsNumber();
    double x = v.GetDouble();
    bool low = has_min && x < min->value.GetDouble();
    bool high = has_max && x > max->value.GetDouble();
    if (!low && !high) return;
    std::string kind = IsInteger(v) ? "an integer" : "a number";
    std::string range;
    if (has_min && has_max) {
      range = Describe(min->value) + "-" + Describe(max->value);
    } else if (has_min) {
      range = ">= " + Describe(min->value);
    } else {
      range = "<= " + Describe(max->value);
    }
    Add(path, "expected " + kind + " " + range + ", got " + Describe(v));
  }

  void WalkArray(const Value& schema, const Value& v, const std::string& path) {
    uint64_t n = v.Size();
    auto min = schema.FindMember("minItems");
    if (min != schema.MemberEnd() && min->value.IsUint64() && n < min->value.GetUint64()) {
      Add(path, "expected at least " + Plural(min->value.GetUint64(), "item") + ", got " +
                    std::to_string(n));
    }
    auto max = schema.FindMember("maxItems");
    if (max != schema.MemberEnd() && max->value.IsUint64() && n > max->value.GetUint64()) {
      Add(path, "expected at most " + Plural(max->value.GetUint64(), "item") + ", got " +
                    std::to_string(n));
    }
    auto unique = schema.FindMember("uniqueItems");
    if (unique != schema.MemberEnd() && unique->value.IsBool() && unique->value.GetBool()) {
      for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
        for (rapidjson::SizeType j = 0; j < i; ++j) {
          if (v[i] == v[j]) {
            Add(IndexPath(path, i), "expected unique items, got " + Describe(v[i]) +
                                        " again (first at " + IndexPath(path, j) + ")");
            break;
          }
        }
      }
    }
    auto items = schema.FindMember("items");
    if (items != schema.MemberEnd() && items->value.IsObject()) {
      for (rapidjson::SizeType i = 0; i < v.Size(); ++i)
        Walk(items->value, v[i], IndexPath(path, i));
    }
  }

  void WalkObject(const Value& schema, const Value& v, const std::string& path) {
    auto required = schema.FindMember("required");
    if (required != schema.MemberEnd() && required->value.IsArray()) {
      for (const Value& name : required->value.GetArray()) {
        if (name.IsString() && !v.HasMember(name)) {
          Add(ChildPath(path, Str(name)), "required field is missing");
        }
      }
    }
    uint64_t n = v.MemberCount();
    auto min = schema.FindMember("minProperties");
    if (min != schema.MemberEnd() && min->value.IsUint64() && n < min->value.GetUint64()) {
      Add(path, "expected at least " + Plural(min->value.GetUint64(), "field") + ", got " +
                    std::to_string(n));
    }
    auto max = schema.FindMember("maxProperties");
    if (max != schema.MemberEnd() && max->value.IsUint64() && n > max->value.GetUint64()) {
      Add(path, "expected at most " + Plural(max->value.GetUint64(), "field") + ", got " +
                    std::to_string(n));
    }
    auto props = schema.FindMember("properties");
    auto pattern_props = schema.FindMember("patternProperties");
    auto additional = schema.FindMember("additionalProperties");
    for (const auto& member : v.GetObject()) {
      std::string key = Str(member.name);
      std::string child = ChildPath(path, key);
      bool matched = false;
      if (props != schema.MemberEnd() && props->value.IsObject()) {
        auto p = props->value.FindMember(member.name);
        if (p != props->value.MemberEnd()) {
          matched = true;
          Walk(p->value, member.value, child);
        }
      }
      if (pattern_props != schema.MemberEnd() && pattern_props->value.IsObject()) {
        for (const auto& pp : pattern_props->value.GetObject()) {
          if (std::regex_search(key, CachedRegex(Str(pp.name)))) {
            matched = true;
            Walk(pp.value, member.value, child);
          }
        }
      }
      if (matched || additional == schema.MemberEnd()) continue;
      if (additional->value.IsObject()) {
        Walk(additional->value, member.value, child);
      } else if (additional->value.IsBool() && !additional->value.GetBool()) {
        if (props != schema.MemberEnd() && props->value.IsObject()) {
          std::string known;
          for (const auto& p : props->value.GetObject()) {
            if (!known.empty()) known += ", ";
            known += Str(p.name);
          }
          Add(child, "unknown field; expected one of: " + known);
        } else {
          std::string patterns;
          for (const auto& pp : pattern_props->value.GetObject()) {
            if (!patterns.empty()) patterns += " or ";
            patterns += Str(pp.name);
          }
          Add(child, "invalid key " + Quote(key) + "; expected a key matching " + patterns);
        }
      }
    }
  }

  const Value& root_;
};

// Turns a JSON pointer into a field path, using the document to tell array
// indexes from member names.
std::string PointerToPath(const rapidjson::Pointer& pointer, const Value& document) {
  std::string path;
  const Value* v = &document;
  for (size_t i = 0; i < pointer.GetTokenCount(); ++i) {
    const auto& token = pointer.GetTokens()[i];
    std::string name(token.name, token.length);
    if (v && v->IsArray()) {
      path = IndexPath(path, token.index);
      v = token.index < v->Size() ? &(*v)[token.index] : nullptr;
    } else {
      path = ChildPath(path, name);
      if (v && v->IsObject()) {
        auto m = v->FindMember(rapidjson::Value(token.name, token.length));
        v = m == v->MemberEnd() ? nullptr : &m->value;
      } else {
        v = nullptr;
      }
    }
  }
  return path;
}

}  // namespace

bool SchemaAccepts(Kind kind, const rapidjson::Value& document) {
  rapidjson::SchemaValidator validator(*Compiled(kind).schema);
  return document.Accept(validator);
}

std::vector<FieldIssue> ValidateSchema(Kind kind, const rapidjson::Value& document) {
  const CompiledSchema& compiled = Compiled(kind);
  rapidjson::SchemaValidator validator(*compiled.schema);
  if (document.Accept(validator)) return {};

  Walker walker(compiled.document);
  walker.Walk(compiled.document, document, "");
  if (!walker.issues.empty()) return std::move(walker.issues);

  // The walker does not know a keyword RapidJSON enforced: still say where.
  std::string keyword =
      validator.GetInvalidSchemaKeyword() ? validator.GetInvalidSchemaKeyword() : "";
  return {FieldIssue{PointerToPath(validator.GetInvalidDocumentPointer(), document),
                     "does not satisfy the schema keyword " + Quote(keyword)}};
}

}  // namespace sg::crds
