#pragma once
// Checks of one document beyond what its JSON Schema can say: grammars of
// every string that reaches nginx or Docker, and rules that relate fields.

#include <vector>

#include <rapidjson/document.h>

#include "crds/field_issue.h"
#include "crds/kind.h"

namespace sg::crds {

// Fields covered by `failed` (typically schema errors) are skipped.
std::vector<FieldIssue> CheckSemantics(Kind kind, const rapidjson::Value& document,
                                       const FailedPaths& failed);

}  // namespace sg::crds
