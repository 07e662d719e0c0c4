// Checks of the monitoring chart (charts/monitoring): the Grafana dashboard
// is well-formed, queries only metrics and labels the operator exports
// (operator/metrics/swarmgate_metrics.cc is parsed), and refers to the
// provisioned datasource; the stack mounts every provisioning file.

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include "sg_build_paths.h"

namespace {

const std::string kChart = std::string(SG_SOURCE_DIR) + "/charts/monitoring";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot read " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct MetricInfo {
  std::string type;  // Counter | Gauge | Histogram
  std::set<std::string> labels;
};

// name -> type and labels, from the AddCounter/AddGauge/AddHistogram(registry, ...) calls.
std::map<std::string, MetricInfo> ExportedMetrics() {
  const std::string src =
      ReadFile(std::string(SG_SOURCE_DIR) + "/operator/metrics/swarmgate_metrics.cc");
  std::map<std::string, MetricInfo> out;
  std::regex add(R"(Add(Counter|Gauge|Histogram)\(\s*\w+,\s*\"(swarmgate_[a-z0-9_]+)\")");
  std::vector<std::pair<std::size_t, std::smatch>> calls;
  for (std::sregex_iterator it(src.begin(), src.end(), add), end; it != end; ++it) {
    calls.emplace_back(static_cast<std::size_t>(it->position()), *it);
  }
  for (std::size_t i = 0; i < calls.size(); ++i) {
    std::size_t begin = calls[i].first;
    std::size_t stop = i + 1 < calls.size() ? calls[i + 1].first : src.size();
    std::string call = src.substr(begin, stop - begin);
    MetricInfo info{calls[i].second[1], {}};
    // The label list is the first brace-enclosed list of the call.
    auto open = call.find('{');
    if (open != std::string::npos) {
      std::string list = call.substr(open, call.find('}', open) - open);
      std::regex label("\"([a-z_]+)\"");
      for (std::sregex_iterator it(list.begin(), list.end(), label), end; it != end; ++it) {
        info.labels.insert((*it)[1]);
      }
    }
    out[calls[i].second[2]] = info;
  }
  return out;
}

class DashboardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    text_ = ReadFile(kChart + "/grafana/dashboards/swarmgate.json");
    doc_.Parse(text_.c_str());
    ASSERT_FALSE(doc_.HasParseError())
        << rapidjson::GetParseError_En(doc_.GetParseError()) << " at " << doc_.GetErrorOffset();
    ASSERT_TRUE(doc_.IsObject());
    ASSERT_TRUE(doc_.HasMember("panels") && doc_["panels"].IsArray());
    Collect(doc_["panels"]);
  }

  void Collect(const rapidjson::Value& list) {
    for (const auto& p : list.GetArray()) {
      panels_.push_back(&p);
      if (p.HasMember("panels") && p["panels"].IsArray()) Collect(p["panels"]);
    }
  }

  static std::string Title(const rapidjson::Value& p) {
    return p.HasMember("title") && p["title"].IsString() ? p["title"].GetString() : "?";
  }

  // Every (panel title, expr).
  std::vector<std::pair<std::string, std::string>> Exprs() const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto* p : panels_) {
      if (!p->HasMember("targets")) continue;
      for (const auto& t : (*p)["targets"].GetArray()) {
        if (t.HasMember("expr") && t["expr"].IsString()) {
          out.emplace_back(Title(*p), t["expr"].GetString());
        }
      }
    }
    return out;
  }

  std::string text_;
  rapidjson::Document doc_;
  std::vector<const rapidjson::Value*> panels_;
};

TEST_F(DashboardTest, HasSchemaVersionUidAndTitle) {
  ASSERT_TRUE(doc_.HasMember("schemaVersion"));
  EXPECT_TRUE(doc_["schemaVersion"].IsInt());
  EXPECT_GE(doc_["schemaVersion"].GetInt(), 27);
  ASSERT_TRUE(doc_.HasMember("uid") && doc_["uid"].IsString());
  EXPECT_STRNE(doc_["uid"].GetString(), "");
  ASSERT_TRUE(doc_.HasMember("title") && doc_["title"].IsString());
}

TEST_F(DashboardTest, PanelIdsAreUnique) {
  std::set<int> ids;
  for (const auto* p : panels_) {
    ASSERT_TRUE(p->HasMember("id") && (*p)["id"].IsInt()) << Title(*p);
    EXPECT_TRUE(ids.insert((*p)["id"].GetInt()).second)
        << "duplicate panel id " << (*p)["id"].GetInt() << " (" << Title(*p) << ")";
    EXPECT_TRUE(p->HasMember("gridPos")) << Title(*p);
  }
  EXPECT_GE(ids.size(), 10u);
}

TEST_F(DashboardTest, EveryTargetHasAnExprAndUniqueRefId) {
  int targets = 0;
  for (const auto* p : panels_) {
    std::string type = p->HasMember("type") ? (*p)["type"].GetString() : "";
    if (type == "row") continue;
    ASSERT_TRUE(p->HasMember("targets") && (*p)["targets"].IsArray()) << Title(*p);
    EXPECT_GT((*p)["targets"].Size(), 0u) << Title(*p);
    std::set<std::string> refs;
    for (const auto& t : (*p)["targets"].GetArray()) {
      ++targets;
      ASSERT_TRUE(t.HasMember("expr") && t["expr"].IsString()) << Title(*p);
      EXPECT_STRNE(t["expr"].GetString(), "") << Title(*p);
      ASSERT_TRUE(t.HasMember("refId") && t["refId"].IsString()) << Title(*p);
      EXPECT_TRUE(refs.insert(t["refId"].GetString()).second) << Title(*p);
    }
  }
  EXPECT_GE(targets, 15);
}

// The HAProxy exporter's series the proxies' scrape job keeps
// (prometheus.yml, job swarmgate-proxies), with their labels: `proxy` is the
// backend, `route` is added by the job from the backend's name.
std::map<std::string, MetricInfo> ProxyMetrics() {
  const std::set<std::string> backend = {"proxy", "route"};
  std::set<std::string> with_code = backend;
  with_code.insert("code");
  std::map<std::string, MetricInfo> out = {
      {"haproxy_backend_http_requests_total", {"Counter", backend}},
      {"haproxy_backend_http_responses_total", {"Counter", with_code}},
      {"haproxy_backend_response_time_average_seconds", {"Gauge", backend}},
      {"haproxy_backend_total_time_average_seconds", {"Gauge", backend}},
      {"haproxy_backend_connection_errors_total", {"Counter", backend}},
      {"haproxy_backend_retry_warnings_total", {"Counter", backend}},
      {"haproxy_backend_redispatch_warnings_total", {"Counter", backend}},
      {"haproxy_backend_active_servers", {"Gauge", backend}},
  };
  return out;
}

// Every series of ProxyMetrics() passes the job's keep rule, and the job adds
// the route label.
TEST(MonitoringStackTest, ProxyJobKeepsTheSeriesTheDashboardReads) {
  const std::string config = ReadFile(kChart + "/prometheus.yml");
  ASSERT_NE(config.find("job_name: swarmgate-proxies"), std::string::npos);
  ASSERT_NE(config.find("names: [tasks.swarmgate-proxies]"), std::string::npos);
  ASSERT_NE(config.find("target_label: route"), std::string::npos);
  std::smatch keep;
  ASSERT_TRUE(std::regex_search(config, keep, std::regex(R"(regex: '(haproxy_backend_\([^']*)')")))
      << config;
  const std::regex kept(keep[1].str());
  for (const auto& [name, info] : ProxyMetrics()) {
    EXPECT_TRUE(std::regex_match(name, kept)) << name << " is dropped by " << keep[1];
  }
}

// Metric names exist; _bucket/_sum/_count only on histograms; the labels of
// `by (...)` and of selectors exist on some metric of the same expression.
TEST_F(DashboardTest, QueriesOnlyExportedMetricsAndLabels) {
  const auto operator_metrics = ExportedMetrics();
  ASSERT_GE(operator_metrics.size(), 10u) << "could not parse swarmgate_metrics.cc";
  auto metrics = operator_metrics;
  for (const auto& [name, info] : ProxyMetrics()) metrics[name] = info;
  std::set<std::string> used;
  std::regex name("(?:swarmgate|haproxy)_[a-z0-9_]+");
  std::regex by(R"(\b(?:by|without)\s*\(([^)]*)\))");
  std::regex selector(R"((?:swarmgate|haproxy)_[a-z0-9_]+\{([^}]*)\})");
  std::regex matcher(R"(([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=))");
  for (const auto& [title, expr] : Exprs()) {
    std::set<std::string> labels = {"le", "job", "instance"};
    for (std::sregex_iterator it(expr.begin(), expr.end(), name), end; it != end; ++it) {
      std::string metric = it->str();
      std::string base = metric;
      bool histogram_series = false;
      if (!metrics.count(metric)) {
        for (const std::string suffix : {"_bucket", "_sum", "_count"}) {
          if (metric.size() > suffix.size() &&
              metric.compare(metric.size() - suffix.size(), suffix.size(), suffix) == 0) {
            base = metric.substr(0, metric.size() - suffix.size());
            histogram_series = true;
          }
        }
      }
      auto found = metrics.find(base);
      ASSERT_NE(found, metrics.end()) << "unknown metric " << metric << " in \"" << title << "\"";
      if (histogram_series) {
        EXPECT_EQ(found->second.type, "Histogram") << metric << " in \"" << title << "\"";
      } else {
        EXPECT_NE(found->second.type, "Histogram")
            << "histogram " << metric << " used without _bucket/_sum/_count in \"" << title << "\"";
      }
      used.insert(base);
      labels.insert(found->second.labels.begin(), found->second.labels.end());
    }
    auto check = [&](const std::string& list, std::regex& re, int group) {
      for (std::sregex_iterator it(list.begin(), list.end(), re), end; it != end; ++it) {
        std::string l = (*it)[group];
        EXPECT_TRUE(labels.count(l)) << "label " << l << " in \"" << title << "\": " << expr;
      }
    };
    std::regex word("[a-z_]+");
    for (std::sregex_iterator it(expr.begin(), expr.end(), by), end; it != end; ++it) {
      check((*it)[1], word, 0);
    }
    for (std::sregex_iterator it(expr.begin(), expr.end(), selector), end; it != end; ++it) {
      check((*it)[1], matcher, 1);
    }
  }
  // The dashboard covers every family of the operator.
  for (const auto& [metric, info] : operator_metrics) {
    EXPECT_TRUE(used.count(metric)) << metric << " has no panel";
  }
}

// Every datasource reference names the provisioned Prometheus datasource.
TEST_F(DashboardTest, DatasourceReferencesMatchTheProvisionedDatasource) {
  const std::string ds = ReadFile(kChart + "/grafana/provisioning/datasources/prometheus.yml");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(ds, m, std::regex(R"(\n\s*uid:\s*([A-Za-z0-9_-]+))")));
  const std::string uid = m[1];
  int refs = 0;
  auto check = [&](const rapidjson::Value& v, const std::string& where) {
    ASSERT_TRUE(v.HasMember("datasource")) << where;
    const auto& d = v["datasource"];
    ASSERT_TRUE(d.IsObject()) << where;
    ASSERT_TRUE(d.HasMember("uid") && d["uid"].IsString()) << where;
    EXPECT_EQ(std::string(d["uid"].GetString()), uid) << where;
    ASSERT_TRUE(d.HasMember("type") && d["type"].IsString()) << where;
    EXPECT_EQ(std::string(d["type"].GetString()), "prometheus") << where;
    ++refs;
  };
  for (const auto* p : panels_) {
    if (std::string((*p)["type"].GetString()) == "row") continue;
    check(*p, Title(*p));
    for (const auto& t : (*p)["targets"].GetArray()) check(t, Title(*p) + " target");
  }
  if (doc_.HasMember("templating")) {
    for (const auto& v : doc_["templating"]["list"].GetArray()) {
      if (std::string(v["type"].GetString()) == "query") check(v, "variable");
    }
  }
  EXPECT_GT(refs, 0);
}

// The stack mounts the provisioning files where the provider looks, and
// Prometheus scrapes the operator's alias on sg-control.
TEST(MonitoringStackTest, MountsProvisioningAndScrapesTheOperator) {
  const std::string stack = ReadFile(kChart + "/stack.yml");
  for (const char* f :
       {"./prometheus.yml", "./grafana/provisioning/datasources/prometheus.yml",
        "./grafana/provisioning/dashboards/swarmgate.yml", "./grafana/dashboards/swarmgate.json"}) {
    EXPECT_NE(stack.find(std::string("file: ") + f), std::string::npos) << f;
  }
  const std::string provider = ReadFile(kChart + "/grafana/provisioning/dashboards/swarmgate.yml");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(provider, m, std::regex(R"(path:\s*(\S+))")));
  EXPECT_NE(stack.find("target: " + m[1].str() + "/swarmgate.json"), std::string::npos) << m[1];
  EXPECT_NE(stack.find("sg-control:\n    external: true"), std::string::npos);
  const std::string prom = ReadFile(kChart + "/prometheus.yml");
  EXPECT_NE(prom.find("names: [swarmgate-operator]"), std::string::npos);
  EXPECT_NE(prom.find("port: 9090"), std::string::npos);
  EXPECT_NE(prom.find("job_name: swarmgate-operator"), std::string::npos);
}

}  // namespace
