#pragma once
// Apply: the third step of a cluster pass. Makes the Swarm hold what the plan
// wants: the cluster's overlay, the control overlay and the agents' token
// (hot delivery), the published configuration (hot) or its Docker config
// (rolling), the listener service (host publish mode) and the proxy service.
// Everything it creates or updates is written through to the cache, so the
// next pass sees it before the event arrives. Also removes what a deleted
// cluster owned.
//
// Thread-safety: stateless apart from references to thread-safe objects;
// different clusters may be applied concurrently.

#include <string>
#include <vector>

#include "operator/docker/docker_client.h"
#include "operator/runtime/clock.h"
#include "operator/runtime/controller.h"
#include "operator/store/swarm_cache.h"
#include "reconcilers/cluster/cluster_plan.h"
#include "reconcilers/cluster/cluster_snapshot.h"
#include "reconcilers/config_publisher.h"

namespace sg::reconcilers {

struct ApplyOptions {
  std::string control_network = "sg-control";
  std::string operator_url = "http://swarmgate-operator:9090";
};

// What apply made: the ids the Swarm assigned and what was published.
struct Applied {
  std::string network_id;
  int64_t config_generation = 0;    // hot: the generation published
  std::string rolling_config_name;  // rolling: the Docker config holding the configuration
  docker::Service proxy;            // the proxy service as Docker reports it
};

class ClusterApplier {
 public:
  // `cache` may be null (tests that read Docker directly).
  ClusterApplier(docker::DockerClient& docker, store::SwarmCache* cache, ConfigPublisher& publisher,
                 ApplyOptions options = {});

  // `config_text`: the checked configuration; `tls_secrets`: the secrets the
  // proxies must mount for it.
  Result<Applied> Apply(const ClusterSnapshot& snapshot, const ClusterPlan& plan,
                        const std::string& config_text, const std::vector<SecretRef>& tls_secrets,
                        const runtime::Trigger& trigger, runtime::Clock::TimePoint now);

  // Removes every object labelled as owned by `cluster`. Networks, configs
  // and secrets stay "in use" until the proxy tasks are gone: Unavailable
  // then, and the caller retries.
  Status Teardown(const std::string& cluster);
  // Rolling delivery: removes the cluster's configuration configs but `keep`.
  void RemoveStaleRollingConfigs(const std::string& cluster, const std::string& keep);
  // Clusters that own objects in the Swarm but are not in `live`
  // (owner values "cluster/<name>").
  Result<std::vector<std::string>> OrphanedClusters(const std::set<std::string>& live);

 private:
  Result<std::string> EnsureNetwork(const std::string& cluster, const ClusterSnapshot& snapshot,
                                    const std::string& name);
  Result<std::string> EnsureControlNetwork(const ClusterSnapshot& snapshot);
  // Returns the token's digest; sets *secret_id.
  Result<std::string> EnsureToken(const std::string& cluster, const ClusterSnapshot& snapshot,
                                  const std::string& name, std::string* secret_id);
  Result<std::string> EnsureRollingConfig(const std::string& cluster, const std::string& name,
                                          const std::string& text);
  // Creates the service from `spec`, or updates `current` when its spec-hash
  // label differs; returns the service as Docker reports it.
  Result<docker::Service> EnsureService(const std::string& cluster, const std::string& name,
                                        const SealedSpec& spec, const docker::Service* current);
  // Host publish mode: the listener service; none otherwise.
  Status EnsureListener(const ClusterPlan& plan, const docker::Service* current);

  docker::DockerClient& docker_;
  store::SwarmCache* cache_;
  ConfigPublisher& publisher_;
  ApplyOptions options_;
};

// "sg.proxy.<cluster>.<hash of the text>": rolling delivery's config name.
std::string RollingConfigName(const std::string& cluster, const std::string& text);

}  // namespace sg::reconcilers
