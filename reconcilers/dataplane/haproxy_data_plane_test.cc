// The HAProxy engine: with the fake validator, and with the real `haproxy -c`
// (skipped where haproxy is absent).
#include "reconcilers/dataplane/haproxy_data_plane.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "operator/testing/fake_haproxy_validator.h"
#include "operator/testing/sample_traffic_models.h"
#include "reconcilers/model/backend_selection.h"

namespace sg::dataplane {
namespace {

bool HaveHaproxy() { return access("/usr/sbin/haproxy", X_OK) == 0; }
bool HaveOpenssl() { return access("/usr/bin/openssl", X_OK) == 0; }

haproxy::RenderOptions Options() {
  haproxy::RenderOptions o;
  o.log = false;
  return o;
}

TrafficModel Model(bool tls) { return samples::ShopAndBlogModel(tls); }

size_t LineOf(const EngineConfig& c, const std::string& route) {
  auto it = std::find(c.route_of_line.begin(), c.route_of_line.end(), route);
  return static_cast<size_t>(it - c.route_of_line.begin()) + 1;
}

TEST(HaproxyDataPlaneTest, RendersWithItsOptions) {
  haproxy::FakeHaproxyValidator validator;
  HaproxyDataPlane plane(validator, Options());
  EXPECT_EQ(plane.Engine(), "haproxy");
  TrafficModel m = Model(false);
  EngineConfig c = plane.Render(m);
  EXPECT_EQ(c.text, haproxy::RenderHaproxyConfig(m, Options()));
  EXPECT_EQ(c.text.find("log stdout"), std::string::npos);
  EXPECT_EQ(c.route_of_line.size(),
            static_cast<size_t>(std::count(c.text.begin(), c.text.end(), '\n')));
}

TEST(HaproxyDataPlaneTest, NewEndpointsAndMapEntriesNeedNoCheckButNewSettingsDo) {
  haproxy::FakeHaproxyValidator validator;
  HaproxyDataPlane plane(validator, Options());
  TrafficModel m = Model(false);
  m.upstreams[0].servers = {{"10.0.1.7:8080", 1}, {"10.0.1.8:8080", 1}};
  model::ResolveSelections(m);
  const EngineConfig checked = plane.Render(m);

  // A rolled task, a new one and a weight.
  TrafficModel rolled = m;
  rolled.upstreams[0].servers = {{"10.0.1.8:8080", 2}, {"10.0.1.9:8080", 1}, {"10.0.2.1:8080", 1}};
  model::ResolveSelections(rolled);
  const EngineConfig next = plane.Render(rolled);
  ASSERT_NE(next.text, checked.text);
  EXPECT_TRUE(plane.CoveredByCheckOf(checked, next));

  // The last endpoint gone: the route answers 503 without a backend.
  TrafficModel none = m;
  none.upstreams[0].servers.clear();
  model::ResolveSelections(none);
  EXPECT_FALSE(plane.CoveredByCheckOf(checked, plane.Render(none)));

  // One server is retried differently (no retry after a read timeout).
  TrafficModel one = m;
  one.upstreams[0].servers.pop_back();
  model::ResolveSelections(one);
  EXPECT_FALSE(plane.CoveredByCheckOf(checked, plane.Render(one)));

  // Another host for a route: entries of the routing maps.
  TrafficModel more = m;
  more.servers[1].hosts.push_back("news.example.com");
  EXPECT_TRUE(plane.CoveredByCheckOf(checked, plane.Render(more)));

  // A route's own read timeout: a backend of other settings.
  TrafficModel slow = m;
  slow.servers[0].locations[0].timeouts.read = std::chrono::seconds(120);
  const EngineConfig slow_config = plane.Render(slow);
  ASSERT_NE(slow_config.text, checked.text);
  EXPECT_FALSE(plane.CoveredByCheckOf(checked, slow_config));
}

TEST(HaproxyDataPlaneTest, RejectedLineNamesItsRoute) {
  haproxy::FakeHaproxyValidator validator;
  HaproxyDataPlane plane(validator, Options());
  TrafficModel m = Model(false);
  EngineConfig c = plane.Render(m);
  size_t line = LineOf(c, "blog");
  ASSERT_LE(line, c.route_of_line.size());
  validator.SetResult(InvalidArgument("[ALERT] parsing [haproxy.cfg:" + std::to_string(line) +
                                      "] : something is wrong"));
  CheckOutcome out = plane.Check(m, c);
  ASSERT_FALSE(out.status.ok());
  EXPECT_EQ(out.route, "blog");
  // Without TLS the config is checked as it is, with no files.
  ASSERT_EQ(validator.configs().size(), 1u);
  EXPECT_EQ(validator.configs()[0], c.text);
  EXPECT_TRUE(validator.last_files().empty());

  validator.SetResult(InvalidArgument("[ALERT] Fatal errors found in configuration."));
  out = plane.Check(m, c);
  EXPECT_FALSE(out.status.ok());
  EXPECT_EQ(out.route, "");
  // Errors named by proxy lead to the route of that backend.
  validator.SetResult(
      InvalidArgument("[ALERT] Proxy 'sg:http': unable to find required use_backend: 'r.shop.0'."));
  EXPECT_EQ(plane.Check(m, c).route, "shop");
  validator.SetResult(OkStatus());
  EXPECT_TRUE(plane.Check(m, c).status.ok());
}

TEST(HaproxyDataPlaneTest, CertificatesAreCheckedAsPlaceholdersOnTheSameLines) {
  if (!HaveOpenssl()) GTEST_SKIP() << "openssl is not installed at /usr/bin/openssl";
  haproxy::FakeHaproxyValidator validator;
  HaproxyDataPlane plane(validator, Options());
  TrafficModel m = Model(true);
  m.redirects.push_back({"shop", "old.example.com", "https://shop.example.com", 301,
                         model::TlsCertificate{"/etc/other/old.pem", "/etc/other/old.pem"}});
  EngineConfig c = plane.Render(m);
  // The delivered text names the proxies' secrets.
  EXPECT_NE(c.text.find("crt /etc/other/old.pem crt /run/secrets/shop-tls strict-sni"),
            std::string::npos)
      << c.text;
  ASSERT_TRUE(plane.Check(m, c).status.ok());
  ASSERT_EQ(validator.configs().size(), 1u);
  const std::string checked = validator.configs()[0];
  EXPECT_NE(checked.find("crt certs/old.pem crt certs/shop-tls strict-sni"), std::string::npos)
      << checked;
  EXPECT_EQ(std::count(checked.begin(), checked.end(), '\n'),
            std::count(c.text.begin(), c.text.end(), '\n'));
  auto files = validator.last_files();
  ASSERT_EQ(files.size(), 2u);
  EXPECT_NE(files["certs/shop-tls"].find("PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(files["certs/old.pem"], files["certs/shop-tls"]);
}

TEST(HaproxyDataPlaneTest, KeysHaproxyCannotLoadFailTheCheckOfTheirRoute) {
  haproxy::FakeHaproxyValidator validator;
  HaproxyDataPlane plane(validator, Options());
  TrafficModel m = Model(true);
  m.servers[0].tls = model::TlsCertificate{"shop.pem", "keys/shop"};
  CheckOutcome out = plane.Check(m, plane.Render(m));
  ASSERT_FALSE(out.status.ok());
  EXPECT_EQ(out.route, "shop");
  EXPECT_NE(out.status.error().message.find("keys/shop"), std::string::npos);
  EXPECT_TRUE(validator.configs().empty());
}

TEST(HaproxyDataPlaneTest, RealHaproxyAcceptsThePlaceholdersAndNamesTheRoute) {
  if (!HaveHaproxy() || !HaveOpenssl()) GTEST_SKIP() << "needs /usr/sbin/haproxy and openssl";
  haproxy::ExecHaproxyValidator validator;
  HaproxyDataPlane plane(validator, Options());
  TrafficModel m = Model(true);
  EngineConfig config = plane.Render(m);
  CheckOutcome ok = plane.Check(m, config);
  EXPECT_TRUE(ok.status.ok()) << ok.status.error().ToString();

  // Break blog's line, keeping the line count.
  size_t line = LineOf(config, "blog");
  ASSERT_LE(line, config.route_of_line.size());
  size_t pos = 0;
  for (size_t i = 1; i < line; ++i) pos = config.text.find('\n', pos) + 1;
  size_t end = config.text.find('\n', pos);
  config.text.replace(pos, end - pos, "    bogus_keyword on");
  CheckOutcome out = plane.Check(m, config);
  ASSERT_FALSE(out.status.ok());
  EXPECT_NE(out.status.error().message.find("bogus_keyword"), std::string::npos)
      << out.status.error().message;
  EXPECT_EQ(out.route, "blog") << out.status.error().message;
}

}  // namespace
}  // namespace sg::dataplane
