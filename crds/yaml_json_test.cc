#include "crds/yaml_json.h"

#include <gtest/gtest.h>

namespace sg::crds {
namespace {

const rapidjson::Value& Get(const ParsedDocument& d, const char* key) { return (*d.json)[key]; }

TEST(ParseYamlTest, PlainScalarsAreTypedQuotedStayStrings) {
  ParsedFile f = ParseYaml(
      "i: 8080\nneg: -3\nf: 1.5\nt: true\nn: null\ntilde: ~\nempty:\n"
      "qi: \"8080\"\nqt: 'true'\nqn: \"null\"\nword: hello\ndur: 5s\nsize: 10m\n"
      "tagged: !!str 42\n",
      "t.yaml");
  ASSERT_TRUE(f.diagnostics.empty());
  ASSERT_EQ(f.documents.size(), 1u);
  const ParsedDocument& d = f.documents[0];
  EXPECT_TRUE(d.diagnostics.empty());
  EXPECT_TRUE(Get(d, "i").IsInt64());
  EXPECT_EQ(Get(d, "i").GetInt64(), 8080);
  EXPECT_EQ(Get(d, "neg").GetInt64(), -3);
  EXPECT_TRUE(Get(d, "f").IsDouble());
  EXPECT_TRUE(Get(d, "t").IsBool());
  EXPECT_TRUE(Get(d, "n").IsNull());
  EXPECT_TRUE(Get(d, "tilde").IsNull());
  EXPECT_TRUE(Get(d, "empty").IsNull());
  EXPECT_STREQ(Get(d, "qi").GetString(), "8080");
  EXPECT_STREQ(Get(d, "qt").GetString(), "true");
  EXPECT_STREQ(Get(d, "qn").GetString(), "null");
  EXPECT_STREQ(Get(d, "word").GetString(), "hello");
  EXPECT_STREQ(Get(d, "dur").GetString(), "5s");
  EXPECT_STREQ(Get(d, "size").GetString(), "10m");
  EXPECT_STREQ(Get(d, "tagged").GetString(), "42");
}

TEST(ParseYamlTest, YesAndNoStayStrings) {
  ParsedFile f = ParseYaml("a: yes\nb: no\nc: on\n", "t.yaml");
  ASSERT_EQ(f.documents.size(), 1u);
  EXPECT_TRUE(Get(f.documents[0], "a").IsString());
  EXPECT_TRUE(Get(f.documents[0], "b").IsString());
}

TEST(ParseYamlTest, RecordsPositions) {
  ParsedFile f = ParseYaml(
      "spec:\n"
      "  backends:\n"
      "    - service: a\n"
      "      port: 1\n"
      "    - {service: b, port: 70000}\n",
      "t.yaml");
  ASSERT_EQ(f.documents.size(), 1u);
  const SourceMap& m = f.documents[0].positions;
  EXPECT_EQ(m.Find("spec").line, 1);
  EXPECT_EQ(m.Find("spec.backends").line, 2);
  EXPECT_EQ(m.Find("spec.backends[0]").line, 3);
  EXPECT_EQ(m.Find("spec.backends[0].port").line, 4);
  EXPECT_EQ(m.Find("spec.backends[0].port").column, 13);
  EXPECT_EQ(m.Find("spec.backends[1].port").line, 5);
  EXPECT_EQ(m.Find("spec.backends[1].port").column, 26);
  // A missing field falls back to the mapping that should hold it.
  EXPECT_EQ(m.Find("spec.backends[1].weight").line, 5);
}

TEST(ParseYamlTest, MultipleDocumentsSkipEmptyOnes) {
  ParsedFile f = ParseYaml("a: 1\n---\n---\n# only a comment\n---\nb: 2\n", "t.yaml");
  ASSERT_TRUE(f.diagnostics.empty());
  ASSERT_EQ(f.documents.size(), 2u);
  EXPECT_EQ(f.documents[0].mark.line, 1);
  EXPECT_EQ(f.documents[1].mark.line, 6);
  EXPECT_EQ(f.documents[1].positions.Find("b").line, 6);
}

TEST(ParseYamlTest, DuplicateKeysAreErrors) {
  ParsedFile f = ParseYaml("spec:\n  path: /a\n  path: /b\n", "t.yaml");
  ASSERT_EQ(f.documents.size(), 1u);
  ASSERT_EQ(f.documents[0].diagnostics.size(), 1u);
  const Diagnostic& d = f.documents[0].diagnostics[0];
  EXPECT_EQ(d.path, "spec.path");
  EXPECT_EQ(d.line, 3);
  EXPECT_NE(d.message.find("duplicate key"), std::string::npos);
  EXPECT_STREQ((*f.documents[0].json)["spec"]["path"].GetString(), "/a");
}

TEST(ParseYamlTest, MalformedYamlNamesLineAndColumn) {
  ParsedFile f = ParseYaml("a: 1\nb: [1, 2\nc: 3\n", "bad.yaml");
  ASSERT_EQ(f.diagnostics.size(), 1u);
  EXPECT_EQ(f.diagnostics[0].file, "bad.yaml");
  EXPECT_GT(f.diagnostics[0].line, 1);
  EXPECT_GT(f.diagnostics[0].column, 0);
  EXPECT_NE(f.diagnostics[0].message.find("malformed YAML"), std::string::npos);

  ParsedFile g = ParseYaml("a: 1\n  b: 2\n", "bad.yaml");
  ASSERT_EQ(g.diagnostics.size(), 1u);
  EXPECT_EQ(g.diagnostics[0].line, 2);
  EXPECT_EQ(g.diagnostics[0].ToString().rfind("bad.yaml:2:", 0), 0u) << g.diagnostics[0].ToString();
}

TEST(ParseYamlTest, UnsupportedTagsAndMismatchedTags) {
  ParsedFile f = ParseYaml("a: !custom x\nb: !!int abc\n", "t.yaml");
  ASSERT_EQ(f.documents.size(), 1u);
  ASSERT_EQ(f.documents[0].diagnostics.size(), 2u);
  EXPECT_EQ(f.documents[0].diagnostics[0].path, "a");
  EXPECT_EQ(f.documents[0].diagnostics[1].path, "b");
}

TEST(ParseYamlTest, AliasBombIsBounded) {
  std::string text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'h'; ++c) {
    text += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) text += std::string(i ? ", *" : "*") + prev;
    text += "]\n";
    prev = c;
  }
  ParsedFile f = ParseYaml(text, "bomb.yaml");
  ASSERT_EQ(f.documents.size(), 1u);
  ASSERT_FALSE(f.documents[0].diagnostics.empty());
  EXPECT_NE(f.documents[0].diagnostics[0].message.find("too large"), std::string::npos);
}

TEST(ParseYamlTest, JsonInputParses) {
  ParsedFile f = ParseYaml("{\"a\": 1, \"b\": \"2\", \"c\": [true]}", "t.json");
  ASSERT_EQ(f.documents.size(), 1u);
  EXPECT_TRUE(Get(f.documents[0], "a").IsInt64());
  EXPECT_TRUE(Get(f.documents[0], "b").IsString());
}

}  // namespace
}  // namespace sg::crds
