#include "operator/common/hash.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace sg {
namespace {

using namespace std::string_literals;

TEST(HexTest, EncodesEveryByteLowerCase) {
  EXPECT_EQ(HexEncode(""), "");
  EXPECT_EQ(HexEncode("\x00\x01\x7f\x80\xab\xff"s), "00017f80abff");
  EXPECT_EQ(HexEncode("AZ"), "415a");
}

TEST(HexTest, DecodesEitherCaseAndRejectsTheRest) {
  EXPECT_EQ(HexDecode(""), "");
  EXPECT_EQ(HexDecode("00017f80ABff"), "\x00\x01\x7f\x80\xab\xff"s);
  EXPECT_EQ(HexDecode("abc"), std::nullopt);
  EXPECT_EQ(HexDecode("zz"), std::nullopt);
  EXPECT_EQ(HexDecode("0x"), std::nullopt);
  EXPECT_EQ(HexDecode(" 0"), std::nullopt);
}

TEST(HexTest, RoundTripsEveryByteValue) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  EXPECT_EQ(HexDecode(HexEncode(all)), all);
}

TEST(ConstantTimeEqualsTest, EqualOnlyForTheSameBytes) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals(Sha256("token"), Sha256("token")));
  EXPECT_FALSE(ConstantTimeEquals(Sha256("token"), Sha256("tokem")));
  // A difference in the last byte, and bytes after a NUL, count.
  EXPECT_FALSE(ConstantTimeEquals("abc\0x"s, "abc\0y"s));
  // Different lengths are never equal, even when one is a prefix.
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
}

TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256("abc").size(), 32u);
  EXPECT_EQ(HexEncode(Sha256("abc")), Sha256Hex("abc"));
}

TEST(Sha256Test, HashesEmbeddedNulBytes) { EXPECT_NE(Sha256Hex("a\0b"s), Sha256Hex("a")); }

TEST(RandomHexTokenTest, HasTheRequestedLengthAndDiffers) {
  std::set<std::string> seen;
  for (int i = 0; i < 16; ++i) {
    auto t = RandomHexToken();
    ASSERT_TRUE(t.ok()) << t.error().ToString();
    EXPECT_EQ(t->size(), 64u);
    EXPECT_EQ(t->find_first_not_of("0123456789abcdef"), std::string::npos) << *t;
    seen.insert(*t);
  }
  EXPECT_EQ(seen.size(), 16u);
  auto short_token = RandomHexToken(4);
  ASSERT_TRUE(short_token.ok());
  EXPECT_EQ(short_token->size(), 8u);
  auto empty = RandomHexToken(0);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "");
}

TEST(PercentEncodeTest, KeepsUnreservedAndEscapesTheRest) {
  EXPECT_EQ(PercentEncode("aZ09-._~"), "aZ09-._~");
  EXPECT_EQ(PercentEncode("a b/c"), "a%20b%2Fc");
  EXPECT_EQ(PercentEncode("{\"k\":[1]}"), "%7B%22k%22%3A%5B1%5D%7D");
  EXPECT_EQ(PercentEncode("\xff\x00"s), "%FF%00");
  EXPECT_EQ(PercentEncode(""), "");
}

}  // namespace
}  // namespace sg
