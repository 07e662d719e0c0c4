#include "crds/engine_on_apply.h"

#include <gtest/gtest.h>

#include <string>

#include "crds/loader.h"

namespace sg::crds {
namespace {

constexpr const char* kBare =
    R"({"apiVersion":"swarmgate.io/v1alpha1","kind":"ServiceCluster","metadata":{"name":"edge"},)"
    R"("spec":{"proxy":{"replicas":2}}})";

std::string WithEngine(const std::string& engine) {
  return std::string(R"({"apiVersion":"swarmgate.io/v1alpha1","kind":"ServiceCluster",)") +
         R"("metadata":{"name":"edge"},"spec":{"proxy":{"engine":")" + engine +
         R"(","replicas":2}}})";
}

TEST(WithEngineOnApplyTest, ANewClusterWithoutEngineGetsHaproxy) {
  auto out = WithEngineOnApply(kBare, std::nullopt);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(*out, WithEngine("haproxy"));
  auto decoded = DecodeStored(*out);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->cluster()->spec.proxy.engine, ProxyEngine::kHaproxy);
}

TEST(WithEngineOnApplyTest, ANewClusterWithoutProxyOrSpecGetsOne) {
  auto out = WithEngineOnApply(
      R"({"apiVersion":"swarmgate.io/v1alpha1","kind":"ServiceCluster","metadata":{"name":"e"}})",
      std::nullopt);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_NE(out->find(R"("spec":{"proxy":{"engine":"haproxy"}})"), std::string::npos) << *out;
}

TEST(WithEngineOnApplyTest, AnEngineTheDocumentNamesIsKept) {
  for (const char* engine : {"nginx", "haproxy"}) {
    auto out = WithEngineOnApply(WithEngine(engine), std::nullopt);
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(*out, WithEngine(engine));
    out = WithEngineOnApply(WithEngine(engine), WithEngine("haproxy"));
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(*out, WithEngine(engine));
  }
}

TEST(WithEngineOnApplyTest, AnUpdateKeepsTheStoredEngine) {
  // Created with the default, re-applied from the same file: still haproxy.
  auto out = WithEngineOnApply(kBare, WithEngine("haproxy"));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, WithEngine("haproxy"));
  out = WithEngineOnApply(kBare, WithEngine("nginx"));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, WithEngine("nginx"));
  // Stored before clusters got an engine on creation: it runs nginx, and keeps it.
  out = WithEngineOnApply(kBare, std::string(kBare));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, kBare);
  auto decoded = DecodeStored(*out);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->cluster()->spec.proxy.engine, ProxyEngine::kNginx);
}

TEST(WithEngineOnApplyTest, NotJsonIsAnError) {
  EXPECT_FALSE(WithEngineOnApply("{", std::nullopt).ok());
  EXPECT_FALSE(WithEngineOnApply(kBare, std::string("[")).ok());
}

}  // namespace
}  // namespace sg::crds
