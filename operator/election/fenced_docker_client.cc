#include "operator/election/fenced_docker_client.h"

#include <optional>

namespace sg::election {

FencedDockerClient::FencedDockerClient(docker::DockerClient& inner, std::function<bool()> may_write)
    : inner_(inner), may_write_(std::move(may_write)) {}

std::optional<Error> FencedDockerClient::Refused(const char* what) const {
  if (may_write_()) return std::nullopt;
  return Unavailable(std::string(what) + " refused: not the leader");
}

Result<docker::VersionInfo> FencedDockerClient::Version() { return inner_.Version(); }
Result<docker::SwarmInfo> FencedDockerClient::InspectSwarm() { return inner_.InspectSwarm(); }

Result<std::vector<docker::Config>> FencedDockerClient::ListConfigs(
    const docker::Filters& filters) {
  return inner_.ListConfigs(filters);
}
Result<docker::Config> FencedDockerClient::InspectConfig(const std::string& id_or_name) {
  return inner_.InspectConfig(id_or_name);
}
Result<std::string> FencedDockerClient::CreateConfig(const docker::ConfigSpec& spec) {
  if (auto e = Refused("config create")) return *e;
  return inner_.CreateConfig(spec);
}
Status FencedDockerClient::UpdateConfig(const std::string& id, uint64_t version,
                                        const docker::ConfigSpec& spec) {
  if (auto e = Refused("config update")) return *e;
  return inner_.UpdateConfig(id, version, spec);
}
Status FencedDockerClient::RemoveConfig(const std::string& id_or_name) {
  if (auto e = Refused("config remove")) return *e;
  return inner_.RemoveConfig(id_or_name);
}

Result<std::vector<docker::Secret>> FencedDockerClient::ListSecrets(
    const docker::Filters& filters) {
  return inner_.ListSecrets(filters);
}
Result<docker::Secret> FencedDockerClient::InspectSecret(const std::string& id_or_name) {
  return inner_.InspectSecret(id_or_name);
}
Result<std::string> FencedDockerClient::CreateSecret(const docker::SecretSpec& spec) {
  if (auto e = Refused("secret create")) return *e;
  return inner_.CreateSecret(spec);
}
Status FencedDockerClient::RemoveSecret(const std::string& id_or_name) {
  if (auto e = Refused("secret remove")) return *e;
  return inner_.RemoveSecret(id_or_name);
}

Result<std::vector<docker::Service>> FencedDockerClient::ListServices(
    const docker::Filters& filters) {
  return inner_.ListServices(filters);
}
Result<docker::Service> FencedDockerClient::InspectService(const std::string& id_or_name) {
  return inner_.InspectService(id_or_name);
}
Result<std::string> FencedDockerClient::CreateService(const std::string& spec_json) {
  if (auto e = Refused("service create")) return *e;
  return inner_.CreateService(spec_json);
}
Status FencedDockerClient::UpdateService(const std::string& id, uint64_t version,
                                         const std::string& spec_json) {
  if (auto e = Refused("service update")) return *e;
  return inner_.UpdateService(id, version, spec_json);
}
Status FencedDockerClient::RemoveService(const std::string& id_or_name) {
  if (auto e = Refused("service remove")) return *e;
  return inner_.RemoveService(id_or_name);
}

Result<std::vector<docker::Task>> FencedDockerClient::ListTasks(const docker::Filters& filters) {
  return inner_.ListTasks(filters);
}

Result<std::vector<docker::Network>> FencedDockerClient::ListNetworks(
    const docker::Filters& filters) {
  return inner_.ListNetworks(filters);
}
Result<docker::Network> FencedDockerClient::InspectNetwork(const std::string& id_or_name) {
  return inner_.InspectNetwork(id_or_name);
}
Result<std::string> FencedDockerClient::CreateNetwork(const docker::NetworkSpec& spec) {
  if (auto e = Refused("network create")) return *e;
  return inner_.CreateNetwork(spec);
}
Status FencedDockerClient::RemoveNetwork(const std::string& id_or_name) {
  if (auto e = Refused("network remove")) return *e;
  return inner_.RemoveNetwork(id_or_name);
}

Result<std::vector<docker::Node>> FencedDockerClient::ListNodes(const docker::Filters& filters) {
  return inner_.ListNodes(filters);
}
Status FencedDockerClient::UpdateNode(const std::string& id, uint64_t version,
                                      const std::string& spec_json) {
  if (auto e = Refused("node update")) return *e;
  return inner_.UpdateNode(id, version, spec_json);
}

Status FencedDockerClient::StreamEvents(const docker::EventOptions& options,
                                        const std::function<bool(const docker::Event&)>& on_event,
                                        const std::atomic<bool>& cancel) {
  return inner_.StreamEvents(options, on_event, cancel);
}

}  // namespace sg::election
