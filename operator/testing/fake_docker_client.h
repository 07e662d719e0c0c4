#pragma once
// In-memory DockerClient for unit tests of the store and the reconcilers.
// It mimics the engine where callers depend on it: generated 25-character
// ids, unique names (AlreadyExists -> Conflict), one Swarm-wide version index
// bumped on every write, compare-and-swap updates ("update out of sequence"
// -> Conflict), label/name/id list filters with the engine's matching rules,
// "in use" refusals on removal, and an event per write that StreamEvents
// replays. Tasks are not scheduled: tests set them with SetTasks.
//
// Thread-safety: every method locks one mutex; StreamEvents calls on_event
// without holding it, so callbacks may call back into the fake.

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operator/docker/docker_client.h"

namespace sg::docker {

class FakeDockerClient final : public DockerClient {
 public:
  // Starts as a one-node Swarm: a ready, active manager "node-1".
  FakeDockerClient();

  // ---- DockerClient
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

  // Replays recorded events at or after options.since (all of them with
  // since "0"; none without since, like the engine), then waits for new ones.
  // Supported filters: type, event (action), scope.
  Status StreamEvents(const EventOptions& options,
                      const std::function<bool(const Event&)>& on_event,
                      const std::atomic<bool>& cancel) override;

  // ---- test controls (none of these count as calls)

  // Replaces the tasks of a service; their service_id is set to `service_id`.
  // Missing ids are generated. Tasks disappear with their service.
  void SetTasks(const std::string& service_id, std::vector<Task> tasks);
  // UpdateStatus.State of a service ("updating", "completed", ...).
  void SetServiceUpdateState(const std::string& service_id, const std::string& state);
  // Adds a node; returns its id (generated when node.id is empty).
  std::string AddNode(Node node);
  // Sets a node's Status.State and, when not empty, its manager reachability,
  // and emits the node update event the engine emits for a status change
  // (attributes state.old and state.new). False when there is no such node.
  bool SetNodeStatus(const std::string& id_or_name, const std::string& state,
                     const std::string& manager_reachability = "");
  void SetVersionInfo(VersionInfo info);
  // Records an event as if the engine had emitted it (time set when 0).
  void InjectEvent(Event event);

  // The next `times` calls whose method name (e.g. "UpdateConfig") contains
  // `method_substring` fail with `error` and change nothing.
  void FailNext(std::string method_substring, Error error, int times = 1);

  // Calls per method name, counted when made (also when they fail).
  int CallCount(std::string_view method) const;
  // Create*, Update* and Remove* calls.
  int WriteCount() const;
  std::vector<std::string> CallLog() const;
  void ResetCounters();
  // The Swarm-wide version index: the highest Version.Index assigned so far.
  uint64_t CurrentIndex() const;

 private:
  struct SecretRecord {
    Secret meta;
    std::string data;
  };
  struct NetworkRecord {
    Network net;
    int subnet = 0;   // 10.0.<subnet>.0/24
    int next_ip = 2;  // .1 is the gateway
  };
  struct Failure {
    std::string method_substring;
    Error error;
    int remaining;
  };

  // Counts the call and pops a matching injected failure. Requires mu_.
  std::optional<Error> EnterLocked(const char* method);
  std::string NewIdLocked();
  std::string NowLocked();  // RFC 3339 with nanoseconds, strictly increasing
  void EmitLocked(const std::string& type, const std::string& action, const std::string& id,
                  const std::string& name);
  std::string ResolveLocked(const std::string& id_or_name,
                            const std::map<std::string, std::string>& ids_by_name,
                            const std::vector<std::string>& all_ids) const;
  std::string FindConfigLocked(const std::string& id_or_name) const;
  std::string FindSecretLocked(const std::string& id_or_name) const;
  std::string FindServiceLocked(const std::string& id_or_name) const;
  std::string FindNetworkLocked(const std::string& id_or_name) const;
  std::string FindNodeLocked(const std::string& id_or_name) const;
  // The Inspect<Kind> calls: counts `method`, resolves `id_or_name` with
  // `find` and returns `read(id)`, or NotFound worded like the engine's
  // ("<kind> X not found"). Takes mu_.
  template <class Object, class Read>
  Result<Object> Inspect(const char* method, const char* kind, const std::string& id_or_name,
                         std::string (FakeDockerClient::*find)(const std::string&) const,
                         const Read& read);
  // Validates a service spec, resolves network targets to ids, assigns VIPs.
  Result<Service> BuildServiceLocked(const std::string& spec_json, const std::string& id,
                                     const Service* previous);
  // Services whose spec references the given config, secret or network.
  std::vector<const Service*> UsersLocked(const char* kind, const std::string& id,
                                          const std::string& name) const;

  mutable std::mutex mu_;
  std::condition_variable events_cv_;

  uint64_t index_ = 10;
  uint64_t id_counter_ = 0;
  int64_t last_nanos_ = 0;
  VersionInfo version_info_;
  SwarmInfo swarm_;

  std::map<std::string, Config> configs_;  // by id
  std::map<std::string, SecretRecord> secrets_;
  std::map<std::string, Service> services_;
  std::map<std::string, std::vector<Task>> tasks_;  // by service id
  std::map<std::string, NetworkRecord> networks_;
  std::map<std::string, Node> nodes_;
  int next_subnet_ = 1;
  std::vector<Event> events_;

  std::vector<Failure> failures_;
  std::map<std::string, int, std::less<>> calls_;
  std::vector<std::string> call_log_;
};

}  // namespace sg::docker
