#pragma once
// JSON Schema validation of one document against its kind's schema.
//
// The schemas declare draft-07, for editors and other validators, but use
// only keywords that mean the same in draft-04, the draft RapidJSON 1.1
// implements: RapidJSON ignores "$schema" and "$id" and resolves the local
// "#/definitions/..." references the schemas use (schema_test.cc keeps
// draft-06/07-only keywords out).
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
