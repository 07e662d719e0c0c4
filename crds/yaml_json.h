#pragma once
// YAML (and JSON, a subset) to RapidJSON, remembering where every field was.
//
// Plain scalars are typed the way YAML 1.2's core schema types them (integers,
// floats, true/false, null); quoted scalars always stay strings, so `"8080"`
// is a string and `8080` an integer. Duplicate keys are errors, not "last
// wins", because a silently dropped field is worse than a rejected file.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "crds/diagnostic.h"
#include "crds/source_map.h"

namespace sg::crds {

struct ParsedDocument {
  std::string file;
  Mark mark;  // where the document's content starts
  std::unique_ptr<rapidjson::Document> json;
  SourceMap positions;
  // Problems found while converting (duplicate keys, unsupported tags, ...);
  // the document is still converted as far as possible so that schema and
  // semantic checks can report the rest.
  std::vector<Diagnostic> diagnostics;
};

struct ParsedFile {
  std::vector<ParsedDocument> documents;  // non-empty documents, in order
  std::vector<Diagnostic> diagnostics;    // file-level: malformed YAML
};

ParsedFile ParseYaml(std::string_view text, const std::string& file_name);

}  // namespace sg::crds
