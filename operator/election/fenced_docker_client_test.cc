#include "operator/election/fenced_docker_client.h"

#include <gtest/gtest.h>

#include <atomic>

#include "operator/testing/fake_docker_client.h"

namespace sg::election {
namespace {

TEST(FencedDockerClientTest, WritesPassOnlyWhileAllowedAndReadsAlways) {
  docker::FakeDockerClient inner;
  std::atomic<bool> leader{false};
  FencedDockerClient fenced(inner, [&] { return leader.load(); });

  docker::ConfigSpec spec;
  spec.name = "c1";
  spec.data = "x";
  auto refused = fenced.CreateConfig(spec);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(refused.error().message.find("not the leader"), std::string::npos);
  EXPECT_EQ(inner.WriteCount(), 0);

  leader = true;
  auto id = fenced.CreateConfig(spec);
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  leader = false;
  EXPECT_TRUE(fenced.InspectConfig("c1").ok());
  EXPECT_TRUE(fenced.ListConfigs({}).ok());
  EXPECT_FALSE(fenced.RemoveConfig("c1").ok());
  EXPECT_FALSE(fenced.CreateNetwork(docker::NetworkSpec{"n", "overlay", true, {}}).ok());
  EXPECT_FALSE(fenced.CreateService("{}").ok());
  EXPECT_FALSE(fenced.RemoveService("s").ok());
  EXPECT_FALSE(fenced.CreateSecret(docker::SecretSpec{"s", {}, "d"}).ok());
  EXPECT_EQ(inner.WriteCount(), 1);
  leader = true;
  EXPECT_TRUE(fenced.RemoveConfig("c1").ok());
}

}  // namespace
}  // namespace sg::election
