#include "crds/yaml_json.h"

// yaml-cpp 0.7's node/impl.h trips GCC 12's dangling-pointer analysis when
// inlined; the code is correct and not ours to change.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#endif
#include <yaml-cpp/yaml.h>
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic pop
#endif

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <regex>
#include <set>

namespace sg::crds {
namespace {

constexpr const char* kTagStr = "tag:yaml.org,2002:str";
constexpr const char* kTagInt = "tag:yaml.org,2002:int";
constexpr const char* kTagFloat = "tag:yaml.org,2002:float";
constexpr const char* kTagBool = "tag:yaml.org,2002:bool";
constexpr const char* kTagNull = "tag:yaml.org,2002:null";
// Bounds what aliases can expand to ("billion laughs") and how deep input nests.
constexpr size_t kMaxNodes = 200000;
constexpr int kMaxDepth = 64;

Mark ToMark(const YAML::Mark& m) {
  if (m.line < 0) return Mark{};
  return Mark{m.line + 1, m.column + 1};
}

bool IsNullWord(const std::string& s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

class Converter {
 public:
  Converter(const std::string& file, rapidjson::Document::AllocatorType& alloc, ParsedDocument* doc)
      : file_(file), alloc_(alloc), doc_(doc) {}

  void Convert(const YAML::Node& node, const std::string& path, Mark key_mark, int depth,
               rapidjson::Value* out) {
    Mark mark = ToMark(node.Mark());
    if (mark.line == 0) mark = key_mark;
    if (++nodes_ > kMaxNodes || depth > kMaxDepth) {
      if (!too_large_) {
        too_large_ = true;
        Error(path, mark,
              "document too large or too deeply nested (at most " + std::to_string(kMaxNodes) +
                  " nodes and " + std::to_string(kMaxDepth) + " levels)");
      }
      out->SetNull();
      return;
    }
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        doc_->positions.Set(path, mark);
        out->SetNull();
        return;
      case YAML::NodeType::Scalar:
        doc_->positions.Set(path, mark);
        ConvertScalar(node, path, mark, out);
        return;
      case YAML::NodeType::Sequence: {
        doc_->positions.Set(path, key_mark.line ? key_mark : mark);
        out->SetArray();
        size_t i = 0;
        for (const YAML::Node& item : node) {
          rapidjson::Value v;
          std::string item_path = IndexPath(path, i++);
          Mark item_mark = ToMark(item.Mark());
          Convert(item, item_path, item_mark.line ? item_mark : mark, depth + 1, &v);
          out->PushBack(v, alloc_);
        }
        return;
      }
      case YAML::NodeType::Map: {
        doc_->positions.Set(path, key_mark.line ? key_mark : mark);
        out->SetObject();
        std::set<std::string> seen;
        for (auto it = node.begin(); it != node.end(); ++it) {
          // A copy: `it->first` lives in a proxy that dies with this statement.
          const YAML::Node key = it->first;
          Mark km = ToMark(key.Mark());
          if (!key.IsScalar()) {
            Error(path, km.line ? km : mark,
                  "expected a scalar mapping key, got a " +
                      std::string(key.IsMap() ? "mapping" : "sequence"));
            continue;
          }
          const std::string& name = key.Scalar();
          std::string child = ChildPath(path, name);
          if (!seen.insert(name).second) {
            Error(child, km, "duplicate key " + Quote(name));
            continue;
          }
          rapidjson::Value v;
          Convert(it->second, child, km, depth + 1, &v);
          out->AddMember(
              rapidjson::Value(name.data(), static_cast<rapidjson::SizeType>(name.size()), alloc_),
              v, alloc_);
        }
        return;
      }
    }
  }

 private:
  void Error(const std::string& path, Mark mark, std::string message) {
    doc_->diagnostics.push_back(
        Diagnostic{file_, mark.line, mark.column, path, std::move(message)});
  }

  void SetString(const std::string& s, rapidjson::Value* out) {
    out->SetString(s.data(), static_cast<rapidjson::SizeType>(s.size()), alloc_);
  }

  static bool ParseInt(const std::string& s, rapidjson::Value* out) {
    static const std::regex kInt("[-+]?[0-9]+");
    if (!std::regex_match(s, kInt)) return false;
    errno = 0;
    if (s[0] == '-') {
      long long v = std::strtoll(s.c_str(), nullptr, 10);
      if (errno == 0) {
        out->SetInt64(v);
        return true;
      }
    } else {
      unsigned long long v = std::strtoull(s.c_str(), nullptr, 10);
      if (errno == 0) {
        if (v <= static_cast<unsigned long long>(INT64_MAX)) {
          out->SetInt64(static_cast<int64_t>(v));
        } else {
          out->SetUint64(v);
        }
        return true;
      }
    }
    return ParseFloat(s, out);
  }

  static bool ParseFloat(const std::string& s, rapidjson::Value* out) {
    static const std::regex kFloat("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
    if (!std::regex_match(s, kFloat)) return false;
    double d = std::strtod(s.c_str(), nullptr);
    // JSON has no infinity: an out-of-range number stays a string and is
    // then rejected by the schema as "expected a number".
    if (!std::isfinite(d)) return false;
    out->SetDouble(d);
    return true;
  }

  static bool ParseBool(const std::string& s, rapidjson::Value* out) {
    if (s == "true" || s == "True" || s == "TRUE") {
      out->SetBool(true);
      return true;
    }
    if (s == "false" || s == "False" || s == "FALSE") {
      out->SetBool(false);
      return true;
    }
    return false;
  }

  void ConvertScalar(const YAML::Node& node, const std::string& path, Mark mark,
                     rapidjson::Value* out) {
    const std::string& s = node.Scalar();
    const std::string& tag = node.Tag();
    if (tag == "!" || tag == kTagStr) {
      SetString(s, out);
      return;
    }
    if (tag == "?" || tag.empty()) {
      if (IsNullWord(s)) {
        out->SetNull();
      } else if (!ParseBool(s, out) && !ParseInt(s, out) && !ParseFloat(s, out)) {
        SetString(s, out);
      }
      return;
    }
    bool ok = false;
    if (tag == kTagInt) {
      ok = ParseInt(s, out) && out->IsInt64();
    } else if (tag == kTagFloat) {
      ok = ParseFloat(s, out) || ParseInt(s, out);
    } else if (tag == kTagBool) {
      ok = ParseBool(s, out);
    } else if (tag == kTagNull) {
      ok = IsNullWord(s);
      if (ok) out->SetNull();
    } else {
      Error(path, mark,
            "unsupported tag " + Quote(tag) + "; expected !!str, !!int, !!float, !!bool or !!null");
      SetString(s, out);
      return;
    }
    if (!ok) {
      Error(path, mark, "value " + Quote(s) + " does not match its tag " + Quote(tag));
      SetString(s, out);
    }
  }

  const std::string& file_;
  rapidjson::Document::AllocatorType& alloc_;
  ParsedDocument* doc_;
  size_t nodes_ = 0;
  bool too_large_ = false;
};

}  // namespace

ParsedFile ParseYaml(std::string_view text, const std::string& file_name) {
  ParsedFile result;
  std::vector<YAML::Node> nodes;
  try {
    nodes = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    Mark m = ToMark(e.mark);
    result.diagnostics.push_back(
        Diagnostic{file_name, m.line, m.column, "", "malformed YAML: " + e.msg});
    return result;
  }
  for (const YAML::Node& node : nodes) {
    if (!node.IsDefined() || node.IsNull()) continue;
    ParsedDocument doc;
    doc.file = file_name;
    doc.mark = ToMark(node.Mark());
    doc.json = std::make_unique<rapidjson::Document>();
    Converter converter(file_name, doc.json->GetAllocator(), &doc);
    converter.Convert(node, "", doc.mark, 0, doc.json.get());
    result.documents.push_back(std::move(doc));
  }
  return result;
}

}  // namespace sg::crds
