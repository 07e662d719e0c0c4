#include "crds/loader.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <system_error>

#include "crds/checked_document.h"
#include "crds/decode.h"
#include "crds/schema.h"
#include "crds/semantic.h"
#include "crds/yaml_json.h"

namespace sg::crds {
namespace {

namespace fs = std::filesystem;

std::string JsonTypeName(const rapidjson::Value& v) {
  if (v.IsObject()) return "a mapping";
  if (v.IsArray()) return "a list";
  if (v.IsString()) return "a string";
  if (v.IsNumber()) return "a number";
  if (v.IsBool()) return "a boolean";
  return "null";
}

// Schema and semantic checks of one document on its own.
void CheckDocument(CheckedDocument* doc) {
  for (const Diagnostic& d : doc->parsed.diagnostics) {
    doc->diagnostics.push_back(d);
    doc->failed.Add(d.path);
  }
  const rapidjson::Value& root = *doc->parsed.json;
  if (!root.IsObject()) {
    doc->Report("", "expected a mapping with apiVersion, kind, metadata and spec, got " +
                        JsonTypeName(root));
    return;
  }
  auto kind = root.FindMember("kind");
  if (kind == root.MemberEnd()) {
    doc->Report("kind", "required field is missing; expected ServiceCluster or Route");
    return;
  }
  if (kind->value.IsString()) {
    doc->kind = KindFromField({kind->value.GetString(), kind->value.GetStringLength()});
  }
  if (!doc->kind) {
    std::string got = kind->value.IsString()
                          ? Quote({kind->value.GetString(), kind->value.GetStringLength()})
                          : JsonTypeName(kind->value);
    doc->Report("kind", "expected ServiceCluster or Route, got " + got);
    return;
  }
  for (const FieldIssue& issue : ValidateSchema(*doc->kind, root)) {
    if (doc->failed.Covers(issue.path)) continue;
    doc->Report(issue.path, issue.message);
  }
  for (const FieldIssue& issue : CheckSemantics(*doc->kind, root, doc->failed)) {
    doc->Report(issue.path, issue.message);
  }
}

Resource BuildResource(const CheckedDocument& doc) {
  const rapidjson::Value& root = *doc.parsed.json;
  Resource r;
  r.kind = *doc.kind;
  r.file = doc.parsed.file;
  r.line = doc.parsed.mark.line;
  r.canonical_json = CanonicalJson(root);
  if (r.kind == Kind::kServiceCluster) {
    ServiceCluster sc = DecodeServiceCluster(root);
    r.name = sc.metadata.name;
    r.labels = sc.metadata.labels;
    r.object = std::move(sc);
  } else {
    Route route = DecodeRoute(root);
    r.name = route.metadata.name;
    r.labels = route.metadata.labels;
    r.object = std::move(route);
  }
  return r;
}

// Validates documents together and splits them into resources and diagnostics.
void Finish(std::vector<ParsedDocument> parsed, LoadResult* result) {
  std::vector<CheckedDocument> docs;
  docs.reserve(parsed.size());
  for (ParsedDocument& p : parsed) {
    CheckedDocument doc;
    doc.parsed = std::move(p);
    CheckDocument(&doc);
    docs.push_back(std::move(doc));
  }
  CheckAcrossDocuments(&docs);
  result->documents += static_cast<int>(docs.size());
  for (CheckedDocument& doc : docs) {
    if (doc.diagnostics.empty()) {
      result->resources.push_back(BuildResource(doc));
    } else {
      result->diagnostics.insert(result->diagnostics.end(), doc.diagnostics.begin(),
                                 doc.diagnostics.end());
    }
  }
  SortDiagnostics(&result->diagnostics);
}

bool HasResourceExtension(const fs::path& p) {
  std::string ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

void ReadInto(const std::string& file, std::string_view text, std::vector<ParsedDocument>* docs,
              LoadResult* result) {
  ParsedFile parsed = ParseYaml(text, file);
  ++result->files;
  result->diagnostics.insert(result->diagnostics.end(), parsed.diagnostics.begin(),
                             parsed.diagnostics.end());
  for (ParsedDocument& d : parsed.documents) docs->push_back(std::move(d));
}

void ReadFile(const std::string& file, std::vector<ParsedDocument>* docs, LoadResult* result) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::error_code ec(errno, std::generic_category());
    result->diagnostics.push_back(Diagnostic{file, 0, 0, "", "cannot read: " + ec.message()});
    return;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ReadInto(file, text, docs, result);
}

}  // namespace

LoadResult LoadText(std::string_view text, const std::string& file_name) {
  LoadResult result;
  std::vector<ParsedDocument> docs;
  ReadInto(file_name, text, &docs, &result);
  Finish(std::move(docs), &result);
  return result;
}

LoadResult LoadPaths(const std::vector<std::string>& paths) {
  LoadResult result;
  std::vector<ParsedDocument> docs;
  for (const std::string& path : paths) {
    if (path == "-") {
      std::string text((std::istreambuf_iterator<char>(std::cin)),
                       std::istreambuf_iterator<char>());
      ReadInto("<stdin>", text, &docs, &result);
      continue;
    }
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<std::string> files;
      for (const auto& entry : fs::directory_iterator(path, ec)) {
        if (entry.is_regular_file(ec) && HasResourceExtension(entry.path())) {
          files.push_back(entry.path().string());
        }
      }
      if (ec) {
        result.diagnostics.push_back(Diagnostic{path, 0, 0, "", "cannot list: " + ec.message()});
        continue;
      }
      std::sort(files.begin(), files.end());
      if (files.empty()) {
        result.diagnostics.push_back(
            Diagnostic{path, 0, 0, "", "expected *.yaml, *.yml or *.json files, found none"});
      }
      for (const std::string& f : files) ReadFile(f, &docs, &result);
      continue;
    }
    ReadFile(path, &docs, &result);
  }
  Finish(std::move(docs), &result);
  return result;
}

sg::Result<Resource> DecodeStored(std::string_view canonical_json) {
  ParsedDocument doc;
  doc.file = "<stored>";
  doc.json = std::make_unique<rapidjson::Document>();
  doc.json->Parse(canonical_json.data(), canonical_json.size());
  if (doc.json->HasParseError()) {
    return sg::InvalidArgument("stored resource is not valid JSON (at byte " +
                               std::to_string(doc.json->GetErrorOffset()) + ")");
  }
  std::vector<ParsedDocument> docs;
  docs.push_back(std::move(doc));
  LoadResult result;
  Finish(std::move(docs), &result);
  if (!result.ok()) {
    std::string message = "stored resource is invalid:";
    for (const Diagnostic& d : result.diagnostics) message += " " + d.ToString() + ";";
    message.pop_back();
    return sg::InvalidArgument(message);
  }
  return std::move(result.resources.front());
}

}  // namespace sg::crds
