#include "crds/loader.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "crds/schema.h"
#include "crds/test_util.h"
#include "sg_build_paths.h"

namespace sg::crds {
namespace {

using testing::ClusterYaml;
using testing::Dump;
using testing::HasError;
using testing::RouteYaml;

const std::string kSamples = std::string(SG_SOURCE_DIR) + "/crds/samples";

TEST(SamplesTest, EverySampleLoadsWithoutDiagnostics) {
  LoadResult r = LoadPaths({kSamples});
  EXPECT_TRUE(r.ok()) << Dump(r);
  EXPECT_EQ(r.files, 7);
  EXPECT_EQ(r.documents, 8);
  EXPECT_EQ(r.resources.size(), 8u);
}

TEST(SamplesTest, QuickstartLoadsWithoutDiagnostics) {
  LoadResult r = LoadPaths({kSamples + "/quickstart"});
  ASSERT_TRUE(r.ok()) << Dump(r);
  ASSERT_EQ(r.resources.size(), 2u);
  const Route* hello = nullptr;
  const ServiceCluster* demo = nullptr;
  for (const Resource& res : r.resources) {
    if (res.route()) hello = res.route();
    if (res.cluster()) demo = res.cluster();
  }
  ASSERT_TRUE(hello && demo);
  EXPECT_EQ(demo->metadata.name, "demo");
  EXPECT_EQ(demo->spec.proxy.publish_mode, PublishMode::kHost);
  EXPECT_EQ(demo->spec.proxy.ports.http, 8080);
  EXPECT_EQ(demo->spec.proxy.ports.https, 8443);
  EXPECT_EQ(demo->spec.proxy.replicas, 1);
  EXPECT_EQ(hello->spec.hosts, std::vector<std::string>{"hello.localhost"});
  EXPECT_EQ(hello->spec.backends.at(0).service, "hello");
  EXPECT_EQ(hello->spec.backends.at(0).port, 8080);
  EXPECT_FALSE(hello->spec.tls);
}

TEST(SamplesTest, ShopRouteDecodesEveryField) {
  LoadResult r = LoadPaths({kSamples + "/route-shop.yaml"});
  ASSERT_TRUE(r.ok()) << Dump(r);
  ASSERT_EQ(r.resources.size(), 1u);
  const Resource& res = r.resources[0];
  EXPECT_EQ(res.kind, Kind::kRoute);
  EXPECT_EQ(res.name, "shop");
  EXPECT_EQ(res.line, 4);
  EXPECT_EQ(res.labels.at("team"), "web");
  const Route& route = *res.route();
  const RouteSpec& s = route.spec;
  EXPECT_EQ(s.service_cluster, "public");
  EXPECT_EQ(s.hosts, (std::vector<std::string>{"shop.example.com", "*.shop.example.com"}));
  EXPECT_EQ(s.path, "/api");
  EXPECT_EQ(s.rewrite, "/");
  ASSERT_EQ(s.backends.size(), 2u);
  EXPECT_EQ(s.backends[1].service, "shop-v2");
  EXPECT_EQ(s.backends[1].weight, 10);
  EXPECT_TRUE(s.backends[1].canary);
  ASSERT_TRUE(s.canary && s.canary->header && s.canary->cookie);
  EXPECT_EQ(s.canary->header->name, "X-Canary");
  EXPECT_EQ(s.canary->header->value, "always");
  EXPECT_EQ(s.canary->cookie->name, "canary");
  EXPECT_FALSE(s.canary->cookie->value);
  EXPECT_EQ(s.backend_mode, BackendMode::kTask);
  ASSERT_TRUE(s.tls);
  EXPECT_EQ(s.tls->mode, TlsMode::kTerminate);
  EXPECT_EQ(s.tls->secret, "shop-tls");
  EXPECT_TRUE(s.tls->redirect_http);
  EXPECT_EQ(s.sticky_session->cookie, "SG_STICKY");
  EXPECT_TRUE(s.websocket);
  EXPECT_EQ(s.timeouts.connect.value, std::chrono::seconds(1));
  EXPECT_EQ(s.timeouts.read.value, std::chrono::seconds(60));
  EXPECT_EQ(s.health_check.max_fails, 1);
  EXPECT_EQ(s.rate_limit->requests_per_second, 100);
  EXPECT_EQ(s.rate_limit->burst, 200);
  ASSERT_EQ(s.redirects.size(), 2u);
  EXPECT_EQ(s.redirects[1].code, 308);
  ASSERT_TRUE(s.update_policy);
  EXPECT_EQ(s.update_policy->order, UpdateOrder::kStartFirst);
  EXPECT_EQ(s.update_policy->delay->value, std::chrono::seconds(5));
  EXPECT_EQ(s.update_policy->stop_grace_period->text, "30s");
  EXPECT_TRUE(s.update_policy->require_healthcheck);
}

TEST(DefaultsTest, ServiceClusterDefaults) {
  LoadResult r = LoadText(ClusterYaml("  {}\n", "edge"), "c.yaml");
  ASSERT_TRUE(r.ok()) << Dump(r);
  const ServiceCluster& sc = *r.resources.at(0).cluster();
  EXPECT_EQ(sc.spec.network, "sg-edge");
  EXPECT_EQ(sc.spec.backend_mode, BackendMode::kTask);
  const ProxySpec& p = sc.spec.proxy;
  EXPECT_EQ(p.image, "swarmgate/proxy:latest");
  EXPECT_EQ(p.mode, ProxyMode::kReplicated);
  EXPECT_EQ(p.replicas, 2);
  EXPECT_EQ(p.delivery, Delivery::kHot);
  EXPECT_EQ(p.publish_mode, PublishMode::kHost);
  EXPECT_EQ(p.ports.http, 80);
  EXPECT_EQ(p.ports.https, 443);
  EXPECT_TRUE(p.constraints.empty());
  EXPECT_EQ(p.stop_grace_period.value, std::chrono::seconds(10));
  EXPECT_EQ(p.stop_grace_period.text, "10s");
  EXPECT_EQ(p.update_policy.order, UpdateOrder::kStartFirst);
  EXPECT_EQ(p.update_policy.parallelism, 1);
  EXPECT_EQ(p.update_policy.delay.value.count(), 0);
  EXPECT_EQ(p.update_policy.failure_action, FailureAction::kRollback);
  EXPECT_EQ(p.update_policy.monitor.value, std::chrono::seconds(5));
  EXPECT_EQ(p.config.worker_connections, 4096);
  EXPECT_EQ(p.config.keepalive_timeout.value, std::chrono::seconds(75));
  EXPECT_EQ(p.config.client_max_body_size, "10m");
  EXPECT_EQ(p.config.client_max_body_size_bytes, 10u << 20);
}

TEST(DefaultsTest, ServiceClusterWithoutSpec) {
  LoadResult r =
      LoadText("apiVersion: swarmgate.io/v1alpha1\nkind: ServiceCluster\nmetadata: {name: bare}\n",
               "c.yaml");
  ASSERT_TRUE(r.ok()) << Dump(r);
  EXPECT_EQ(r.resources.at(0).cluster()->spec.network, "sg-bare");
}

TEST(DefaultsTest, RouteDefaults) {
  LoadResult r = LoadText(RouteYaml(), "r.yaml");
  ASSERT_TRUE(r.ok()) << Dump(r);
  const Route& route = *r.resources.at(0).route();
  const RouteSpec& s = route.spec;
  EXPECT_EQ(s.path, "/");
  EXPECT_FALSE(s.rewrite);
  EXPECT_EQ(s.backends.at(0).weight, 100);
  EXPECT_FALSE(s.backends.at(0).canary);
  EXPECT_FALSE(s.canary);
  EXPECT_FALSE(s.backend_mode);
  EXPECT_FALSE(s.tls);
  EXPECT_FALSE(s.sticky_session);
  EXPECT_FALSE(s.websocket);
  EXPECT_EQ(s.timeouts.connect.value, std::chrono::seconds(1));
  EXPECT_EQ(s.timeouts.read.value, std::chrono::seconds(60));
  EXPECT_EQ(s.timeouts.send.value, std::chrono::seconds(60));
  EXPECT_EQ(s.health_check.max_fails, 1);
  EXPECT_EQ(s.health_check.fail_timeout.value, std::chrono::seconds(10));
  EXPECT_FALSE(s.rate_limit);
  EXPECT_TRUE(s.redirects.empty());
  EXPECT_FALSE(s.update_policy);
  EXPECT_EQ(EffectiveBackendMode(route, nullptr), BackendMode::kTask);
}

TEST(DefaultsTest, PartialBlocksKeepOtherDefaults) {
  LoadResult r =
      LoadText(RouteYaml("  timeouts: {read: 2m}\n  rateLimit: {requestsPerSecond: 5}\n"
                         "  redirects: [{from: b.example.com, to: 'https://a.example.com'}]\n"),
               "r.yaml");
  ASSERT_TRUE(r.ok()) << Dump(r);
  const RouteSpec& s = r.resources.at(0).route()->spec;
  EXPECT_EQ(s.timeouts.read.value, std::chrono::minutes(2));
  EXPECT_EQ(s.timeouts.connect.value, std::chrono::seconds(1));
  EXPECT_EQ(s.rate_limit->burst, 0);
  EXPECT_EQ(s.redirects.at(0).code, 301);
}

TEST(CanonicalJsonTest, NoDefaultsSortedCompact) {
  LoadResult r = LoadText(RouteYaml(), "r.yaml");
  ASSERT_TRUE(r.ok()) << Dump(r);
  EXPECT_EQ(r.resources.at(0).canonical_json,
            R"({"apiVersion":"swarmgate.io/v1alpha1","kind":"Route","metadata":{"name":"r1"},)"
            R"("spec":{"backends":[{"port":8080,"service":"app"}],"hosts":["a.example.com"],)"
            R"("serviceCluster":"public"}})");
}

TEST(CanonicalJsonTest, KeyOrderAndStyleDoNotMatter) {
  LoadResult a = LoadText(RouteYaml("  timeouts: {read: 5s, connect: 1s}\n"), "a.yaml");
  LoadResult b = LoadText(
      "spec:\n"
      "  timeouts:\n"
      "    connect: 1s\n"
      "    read: \"5s\"\n"
      "  backends: [{port: 8080, service: app}]\n"
      "  hosts:\n"
      "    - a.example.com\n"
      "  serviceCluster: public\n"
      "metadata: {name: r1}\n"
      "kind: Route\n"
      "apiVersion: swarmgate.io/v1alpha1\n",
      "b.yaml");
  ASSERT_TRUE(a.ok()) << Dump(a);
  ASSERT_TRUE(b.ok()) << Dump(b);
  EXPECT_EQ(a.resources.at(0).canonical_json, b.resources.at(0).canonical_json);
}

TEST(CanonicalJsonTest, EverySampleRoundTripsThroughDecodeStored) {
  LoadResult r = LoadPaths({kSamples, kSamples + "/quickstart"});
  ASSERT_TRUE(r.ok()) << Dump(r);
  for (const Resource& res : r.resources) {
    auto stored = DecodeStored(res.canonical_json);
    ASSERT_TRUE(stored.ok()) << res.name << ": " << stored.error().ToString();
    EXPECT_EQ(stored->canonical_json, res.canonical_json);
    EXPECT_EQ(stored->kind, res.kind);
    EXPECT_EQ(stored->name, res.name);
    EXPECT_EQ(stored->file, "<stored>");
  }
}

TEST(DecodeStoredTest, RejectsInvalid) {
  auto bad_json = DecodeStored("{");
  ASSERT_FALSE(bad_json.ok());
  EXPECT_TRUE(bad_json.error().Is(ErrorCode::kInvalidArgument));
  auto bad_spec = DecodeStored(
      R"({"apiVersion":"swarmgate.io/v1alpha1","kind":"Route","metadata":{"name":"r"},)"
      R"("spec":{"serviceCluster":"c","hosts":["a.com"],"backends":[{"service":"s","port":0}]}})");
  ASSERT_FALSE(bad_spec.ok());
  EXPECT_NE(bad_spec.error().message.find("spec.backends[0].port"), std::string::npos)
      << bad_spec.error().message;
}

TEST(LoadTest, ReportsEveryErrorOfAFile) {
  LoadResult r =
      LoadText(RouteYaml("  path: nope\n  timeouts: {read: 5x}\n  tls: {mode: sideways}\n") +
                   "---\n" + ClusterYaml("  proxy: {replicas: -1}\n"),
               "f.yaml");
  EXPECT_TRUE(HasError(r, "spec.path", 10, "expected a URL path"));
  EXPECT_TRUE(HasError(r, "spec.timeouts.read", 11, "expected a duration"));
  EXPECT_TRUE(HasError(r, "spec.tls.mode", 12, "expected one of: terminate, passthrough"));
  EXPECT_TRUE(HasError(r, "spec.proxy.replicas", 19, "expected an integer 0-1000, got -1"));
  EXPECT_EQ(r.diagnostics.size(), 4u) << Dump(r);
  EXPECT_TRUE(r.resources.empty());
  EXPECT_EQ(r.documents, 2);
}

TEST(LoadTest, ValidDocumentsOfABadFileAreStillResources) {
  LoadResult r = LoadText(RouteYaml() + "---\n" + RouteYaml("  path: bad\n", "r2"), "f.yaml");
  ASSERT_EQ(r.resources.size(), 1u);
  EXPECT_EQ(r.resources[0].name, "r1");
  EXPECT_FALSE(r.ok());
}

TEST(LoadTest, DiagnosticToString) {
  LoadResult r = LoadText(RouteYaml("  path: nope\n"), "dir/f.yaml");
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].ToString().rfind("dir/f.yaml:10:9: spec.path: expected ", 0), 0u)
      << r.diagnostics[0].ToString();
}

TEST(LoadTest, PathsDirectoriesAndMissingFiles) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("sg-crds-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "b.yaml") << RouteYaml("", "b");
  std::ofstream(dir / "a.yml") << RouteYaml("  path: /a\n", "a");
  std::ofstream(dir / "c.json")
      << R"({"apiVersion":"swarmgate.io/v1alpha1","kind":"ServiceCluster","metadata":{"name":"c"}})";
  std::ofstream(dir / "notes.txt") << "ignored";
  LoadResult r = LoadPaths({dir.string()});
  EXPECT_TRUE(r.ok()) << Dump(r);
  EXPECT_EQ(r.files, 3);
  ASSERT_EQ(r.resources.size(), 3u);
  EXPECT_EQ(r.resources[0].name, "a");
  EXPECT_EQ(r.resources[1].name, "b");
  EXPECT_EQ(r.resources[2].name, "c");

  LoadResult missing = LoadPaths({(dir / "nope.yaml").string()});
  ASSERT_EQ(missing.diagnostics.size(), 1u);
  EXPECT_NE(missing.diagnostics[0].message.find("cannot read"), std::string::npos);
  fs::remove_all(dir);
}

TEST(LoadTest, EmptyInputHasNoDocuments) {
  LoadResult r = LoadText("# nothing here\n---\n", "e.yaml");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.documents, 0);
}

TEST(LoadTest, MalformedYamlIsADiagnostic) {
  LoadResult r = LoadText(RouteYaml() + "  hosts: [unclosed\n", "m.yaml");
  ASSERT_EQ(r.diagnostics.size(), 1u) << Dump(r);
  EXPECT_GE(r.diagnostics[0].line, 10);
  EXPECT_NE(r.diagnostics[0].message.find("malformed YAML"), std::string::npos);
}

TEST(SchemaTest, EmbeddedSchemasMatchTheSourceFiles) {
  for (auto [kind, file] : {std::pair{Kind::kServiceCluster, "servicecluster.v1alpha1.json"},
                            std::pair{Kind::kRoute, "route.v1alpha1.json"}}) {
    std::ifstream in(std::string(SG_SOURCE_DIR) + "/crds/schemas/" + file);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(text, SchemaText(kind)) << file;
  }
}

}  // namespace
}  // namespace sg::crds
