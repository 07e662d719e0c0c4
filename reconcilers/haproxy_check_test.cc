// ExecHaproxyValidator against the real haproxy (skipped where it is absent)
// and the cleaning of its messages.
#include "reconcilers/haproxy_check.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "reconcilers/nginx_check.h"

namespace sg::haproxy {
namespace {

const char* const kHaproxy = "/usr/sbin/haproxy";

const char* const kValid = R"(global
    stats socket unix@haproxy.sock mode 600 level admin expose-fd listeners
defaults
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s
frontend f
    bind "${SG_HTTP_BIND}"
    bind "${SG_HTTPS_BIND}" ssl crt certs/site.pem
    http-request return status 200
)";

TEST(HaproxyErrorLineTest, FindsTheFirstLineHaproxyNames) {
  EXPECT_EQ(HaproxyErrorLine("[ALERT] parsing [haproxy.cfg:12] : unknown keyword 'x'"), 12);
  EXPECT_EQ(HaproxyErrorLine("[ALERT] [haproxy.cfg:77] : backend 'b', another server named 's' "
                             "was already defined at line 76"),
            77);
  EXPECT_EQ(HaproxyErrorLine("[ALERT] Fatal errors found in configuration."), 0);
  EXPECT_EQ(HaproxyErrorLine("see haproxy.cfg:x] and then [haproxy.cfg:3]"), 3);
}

TEST(CleanHaproxyOutputTest, KeepsAlertsWithoutPrefixesAndSummaries) {
  std::string raw =
      "[NOTICE]   (29643) : haproxy version is 2.6.12-1+deb12u4\n"
      "[NOTICE]   (29643) : path to executable is /usr/sbin/haproxy\n"
      "[ALERT]    (29643) : config : parsing [/tmp/d/haproxy.cfg:2] : parsing "
      "[/tmp/d/haproxy.cfg:2] : 'stats socket' : missing port specification in 'x'\n"
      "\n"
      "[ALERT]    (29643) : config : Error(s) found in configuration file : /tmp/d/haproxy.cfg\n"
      "[ALERT]    (29643) : config : Fatal errors found in configuration.\n";
  EXPECT_EQ(CleanHaproxyOutput(raw, "/tmp/d"),
            "[ALERT] parsing [haproxy.cfg:2] : 'stats socket' : missing port specification in "
            "'x'");
  EXPECT_EQ(
      CleanHaproxyOutput("[ALERT]    (1) : config : Fatal errors found in configuration.\n", ""),
      "[ALERT] Fatal errors found in configuration.");
  EXPECT_EQ(CleanHaproxyOutput("Configuration file is valid\n", "/tmp/d"), "");
}

TEST(ExecHaproxyValidatorTest, LoadsTheFilesItIsGiven) {
  if (access(kHaproxy, X_OK) != 0) GTEST_SKIP() << kHaproxy << " not installed";
  ExecHaproxyValidator validator(kHaproxy);
  // The certificate is missing: rejected, naming the bind line.
  Status missing = validator.Validate(kValid, {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(HaproxyErrorLine(missing.error().message), 10) << missing.error().message;
  EXPECT_EQ(missing.error().message.find("/tmp/"), std::string::npos) << missing.error().message;
  auto cert = nginx::GenerateSelfSignedCertificate();
  ASSERT_TRUE(cert.ok()) << cert.error().ToString();
  Status st =
      validator.Validate(kValid, {{"certs/site.pem", cert->certificate_pem + cert->key_pem}});
  EXPECT_TRUE(st.ok()) << st.error().ToString();
}

TEST(ExecHaproxyValidatorTest, RejectionNamesTheLine) {
  if (access(kHaproxy, X_OK) != 0) GTEST_SKIP() << kHaproxy << " not installed";
  ExecHaproxyValidator validator(kHaproxy);
  std::string config = kValid;
  config.replace(config.find("    bind \"${SG_HTTPS_BIND}\""), 0, "    no_such_keyword on\n");
  Status st = validator.Validate(config, {});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(HaproxyErrorLine(st.error().message), 10) << st.error().message;
  EXPECT_NE(st.error().message.find("no_such_keyword"), std::string::npos) << st.error().message;
  EXPECT_EQ(st.error().message.rfind("[ALERT] ", 0), 0u) << st.error().message;
}

TEST(ExecHaproxyValidatorTest, RefusesFilesOutsideItsDirectory) {
  ExecHaproxyValidator validator(kHaproxy);
  EXPECT_FALSE(validator.Validate(kValid, {{"../x.pem", "x"}}).ok());
  EXPECT_FALSE(validator.Validate(kValid, {{"/etc/x.pem", "x"}}).ok());
}

}  // namespace
}  // namespace sg::haproxy
