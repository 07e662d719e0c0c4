#pragma once
// Reconciles one ServiceCluster (key "cluster/<name>") and the data plane of
// its routes: the overlay network, the agents' token, the proxy service and
// the nginx configuration (render -> nginx -t -> deliver), then the status of
// the cluster and of every route it serves. Level-triggered and idempotent:
// each pass re-reads the Swarm; a pass with nothing to change writes nothing.
//
// Thread-safety: Reconcile may run concurrently for different clusters; the
// only shared mutable state is behind mu_.

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "crds/types.h"
#include "operator/docker/docker_client.h"
#include "operator/metrics/swarmgate_metrics.h"
#include "operator/runtime/clock.h"
#include "operator/runtime/controller.h"
#include "operator/store/resource_store.h"
#include "reconcilers/cluster_index.h"
#include "reconcilers/config_publisher.h"
#include "reconcilers/nginx_check.h"

namespace sg::reconcilers {

struct ClusterReconcilerOptions {
  std::string control_network = "sg-control";
  std::string operator_url = "http://swarmgate-operator:9090";
  std::string certs_dir = "/run/secrets";
  std::string stream_module = "/usr/lib/nginx/modules/ngx_stream_module.so";
  // How often a cluster that has not converged yet is looked at again.
  std::chrono::milliseconds converge_poll{300};
};

class ClusterReconciler : public runtime::Reconciler {
 public:
  ClusterReconciler(docker::DockerClient& docker, store::ResourceStore& store,
                    nginx::NginxValidator& validator, ConfigPublisher& publisher,
                    ClusterIndex& index, metrics::SwarmgateMetrics& metrics, runtime::Clock& clock,
                    ClusterReconcilerOptions options = {});

  Result<runtime::ReconcileResult> Reconcile(const std::string& key,
                                             const runtime::Trigger& trigger) override;

  // Removes objects labelled as owned by a cluster that no longer exists.
  Status CollectGarbage();

 private:
  struct Pending {
    std::string hash;
    std::string trigger;
    runtime::Clock::TimePoint since;
  };

  Status Teardown(const std::string& cluster);
  // Routes of a deleted cluster stop claiming to be served.
  void MarkRoutesClusterNotFound(const std::string& cluster);
  Result<std::string> EnsureNetwork(const std::string& cluster, const std::string& network);
  Result<std::string> EnsureControlNetwork();
  Result<std::string> EnsureToken(const std::string& cluster, std::string* secret_id);
  Result<std::string> EnsureRollingConfig(const std::string& cluster, const std::string& text);
  // Creates the service `service_name` from `spec`, or updates `listed` (the
  // service as this pass listed it, null if absent) when its spec-hash label
  // differs; returns the service as Docker reports it.
  Result<docker::Service> EnsureService(const std::string& cluster, const std::string& service_name,
                                        const std::string& spec, const docker::Service* listed);
  // Host publish mode: the listener service holding the node ports
  // (`current`: the existing one, if any). Other modes: removes it.
  Status EnsureListener(const crds::ServiceCluster& cluster, const std::string& network_id,
                        const docker::Service* current);
  void RemoveStaleRollingConfigs(const std::string& cluster, const std::string& keep_name);
  // Decoded routes by config id: a config's data never changes, so each
  // generation is decoded (and validated) once, not on every pass.
  std::shared_ptr<const crds::Route> DecodeRoute(const store::StoredResource& r);

  docker::DockerClient& docker_;
  store::ResourceStore& store_;
  nginx::NginxValidator& validator_;
  ConfigPublisher& publisher_;
  ClusterIndex& index_;
  metrics::SwarmgateMetrics& metrics_;
  runtime::Clock& clock_;
  ClusterReconcilerOptions options_;

  std::mutex mu_;
  std::map<std::string, std::string> last_valid_hash_;  // config hash that passed nginx -t
  std::map<std::string, Pending> rolling_pending_;      // rolling: not yet converged
  // Per cluster and route: the config generation that first included the
  // route's current generation (hot delivery). Lost on restart, which only
  // means routes wait for the next generation to be served.
  struct Inclusion {
    int64_t route_generation = 0;
    int64_t config_generation = 0;
  };
  std::map<std::string, std::map<std::string, Inclusion>> included_;
  std::map<std::string, std::shared_ptr<const crds::Route>> decoded_routes_;  // by config id
  std::optional<nginx::SelfSignedCertificate> placeholder_cert_;
};

}  // namespace sg::reconcilers
