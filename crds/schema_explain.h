#pragma once
// What a field of a resource means, read from the embedded JSON Schemas: the
// logic of `swarmgate explain PATH` (kubectl explain's habit). The schemas'
// descriptions are what editors show too, so the CLI and the editor say the
// same thing.
//
// Pure functions over the embedded schema text: thread-safe, no state.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crds/kind.h"
#include "operator/common/result.h"

namespace sg::crds {

// One field of an object, as listed under the object it belongs to.
struct FieldSummary {
  std::string name;
  std::string type;  // as Explanation::type
  bool required = false;
  std::optional<std::string> default_value;
  std::string summary;  // the first sentence of its description
};

struct Explanation {
  Kind kind = Kind::kRoute;
  // Below the resource, "[]" marking the arrays passed through:
  // "spec.timeouts", "spec.backends[].weight"; empty for the resource itself.
  std::string path;
  // "object", "string", "integer", "boolean", "[]object" (an array of
  // objects), "[]string", "map[string]string" (free-form keys), ...
  std::string type;
  bool required = false;
  // For an array the next three describe each item, for a map each value.
  std::vector<std::string> values;  // the allowed values (enum), as written
  std::string range;                // "1-65535", ">= 0", "<= 10"
  std::string format;               // e.g. "a duration: an integer followed by ms, ..."
  // "1-40 characters", "1-64 items, unique", "at most 64 entries", "at least 1 field".
  std::string limits;
  std::optional<std::string> default_value;  // strings bare, other values as JSON
  std::string description;
  std::string item_description;  // what each item of an array is, when the schema says
  // The fields of an object, or of the objects an array holds, in schema
  // order; empty for other types.
  std::vector<FieldSummary> fields;
};

// `path` is KIND[.FIELD...]. KIND is spelled as the CLI accepts it (route,
// routes, servicecluster, serviceclusters, sc; any case). An array field
// leads into its items (route.spec.backends.weight); "[]" or "[N]" after a
// segment is accepted, so a path copied from a validation message works.
// An unknown kind or field is InvalidArgument naming it and listing what is
// valid at that level.
Result<Explanation> Explain(std::string_view path);

// The text `swarmgate explain` prints, lines of at most about 80 columns.
std::string FormatExplanation(const Explanation& explanation);

}  // namespace sg::crds
