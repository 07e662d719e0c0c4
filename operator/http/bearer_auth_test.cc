#include "operator/http/bearer_auth.h"

#include <gtest/gtest.h>

#include <string>

namespace sg::http {
namespace {

Request WithAuthorization(const std::string& value) {
  Request req;
  req.method = "GET";
  req.path = "/v1/status";
  req.target = req.path;
  if (!value.empty()) req.headers["authorization"] = value;
  return req;
}

std::string HeaderOf(const Response& r, const std::string& name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "";
}

BearerAuth Auth(const std::string& token) {
  auto auth = BearerAuth::ForToken(token);
  EXPECT_TRUE(auth.ok()) << auth.error().ToString();
  return *auth;
}

TEST(BearerTokenTest, ReadsTheCredentialsOfTheBearerScheme) {
  EXPECT_EQ(BearerToken(WithAuthorization("Bearer abc")), "abc");
  EXPECT_EQ(BearerToken(WithAuthorization("bearer abc")), "abc");
  EXPECT_EQ(BearerToken(WithAuthorization("BEARER   abc \t")), "abc");
  EXPECT_EQ(BearerToken(WithAuthorization("")), "");
  EXPECT_EQ(BearerToken(WithAuthorization("Bearer")), "");
  EXPECT_EQ(BearerToken(WithAuthorization("Bearer ")), "");
  EXPECT_EQ(BearerToken(WithAuthorization("Bearerabc")), "");
  EXPECT_EQ(BearerToken(WithAuthorization("Basic YWxhZGRpbjpvcGVuc2VzYW1l")), "");
}

TEST(BearerAuthTest, TheRightTokenPasses) {
  const BearerAuth auth = Auth("s3cret-token");
  EXPECT_EQ(auth.Check(WithAuthorization("Bearer s3cret-token")), std::nullopt);
  EXPECT_EQ(auth.Check(WithAuthorization("bearer s3cret-token")), std::nullopt);
}

TEST(BearerAuthTest, NoTokenGets401WithTheChallenge) {
  const BearerAuth auth = Auth("s3cret-token");
  for (const char* header : {"", "Bearer", "Basic czNjcmV0LXRva2Vu", "s3cret-token"}) {
    auto denial = auth.Check(WithAuthorization(header));
    ASSERT_TRUE(denial.has_value()) << header;
    EXPECT_EQ(denial->status, 401) << header;
    EXPECT_EQ(HeaderOf(*denial, "WWW-Authenticate"), "Bearer realm=\"swarmgate\"") << header;
    EXPECT_EQ(HeaderOf(*denial, "Cache-Control"), "no-store") << header;
  }
}

TEST(BearerAuthTest, AWrongTokenGets401NamingTheError) {
  const BearerAuth auth = Auth("s3cret-token");
  for (const char* header :
       {"Bearer s3cret-tokem", "Bearer s3cret-token2", "Bearer s3cret", "Bearer S3CRET-TOKEN"}) {
    auto denial = auth.Check(WithAuthorization(header));
    ASSERT_TRUE(denial.has_value()) << header;
    EXPECT_EQ(denial->status, 401) << header;
    EXPECT_EQ(HeaderOf(*denial, "WWW-Authenticate"),
              "Bearer realm=\"swarmgate\", error=\"invalid_token\"")
        << header;
    EXPECT_EQ(denial->body.find("s3cret"), std::string::npos) << denial->body;
  }
}

TEST(BearerAuthTest, RefusesTokensNoHeaderCouldCarry) {
  for (const std::string& token :
       {std::string(""), std::string("two words"), std::string("line\nbreak"),
        std::string("tab\there"), std::string("nul\0byte", 8), std::string("caf\xc3\xa9")}) {
    auto auth = BearerAuth::ForToken(token);
    ASSERT_FALSE(auth.ok()) << ::testing::PrintToString(token);
    EXPECT_EQ(auth.error().code, ErrorCode::kInvalidArgument);
    if (token.size() > 3) {
      EXPECT_EQ(auth.error().message.find(token), std::string::npos) << auth.error().message;
    }
  }
  EXPECT_TRUE(BearerAuth::ForToken("A-z0.9_~+/=!#$%&'*^`|").ok());
}

TEST(RequireBearerTest, GuardsTheHandlerWhenAnAuthIsGiven) {
  int calls = 0;
  Handler inner = [&calls](const Request&) {
    ++calls;
    return Response::Json(200, "{}");
  };
  Handler guarded = RequireBearer(Auth("s3cret-token"), inner);
  EXPECT_EQ(guarded(WithAuthorization("")).status, 401);
  EXPECT_EQ(guarded(WithAuthorization("Bearer wrong")).status, 401);
  EXPECT_EQ(calls, 0);
  Response ok = guarded(WithAuthorization("Bearer s3cret-token"));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "{}");
  EXPECT_EQ(calls, 1);
}

TEST(RequireBearerTest, WithoutAnAuthEveryRequestPasses) {
  Handler open =
      RequireBearer(std::nullopt, [](const Request&) { return Response::Json(200, "{}"); });
  EXPECT_EQ(open(WithAuthorization("")).status, 200);
  EXPECT_EQ(open(WithAuthorization("Bearer anything")).status, 200);
}

}  // namespace
}  // namespace sg::http
