#pragma once
// JSON Schema (Draft 4) validation of one document against its kind's schema.
//
// RapidJSON's SchemaValidator decides whether a document is valid. Its error
// report names only the first violation, so for an invalid document the
// schema is walked once more to collect every violation with a message that
// says what was expected and what was found.

#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "crds/field_issue.h"
#include "crds/kind.h"

namespace sg::crds {

// The schema of `kind`, embedded at build time from crds/schemas/.
const char* SchemaText(Kind kind);

// RapidJSON's verdict alone.
bool SchemaAccepts(Kind kind, const rapidjson::Value& document);

// Empty when `document` is valid.
std::vector<FieldIssue> ValidateSchema(Kind kind, const rapidjson::Value& document);

}  // namespace sg::crds
