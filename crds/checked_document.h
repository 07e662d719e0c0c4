#pragma once
// A parsed document going through validation, collecting its diagnostics.

#include <optional>
#include <string>
#include <vector>

#include "crds/diagnostic.h"
#include "crds/field_issue.h"
#include "crds/kind.h"
#include "crds/yaml_json.h"

namespace sg::crds {

struct CheckedDocument {
  ParsedDocument parsed;
  std::optional<Kind> kind;  // unset when `kind` is missing or unknown
  FailedPaths failed;
  std::vector<Diagnostic> diagnostics;

  // Records an error at `path`, positioned at the field (or the nearest
  // enclosing one that exists), and marks the path as failed.
  void Report(const std::string& path, const std::string& message);
  // "file:line" of a field, for messages that point at another document.
  std::string Where(const std::string& path) const;
};

// Rules that span documents: duplicate resources, host+path claimed twice in
// one cluster, and vip-mode restrictions inherited from a cluster in the input.
void CheckAcrossDocuments(std::vector<CheckedDocument>* documents);

}  // namespace sg::crds
