// The nginx engine with the real `nginx -t` (skipped where nginx is absent).
#include "reconcilers/dataplane/nginx_data_plane.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "operator/testing/sample_traffic_models.h"
#include "reconcilers/model/backend_selection.h"

namespace sg::dataplane {
namespace {

bool HaveNginx() { return access("/usr/sbin/nginx", X_OK) == 0; }

nginx::RenderOptions Paths() {
  nginx::RenderOptions o;
  o.access_log = "off";
  return o;
}

TrafficModel Model() { return samples::ShopAndBlogModel(true); }

TEST(NginxDataPlaneTest, ErrorLineOfNginxMessages) {
  EXPECT_EQ(NginxErrorLine("[emerg] unknown directive \"x\" in nginx.conf:42"), 42);
  EXPECT_EQ(NginxErrorLine("[emerg] no line"), 0);
}

TEST(NginxDataPlaneTest, CertificatesOfTheProxiesArePlaceholdersForTheCheck) {
  if (!HaveNginx()) GTEST_SKIP() << "nginx is not installed at /usr/sbin/nginx";
  nginx::ExecNginxValidator validator;
  NginxDataPlane plane(validator, Paths());
  TrafficModel m = Model();
  EngineConfig config = plane.Render(m);
  // The delivered text names the proxies' secrets, not the placeholders.
  EXPECT_NE(config.text.find("ssl_certificate /run/secrets/shop-tls;"), std::string::npos)
      << config.text;
  CheckOutcome out = plane.Check(m, config);
  EXPECT_TRUE(out.status.ok()) << out.status.error().ToString();
}

TEST(NginxDataPlaneTest, RejectedLineNamesItsRoute) {
  if (!HaveNginx()) GTEST_SKIP() << "nginx is not installed at /usr/sbin/nginx";
  nginx::ExecNginxValidator validator;
  NginxDataPlane plane(validator, Paths());
  TrafficModel m = Model();
  EngineConfig config = plane.Render(m);
  // Break the first directive line that belongs to "blog".
  size_t line = 0;
  for (; line < config.route_of_line.size(); ++line) {
    if (config.route_of_line[line] == "blog") break;
  }
  ASSERT_LT(line, config.route_of_line.size());
  size_t pos = 0;
  for (size_t i = 0; i < line; ++i) pos = config.text.find('\n', pos) + 1;
  // The line after blog's first line is inside its server block.
  size_t next = config.text.find('\n', pos) + 1;
  config.text.insert(next, "        bogus_directive on;\n");
  config.route_of_line.insert(config.route_of_line.begin() + static_cast<long>(line) + 1, "blog");
  CheckOutcome out = plane.Check(m, config);
  ASSERT_FALSE(out.status.ok());
  EXPECT_NE(out.status.error().message.find("bogus_directive"), std::string::npos)
      << out.status.error().message;
  EXPECT_EQ(out.route, "blog") << out.status.error().message;
}

}  // namespace
}  // namespace sg::dataplane
