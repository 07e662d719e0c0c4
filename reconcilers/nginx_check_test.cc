// Tests of the `nginx -t` validator against the real nginx binary.

#include "reconcilers/nginx_check.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "operator/testing/fake_nginx_validator.h"
#include "reconcilers/nginx/nginx_renderer.h"

namespace sg::nginx {
namespace {

const char* const kNginx = "/usr/sbin/nginx";

bool Contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

model::TrafficModel OneHost() {
  model::TrafficModel m;
  model::Upstream u;
  u.name = "shop-v1";
  u.servers.push_back({"10.0.1.5:8080", 1});
  m.upstreams.push_back(u);
  model::Server s;
  s.hosts = {"shop.example.com"};
  model::Location l;
  l.route = "shop";
  l.backends.push_back({"shop-v1", 1, false});
  l.selection.split = {{"shop-v1", 10000}};
  s.locations.push_back(l);
  m.servers.push_back(s);
  return m;
}

model::TrafficModel Tls() {
  model::TrafficModel m = OneHost();
  m.servers[0].tls = model::TlsCertificate{"shop.crt", "shop.key"};
  return m;
}

TEST(NginxCheckTest, RejectsWithNginxMessage) {
  if (access(kNginx, X_OK) != 0) GTEST_SKIP() << kNginx << " not installed";
  model::TrafficModel m = OneHost();
  std::string config = RenderNginxConfig(m, RenderOptions{});
  config.replace(config.find("server_tokens off;"), 18, "server_tokens maybe;");
  ExecNginxValidator validator(kNginx);
  Status st = validator.Validate(config, {});
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.error().Is(ErrorCode::kInvalidArgument));
  EXPECT_TRUE(Contains(st.error().message, "[emerg] invalid value \"maybe\" in nginx.conf:"))
      << st.error().message;
  EXPECT_FALSE(Contains(st.error().message, "sg-nginx-")) << st.error().message;
}

TEST(NginxCheckTest, MissingCertificateIsReported) {
  if (access(kNginx, X_OK) != 0) GTEST_SKIP() << kNginx << " not installed";
  ExecNginxValidator validator(kNginx);
  Status st = validator.Validate(RenderNginxConfig(Tls(), RenderOptions{}), {});
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(Contains(st.error().message, "certs/")) << st.error().message;
}

TEST(NginxCheckTest, MissingBinaryIsAnError) {
  ExecNginxValidator validator("/nonexistent/nginx");
  Status st = validator.Validate("events {}\n", {});
  ASSERT_FALSE(st.ok());
}

TEST(NginxCheckTest, FakeRecordsConfigs) {
  FakeNginxValidator fake;
  EXPECT_TRUE(fake.Validate("a", {}).ok());
  fake.SetResult(InvalidArgument("boom"));
  EXPECT_FALSE(fake.Validate("b", {}).ok());
  EXPECT_EQ(fake.configs(), (std::vector<std::string>{"a", "b"}));
}

TEST(NginxCheckTest, AcceptsWithPlaceholderCertificates) {
  if (access(kNginx, X_OK) != 0) GTEST_SKIP() << kNginx << " not installed";
  auto cert = GenerateSelfSignedCertificate();
  ASSERT_TRUE(cert.ok()) << cert.error().ToString();
  model::TrafficModel m = Tls();
  ExecNginxValidator validator(kNginx);
  Status st = validator.Validate(RenderNginxConfig(m, RenderOptions{}),
                                 PlaceholderCertificateFiles(CertificateFiles(m), *cert));
  EXPECT_TRUE(st.ok()) << st.error().ToString();
}

TEST(NginxCheckTest, RefusesFilesOutsideItsDirectory) {
  ExecNginxValidator validator(kNginx);
  EXPECT_FALSE(validator.Validate("events {}\n", {{"../x", "y"}}).ok());
  EXPECT_FALSE(validator.Validate("events {}\n", {{"/etc/x", "y"}}).ok());
}

}  // namespace
}  // namespace sg::nginx
