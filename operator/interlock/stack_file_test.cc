#include "operator/interlock/stack_file.h"

#include <gtest/gtest.h>

#include "crds/loader.h"

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

TEST(StackFile, StackNameLabelsServicesAndNamesTheirNetworks) {
  constexpr const char* kNetworks = R"(services:
  plain: {image: x}
  listed: {image: x, networks: [front, back]}
  mapped:
    image: x
    networks:
      front: {aliases: [f]}
      outside:
  named: {image: x, networks: [named]}
networks:
  front: {driver: overlay}
  back:
  outside: {external: true}
  named: {name: custom-net}
  legacy: {external: {name: old-net}}
)";
  auto parsed = ParseStackFile(kNetworks, "shop");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  // What docker stack deploy creates: STACK_service, labelled with the stack.
  const ServiceInput* plain = Find(*parsed, "shop_plain");
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(plain->labels.at("com.docker.stack.namespace"), "shop");
  EXPECT_EQ(plain->networks, std::vector<std::string>{"shop_default"});
  EXPECT_EQ(Find(*parsed, "shop_listed")->networks,
            (std::vector<std::string>{"shop_front", "shop_back"}));
  EXPECT_EQ(Find(*parsed, "shop_mapped")->networks,
            (std::vector<std::string>{"shop_front", "outside"}));
  EXPECT_EQ(Find(*parsed, "shop_named")->networks, std::vector<std::string>{"custom-net"});

  // Without a stack name only the networks named outright are known.
  auto bare = ParseStackFile(kNetworks, "");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(Find(*bare, "plain")->networks, std::vector<std::string>{});
  EXPECT_EQ(Find(*bare, "listed")->networks, std::vector<std::string>{});
  EXPECT_EQ(Find(*bare, "named")->networks, std::vector<std::string>{"custom-net"});
  EXPECT_EQ(Find(*bare, "plain")->labels.count("com.docker.stack.namespace"), 0u);
}

// The import of `stack` deployed as `name`; every output must load.
ConvertResult Import(const char* stack, const std::string& name) {
  auto parsed = ParseStackFile(stack, name);
  EXPECT_TRUE(parsed.ok());
  ConvertResult result = Convert(parsed.ok() ? *parsed : std::vector<ServiceInput>{});
  auto load = crds::LoadText(result.yaml, "import.yaml");
  for (const auto& d : load.diagnostics) ADD_FAILURE() << d.ToString();
  return result;
}

// Interlock's example from "Route traffic to a swarm service": the label
// carries the stack prefix, as its docs ask.
TEST(StackFile, InterlockDocsStackNetworkIsTheClusterNetwork) {
  auto imported = Import(R"(version: "3.2"
services:
  demo:
    image: ehazlett/docker-demo
    deploy:
      replicas: 1
      labels:
        com.docker.lb.hosts: app.example.org
        com.docker.lb.network: demo_demo-network
        com.docker.lb.port: 8080
    networks:
      - demo-network
networks:
  demo-network:
    driver: overlay
)",
                         "demo");
  const std::string& yaml = imported.yaml;
  EXPECT_NE(yaml.find("  network: demo_demo-network\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("# backends are attached to network demo_demo-network already"),
            std::string::npos)
      << yaml;
  EXPECT_NE(yaml.find("    - service: demo_demo\n      port: 8080\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("  name: demo-demo\n"), std::string::npos) << yaml;  // the route
  EXPECT_TRUE(imported.warnings.empty());
}

// The same label without the prefix, as in stack files that worked under
// Interlock: it means the network the stack created.
TEST(StackFile, UnprefixedNetworkLabelMeansTheStacksNetwork) {
  auto imported = Import(R"(services:
  colors:
    image: codegazers/colors:1.16
    deploy:
      replicas: 3
      labels:
        com.docker.lb.hosts: colors.lab.local
        com.docker.lb.network: colors-network
        com.docker.lb.port: 3000
    networks:
      - colors-network
networks:
  colors-network:
)",
                         "colors");
  const std::string& yaml = imported.yaml;
  EXPECT_NE(yaml.find("  network: colors_colors-network\n"), std::string::npos) << yaml;
  EXPECT_EQ(yaml.find("--network-add"), std::string::npos) << yaml;
}

// "Configure layer 7 routing service": a default service without hosts,
// and the network the stack gave it.
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
  EXPECT_NE(yaml.find("  network: demo_demo-network\n  defaultBackend:\n    service: demo_demo\n"
                      "    port: 80\n"),
            std::string::npos)
      << yaml;
}

// "Application redirects": Interlock answered 302, so does the import.
TEST(StackFile, InterlockDocsRedirectKeepsItsCode) {
  auto imported = Import(R"(version: "3.2"
services:
  demo:
    image: ehazlett/docker-demo
    deploy:
      replicas: 1
      labels:
        com.docker.lb.hosts: app.example.org,old.example.org
        com.docker.lb.network: demo-network
        com.docker.lb.port: 8080
        com.docker.lb.redirects: http://old.example.org,http://app.example.org
    networks:
      - demo-network
networks:
  demo-network:
    driver: overlay
)",
                         "demo");
  const std::string& yaml = imported.yaml;
  EXPECT_NE(yaml.find("  redirects:\n    - from: old.example.org\n      to: "
                      "\"http://app.example.org\"\n      code: 302\n"),
            std::string::npos)
      << yaml;
  EXPECT_NE(yaml.find("  network: demo_demo-network\n"), std::string::npos) << yaml;
}

// The worked example of docs/migrating-from-interlock.md.
TEST(StackFile, MigrationGuideWorkedExample) {
  ConvertResult imported = Import(R"(services:
  web-v1:
    image: example/shop:1
    networks: [ingress]
    deploy:
      replicas: 4
      labels: &web
        com.docker.lb.hosts: shop.example.com,www.shop.example.com
        com.docker.lb.port: "8080"
        com.docker.lb.network: shop_ingress
        com.docker.lb.ssl_cert: shop_cert
        com.docker.lb.ssl_key: shop_key
        com.docker.lb.ssl_only: "true"
        com.docker.lb.sticky_session_cookie: SHOPSESSION
        com.docker.lb.redirects: http://www.shop.example.com,https://shop.example.com
  web-v2:
    image: example/shop:2
    networks: [ingress]
    deploy:
      replicas: 1
      labels: *web
  api:
    image: example/shop-api
    networks: [ingress]
    deploy:
      replicas: 2
      labels:
        com.docker.lb.hosts: shop.example.com
        com.docker.lb.port: "9000"
        com.docker.lb.network: shop_ingress
        com.docker.lb.context_root: /api
        com.docker.lb.context_root_rewrite: "true"
        com.docker.lb.websocket_endpoints: /api/events
        com.docker.lb.ssl_cert: shop_cert
        com.docker.lb.ssl_key: shop_key
        com.docker.lb.template: custom
  sorry:
    image: example/sorry-page
    networks: [ingress]
    deploy:
      labels:
        com.docker.lb.default_backend: "true"
        com.docker.lb.port: "8080"
  admin:
    image: example/admin
    deploy:
      labels:
        com.docker.lb.hosts: admin.shop.example.com
        com.docker.lb.port: http
networks:
  ingress:
    driver: overlay
)",
                                  "shop");
  const std::string& yaml = imported.yaml;
  EXPECT_EQ(imported.services_seen, 5);
  EXPECT_EQ(imported.services_imported, 4);
  EXPECT_EQ(imported.routes, 3);
  for (const char* expected :
       {"# service \"shop_admin\" left out: com.docker.lb.port=\"http\"",
        "# backends are attached to network shop_ingress already\n",
        "spec:\n  network: shop_ingress\n  defaultBackend:\n    service: shop_sorry\n"
        "    port: 8080\n---\n",
        "  name: shop-web-v1\n", "    - service: shop_web-v1\n      port: 8080\n      weight: 80\n",
        "  redirects:\n    - from: www.shop.example.com\n      to: \"https://shop.example.com\"\n"
        "      code: 302\n",
        "  name: shop-api-ws\n"}) {
    EXPECT_NE(yaml.find(expected), std::string::npos) << expected << "\nin\n" << yaml;
  }
  EXPECT_EQ(yaml.find("--network-add"), std::string::npos) << yaml;
}

TEST(StackFile, RejectsFilesWithoutServices) {
  EXPECT_FALSE(ParseStackFile("version: '3'\n", "").ok());
  EXPECT_FALSE(ParseStackFile("- a\n- b\n", "").ok());
  EXPECT_FALSE(ParseStackFile("services: {a: [\n", "").ok());
}

}  // namespace
}  // namespace sg::interlock
