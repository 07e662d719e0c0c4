#include "operator/docker/base64.h"

#include <gtest/gtest.h>

namespace sg::docker {
namespace {

TEST(Base64Test, Rfc4648Vectors) {
  const std::pair<const char*, const char*> cases[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
      {"hi\n", "aGkK"},
  };
  for (const auto& [plain, encoded] : cases) {
    EXPECT_EQ(Base64Encode(plain), encoded) << plain;
    auto decoded = Base64Decode(encoded);
    ASSERT_TRUE(decoded.ok()) << encoded;
    EXPECT_EQ(*decoded, plain);
  }
}

TEST(Base64Test, RoundTripsAllByteValues) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  for (size_t len = 0; len <= bytes.size(); len += 37) {
    std::string in = bytes.substr(0, len);
    auto out = Base64Decode(Base64Encode(in));
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(*out, in);
  }
}

TEST(Base64Test, AcceptsUnpaddedAndLineBreaks) {
  EXPECT_EQ(*Base64Decode("Zm9vYg"), "foob");
  EXPECT_EQ(*Base64Decode("Zm9v\nYmFy\r\n"), "foobar");
}

TEST(Base64Test, RejectsGarbage) {
  EXPECT_FALSE(Base64Decode("Zm9v!").ok());
  EXPECT_FALSE(Base64Decode("Zg==Zg==").ok());  // data after padding
  EXPECT_FALSE(Base64Decode("Z").ok());         // a lone sextet
  EXPECT_TRUE(Base64Decode("Zm9v!").error().Is(ErrorCode::kInvalidArgument));
}

}  // namespace
}  // namespace sg::docker
