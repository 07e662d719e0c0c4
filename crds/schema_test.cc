#include "crds/schema.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>

#include <rapidjson/document.h>

#include "crds/yaml_json.h"

namespace sg::crds {
namespace {

rapidjson::Document Parse(const char* text) {
  rapidjson::Document d;
  d.Parse(text);
  return d;
}

// RapidJSON silently ignores a pattern it cannot compile, so each must compile.
void CheckNode(const rapidjson::Value& v, const std::string& where) {
  if (v.IsObject()) {
    for (const auto& m : v.GetObject()) {
      std::string key = m.name.GetString();
      if (key == "pattern") {
        ASSERT_TRUE(m.value.IsString()) << where;
        EXPECT_NO_THROW(std::regex(m.value.GetString(), std::regex::ECMAScript)) << where;
      }
      if (key == "$ref") {
        // Draft-07 validators ignore every keyword beside $ref: only
        // annotations for readers and editors may stand there.
        for (const auto& sibling : v.GetObject()) {
          std::string name = sibling.name.GetString();
          EXPECT_TRUE(name == "$ref" || name == "description" || name == "default")
              << where << ": \"" << name << "\" beside $ref would be ignored";
        }
      }
      if (key == "properties") {
        // Unknown fields are errors everywhere.
        auto ap = v.FindMember("additionalProperties");
        ASSERT_NE(ap, v.MemberEnd()) << where;
        EXPECT_TRUE(ap->value.IsBool() && !ap->value.GetBool()) << where;
      }
      CheckNode(m.value, where + "/" + key);
    }
  } else if (v.IsArray()) {
    for (const auto& item : v.GetArray()) CheckNode(item, where + "[]");
  }
}

TEST(SchemaTest, SchemasAreWellFormed) {
  for (Kind kind : {Kind::kServiceCluster, Kind::kRoute}) {
    rapidjson::Document d = Parse(SchemaText(kind));
    ASSERT_FALSE(d.HasParseError()) << KindName(kind);
    EXPECT_STREQ(d["$schema"].GetString(), "http://json-schema.org/draft-07/schema#");
    // Draft-07 names a schema with $id; a draft-04 "id" would be ignored.
    EXPECT_FALSE(d.HasMember("id")) << KindName(kind);
    ASSERT_TRUE(d.HasMember("$id") && d["$id"].IsString()) << KindName(kind);
    CheckNode(d, KindName(kind));
  }
}

// Keywords that draft-06/07 added or redefined. RapidJSON 1.1 implements
// draft-04: it would ignore the new ones (const, if, ...) and read a numeric
// exclusiveMinimum as nothing, so a schema using them would accept documents
// editors reject. "id" is draft-04's spelling of "$id".
void CheckDraft04Semantics(const rapidjson::Value& schema, const std::string& where) {
  if (!schema.IsObject()) return;
  for (const auto& m : schema.GetObject()) {
    const std::string key = m.name.GetString();
    for (const char* newer : {"const", "contains", "propertyNames", "if", "then", "else",
                              "exclusiveMinimum", "exclusiveMaximum", "id"}) {
      EXPECT_NE(key, newer) << where << ": RapidJSON does not enforce the draft-07 meaning";
    }
    if (key == "properties" || key == "patternProperties" || key == "definitions") {
      for (const auto& sub : m.value.GetObject()) {
        CheckDraft04Semantics(sub.value, where + "/" + key + "/" + sub.name.GetString());
      }
    } else if (key == "items" || key == "additionalProperties" || key == "not") {
      CheckDraft04Semantics(m.value, where + "/" + key);
    } else if (key == "allOf" || key == "anyOf" || key == "oneOf") {
      for (const auto& sub : m.value.GetArray()) CheckDraft04Semantics(sub, where + "/" + key);
    }
  }
}

TEST(SchemaTest, SchemasUseOnlyKeywordsRapidJsonEnforces) {
  for (Kind kind : {Kind::kServiceCluster, Kind::kRoute}) {
    rapidjson::Document d = Parse(SchemaText(kind));
    ASSERT_FALSE(d.HasParseError()) << KindName(kind);
    CheckDraft04Semantics(d, KindName(kind));
  }
}

TEST(SchemaTest, RapidJsonEnforcesPatternsAndRanges) {
  const char* good =
      R"({"apiVersion":"swarmgate.io/v1alpha1","kind":"Route","metadata":{"name":"r"},)"
      R"("spec":{"serviceCluster":"c","hosts":["a.com"],"backends":[{"service":"s","port":80}]}})";
  EXPECT_TRUE(SchemaAccepts(Kind::kRoute, Parse(good)));
  std::string bad_path = good;
  bad_path.replace(bad_path.find(R"("hosts")"), 0, R"("path":"/a;b",)");
  EXPECT_FALSE(SchemaAccepts(Kind::kRoute, Parse(bad_path.c_str())));
  std::string bad_port = good;
  bad_port.replace(bad_port.find("80}"), 2, "70000");
  EXPECT_FALSE(SchemaAccepts(Kind::kRoute, Parse(bad_port.c_str())));
  std::string dup_hosts = good;
  dup_hosts.replace(dup_hosts.find(R"(["a.com"])"), 9, R"(["a.com","a.com"])");
  EXPECT_FALSE(SchemaAccepts(Kind::kRoute, Parse(dup_hosts.c_str())));
}

TEST(SchemaTest, ReportsEveryViolationWithPaths) {
  auto doc = Parse(R"({"apiVersion":"x","kind":"Route","metadata":{"name":"R","extra":1},)"
                   R"("spec":{"hosts":[],"backends":[{"service":"s","port":0}]}})");
  auto issues = ValidateSchema(Kind::kRoute, doc);
  std::string all;
  for (const FieldIssue& i : issues) all += i.path + ": " + i.message + "\n";
  for (const char* expected :
       {"apiVersion: expected one of: swarmgate.io/v1alpha1; got \"x\"",
        "metadata.name: expected a resource name", "metadata.extra: unknown field",
        "spec.serviceCluster: required field is missing", "spec.hosts: expected at least 1 item",
        "spec.backends[0].port: expected an integer 1-65535, got 0"}) {
    EXPECT_NE(all.find(expected), std::string::npos) << expected << "\nin:\n" << all;
  }
  EXPECT_EQ(issues.size(), 6u) << all;
}

}  // namespace
}  // namespace sg::crds
