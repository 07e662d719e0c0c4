#include "operator/common/nginx_output.h"

#include <gtest/gtest.h>

namespace sg {
namespace {

TEST(CleanNginxOutputTest, DropsTheEpilogueAndThePrefixDirectory) {
  const std::string out =
      "nginx: [emerg] unknown directive \"bogus\" in /tmp/sg-nginx-abc/nginx.conf:3\n"
      "nginx: configuration file /tmp/sg-nginx-abc/nginx.conf test failed\n";
  EXPECT_EQ(CleanNginxOutput(out, "/tmp/sg-nginx-abc"),
            "[emerg] unknown directive \"bogus\" in nginx.conf:3");
}

TEST(CleanNginxOutputTest, StripsTheErrorLogPrefix) {
  const std::string out =
      "2026/01/02 03:04:05 [emerg] 123#123: host not found in upstream \"x\" in "
      "/srv/p/nginx.conf.next:7\n"
      "2026/01/02 03:04:05 [warn] 123#123: low worker_connections\n";
  EXPECT_EQ(CleanNginxOutput(out, "/srv/p"),
            "[emerg] host not found in upstream \"x\" in nginx.conf.next:7; "
            "[warn] low worker_connections");
}

TEST(CleanNginxOutputTest, KeepsUnrecognisedLinesAndJoinsThem) {
  EXPECT_EQ(CleanNginxOutput("first\r\n\nsecond\n", "/p"), "first; second");
  EXPECT_EQ(CleanNginxOutput("nginx: the configuration file x syntax is ok\n", "/p"), "");
}

TEST(CleanNginxOutputTest, EmptyWhenNothingIsLeft) {
  EXPECT_EQ(CleanNginxOutput("", "/p"), "");
  EXPECT_EQ(CleanNginxOutput("nginx: configuration file /p/nginx.conf test failed\n", "/p"), "");
}

TEST(CleanNginxOutputTest, AnEmptyPrefixRemovesNothing) {
  EXPECT_EQ(CleanNginxOutput("[emerg] in /etc/nginx/nginx.conf:1\n", ""),
            "[emerg] in /etc/nginx/nginx.conf:1");
}

}  // namespace
}  // namespace sg
