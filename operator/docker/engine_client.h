#pragma once
// DockerClient over the Docker Engine HTTP API v1.41 (unix socket, TCP, TLS).
//
// Thread-safety: all methods may be called concurrently; requests share a
// small keep-alive connection pool and each /events stream has its own
// connection. The observer is called from the calling threads.

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "operator/docker/docker_client.h"
#include "operator/docker/docker_endpoint.h"
#include "operator/docker/http_transport.h"

namespace sg::docker {

inline constexpr char kApiVersionPrefix[] = "/v1.41";
inline constexpr int kMinApiMajor = 1;
inline constexpr int kMinApiMinor = 41;

// Called after every request with the endpoint as a template
// ("/configs/{id}/update", no version prefix or query), the HTTP status (0
// when no answer arrived: connect failure, timeout) and the duration. Meant
// for swarmgate_docker_api_request_duration_seconds{method,endpoint,code}.
// For /events the duration is the time until the response header arrived.
using RequestObserver = std::function<void(
    std::string_view method, std::string_view endpoint_template, int code, double seconds)>;

struct EngineClientOptions {
  TransportOptions transport;
  RequestObserver observer;  // optional
};

class EngineClient final : public DockerClient {
 public:
  // Checks GET /version first: the engine must answer and speak API >= 1.41.
  static Result<std::unique_ptr<EngineClient>> Connect(const DockerEndpoint& endpoint,
                                                       EngineClientOptions options = {});
  // Resolves the endpoint from --docker-host (may be empty) and the
  // environment (see ResolveDockerEndpoint), then Connect().
  static Result<std::unique_ptr<EngineClient>> ConnectFromFlag(std::string_view docker_host_flag,
                                                               EngineClientOptions options = {});

  const DockerEndpoint& endpoint() const { return transport_->endpoint(); }

  Result<VersionInfo> Version() override;
  Result<SwarmInfo> InspectSwarm() override;

  Result<std::vector<Config>> ListConfigs(const Filters& filters) override;
  Result<Config> InspectConfig(const std::string& id_or_name) override;
  Result<std::string> CreateConfig(const ConfigSpec& spec) override;
  Status UpdateConfig(const std::string& id, uint64_t version, const ConfigSpec& spec) override;
  Status RemoveConfig(const std::string& id_or_name) override;

  Result<std::vector<Secret>> ListSecrets(const Filters& filters) override;
  Result<Secret> InspectSecret(const std::string& id_or_name) override;
  Result<std::string> CreateSecret(const SecretSpec& spec) override;
  Status RemoveSecret(const std::string& id_or_name) override;

  Result<std::vector<Service>> ListServices(const Filters& filters) override;
  Result<Service> InspectService(const std::string& id_or_name) override;
  Result<std::string> CreateService(const std::string& spec_json) override;
  Status UpdateService(const std::string& id, uint64_t version,
                       const std::string& spec_json) override;
  Status RemoveService(const std::string& id_or_name) override;

  Result<std::vector<Task>> ListTasks(const Filters& filters) override;

  Result<std::vector<Network>> ListNetworks(const Filters& filters) override;
  Result<Network> InspectNetwork(const std::string& id_or_name) override;
  Result<std::string> CreateNetwork(const NetworkSpec& spec) override;
  Status RemoveNetwork(const std::string& id_or_name) override;

  Result<std::vector<Node>> ListNodes(const Filters& filters) override;
  Status UpdateNode(const std::string& id, uint64_t version, const std::string& spec_json) override;

  Status StreamEvents(const EventOptions& options,
                      const std::function<bool(const Event&)>& on_event,
                      const std::atomic<bool>& cancel) override;

  // The paths of one Swarm object collection, as templates reported to the
  // observer (string literals: the observer may keep them). Empty where the
  // API has no such call.
  struct Collection {
    const char* root;    // "/configs"
    const char* item;    // "/configs/{id}"
    const char* create;  // "/configs/create"
    const char* update;  // "/configs/{id}/update"
  };

 private:
  EngineClient(std::unique_ptr<HttpTransport> transport, RequestObserver observer);

  // One request; a non-2xx answer becomes the mapped error. `endpoint` is
  // the template reported to the observer, `path` the concrete path without
  // the version prefix (the prefix is added unless `unversioned`).
  Result<std::string> Do(const char* method, const char* endpoint, const std::string& path,
                         const std::string& body = {}, bool unversioned = false);

  // The calls every collection shares; bodies are returned unparsed.
  Result<std::string> ListIn(const Collection& c, const Filters& filters);
  Result<std::string> InspectIn(const Collection& c, const std::string& id_or_name,
                                const std::string& query = {});
  Result<std::string> CreateIn(const Collection& c, const std::string& body);
  Status UpdateIn(const Collection& c, const std::string& id, uint64_t version,
                  const std::string& body);
  Status RemoveIn(const Collection& c, const std::string& id_or_name);

  std::unique_ptr<HttpTransport> transport_;
  const RequestObserver observer_;
};

}  // namespace sg::docker
