#include "operator/interlock/converter.h"

#include <functional>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "crds/loader.h"

namespace sg::interlock {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

using Labels = std::map<std::string, std::string>;

ServiceInput Svc(std::string name, Labels labels, std::optional<uint64_t> replicas = 1) {
  return ServiceInput{std::move(name), replicas, std::move(labels), {}};
}

Labels Base(Labels extra = {}) {
  Labels l = {{"com.docker.lb.hosts", "app.example.com"}, {"com.docker.lb.port", "8080"}};
  for (auto& [k, v] : extra) l[k] = v;
  return l;
}

ServiceInput Svc(std::string name, Labels labels, std::vector<std::string> networks) {
  ServiceInput s = Svc(std::move(name), std::move(labels));
  s.networks = std::move(networks);
  return s;
}

// Converts and loads the output back: every output must validate cleanly.
struct Loaded {
  ConvertResult result;
  crds::LoadResult load;
  const crds::Route* Route(const std::string& name) const {
    for (const auto& r : load.resources) {
      if (r.route() && r.name == name) return r.route();
    }
    return nullptr;
  }
  const crds::ServiceCluster* Cluster(const std::string& name) const {
    for (const auto& r : load.resources) {
      if (r.cluster() && r.name == name) return r.cluster();
    }
    return nullptr;
  }
  int Count(crds::Kind kind) const {
    int n = 0;
    for (const auto& r : load.resources) n += r.kind == kind;
    return n;
  }
  // "SERVICE:PORT" of the cluster's spec.defaultBackend as the loader
  // decodes it, "" without one.
  std::string DefaultBackendOf(const std::string& cluster) const {
    for (const auto& r : load.resources) {
      if (!r.cluster() || r.name != cluster) continue;
      const auto& d = r.cluster()->spec.default_backend;
      if (!d) return "";
      EXPECT_FALSE(d->service.empty()) << result.yaml;
      return d->service + ":" + std::to_string(d->port);
    }
    ADD_FAILURE() << "no ServiceCluster " << cluster << " in\n" << result.yaml;
    return "";
  }
};

Loaded ConvertAndLoad(const std::vector<ServiceInput>& services,
                      const ConvertOptions& options = {}) {
  Loaded out;
  out.result = Convert(services, options);
  out.load = crds::LoadText(out.result.yaml, "import.yaml");
  for (const auto& d : out.load.diagnostics) ADD_FAILURE() << d.ToString();
  EXPECT_TRUE(out.load.ok()) << out.result.yaml;
  EXPECT_EQ(out.Count(crds::Kind::kRoute), out.result.routes) << out.result.yaml;
  EXPECT_EQ(out.Count(crds::Kind::kServiceCluster), out.result.clusters) << out.result.yaml;
  return out;
}

TEST(InterlockConvert, MinimalServiceGivesDefaultClusterAndRoute) {
  auto l = ConvertAndLoad({Svc("web", Base())});
  ASSERT_NE(l.Cluster("default"), nullptr);
  EXPECT_EQ(l.Cluster("default")->spec.network, "sg-default");  // the default
  const crds::Route* r = l.Route("web");
  ASSERT_NE(r, nullptr) << l.result.yaml;
  EXPECT_EQ(r->spec.service_cluster, "default");
  EXPECT_EQ(r->spec.hosts, std::vector<std::string>{"app.example.com"});
  EXPECT_EQ(r->spec.path, "/");
  ASSERT_EQ(r->spec.backends.size(), 1u);
  EXPECT_EQ(r->spec.backends[0].service, "web");
  EXPECT_EQ(r->spec.backends[0].port, 8080);
  EXPECT_EQ(r->spec.backends[0].weight, 100);
  EXPECT_FALSE(r->spec.tls.has_value());
  EXPECT_TRUE(l.result.warnings.empty());
  EXPECT_EQ(l.result.services_imported, 1);
  EXPECT_THAT(l.result.yaml, HasSubstr("docker service update --network-add sg-default web"));
}

TEST(InterlockConvert, ServicesWithoutInterlockLabelsAreIgnored) {
  auto l = ConvertAndLoad({Svc("db", {{"com.example.team", "data"}})});
  EXPECT_EQ(l.result.routes, 0);
  EXPECT_EQ(l.result.clusters, 0);
  EXPECT_EQ(l.result.services_seen, 0);
  EXPECT_TRUE(l.result.warnings.empty());
}

// One row per mapped label: the labels added to Base() and what the route
// (named "web") must look like.
struct LabelCase {
  const char* title;
  Labels labels;
  std::function<void(const crds::Route&, const Loaded&)> check;
};

class LabelTable : public ::testing::TestWithParam<LabelCase> {};

TEST_P(LabelTable, MapsToRouteField) {
  const LabelCase& c = GetParam();
  auto l = ConvertAndLoad({Svc("web", Base(c.labels))});
  const crds::Route* r = l.Route("web");
  ASSERT_NE(r, nullptr) << l.result.yaml;
  c.check(*r, l);
}

INSTANTIATE_TEST_SUITE_P(
    Labels, LabelTable,
    ::testing::Values(
        LabelCase{"hosts",
                  {{"com.docker.lb.hosts", "a.example.com, B.Example.com,*.wild.example.com"}},
                  [](const crds::Route& r, const Loaded&) {
                    EXPECT_EQ(r.spec.hosts,
                              (std::vector<std::string>{"a.example.com", "b.example.com",
                                                        "*.wild.example.com"}));
                  }},
        LabelCase{"port",
                  {{"com.docker.lb.port", "9000"}},
                  [](const crds::Route& r, const Loaded&) {
                    EXPECT_EQ(r.spec.backends.at(0).port, 9000);
                  }},
        LabelCase{"network",
                  {{"com.docker.lb.network", "demo-net"}},
                  [](const crds::Route&, const Loaded& l) {
                    ASSERT_NE(l.Cluster("default"), nullptr);
                    EXPECT_EQ(l.Cluster("default")->spec.network, "demo-net");
                    EXPECT_THAT(l.result.yaml,
                                HasSubstr("docker service update --network-add demo-net web"));
                  }},
        LabelCase{"context_root",
                  {{"com.docker.lb.context_root", "/app"}},
                  [](const crds::Route& r, const Loaded&) {
                    EXPECT_EQ(r.spec.path, "/app");
                    EXPECT_FALSE(r.spec.rewrite.has_value());
                  }},
        LabelCase{"context_root_rewrite",
                  {{"com.docker.lb.context_root", "/app"},
                   {"com.docker.lb.context_root_rewrite", "true"}},
                  [](const crds::Route& r, const Loaded&) {
                    EXPECT_EQ(r.spec.path, "/app");
                    EXPECT_EQ(r.spec.rewrite, std::optional<std::string>("/"));
                  }},
        LabelCase{"context_root_rewrite without a context root",
                  {{"com.docker.lb.context_root_rewrite", "true"}},
                  [](const crds::Route& r, const Loaded& l) {
                    EXPECT_FALSE(r.spec.rewrite.has_value());
                    EXPECT_THAT(l.result.yaml, HasSubstr("no context root to strip"));
                  }},
        LabelCase{"ssl_cert and ssl_key",
                  {{"com.docker.lb.ssl_cert", "demo.cert"}, {"com.docker.lb.ssl_key", "demo.key"}},
                  [](const crds::Route& r, const Loaded& l) {
                    ASSERT_TRUE(r.spec.tls.has_value());
                    EXPECT_EQ(r.spec.tls->mode, crds::TlsMode::kTerminate);
                    EXPECT_EQ(r.spec.tls->secret, std::optional<std::string>("demo.cert"));
                    EXPECT_FALSE(r.spec.tls->redirect_http);
                    EXPECT_THAT(l.result.yaml,
                                HasSubstr("cat cert.pem key.pem | docker secret create "
                                          "demo.cert -"));
                  }},
        LabelCase{"ssl_only with a certificate",
                  {{"com.docker.lb.ssl_cert", "demo.cert"},
                   {"com.docker.lb.ssl_key", "demo.key"},
                   {"com.docker.lb.ssl_only", "true"}},
                  [](const crds::Route& r, const Loaded&) {
                    ASSERT_TRUE(r.spec.tls.has_value());
                    EXPECT_TRUE(r.spec.tls->redirect_http);
                  }},
        LabelCase{"ssl_only without a certificate",
                  {{"com.docker.lb.ssl_only", "true"}},
                  [](const crds::Route& r, const Loaded& l) {
                    EXPECT_FALSE(r.spec.tls.has_value());
                    EXPECT_THAT(l.result.yaml, HasSubstr("# service \"web\": com.docker.lb."
                                                         "ssl_only=\"true\": not mapped"));
                  }},
        LabelCase{"ssl_passthrough",
                  {{"com.docker.lb.ssl_passthrough", "true"}},
                  [](const crds::Route& r, const Loaded&) {
                    ASSERT_TRUE(r.spec.tls.has_value());
                    EXPECT_EQ(r.spec.tls->mode, crds::TlsMode::kPassthrough);
                    EXPECT_FALSE(r.spec.tls->secret.has_value());
                  }},
        LabelCase{"ssl_passthrough drops path, certificate and sticky cookie",
                  {{"com.docker.lb.ssl_passthrough", "true"},
                   {"com.docker.lb.context_root", "/app"},
                   {"com.docker.lb.ssl_cert", "demo.cert"},
                   {"com.docker.lb.sticky_session_cookie", "sess"}},
                  [](const crds::Route& r, const Loaded& l) {
                    EXPECT_EQ(r.spec.tls->mode, crds::TlsMode::kPassthrough);
                    EXPECT_EQ(r.spec.path, "/");
                    EXPECT_FALSE(r.spec.sticky_session.has_value());
                    EXPECT_THAT(l.result.yaml, HasSubstr("routes by SNI"));
                    EXPECT_THAT(l.result.yaml, HasSubstr("never sees cookies"));
                  }},
        LabelCase{"sticky_session_cookie",
                  {{"com.docker.lb.sticky_session_cookie", "session_id"}},
                  [](const crds::Route& r, const Loaded&) {
                    ASSERT_TRUE(r.spec.sticky_session.has_value());
                    EXPECT_EQ(r.spec.sticky_session->cookie, "session_id");
                  }},
        LabelCase{"sticky_session_cookie in vip mode",
                  {{"com.docker.lb.sticky_session_cookie", "session_id"},
                   {"com.docker.lb.backend_mode", "vip"}},
                  [](const crds::Route& r, const Loaded& l) {
                    EXPECT_FALSE(r.spec.sticky_session.has_value());
                    EXPECT_EQ(r.spec.backend_mode, crds::BackendMode::kVip);
                    EXPECT_THAT(l.result.yaml, HasSubstr("need backendMode task"));
                  }},
        LabelCase{"backend_mode task",
                  {{"com.docker.lb.backend_mode", "task"}},
                  [](const crds::Route& r, const Loaded&) {
                    EXPECT_EQ(r.spec.backend_mode, crds::BackendMode::kTask);
                  }},
        LabelCase{
            "websocket endpoint on the context root",
            {{"com.docker.lb.context_root", "/ws"}, {"com.docker.lb.websocket_endpoints", "/ws"}},
            [](const crds::Route& r, const Loaded& l) {
              EXPECT_TRUE(r.spec.websocket);
              EXPECT_EQ(l.result.routes, 1);
            }},
        LabelCase{"websocket endpoints",
                  {{"com.docker.lb.websocket_endpoints", "/ws,/live/socket"}},
                  [](const crds::Route& r, const Loaded& l) {
                    EXPECT_FALSE(r.spec.websocket);
                    EXPECT_EQ(l.result.routes, 3);
                    const crds::Route* ws = l.Route("web-ws");
                    ASSERT_NE(ws, nullptr) << l.result.yaml;
                    EXPECT_EQ(ws->spec.path, "/ws");
                    EXPECT_TRUE(ws->spec.websocket);
                    EXPECT_EQ(ws->spec.backends.at(0).service, "web");
                    const crds::Route* ws2 = l.Route("web-ws-2");
                    ASSERT_NE(ws2, nullptr) << l.result.yaml;
                    EXPECT_EQ(ws2->spec.path, "/live/socket");
                    EXPECT_TRUE(ws2->spec.websocket);
                  }},
        LabelCase{"redirects",
                  {{"com.docker.lb.hosts", "old.example.com,new.example.com"},
                   {"com.docker.lb.redirects",
                    "http://old.example.com,https://new.example.com/,"
                    "legacy.example.com,https://new.example.com"}},
                  [](const crds::Route& r, const Loaded& l) {
                    EXPECT_EQ(r.spec.hosts, std::vector<std::string>{"new.example.com"});
                    ASSERT_EQ(r.spec.redirects.size(), 2u);
                    EXPECT_EQ(r.spec.redirects[0].from, "old.example.com");
                    EXPECT_EQ(r.spec.redirects[0].to, "https://new.example.com/");
                    EXPECT_EQ(r.spec.redirects[1].from, "legacy.example.com");
                    // Interlock answered with 302; swarmgate's default is 301.
                    EXPECT_EQ(r.spec.redirects[0].code, 302);
                    EXPECT_EQ(r.spec.redirects[1].code, 302);
                    EXPECT_THAT(l.result.yaml, HasSubstr("      code: 302\n"));
                    EXPECT_THAT(l.result.yaml, HasSubstr("left out of hosts"));
                  }},
        LabelCase{"redirects in Interlock's documented form",
                  {{"com.docker.lb.redirects", "http://old.example.com,http://app.example.com;"}},
                  [](const crds::Route& r, const Loaded&) {
                    ASSERT_EQ(r.spec.redirects.size(), 1u);
                    EXPECT_EQ(r.spec.redirects[0].from, "old.example.com");
                    EXPECT_EQ(r.spec.redirects[0].to, "http://app.example.com");
                    EXPECT_EQ(r.spec.redirects[0].code, 302);
                  }},
        LabelCase{"redirects separated by semicolons",
                  {{"com.docker.lb.redirects",
                    "http://a.example.com,https://app.example.com; "
                    "http://b.example.com,https://app.example.com/b"}},
                  [](const crds::Route& r, const Loaded&) {
                    ASSERT_EQ(r.spec.redirects.size(), 2u);
                    EXPECT_EQ(r.spec.redirects[0].from, "a.example.com");
                    EXPECT_EQ(r.spec.redirects[1].from, "b.example.com");
                    EXPECT_EQ(r.spec.redirects[1].to, "https://app.example.com/b");
                    EXPECT_EQ(r.spec.redirects[1].code, 302);
                  }},
        LabelCase{"default_backend on a service with hosts",
                  {{"com.docker.lb.default_backend", "true"}},
                  [](const crds::Route& r, const Loaded& l) {
                    EXPECT_EQ(r.spec.hosts, std::vector<std::string>{"app.example.com"});
                    EXPECT_EQ(l.DefaultBackendOf("default"), "web:8080");
                    EXPECT_EQ(l.result.services_imported, 1);
                  }},
        LabelCase{"default_backend false",
                  {{"com.docker.lb.default_backend", "false"}},
                  [](const crds::Route&, const Loaded& l) {
                    EXPECT_EQ(l.DefaultBackendOf("default"), "");
                    EXPECT_TRUE(l.result.warnings.empty());
                  }},
        LabelCase{"service_cluster",
                  {{"com.docker.lb.service_cluster", "us-east"}},
                  [](const crds::Route& r, const Loaded& l) {
                    EXPECT_EQ(r.spec.service_cluster, "us-east");
                    EXPECT_NE(l.Cluster("us-east"), nullptr);
                    EXPECT_EQ(l.Cluster("default"), nullptr);
                  }},
        LabelCase{"service_cluster renamed to a valid name",
                  {{"com.docker.lb.service_cluster", "US_East"}},
                  [](const crds::Route& r, const Loaded& l) {
                    EXPECT_EQ(r.spec.service_cluster, "us-east");
                    EXPECT_THAT(l.result.yaml, HasSubstr("renamed to \"us-east\""));
                  }}),
    [](const ::testing::TestParamInfo<LabelCase>& info) {
      std::string name;
      for (const char* p = info.param.title; *p; ++p) {
        name += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
      }
      return name;
    });

// Labels that cannot be mapped: a comment with the reason, the rest imported.
class UnmappedTable : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(UnmappedTable, BecomesACommentWithAReason) {
  const auto& [label, reason] = GetParam();
  auto l = ConvertAndLoad({Svc("web", Base({{label, "x"}}))});
  ASSERT_NE(l.Route("web"), nullptr);
  EXPECT_THAT(l.result.yaml,
              HasSubstr("# service \"web\": " + label + "=\"x\": not mapped, " + reason))
      << l.result.yaml;
  ASSERT_EQ(l.result.warnings.size(), 1u);
  EXPECT_THAT(l.result.warnings[0], HasSubstr(label));
}

INSTANTIATE_TEST_SUITE_P(
    Labels, UnmappedTable,
    ::testing::Values(std::pair{std::string("com.docker.lb.template"),
                                std::string("custom nginx templates are not supported")},
                      std::pair{std::string("com.docker.lb.ssl_backend"),
                                std::string("TLS from the proxy to the backend")},
                      std::pair{std::string("com.docker.lb.ssl_backend_tls_verify"),
                                std::string("TLS from the proxy to the backend")},
                      std::pair{std::string("com.docker.lb.ip_hash"),
                                std::string("swarmgate has no client-address hashing")},
                      std::pair{std::string("com.docker.lb.something_new"),
                                std::string("no swarmgate equivalent")}));

// Invalid values: the service is left out, with a comment naming label and value.
class InvalidTable : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(InvalidTable, LeavesTheServiceOut) {
  const auto& [label, value] = GetParam();
  auto l = ConvertAndLoad({Svc("bad", Base({{label, value}})),
                           Svc("good", Base({{"com.docker.lb.hosts", "good.example.com"}}))});
  EXPECT_EQ(l.Route("bad"), nullptr) << l.result.yaml;
  EXPECT_NE(l.Route("good"), nullptr) << l.result.yaml;
  EXPECT_EQ(l.result.services_imported, 1);
  EXPECT_EQ(l.result.services_seen, 2);
  EXPECT_THAT(l.result.yaml, HasSubstr("# service \"bad\" left out: " + label + "="))
      << l.result.yaml;
  ASSERT_FALSE(l.result.warnings.empty());
  EXPECT_THAT(l.result.warnings[0], HasSubstr(label));
}

INSTANTIATE_TEST_SUITE_P(
    Values, InvalidTable,
    ::testing::Values(
        std::pair{std::string("com.docker.lb.hosts"), std::string("bad_host!")},
        std::pair{std::string("com.docker.lb.hosts"), std::string("a.com;b")},
        std::pair{std::string("com.docker.lb.hosts"), std::string(" , ")},
        std::pair{std::string("com.docker.lb.port"), std::string("http")},
        std::pair{std::string("com.docker.lb.port"), std::string("0")},
        std::pair{std::string("com.docker.lb.port"), std::string("70000")},
        std::pair{std::string("com.docker.lb.context_root"), std::string("app")},
        std::pair{std::string("com.docker.lb.context_root"), std::string("/a/../b")},
        std::pair{std::string("com.docker.lb.context_root_rewrite"), std::string("maybe")},
        std::pair{std::string("com.docker.lb.ssl_passthrough"), std::string("sure")},
        std::pair{std::string("com.docker.lb.ssl_cert"), std::string("a b")},
        std::pair{std::string("com.docker.lb.sticky_session_cookie"), std::string("a;b")},
        std::pair{std::string("com.docker.lb.websocket_endpoints"), std::string("/ok,ws")},
        std::pair{std::string("com.docker.lb.redirects"), std::string("http://a.example.com")},
        std::pair{std::string("com.docker.lb.redirects"),
                  std::string("http://a.example.com/x,https://b.example.com")},
        std::pair{std::string("com.docker.lb.redirects"),
                  std::string("a.example.com,b.example.com")},
        std::pair{std::string("com.docker.lb.backend_mode"), std::string("dnsrr")},
        std::pair{std::string("com.docker.lb.default_backend"), std::string("maybe")},
        std::pair{std::string("com.docker.lb.redirects"),
                  std::string("http://a.example.com,https://b.example.com,http://c.example.com;")},
        std::pair{std::string("com.docker.lb.network"), std::string("net$")}));

TEST(InterlockConvert, MissingPortLeavesTheServiceOut) {
  auto l = ConvertAndLoad({Svc("web", {{"com.docker.lb.hosts", "app.example.com"}})});
  EXPECT_EQ(l.result.routes, 0);
  EXPECT_THAT(l.result.yaml, HasSubstr("com.docker.lb.port is missing: expected the port number "
                                       "(1-65535) the service listens on"));
}

TEST(InterlockConvert, LabelsWithoutHostsAreReported) {
  auto l = ConvertAndLoad({Svc("web", {{"com.docker.lb.port", "80"}})});
  EXPECT_EQ(l.result.routes, 0);
  EXPECT_EQ(l.result.services_seen, 1);
  EXPECT_THAT(l.result.yaml, HasSubstr("no com.docker.lb.hosts"));
}

TEST(InterlockConvert, ReplicaRatioCanaryBecomesOneWeightedRoute) {
  auto l = ConvertAndLoad({Svc("shop-v1", Base(), 3), Svc("shop-v2", Base(), 1)});
  EXPECT_EQ(l.result.routes, 1);
  const crds::Route* r = l.Route("shop-v1");
  ASSERT_NE(r, nullptr) << l.result.yaml;
  ASSERT_EQ(r->spec.backends.size(), 2u);
  EXPECT_EQ(r->spec.backends[0].service, "shop-v1");
  EXPECT_EQ(r->spec.backends[0].weight, 75);
  EXPECT_EQ(r->spec.backends[1].service, "shop-v2");
  EXPECT_EQ(r->spec.backends[1].weight, 25);
  EXPECT_THAT(l.result.yaml, HasSubstr("replica-ratio canary"));
  EXPECT_THAT(l.result.yaml, HasSubstr("swarmgate splits by request"));
}

TEST(InterlockConvert, ReplicaWeightsKeepSmallServicesAndHandleUnknownCounts) {
  auto l = ConvertAndLoad({Svc("a", Base(), 300), Svc("b", Base(), 1),
                           Svc("c", Base(), std::nullopt), Svc("d", Base(), 0)});
  const crds::Route* r = l.Route("a");
  ASSERT_NE(r, nullptr) << l.result.yaml;
  ASSERT_EQ(r->spec.backends.size(), 4u);
  EXPECT_EQ(r->spec.backends[0].weight, 99);
  EXPECT_EQ(r->spec.backends[1].weight, 1);  // never rounded to 0
  EXPECT_EQ(r->spec.backends[2].weight, 1);  // global: counted as 1
  EXPECT_EQ(r->spec.backends[3].weight, 0);  // scaled to zero
  EXPECT_THAT(l.result.yaml, HasSubstr("global mode, counted as 1"));

  auto zero = ConvertAndLoad({Svc("a", Base(), 0), Svc("b", Base(), 0)});
  const crds::Route* z = zero.Route("a");
  ASSERT_NE(z, nullptr);
  EXPECT_EQ(z->spec.backends[0].weight, 50);
  EXPECT_EQ(z->spec.backends[1].weight, 50);
}

TEST(InterlockConvert, DifferentPathsOrClustersAreSeparateRoutes) {
  auto l = ConvertAndLoad({Svc("api", Base({{"com.docker.lb.context_root", "/api"}})),
                           Svc("site", Base()),
                           Svc("other", Base({{"com.docker.lb.service_cluster", "internal"}}))});
  EXPECT_EQ(l.result.routes, 3);
  EXPECT_EQ(l.result.clusters, 2);
  EXPECT_EQ(l.Route("api")->spec.path, "/api");
  EXPECT_EQ(l.Route("other")->spec.service_cluster, "internal");
  // Both hold ports 80 and 443: each on nodes of its own, as under Interlock.
  EXPECT_EQ(l.Cluster("default")->spec.proxy.constraints,
            std::vector<std::string>{"node.labels.swarmgate.cluster==default"});
  EXPECT_EQ(l.Cluster("internal")->spec.proxy.constraints,
            std::vector<std::string>{"node.labels.swarmgate.cluster==internal"});
  EXPECT_THAT(l.result.warnings,
              Contains(HasSubstr("docker node update --label-add swarmgate.cluster=NAME NODE")));
}

TEST(InterlockConvert, DifferingSettingsInAGroupAreReported) {
  auto l = ConvertAndLoad(
      {Svc("a", Base({{"com.docker.lb.sticky_session_cookie", "s"}})), Svc("b", Base())});
  EXPECT_EQ(l.result.routes, 1);
  EXPECT_TRUE(l.Route("a")->spec.sticky_session.has_value());
  EXPECT_THAT(l.result.yaml, HasSubstr("the route uses those of \"a\""));
}

TEST(InterlockConvert, OverlappingHostsAreLeftToTheFirstRoute) {
  auto l = ConvertAndLoad({Svc("a", Base({{"com.docker.lb.hosts", "x.example.com,y.example.com"}})),
                           Svc("b", Base({{"com.docker.lb.hosts", "y.example.com,z.example.com"}})),
                           Svc("c", Base({{"com.docker.lb.hosts", "x.example.com"}}))});
  EXPECT_EQ(l.Route("a")->spec.hosts.size(), 2u);
  EXPECT_EQ(l.Route("b")->spec.hosts, std::vector<std::string>{"z.example.com"});
  EXPECT_EQ(l.Route("c"), nullptr);
  EXPECT_THAT(l.result.yaml, HasSubstr("already served by Route \"a\""));
  EXPECT_THAT(l.result.yaml, HasSubstr("route \"c\" (c) left out"));
  EXPECT_EQ(l.result.services_imported, 2);
}

TEST(InterlockConvert, WebsocketRouteYieldsToAnotherServicesMainRoute) {
  auto l = ConvertAndLoad({Svc("a", Base({{"com.docker.lb.websocket_endpoints", "/ws"}})),
                           Svc("b", Base({{"com.docker.lb.context_root", "/ws"}}))});
  EXPECT_NE(l.Route("b"), nullptr);
  EXPECT_EQ(l.Route("a-ws"), nullptr) << l.result.yaml;
  EXPECT_EQ(l.result.routes, 2);
}

TEST(InterlockConvert, ConflictingNetworksInOneClusterKeepTheFirst) {
  auto l = ConvertAndLoad(
      {Svc("a",
           Base({{"com.docker.lb.network", "net-a"}, {"com.docker.lb.hosts", "a.example.com"}})),
       Svc("b",
           Base({{"com.docker.lb.network", "net-b"}, {"com.docker.lb.hosts", "b.example.com"}}))});
  EXPECT_EQ(l.Cluster("default")->spec.network, "net-a");
  EXPECT_THAT(l.result.yaml, HasSubstr("one cluster has one network"));
}

TEST(InterlockConvert, RouteNamesAreSanitizedBoundedAndUnique) {
  std::string long_name = "Stack_" + std::string(44, 'x');
  auto l = ConvertAndLoad({Svc("Shop_Web.1", Base({{"com.docker.lb.hosts", "a.example.com"}})),
                           Svc("shop-web-1", Base({{"com.docker.lb.hosts", "b.example.com"}})),
                           Svc(long_name, Base({{"com.docker.lb.hosts", "c.example.com"},
                                                {"com.docker.lb.websocket_endpoints", "/ws"}}))});
  EXPECT_NE(l.Route("shop-web-1"), nullptr);
  EXPECT_NE(l.Route("shop-web-1-2"), nullptr) << l.result.yaml;
  for (const auto& r : l.load.resources) EXPECT_LE(r.name.size(), 40u) << r.name;
  EXPECT_EQ(l.result.routes, 4) << l.result.yaml;
  EXPECT_EQ(SanitizeName("__"), "route");
  EXPECT_EQ(SanitizeName("My_App--v2"), "my-app-v2");
}

TEST(InterlockConvert, DuplicateServiceNamesAreReported) {
  auto l = ConvertAndLoad({Svc("web", Base()), Svc("web", Base())});
  EXPECT_EQ(l.result.routes, 1);
  EXPECT_THAT(l.result.yaml, HasSubstr("appears twice"));
}

TEST(InterlockConvert, DefaultClusterCanBeChanged) {
  ConvertOptions options;
  options.default_cluster = "public";
  auto l = ConvertAndLoad({Svc("web", Base())}, options);
  EXPECT_EQ(l.Route("web")->spec.service_cluster, "public");
  EXPECT_NE(l.Cluster("public"), nullptr);
}

TEST(InterlockConvert, HostileValuesNeverReachTheOutput) {
  auto l =
      ConvertAndLoad({Svc("web", Base({{"com.docker.lb.template", "x\n---\nkind: Route"},
                                       {"com.docker.lb.ssl_backend", "\"quoted\" $var {x}"}}))});
  EXPECT_EQ(l.result.routes, 1);
  EXPECT_THAT(l.result.yaml, Not(HasSubstr("\nkind: Route\n---")));
  EXPECT_THAT(l.result.yaml, HasSubstr("x?---?kind: Route"));
}

TEST(InterlockConvert, YamlSpecialValuesAreQuoted) {
  auto l = ConvertAndLoad({Svc("web", Base({{"com.docker.lb.hosts", "*.example.com"},
                                            {"com.docker.lb.ssl_cert", "true"},
                                            {"com.docker.lb.network", "123"}}))});
  const crds::Route* r = l.Route("web");
  ASSERT_NE(r, nullptr) << l.result.yaml;
  EXPECT_EQ(r->spec.hosts.at(0), "*.example.com");
  EXPECT_EQ(r->spec.tls->secret, std::optional<std::string>("true"));
  EXPECT_EQ(l.Cluster("default")->spec.network, "123");
}

// ---- default backends (com.docker.lb.default_backend)

Labels DefaultBackend(Labels extra = {}) {
  Labels l = {{"com.docker.lb.default_backend", "true"}, {"com.docker.lb.port", "8080"}};
  for (auto& [k, v] : extra) l[k] = v;
  return l;
}

TEST(InterlockConvert, DefaultBackendWithoutHostsIsTheClustersDefaultBackendAndNoRoute) {
  auto l = ConvertAndLoad({Svc("fallback", DefaultBackend()), Svc("web", Base())});
  EXPECT_EQ(l.result.routes, 1) << l.result.yaml;
  EXPECT_EQ(l.Route("fallback"), nullptr);
  EXPECT_NE(l.Route("web"), nullptr);
  EXPECT_EQ(l.DefaultBackendOf("default"), "fallback:8080");
  EXPECT_EQ(l.result.services_seen, 2);
  EXPECT_EQ(l.result.services_imported, 2);
  // It must reach the cluster network like any backend.
  EXPECT_THAT(l.result.yaml, HasSubstr("docker service update --network-add sg-default fallback"));
  EXPECT_THAT(l.result.yaml, HasSubstr("defaultBackend: service \"fallback\""));
  EXPECT_TRUE(l.result.warnings.empty()) << ::testing::PrintToString(l.result.warnings);
  EXPECT_THAT(l.result.yaml,
              HasSubstr("  defaultBackend:\n    service: fallback\n    port: 8080\n"));
}

TEST(InterlockConvert, DefaultBackendAloneMakesItsCluster) {
  auto l =
      ConvertAndLoad({Svc("fallback", DefaultBackend({{"com.docker.lb.service_cluster", "edge"},
                                                      {"com.docker.lb.network", "edge-net"}}))});
  EXPECT_EQ(l.result.routes, 0);
  EXPECT_EQ(l.result.clusters, 1);
  ASSERT_NE(l.Cluster("edge"), nullptr) << l.result.yaml;
  EXPECT_EQ(l.Cluster("edge")->spec.network, "edge-net");
  EXPECT_EQ(l.DefaultBackendOf("edge"), "fallback:8080");
  EXPECT_EQ(l.result.services_imported, 1);
}

TEST(InterlockConvert, EachClusterKeepsItsOwnDefaultBackend) {
  auto l = ConvertAndLoad(
      {Svc("east-fallback", DefaultBackend({{"com.docker.lb.service_cluster", "east"}})),
       Svc("west-fallback", DefaultBackend({{"com.docker.lb.service_cluster", "west"},
                                            {"com.docker.lb.port", "9000"}}))});
  EXPECT_EQ(l.DefaultBackendOf("east"), "east-fallback:8080");
  EXPECT_EQ(l.DefaultBackendOf("west"), "west-fallback:9000");
  EXPECT_EQ(l.result.clusters, 2);
}

TEST(InterlockConvert, TwoDefaultBackendsOfOneClusterKeepTheFirstByName) {
  // Input order does not matter: the first by service name wins.
  auto l = ConvertAndLoad({Svc("zeta", DefaultBackend({{"com.docker.lb.hosts", "z.example.com"}})),
                           Svc("alpha", DefaultBackend({{"com.docker.lb.port", "81"}})),
                           Svc("beta", DefaultBackend())});
  EXPECT_EQ(l.DefaultBackendOf("default"), "alpha:81");
  for (const char* loser : {"beta", "zeta"}) {
    std::string text =
        "com.docker.lb.default_backend=\"true\" not mapped: ServiceCluster "
        "\"default\" already takes \"alpha\" as its defaultBackend";
    EXPECT_THAT(l.result.yaml, HasSubstr("# service \"" + std::string(loser) + "\": " + text))
        << l.result.yaml;
    EXPECT_THAT(l.result.warnings,
                Contains(HasSubstr("service \"" + std::string(loser) + "\": " + text)));
  }
  // zeta keeps its route; beta has nothing left to import.
  EXPECT_NE(l.Route("zeta"), nullptr);
  EXPECT_EQ(l.result.services_seen, 3);
  EXPECT_EQ(l.result.services_imported, 2);
  EXPECT_THAT(l.result.yaml, Not(HasSubstr("--network-add sg-default beta")));
}

TEST(InterlockConvert, DefaultBackendWithoutAPortIsLeftOut) {
  auto missing = ConvertAndLoad({Svc("fallback", {{"com.docker.lb.default_backend", "true"}})});
  EXPECT_EQ(missing.result.clusters, 0);
  EXPECT_THAT(missing.result.yaml,
              HasSubstr("# service \"fallback\" left out: com.docker.lb.default_backend=\"true\": "
                        "com.docker.lb.port is missing: expected the port number (1-65535) the "
                        "service listens on"));
  ASSERT_EQ(missing.result.warnings.size(), 1u);

  auto invalid =
      ConvertAndLoad({Svc("fallback", DefaultBackend({{"com.docker.lb.port", "http"}}))});
  EXPECT_EQ(invalid.result.clusters, 0);
  EXPECT_THAT(invalid.result.yaml,
              HasSubstr("# service \"fallback\" left out: com.docker.lb.port=\"http\": expected a "
                        "port number 1-65535"));
}

TEST(InterlockConvert, FalseDefaultBackendWithoutHostsIsLeftOut) {
  auto l = ConvertAndLoad(
      {Svc("idle", {{"com.docker.lb.default_backend", "false"}, {"com.docker.lb.port", "80"}})});
  EXPECT_EQ(l.result.clusters, 0);
  EXPECT_EQ(l.result.services_seen, 1);
  EXPECT_THAT(l.result.yaml,
              HasSubstr("left out: com.docker.lb.default_backend=\"false\": the service is not a "
                        "default backend and has no com.docker.lb.hosts"));
}

TEST(InterlockConvert, RouteLabelsOfADefaultBackendWithoutHostsAreNoted) {
  auto l = ConvertAndLoad({Svc("fallback", DefaultBackend({{"com.docker.lb.context_root", "/x"},
                                                           {"com.docker.lb.template", "t"}}))});
  EXPECT_EQ(l.DefaultBackendOf("default"), "fallback:8080");
  EXPECT_THAT(l.result.yaml, HasSubstr("com.docker.lb.context_root=\"/x\": not mapped, the service "
                                       "has no com.docker.lb.hosts, so it gets no Route"));
  EXPECT_THAT(l.result.yaml, HasSubstr("com.docker.lb.template=\"t\": not mapped, custom nginx"));
  EXPECT_EQ(l.result.warnings.size(), 2u);
}

// ---- networks: what Interlock's proxy joined

TEST(InterlockConvert, WithoutANetworkLabelTheClusterTakesTheNetworkItsServicesShare) {
  auto l = ConvertAndLoad(
      {Svc("shop_api", Base({{"com.docker.lb.hosts", "api.example.com"}}),
           std::vector<std::string>{"shop_default", "shop_db"}),
       Svc("shop_web", Base(), std::vector<std::string>{"shop_default"}),
       Svc("shop_fallback", DefaultBackend(), std::vector<std::string>{"shop_default"})});
  ASSERT_NE(l.Cluster("default"), nullptr);
  EXPECT_EQ(l.Cluster("default")->spec.network, "shop_default");
  // No service has to be updated.
  EXPECT_THAT(l.result.yaml, HasSubstr("# backends are attached to network shop_default already"));
  EXPECT_THAT(l.result.yaml, Not(HasSubstr("--network-add")));
  EXPECT_THAT(l.result.warnings, Contains(HasSubstr("every backend of the cluster is attached")));
}

TEST(InterlockConvert, BackendsWithoutASharedNetworkGetTheClustersOwn) {
  auto l = ConvertAndLoad({Svc("a", Base({{"com.docker.lb.hosts", "a.example.com"}}),
                               std::vector<std::string>{"a_default"}),
                           Svc("b", Base({{"com.docker.lb.hosts", "b.example.com"}}),
                               std::vector<std::string>{"b_default"})});
  EXPECT_EQ(l.Cluster("default")->spec.network, "sg-default");
  EXPECT_THAT(l.result.yaml, HasSubstr("docker service update --network-add sg-default a\n"));
  EXPECT_THAT(l.result.yaml, HasSubstr("docker service update --network-add sg-default b\n"));
  EXPECT_THAT(l.result.warnings, Contains(HasSubstr("share none")));
}

TEST(InterlockConvert, ALabelledNetworkWinsAndOnlyServicesNotOnItAreListed) {
  auto l = ConvertAndLoad(
      {Svc("a",
           Base({{"com.docker.lb.hosts", "a.example.com"}, {"com.docker.lb.network", "front"}}),
           std::vector<std::string>{"front", "shared"}),
       Svc("b", Base({{"com.docker.lb.hosts", "b.example.com"}}),
           std::vector<std::string>{"shared"})});
  EXPECT_EQ(l.Cluster("default")->spec.network, "front");
  EXPECT_THAT(l.result.yaml, Not(HasSubstr("--network-add front a\n")));
  EXPECT_THAT(l.result.yaml, HasSubstr("docker service update --network-add front b\n"));
}

TEST(InterlockConvert, ANetworkLabelWithoutTheStackPrefixMeansTheStacksNetwork) {
  Labels stack = {{"com.docker.stack.namespace", "colors"}};
  Labels labels = Base({{"com.docker.lb.network", "colors-network"}});
  labels.insert(stack.begin(), stack.end());
  auto l = ConvertAndLoad({Svc("colors_colors", labels, {"colors_colors-network"})});
  EXPECT_EQ(l.Cluster("default")->spec.network, "colors_colors-network");
  EXPECT_THAT(l.result.yaml, HasSubstr("com.docker.lb.network=\"colors-network\" is the network "
                                       "\"colors_colors-network\" the service is attached to"));
  EXPECT_THAT(l.result.yaml, Not(HasSubstr("--network-add")));

  // A label that names an attached network, or none of the service's, is
  // taken as written.
  Labels prefixed = Base({{"com.docker.lb.network", "colors_colors-network"}});
  prefixed.insert(stack.begin(), stack.end());
  auto p = ConvertAndLoad({Svc("colors_colors", prefixed, {"colors_colors-network"})});
  EXPECT_EQ(p.Cluster("default")->spec.network, "colors_colors-network");
  EXPECT_TRUE(p.result.warnings.empty()) << ::testing::PrintToString(p.result.warnings);
  Labels other = Base({{"com.docker.lb.network", "elsewhere"}});
  other.insert(stack.begin(), stack.end());
  auto o = ConvertAndLoad({Svc("colors_colors", other, {"colors_colors-network"})});
  EXPECT_EQ(o.Cluster("default")->spec.network, "elsewhere");
  EXPECT_THAT(o.result.yaml, HasSubstr("--network-add elsewhere colors_colors\n"));
}

TEST(InterlockConvert, InterlocksOwnNetworkIsKeptOnlyWithANote) {
  // Shared with another network: the other one.
  auto shared =
      ConvertAndLoad({Svc("web", Base(), std::vector<std::string>{"ucp-interlock", "web-net"})});
  EXPECT_EQ(shared.Cluster("default")->spec.network, "web-net");
  // Named by the label, or the only one: kept, with a note.
  for (const auto& input : {Svc("web", Base({{"com.docker.lb.network", "ucp-interlock"}})),
                            Svc("web", Base(), std::vector<std::string>{"ucp-interlock"})}) {
    auto l = ConvertAndLoad({input});
    EXPECT_EQ(l.Cluster("default")->spec.network, "ucp-interlock");
    EXPECT_THAT(l.result.warnings,
                Contains(HasSubstr("is the overlay network UCP created for Interlock's own "
                                   "services")));
  }
}

TEST(InterlockConvert, NetworkNamesResolveTargetsOrAreUnknown) {
  const std::map<std::string, std::string> swarm = {{"id1", "shop_default"}, {"id2", "front"}};
  EXPECT_EQ(NetworkNames({"id1", "front", "id2"}, swarm),
            (std::vector<std::string>{"shop_default", "front"}));
  EXPECT_EQ(NetworkNames({}, swarm), std::vector<std::string>{});
  EXPECT_EQ(NetworkNames({"id1", "gone"}, swarm), std::vector<std::string>{});
}

TEST(InterlockConvert, WorkedExampleFromTheMigrationGuide) {
  std::vector<ServiceInput> services = {
      Svc("shop_web-v1",
          {{"com.docker.lb.hosts", "shop.example.com,www.shop.example.com"},
           {"com.docker.lb.port", "8080"},
           {"com.docker.lb.network", "shop_ingress"},
           {"com.docker.lb.ssl_cert", "shop_cert"},
           {"com.docker.lb.ssl_key", "shop_key"},
           {"com.docker.lb.ssl_only", "true"},
           {"com.docker.lb.sticky_session_cookie", "SHOPSESSION"},
           {"com.docker.lb.redirects", "http://www.shop.example.com,https://shop.example.com"}},
          4),
      Svc("shop_web-v2",
          {{"com.docker.lb.hosts", "shop.example.com,www.shop.example.com"},
           {"com.docker.lb.port", "8080"},
           {"com.docker.lb.network", "shop_ingress"},
           {"com.docker.lb.ssl_cert", "shop_cert"},
           {"com.docker.lb.ssl_key", "shop_key"},
           {"com.docker.lb.ssl_only", "true"},
           {"com.docker.lb.sticky_session_cookie", "SHOPSESSION"},
           {"com.docker.lb.redirects", "http://www.shop.example.com,https://shop.example.com"}},
          1),
      Svc("shop_api",
          {{"com.docker.lb.hosts", "shop.example.com"},
           {"com.docker.lb.port", "9000"},
           {"com.docker.lb.network", "shop_ingress"},
           {"com.docker.lb.context_root", "/api"},
           {"com.docker.lb.context_root_rewrite", "true"},
           {"com.docker.lb.websocket_endpoints", "/api/events"},
           {"com.docker.lb.ssl_cert", "shop_cert"},
           {"com.docker.lb.ssl_key", "shop_key"},
           {"com.docker.lb.template", "custom"}},
          2),
      Svc("shop_fallback",
          {{"com.docker.lb.default_backend", "true"}, {"com.docker.lb.port", "8080"}}),
  };
  // Deployed with `networks: [ingress]`.
  for (auto& svc : services) svc.networks = {"shop_ingress"};
  auto l = ConvertAndLoad(services);
  EXPECT_EQ(l.result.routes, 3);
  EXPECT_EQ(l.result.clusters, 1);
  EXPECT_EQ(l.result.services_imported, 4);
  EXPECT_EQ(l.Cluster("default")->spec.network, "shop_ingress");
  EXPECT_THAT(l.result.yaml, HasSubstr("# backends are attached to network shop_ingress already"));
  EXPECT_EQ(l.DefaultBackendOf("default"), "shop_fallback:8080");
  const crds::Route* web = l.Route("shop-web-v1");
  ASSERT_NE(web, nullptr) << l.result.yaml;
  EXPECT_EQ(web->spec.hosts, std::vector<std::string>{"shop.example.com"});
  EXPECT_EQ(web->spec.backends.at(0).weight, 80);
  EXPECT_EQ(web->spec.backends.at(1).weight, 20);
  EXPECT_TRUE(web->spec.tls->redirect_http);
  ASSERT_EQ(web->spec.redirects.size(), 1u);
  EXPECT_EQ(web->spec.redirects[0].code, 302);
  const crds::Route* ws = l.Route("shop-api-ws");
  ASSERT_NE(ws, nullptr) << l.result.yaml;
  EXPECT_EQ(ws->spec.path, "/api/events");
}

}  // namespace
}  // namespace sg::interlock
