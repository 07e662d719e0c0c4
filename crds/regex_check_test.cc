#include "crds/regex_check.h"

#include <gtest/gtest.h>

namespace sg::crds {
namespace {

TEST(CheckRegex, AcceptsOrdinaryPatterns) {
  for (const char* p : {"/api/v[0-9]+/users", "^/static/.*\\.(css|js)$", "[a-z]{2,8}", "(foo|bar)+",
                        "/x{3}", "(ab){1,3}c*", "[(+)]*", "\\(a+\\)+", "a{,3}"}) {
    EXPECT_EQ(CheckRegex(p), "") << p;
  }
}

TEST(CheckRegex, RefusesWhatPcre2CannotCompile) {
  EXPECT_EQ(CheckRegex("/api/(v1"),
            "a regular expression PCRE2 compiles: missing closing parenthesis at offset 8");
  EXPECT_NE(CheckRegex("[z-a]").find("PCRE2 compiles: range out of order"), std::string::npos);
  EXPECT_NE(CheckRegex("*x").find("PCRE2 compiles: quantifier does not follow"), std::string::npos);
}

TEST(CheckRegex, RefusesNestedUnboundedRepetition) {
  for (const char* p : {"(a+)+", "(a*)*b", "((ab)*c)+", "(x+y){2,}", "(?:a|b+)*", "(a{1,})+"}) {
    EXPECT_NE(CheckRegex(p).find("without nested unbounded repetition"), std::string::npos) << p;
  }
  EXPECT_EQ(CheckRegex("(a+)+$"),
            "a regular expression without nested unbounded repetition (the group closed at "
            "offset 3 repeats a repetition, which can take exponential time)");
}

TEST(CheckRegex, RefusesBackreferences) {
  EXPECT_EQ(CheckRegex("(a)\\1"), "a regular expression without backreferences (\\1 at offset 3)");
  EXPECT_NE(CheckRegex("(?<x>a)\\k<x>").find("without backreferences"), std::string::npos);
  EXPECT_NE(CheckRegex("(?P<x>a)(?P=x)").find("without backreferences"), std::string::npos);
}

}  // namespace
}  // namespace sg::crds
