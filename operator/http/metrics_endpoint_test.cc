// Pins what the operator's /metrics exposes: every family's name, type,
// label names and histogram buckets. The Grafana dashboard
// (charts/monitoring/grafana/dashboards/swarmgate.json), the alerts in
// docs/operations.md, the status page and the benchmarks query these names;
// a change here must be made there too.

#include <chrono>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "operator/http/http_server.h"
#include "operator/http/observability_routes.h"
#include "operator/metrics/registry.h"
#include "operator/metrics/swarmgate_metrics.h"

namespace sg::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;

// GET over a fresh connection; a server that does not answer fails the test
// after the deadline instead of hanging it.
bhttp::response<bhttp::string_body> Get(std::uint16_t port, const std::string& target) {
  net::io_context io;
  beast::tcp_stream stream(io);
  bhttp::request<bhttp::empty_body> req(bhttp::verb::get, target, 11);
  req.set(bhttp::field::host, "localhost");
  bhttp::response<bhttp::string_body> res;
  beast::flat_buffer buffer;
  beast::error_code result = net::error::in_progress;
  stream.expires_after(15s);
  stream.async_connect(
      net::ip::tcp::endpoint(net::ip::address_v4::loopback(), port), [&](beast::error_code ec) {
        if (ec) {
          result = ec;
          return;
        }
        bhttp::async_write(stream, req, [&](beast::error_code ec, std::size_t) {
          if (ec) {
            result = ec;
            return;
          }
          bhttp::async_read(stream, buffer, res,
                            [&](beast::error_code ec, std::size_t) { result = ec; });
        });
      });
  io.run();
  EXPECT_FALSE(result) << result.message();
  return res;
}

// One metric family as scraped.
struct Family {
  std::string type;
  bool help = false;
  std::set<std::string> label_names;  // without "le"
  std::vector<std::string> buckets;   // "le" values of a histogram's first series
  friend bool operator==(const Family& a, const Family& b) {
    return a.type == b.type && a.help == b.help && a.label_names == b.label_names &&
           a.buckets == b.buckets;
  }
  friend std::ostream& operator<<(std::ostream& os, const Family& f) {
    os << f.type << (f.help ? "" : " (no HELP)") << " labels{";
    for (const auto& l : f.label_names) os << l << ",";
    os << "}";
    if (!f.buckets.empty()) {
      os << " le{";
      for (const auto& b : f.buckets) os << b << ",";
      os << "}";
    }
    return os;
  }
};

struct Scrape {
  std::map<std::string, Family> families;
  std::vector<std::string> problems;  // lines that fit no declared family
};

// Label names and values of a sample line's {...}, values unescaped.
std::vector<std::pair<std::string, std::string>> ParseLabels(const std::string& s) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto eq = s.find("=\"", i);
    if (eq == std::string::npos) break;
    std::string name = s.substr(i, eq - i);
    std::string value;
    std::size_t j = eq + 2;
    for (; j < s.size() && s[j] != '"'; ++j) {
      if (s[j] == '\\' && j + 1 < s.size()) ++j;
      value += s[j];
    }
    out.emplace_back(std::move(name), std::move(value));
    i = j + 1;
    if (i < s.size() && s[i] == ',') ++i;
  }
  return out;
}

Scrape Parse(const std::string& text) {
  Scrape scrape;
  std::map<std::string, std::string> first_series;  // histogram -> its first series' labels
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    std::istringstream words(line);
    if (line[0] == '#') {
      std::string hash, kind, name, type;
      words >> hash >> kind >> name >> type;
      if (kind == "TYPE") {
        if (scrape.families.count(name) && !scrape.families[name].type.empty()) {
          scrape.problems.push_back("TYPE twice: " + line);
        }
        scrape.families[name].type = type;
      } else if (kind == "HELP") {
        scrape.families[name].help = true;
      }
      continue;
    }
    const auto name_end = line.find_first_of("{ ");
    const std::string name = line.substr(0, name_end);
    std::string labels;
    if (name_end != std::string::npos && line[name_end] == '{') {
      labels = line.substr(name_end + 1, line.rfind('}') - name_end - 1);
    }
    // A sample belongs to the family of its name, or for a histogram to the
    // family its _bucket, _sum or _count suffix hangs off.
    std::string family = name;
    std::string suffix;
    for (const char* s : {"_bucket", "_sum", "_count"}) {
      const std::string base = name.size() > std::string(s).size()
                                   ? name.substr(0, name.size() - std::string(s).size())
                                   : "";
      if (!base.empty() && base + s == name && scrape.families.count(base) &&
          scrape.families[base].type == "histogram") {
        family = base;
        suffix = s;
      }
    }
    auto it = scrape.families.find(family);
    if (it == scrape.families.end() || it->second.type.empty() ||
        (it->second.type == "histogram" && suffix.empty())) {
      scrape.problems.push_back("sample outside its family: " + line);
      continue;
    }
    std::string series;
    std::string le;
    for (const auto& [k, v] : ParseLabels(labels)) {
      if (k == "le" && suffix == "_bucket") {
        le = v;
        continue;
      }
      it->second.label_names.insert(k);
      series += k + "=" + v + ",";
    }
    if (suffix == "_bucket") {
      auto [first, inserted] = first_series.emplace(family, series);
      if (first->second == series) it->second.buckets.push_back(le);
    }
  }
  return scrape;
}

TEST(MetricsEndpointTest, ExposesEveryFamilyWithItsTypeLabelsAndBuckets) {
  metrics::Registry registry;
  metrics::SwarmgateMetrics m(registry);
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  HttpServer server(options);
  RegisterObservabilityRoutes(server, registry, nullptr);
  ASSERT_TRUE(server.Start().ok());

  // prometheus-cpp shows a labeled family once it has a series: give each one.
  m.convergence_seconds.WithLabels({"web", "route"}).Observe(0.3);
  m.reconcile_total.WithLabels({"route", "success"}).Inc();
  m.reconcile_duration_seconds.WithLabels({"route"}).Observe(0.01);
  m.reconcile_errors_total.WithLabels({"route"}).Inc();
  m.workqueue_depth.WithLabels({"route"}).Set(1);
  m.proxy_config_generation.WithLabels({"web"}).Set(3);
  m.proxy_reloads_total.WithLabels({"web", "success"}).Inc();
  m.routes.WithLabels({"web", "true"}).Set(2);
  m.route_ready.WithLabels({"web", "shop"}).Set(1);
  m.proxy_replicas.WithLabels({"web", "desired"}).Set(2);
  m.docker_api_request_duration_seconds.WithLabels({"GET", "/services", "200"}).Observe(0.02);
  // swarmgate_render_duration_seconds has no labels: it is there from the start.

  const auto res = Get(server.port(), "/metrics");
  server.Stop();
  ASSERT_EQ(res.result_int(), 200);
  EXPECT_EQ(res[bhttp::field::content_type], kMetricsContentType);
  const Scrape scrape = Parse(res.body());

  const std::vector<std::string> latency = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
                                            "0.5",   "1",    "2.5",   "5",    "10",  "+Inf"};
  const std::vector<std::string> convergence = {"0.05", "0.1", "0.25", "0.5", "1",   "2",
                                                "5",    "10",  "30",   "60",  "120", "+Inf"};
  const std::map<std::string, Family> expected = {
      {"swarmgate_convergence_seconds", {"histogram", true, {"cluster", "trigger"}, convergence}},
      {"swarmgate_reconcile_total", {"counter", true, {"controller", "result"}, {}}},
      {"swarmgate_reconcile_duration_seconds", {"histogram", true, {"controller"}, latency}},
      {"swarmgate_reconcile_errors_total", {"counter", true, {"controller"}, {}}},
      {"swarmgate_workqueue_depth", {"gauge", true, {"controller"}, {}}},
      {"swarmgate_render_duration_seconds", {"histogram", true, {}, latency}},
      {"swarmgate_proxy_config_generation", {"gauge", true, {"cluster"}, {}}},
      {"swarmgate_proxy_reloads_total", {"counter", true, {"cluster", "result"}, {}}},
      {"swarmgate_routes", {"gauge", true, {"cluster", "ready"}, {}}},
      {"swarmgate_route_ready", {"gauge", true, {"cluster", "route"}, {}}},
      {"swarmgate_proxy_replicas", {"gauge", true, {"cluster", "state"}, {}}},
      {"swarmgate_docker_api_request_duration_seconds",
       {"histogram", true, {"method", "endpoint", "code"}, latency}},
      {"swarmgate_leader", {"gauge", true, {}, {}}},
      {"swarmgate_leader_transitions_total", {"counter", true, {}, {}}},
      {"process_cpu_seconds_total", {"counter", true, {}, {}}},
      {"process_resident_memory_bytes", {"gauge", true, {}, {}}},
  };

  std::set<std::string> expected_names, scraped_names;
  for (const auto& [name, f] : expected) expected_names.insert(name);
  for (const auto& [name, f] : scrape.families) scraped_names.insert(name);
  EXPECT_EQ(scraped_names, expected_names) << res.body();
  for (const auto& [name, want] : expected) {
    auto it = scrape.families.find(name);
    if (it == scrape.families.end()) continue;  // reported above
    EXPECT_EQ(it->second, want) << name;
  }
  EXPECT_THAT(scrape.problems, ::testing::IsEmpty());
}

}  // namespace
}  // namespace sg::http
