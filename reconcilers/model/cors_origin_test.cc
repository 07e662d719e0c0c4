#include "reconcilers/model/cors_origin.h"

#include <gtest/gtest.h>

#include <regex>

namespace sg::model {
namespace {

bool Matches(const std::vector<std::string>& origins, const std::string& origin) {
  return std::regex_match(origin, std::regex(CorsOriginPattern(origins)));
}

TEST(CorsOriginTest, ExactOriginsMatchThemselvesOnly) {
  std::vector<std::string> o = {"https://app.example.com", "http://localhost:8080"};
  EXPECT_TRUE(Matches(o, "https://app.example.com"));
  EXPECT_TRUE(Matches(o, "http://localhost:8080"));
  EXPECT_FALSE(Matches(o, "https://appxexample.com"));  // the dot is literal
  EXPECT_FALSE(Matches(o, "http://app.example.com"));
  EXPECT_FALSE(Matches(o, "https://app.example.com.evil.test"));
  EXPECT_FALSE(Matches(o, "http://localhost:80801"));
}

TEST(CorsOriginTest, AWildcardTakesSubdomainsButNotTheDomain) {
  std::vector<std::string> o = {"https://*.example.com"};
  EXPECT_TRUE(Matches(o, "https://a.example.com"));
  EXPECT_TRUE(Matches(o, "https://a.b.example.com"));
  EXPECT_FALSE(Matches(o, "https://example.com"));
  EXPECT_FALSE(Matches(o, "https://a.example.com:8443"));
  EXPECT_FALSE(Matches(o, "https://evil.test/.example.com"));
  EXPECT_FALSE(Matches(o, "https://aexample.com"));
}

TEST(CorsOriginTest, StarAllowsAnyOrigin) {
  EXPECT_TRUE(CorsAnyOrigin({"*"}));
  EXPECT_FALSE(CorsAnyOrigin({"https://a.test"}));
  EXPECT_TRUE(Matches({"*"}, "https://anything.test"));
}

}  // namespace
}  // namespace sg::model
