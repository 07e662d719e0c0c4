#pragma once
// Loading resources: files, directories or stdin in; typed, validated
// resources and precise diagnostics out. This is the entry point the CLI
// (apply, validate, render) and the resource store use.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <rapidjson/document.h>

#include "crds/diagnostic.h"
#include "crds/kind.h"
#include "crds/types.h"
#include "operator/common/result.h"

namespace sg::crds {

// One decoded, valid document.
struct Resource {
  Kind kind = Kind::kRoute;
  std::string name;
  std::map<std::string, std::string> labels;
  std::string file;  // where it came from ("<stored>" for DecodeStored)
  int line = 0;
  // {"apiVersion","kind","metadata","spec"} exactly as written (no defaults
  // added), keys sorted, compact: equal specs give equal bytes. This is what
  // is stored in Docker.
  std::string canonical_json;
  std::variant<ServiceCluster, Route> object;  // typed, defaults applied

  const ServiceCluster* cluster() const { return std::get_if<ServiceCluster>(&object); }
  const Route* route() const { return std::get_if<Route>(&object); }
};

struct LoadResult {
  std::vector<Resource> resources;      // every document without errors, in input order
  std::vector<Diagnostic> diagnostics;  // every error, sorted by position within each file
  int files = 0;
  int documents = 0;  // non-empty documents seen
  bool ok() const { return diagnostics.empty(); }
};

// Files; directories (their *.yaml, *.yml and *.json files, sorted, not
// recursive); "-" reads stdin, shown as "<stdin>". All inputs are validated
// together, so cross-document rules (duplicates, host+path conflicts, a
// route's cluster in vip mode) span them.
LoadResult LoadPaths(const std::vector<std::string>& paths);
LoadResult LoadText(std::string_view text, const std::string& file_name);

// Decodes the canonical JSON stored in Docker. It was valid when stored; any
// error here means the store holds something else (or an older API).
sg::Result<Resource> DecodeStored(std::string_view canonical_json);

// Sorted keys, compact.
std::string CanonicalJson(const rapidjson::Value& value);

}  // namespace sg::crds
