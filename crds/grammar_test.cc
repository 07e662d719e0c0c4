#include "crds/grammar.h"

#include <gtest/gtest.h>

#include <string>

namespace sg::crds {
namespace {

using std::chrono::milliseconds;

TEST(ParseDurationTest, AcceptsEveryUnit) {
  EXPECT_EQ(ParseDuration("500ms"), milliseconds(500));
  EXPECT_EQ(ParseDuration("5s"), milliseconds(5000));
  EXPECT_EQ(ParseDuration("2m"), milliseconds(120000));
  EXPECT_EQ(ParseDuration("1h"), milliseconds(3600000));
  EXPECT_EQ(ParseDuration("0s"), milliseconds(0));
}

TEST(ParseDurationTest, RejectsMalformedAndHuge) {
  for (const char* bad : {"", "5", "s", "5x", "-5s", "5 s", "1.5s", "5S", "5sec", "1d",
                          "99999999999999999999h", "9999999999h"}) {
    EXPECT_FALSE(ParseDuration(bad)) << bad;
  }
}

TEST(CheckDurationTest, ZeroOnlyWhenAllowed) {
  EXPECT_EQ(CheckDuration("0s", true), "");
  EXPECT_NE(CheckDuration("0s", false), "");
  EXPECT_EQ(CheckDuration("1ms", false), "");
}

TEST(ParseSizeTest, Units) {
  EXPECT_EQ(ParseSize("4096"), 4096u);
  EXPECT_EQ(ParseSize("512k"), 512u * 1024);
  EXPECT_EQ(ParseSize("10m"), 10u * 1024 * 1024);
  EXPECT_EQ(ParseSize("1G"), uint64_t{1} << 30);
  for (const char* bad : {"", "m", "10mb", "1.5m", "-1m", "10 m", "99999999999999999999"}) {
    EXPECT_FALSE(ParseSize(bad)) << bad;
  }
}

TEST(CheckHostTest, GoodHosts) {
  for (const char* ok : {"example.com", "a.b.c", "localhost", "hello.localhost", "*.example.com",
                         "x-1.example.com", "1.example.com"}) {
    EXPECT_EQ(CheckHost(ok), "") << ok;
  }
  EXPECT_EQ(CheckHost(std::string(63, 'a') + ".com"), "");
}

TEST(CheckHostTest, BadHosts) {
  std::string long_label = std::string(64, 'a') + ".com";
  std::string long_total;
  for (int i = 0; i < 51; ++i) long_total += "abcd.";
  long_total += "com";  // 258 characters
  for (const std::string& bad :
       {std::string(""), std::string("Example.com"), std::string("*.*.example.com"),
        std::string("a.*.example.com"), std::string("*example.com"), std::string("*"),
        std::string("-a.example.com"), std::string("a-.example.com"), std::string("a..b"),
        std::string("a.example.com."), std::string("a_b.example.com"), std::string("a b"),
        std::string("a;b"), long_label, long_total}) {
    EXPECT_NE(CheckHost(bad), "") << bad;
  }
}

TEST(CheckPathTest, GoodPaths) {
  for (const char* ok : {"/", "/api", "/api/", "/a-b_c.d~e", "/%20x", "/v1/users:list", "/a@b",
                         "/.well-known/acme"}) {
    EXPECT_EQ(CheckPath(ok), "") << ok;
  }
}

TEST(CheckPathTest, BadPaths) {
  for (const char* bad :
       {"", "api", "/a b", "/a;b", "/a{b", "/a}b", "/a$b", "/a#b", "/a'b", "/a\"b", "/a\\b",
        "/a\nb", "/a?b", "/%2", "/%zz", "/..", "/a/../b", "/a/./b", "/a/.."}) {
    EXPECT_NE(CheckPath(bad), "") << bad;
  }
  EXPECT_NE(CheckPath("/\xc3\xa9"), "");
  EXPECT_NE(CheckPath("/" + std::string(1024, 'a')), "");
}

TEST(CheckDockerNameTest, Names) {
  EXPECT_EQ(CheckDockerName("shop-v1"), "");
  EXPECT_EQ(CheckDockerName("My_App.2"), "");
  EXPECT_NE(CheckDockerName("-x"), "");
  EXPECT_NE(CheckDockerName("_x"), "");
  EXPECT_NE(CheckDockerName("a b"), "");
  EXPECT_NE(CheckDockerName("a/b"), "");
  EXPECT_NE(CheckDockerName(std::string(64, 'a')), "");
  EXPECT_EQ(CheckDockerName(std::string(63, 'a')), "");
}

TEST(CheckTokenTest, Tokens) {
  EXPECT_EQ(CheckToken("X-Canary"), "");
  EXPECT_EQ(CheckToken("SG_STICKY"), "");
  for (const char* bad : {"", "-x", "a b", "a:b", "a$b", "a;b", "a\"b", "a=b"}) {
    EXPECT_NE(CheckToken(bad), "") << bad;
  }
}

TEST(CheckHeaderValueTest, Values) {
  EXPECT_EQ(CheckHeaderValue("always"), "");
  EXPECT_EQ(CheckHeaderValue("v1.2+beta/x=y"), "");
  for (const char* bad : {"", "a b", "a;b", "a\"b", "a'b", "a\\b", "a$b", "a{b", "a#b", "a\tb"}) {
    EXPECT_NE(CheckHeaderValue(bad), "") << bad;
  }
}

TEST(CheckRedirectUrlTest, Urls) {
  EXPECT_EQ(CheckRedirectUrl("https://shop.example.com"), "");
  EXPECT_EQ(CheckRedirectUrl("http://a.example.com:8080/x?y=1&z=%20"), "");
  for (const char* bad :
       {"", "shop.example.com", "ftp://x", "https://", "https:///x", "https://a b", "https://a;b",
        "https://a$b", "https://a{b}", "https://a\"b", "https://a\\b", "https://a#b", "//a.com"}) {
    EXPECT_NE(CheckRedirectUrl(bad), "") << bad;
  }
}

TEST(CheckImageTest, Images) {
  EXPECT_EQ(CheckImage("swarmgate/proxy:latest"), "");
  EXPECT_EQ(CheckImage("registry.local:5000/proxy@sha256:abc"), "");
  EXPECT_NE(CheckImage("proxy latest"), "");
  EXPECT_NE(CheckImage("proxy\n"), "");
  EXPECT_NE(CheckImage(""), "");
}

TEST(CheckConstraintTest, Constraints) {
  EXPECT_EQ(CheckConstraint("node.labels.swarmgate.ingress==true"), "");
  EXPECT_EQ(CheckConstraint("node.role != manager"), "");
  EXPECT_NE(CheckConstraint("node.role"), "");
  EXPECT_NE(CheckConstraint("node.role==\"x\""), "");
  EXPECT_NE(CheckConstraint("node.role==x\n"), "");
}

TEST(CheckResourceNameTest, Names) {
  EXPECT_EQ(CheckResourceName("shop"), "");
  EXPECT_EQ(CheckResourceName("a-1"), "");
  EXPECT_NE(CheckResourceName("Shop"), "");
  EXPECT_NE(CheckResourceName("-a"), "");
  EXPECT_NE(CheckResourceName(std::string(41, 'a')), "");
}

TEST(CheckLabelTest, KeysAndValues) {
  EXPECT_EQ(CheckLabelKey("swarmgate.io/tier"), "");
  EXPECT_NE(CheckLabelKey("a b"), "");
  EXPECT_EQ(CheckLabelValue("any text, even spaces"), "");
  EXPECT_NE(CheckLabelValue("a\"b"), "");
}

TEST(CheckCidrTest, NetworksAndAddresses) {
  for (const char* good : {"10.0.0.0/8", "192.0.2.7", "0.0.0.0/0", "192.0.2.7/32", "2001:db8::/32",
                           "::1", "::/0", "fe80::1/128"}) {
    EXPECT_EQ(CheckCidr(good), "") << good;
  }
  EXPECT_EQ(CheckCidr("10.0.0.1/8"), "a network address with no bits set beyond the prefix /8");
  EXPECT_EQ(CheckCidr("2001:db8::1/32"),
            "a network address with no bits set beyond the prefix /32");
  EXPECT_EQ(CheckCidr("10.0.0.0/33"), "a prefix length of at most 32 for an IPv4 network");
  for (const char* bad : {"10.0.0.0/", "10.0.0.0/08", "10.0.0/8", "1.2.3.4.5", "10.0.0.0/8x",
                          "example.com", "::g", ""}) {
    EXPECT_NE(CheckCidr(bad), "") << bad;
  }
}

}  // namespace
}  // namespace sg::crds
