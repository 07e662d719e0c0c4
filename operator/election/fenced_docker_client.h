#pragma once
// A DockerClient that refuses every write while this process is not the
// leader: reads pass through, and Create*, Update* and Remove* return
// Unavailable("not the leader") without reaching the engine. The
// reconcilers and the store write through it, so a pass that was under way
// when the lease lapsed cannot write after it (DESIGN.md section 3: only the
// leader writes). The elector itself must use the unfenced client.
//
// Thread-safety: as the wrapped client; `may_write` is called from any
// thread and must be thread-safe.

#include <functional>
#include <optional>

#include "operator/docker/docker_client.h"

namespace sg::election {

class FencedDockerClient final : public docker::DockerClient {
 public:
  // `inner` must outlive this client.
  FencedDockerClient(docker::DockerClient& inner, std::function<bool()> may_write);

  Result<docker::VersionInfo> Version() override;
  Result<docker::SwarmInfo> InspectSwarm() override;

  Result<std::vector<docker::Config>> ListConfigs(const docker::Filters& filters) override;
  Result<docker::Config> InspectConfig(const std::string& id_or_name) override;
  Result<std::string> CreateConfig(const docker::ConfigSpec& spec) override;
  Status UpdateConfig(const std::string& id, uint64_t version,
                      const docker::ConfigSpec& spec) override;
  Status RemoveConfig(const std::string& id_or_name) override;

  Result<std::vector<docker::Secret>> ListSecrets(const docker::Filters& filters) override;
  Result<docker::Secret> InspectSecret(const std::string& id_or_name) override;
  Result<std::string> CreateSecret(const docker::SecretSpec& spec) override;
  Status RemoveSecret(const std::string& id_or_name) override;

  Result<std::vector<docker::Service>> ListServices(const docker::Filters& filters) override;
  Result<docker::Service> InspectService(const std::string& id_or_name) override;
  Result<std::string> CreateService(const std::string& spec_json) override;
  Status UpdateService(const std::string& id, uint64_t version,
                       const std::string& spec_json) override;
  Status RemoveService(const std::string& id_or_name) override;

  Result<std::vector<docker::Task>> ListTasks(const docker::Filters& filters) override;

  Result<std::vector<docker::Network>> ListNetworks(const docker::Filters& filters) override;
  Result<docker::Network> InspectNetwork(const std::string& id_or_name) override;
  Result<std::string> CreateNetwork(const docker::NetworkSpec& spec) override;
  Status RemoveNetwork(const std::string& id_or_name) override;

  Result<std::vector<docker::Node>> ListNodes(const docker::Filters& filters) override;
  Status UpdateNode(const std::string& id, uint64_t version, const std::string& spec_json) override;

  Status StreamEvents(const docker::EventOptions& options,
                      const std::function<bool(const docker::Event&)>& on_event,
                      const std::atomic<bool>& cancel) override;

 private:
  // Unavailable when writes are refused now.
  std::optional<Error> Refused(const char* what) const;

  docker::DockerClient& inner_;
  const std::function<bool()> may_write_;
};

}  // namespace sg::election
