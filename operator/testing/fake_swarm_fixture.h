#pragma once
// The fixture of the tests that read resources and Docker objects through
// the Swarm cache: a resource store and its cache over the in-memory
// FakeDockerClient, and one-line ways to put resources and objects in.
// Header-only like body_counting_client.h: the store is not a dependency of
// sg_testing, but every test binary that includes this links it.

#include <string>

#include <gtest/gtest.h>

#include "operator/store/resource_store.h"
#include "operator/store/swarm_cache.h"
#include "operator/testing/fake_docker_client.h"

namespace sg::testing {

class FakeSwarmFixture : public ::testing::Test {
 protected:
  // Stores resource `name` of `kind` as `json`; a failure fails the test.
  void Apply(crds::Kind kind, const std::string& name, const std::string& json) {
    auto r = store_.Apply(kind, name, json);
    ASSERT_TRUE(r.ok()) << r.error().ToString();
  }
  // A service `name` with a placeholder image; its id ("" on failure).
  std::string CreateService(const std::string& name) {
    auto id = docker_.CreateService(R"({"Name":")" + name +
                                    R"(","TaskTemplate":{"ContainerSpec":{"Image":"x"}}})");
    EXPECT_TRUE(id.ok());
    return id.ok() ? *id : "";
  }
  void CreateSecret(const std::string& name) {
    docker::SecretSpec s;
    s.name = name;
    s.data = "pem";
    ASSERT_TRUE(docker_.CreateSecret(s).ok());
  }
  void CreateNetwork(const std::string& name) {
    docker::NetworkSpec n;
    n.name = name;
    ASSERT_TRUE(docker_.CreateNetwork(n).ok());
  }

  docker::FakeDockerClient docker_;
  store::ResourceStore store_{docker_};
  store::SwarmCache cache_{docker_, store_};
};

}  // namespace sg::testing
