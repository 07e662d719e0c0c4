#include "operator/app/advertise_url.h"

#include <gtest/gtest.h>

#include "operator/testing/fake_docker_client.h"

namespace sg::app {
namespace {

TEST(AdvertiseUrlTest, TheOwnTasksAddressOnTheControlNetwork) {
  docker::FakeDockerClient docker;
  docker::Task other;
  other.container_id = "ffff00001111aaaa";
  other.desired_state = "running";
  other.networks = {{"n1", "sg-control", {"10.0.5.7/24"}}};
  docker::Task own;
  own.container_id = "0123456789abcdef0123";
  own.desired_state = "running";
  own.networks = {{"n0", "ingress", {"10.255.0.4/16"}}, {"n1", "sg-control", {"10.0.5.9/24"}}};
  docker.SetTasks("svc", {other, own});

  auto url = AdvertiseUrlOfTask(docker, "0123456789ab", "sg-control", 9090);
  ASSERT_TRUE(url.ok()) << url.error().ToString();
  EXPECT_EQ(*url, "http://10.0.5.9:9090");

  auto missing = AdvertiseUrlOfTask(docker, "deadbeef0000", "sg-control", 9090);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  auto detached = AdvertiseUrlOfTask(docker, "0123456789ab", "other-net", 9090);
  EXPECT_FALSE(detached.ok());
}

}  // namespace
}  // namespace sg::app
