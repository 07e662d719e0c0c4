#pragma once
// The Docker Engine API (v1.41) as the operator uses it. Reconcilers and the
// resource store depend only on this interface; EngineClient talks to a real
// engine and FakeDockerClient (tests) keeps objects in memory.
//
// Thread-safety: implementations must allow concurrent calls from several
// threads (the operator's workers share one client).

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "operator/common/result.h"
#include "operator/docker/docker_types.h"

namespace sg::docker {

struct EventOptions {
  Filters filters;    // e.g. {"type": {"service", "config"}, "scope": {"swarm"}}
  std::string since;  // unix seconds (may carry ".nanos"); empty = from now
  std::string until;  // empty = stream until cancelled
};

class DockerClient {
 public:
  virtual ~DockerClient() = default;

  virtual Result<VersionInfo> Version() = 0;
  virtual Result<SwarmInfo> InspectSwarm() = 0;

  virtual Result<std::vector<Config>> ListConfigs(const Filters& filters) = 0;
  virtual Result<Config> InspectConfig(const std::string& id_or_name) = 0;
  virtual Result<std::string> CreateConfig(const ConfigSpec& spec) = 0;  // -> id
  // Only labels may change; spec.name and spec.data must be the current ones.
  virtual Status UpdateConfig(const std::string& id, uint64_t version, const ConfigSpec& spec) = 0;
  virtual Status RemoveConfig(const std::string& id_or_name) = 0;

  virtual Result<std::vector<Secret>> ListSecrets(const Filters& filters) = 0;
  virtual Result<Secret> InspectSecret(const std::string& id_or_name) = 0;
  virtual Result<std::string> CreateSecret(const SecretSpec& spec) = 0;
  virtual Status RemoveSecret(const std::string& id_or_name) = 0;

  virtual Result<std::vector<Service>> ListServices(const Filters& filters) = 0;
  virtual Result<Service> InspectService(const std::string& id_or_name) = 0;
  virtual Result<std::string> CreateService(const std::string& spec_json) = 0;  // -> id
  virtual Status UpdateService(const std::string& id, uint64_t version,
                               const std::string& spec_json) = 0;
  virtual Status RemoveService(const std::string& id_or_name) = 0;

  virtual Result<std::vector<Task>> ListTasks(const Filters& filters) = 0;

  virtual Result<std::vector<Network>> ListNetworks(const Filters& filters) = 0;
  virtual Result<Network> InspectNetwork(const std::string& id_or_name) = 0;
  virtual Result<std::string> CreateNetwork(const NetworkSpec& spec) = 0;  // -> id
  virtual Status RemoveNetwork(const std::string& id_or_name) = 0;

  virtual Result<std::vector<Node>> ListNodes(const Filters& filters) = 0;
  virtual Status UpdateNode(const std::string& id, uint64_t version,
                            const std::string& spec_json) = 0;

  // Streams GET /events, calling on_event for each event until the stream
  // ends, `cancel` becomes true (checked at least every second) or on_event
  // returns false. Returns OkStatus when stopped by cancel/on_event, an error
  // when the connection failed or dropped (callers reconnect with `since`).
  virtual Status StreamEvents(const EventOptions& options,
                              const std::function<bool(const Event&)>& on_event,
                              const std::atomic<bool>& cancel) = 0;
};

}  // namespace sg::docker
