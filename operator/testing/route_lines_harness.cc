#include "operator/testing/route_lines_harness.h"

#include <gtest/gtest.h>

#include "operator/testing/test_certificate.h"

namespace sg::testing {

using model::TrafficModel;
using model::Upstream;

std::string RouteLinesOfSample::RouteOf(const std::string& needle) const {
  return samples::RouteOfLineWith(scan, config.route_of_line, needle);
}

RouteLinesOfSample ExpectEveryRouteLineNamesItsRoute(
    const RouteLinesEngine& engine, const std::vector<std::string>& shared_markers,
    const std::vector<std::pair<std::string, std::string>>& route_of_needle) {
  TrafficModel m = samples::SeveralRoutesModel();
  RouteLinesOfSample out;
  RouteMappedConfig& r = out.config;
  r = engine.render(m);
  EXPECT_EQ(r.text, engine.render_text(m));
  out.scan =
      samples::ExpectLinesNameTheirRoutes(r.text, r.route_of_line, shared_markers, r.route_at_line);
  EXPECT_EQ(out.scan.commented_routes,
            (std::vector<std::string>{"api", "cart", "dead", "down", "shop", "vault"}));
  EXPECT_GT(out.scan.upstream_lines, 12);

  // Each kind of per-route output is attributed.
  for (const auto& [needle, route] : route_of_needle) {
    EXPECT_EQ(out.RouteOf(needle), route) << needle;
  }

  EXPECT_EQ(r.route_at_line(0), "");
  EXPECT_EQ(r.route_at_line(-3), "");
  EXPECT_EQ(r.route_at_line(static_cast<int>(out.scan.lines.size()) + 1), "");
  EXPECT_EQ(r.route_at_line(1), "");  // the header comment
  return out;
}

void ExpectRejectedRouteLineLeadsToItsRoute(const RouteLinesEngine& engine, TrafficModel m,
                                            const std::string& api_anchor,
                                            const std::string& broken_line) {
  RouteMappedConfig r = engine.render(m);
  CheckFiles certs = TestCertificateFiles(engine.certificate_files(m));
  Status ok = engine.validate(r.text, certs);
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();

  // Replace one of api's lines, keeping the line count.
  std::vector<std::string> lines = samples::ConfigLines(r.text);
  size_t target = lines.size();
  for (size_t i = 0; i < lines.size(); ++i) {
    if (r.route_of_line[i] == "api" && lines[i].find(api_anchor) != std::string::npos) {
      target = i;
      break;
    }
  }
  ASSERT_LT(target, lines.size());
  std::string broken;
  for (size_t i = 0; i < lines.size(); ++i) {
    broken += i == target ? broken_line : lines[i];
    broken += '\n';
  }
  Status st = engine.validate(broken, certs);
  ASSERT_FALSE(st.ok());
  int line = engine.error_line(st.error().message);
  EXPECT_EQ(line, static_cast<int>(target) + 1) << st.error().message;
  EXPECT_EQ(r.route_at_line(line), "api") << st.error().message;
}

void ExpectRejectedUpstreamLeadsToItsRoute(const RouteLinesEngine& engine, TrafficModel m,
                                           UpstreamCheckFiles files) {
  for (Upstream& u : m.upstreams) {
    if (u.name == samples::UpName("cart", 1)) u.servers[0].address = "10.0.3.2:99999";
  }
  RouteMappedConfig r = engine.render(m);
  CheckFiles check_files;
  if (files == UpstreamCheckFiles::kCertificates) {
    check_files = TestCertificateFiles(engine.certificate_files(m));
  }
  Status st = engine.validate(r.text, check_files);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("99999"), std::string::npos) << st.error().message;
  EXPECT_EQ(r.route_at_line(engine.error_line(st.error().message)), "cart") << st.error().message;
}

}  // namespace sg::testing
