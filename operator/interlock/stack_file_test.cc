#include "operator/interlock/stack_file.h"

#include <gtest/gtest.h>

#include "crds/loader.h"
#include "operator/interlock/test_util.h"

namespace sg::interlock {
namespace {

constexpr const char* kStack = R"(version: "3.8"
services:
  web:
    image: example/web
    labels:
      com.docker.lb.port: "1"
      com.example.only-here: x
    deploy:
      replicas: 3
      labels:
        com.docker.lb.hosts: shop.example.com
        com.docker.lb.port: "8080"
  web-next:
    image: example/web:next
    deploy:
      labels:
        - com.docker.lb.hosts=shop.example.com
        - com.docker.lb.port=8080
        - com.docker.lb.sticky_session_cookie
  agent:
    image: example/agent
    deploy:
      mode: global
  templated:
    image: example/t
    deploy:
      replicas: ${REPLICAS}
)";

const ServiceInput* Find(const std::vector<ServiceInput>& v, const std::string& name) {
  for (const auto& s : v) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

TEST(StackFile, ReadsDeployLabelsReplicasAndFallbackLabels) {
  auto parsed = ParseStackFile(kStack, "");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 4u);
  const ServiceInput* web = Find(*parsed, "web");
  ASSERT_NE(web, nullptr);
  EXPECT_EQ(web->replicas, std::optional<uint64_t>(3));
  EXPECT_EQ(web->labels.at("com.docker.lb.hosts"), "shop.example.com");
  EXPECT_EQ(web->labels.at("com.docker.lb.port"), "8080");  // deploy.labels win
  EXPECT_EQ(web->labels.at("com.example.only-here"), "x");  // fallback
  const ServiceInput* next = Find(*parsed, "web-next");
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(next->replicas, std::optional<uint64_t>(1));  // compose default
  EXPECT_EQ(next->labels.at("com.docker.lb.port"), "8080");
  EXPECT_EQ(next->labels.at("com.docker.lb.sticky_session_cookie"), "");
  EXPECT_EQ(Find(*parsed, "agent")->replicas, std::nullopt);
  EXPECT_EQ(Find(*parsed, "templated")->replicas, std::nullopt);
}

TEST(StackFile, StackNamePrefixesServiceNames) {
  auto parsed = ParseStackFile(kStack, "shop");
  ASSERT_TRUE(parsed.ok());
  EXPECT_NE(Find(*parsed, "shop_web"), nullptr);
  EXPECT_EQ(Find(*parsed, "web"), nullptr);
}

TEST(StackFile, ConvertsToValidResources) {
  auto parsed = ParseStackFile(kStack, "shop");
  ASSERT_TRUE(parsed.ok());
  auto result = Convert(*parsed);
  auto loaded = crds::LoadText(result.yaml, "import.yaml");
  for (const auto& d : loaded.diagnostics) ADD_FAILURE() << d.ToString();
  EXPECT_EQ(result.routes, 1);
  // An empty sticky cookie name is invalid: that service is left out.
  EXPECT_EQ(result.services_imported, 1);
  EXPECT_NE(result.yaml.find("service \"shop_web-next\" left out: "
                             "com.docker.lb.sticky_session_cookie=\"\""),
            std::string::npos)
      << result.yaml;
}

// The import of `stack` deployed as `name`; every output must load.
ConvertResult Import(const char* stack, const std::string& name) {
  auto parsed = ParseStackFile(stack, name);
  EXPECT_TRUE(parsed.ok());
  ConvertResult result = Convert(parsed.ok() ? *parsed : std::vector<ServiceInput>{});
  auto load = testing::LoadImport(result.yaml);
  for (const auto& d : load.diagnostics) ADD_FAILURE() << d.ToString();
  return result;
}

// "Configure layer 7 routing service": a default service without hosts.
TEST(StackFile, InterlockDocsDefaultServiceBecomesTheDefaultBackend) {
  auto imported = Import(R"(version: "3.2"
services:
  demo:
    image: ehazlett/interlock-default-app
    deploy:
      replicas: 1
      labels:
        com.docker.lb.default_backend: "true"
        com.docker.lb.port: 80
    networks:
      - demo-network
networks:
  demo-network:
    driver: overlay
)",
                         "demo");
  const std::string& yaml = imported.yaml;
  EXPECT_EQ(imported.routes, 0);
  EXPECT_EQ(imported.clusters, 1);
  EXPECT_NE(yaml.find("spec:\n  defaultBackend:\n    service: demo_demo\n    port: 80\n"),
            std::string::npos)
      << yaml;
}

TEST(StackFile, RejectsFilesWithoutServices) {
  EXPECT_FALSE(ParseStackFile("version: '3'\n", "").ok());
  EXPECT_FALSE(ParseStackFile("- a\n- b\n", "").ok());
  EXPECT_FALSE(ParseStackFile("services: {a: [\n", "").ok());
}

}  // namespace
}  // namespace sg::interlock
