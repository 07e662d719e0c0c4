#pragma once
// The Docker service spec of a cluster's proxy service: a pure function of the
// ServiceCluster and the ids of what it references, so drift is detected by
// comparing a hash of the desired spec (kept in a service label) instead of
// diffing Docker's defaulted copy.

#include <string>
#include <vector>

#include "crds/types.h"
#include "operator/common/hash.h"
#include "operator/common/labels.h"
#include "operator/docker/docker_types.h"

namespace sg::reconcilers {

inline constexpr const char* kProxyConfigPath = "/etc/swarmgate/nginx.conf";
inline constexpr const char* kProxyPrefix = "/var/lib/swarmgate";
inline constexpr const char* kTokenSecretTarget = "sg-token";
inline constexpr int kProxyStatusPort = 8082;
// HAProxy proxies join the control network under this alias too, so that
// Prometheus on that network finds every one of them, whatever its cluster,
// as the DNS name "tasks.swarmgate-proxies" (charts/monitoring/prometheus.yml)
// and scrapes their exporter (haproxy::RenderOptions::metrics_port).
inline constexpr const char* kProxiesAlias = "swarmgate-proxies";
// Host publish mode: the listener service and the proxies of a node share a
// volume holding the listener's unix socket (operator/agent/listener_holder.h).
inline constexpr const char* kListenerMountTarget = "/run/swarmgate-listener";
inline constexpr const char* kListenerSocketPath = "/run/swarmgate-listener/sock";
// The listener service runs on the predefined host network (by name).
inline constexpr const char* kHostNetwork = "host";
// How long a stopping holder waits for its successor (the default of
// `swarmgate listen --linger`, operator/cli/listen_command.cc), and the
// task's stop grace period, which must exceed it.
inline constexpr int kListenerLingerSeconds = 8;
inline constexpr int kListenerStopGraceSeconds = 15;

struct SecretRef {
  std::string id;
  std::string name;
  std::string target;  // file name under /run/secrets
};

struct ProxyServiceInputs {
  std::string network_id;          // the cluster's overlay
  std::string control_network_id;  // sg-control (hot delivery); empty for rolling
  std::string operator_url;        // where agents long-poll (hot)
  SecretRef token;                 // hot: the cluster's agent token
  std::vector<SecretRef> tls_secrets;
  std::string config_id;  // rolling: the Docker config holding nginx.conf
  std::string config_name;
};

std::string ProxyServiceName(const std::string& cluster);
// Host publish mode only: the global service holding the host ports, and the
// node-local volume it shares with the proxies.
std::string ListenerServiceName(const std::string& cluster);
std::string ListenerVolumeName(const std::string& cluster);

// A service spec and the hash its spec-hash label carries.
struct SealedSpec {
  std::string json;  // Docker Engine API ServiceSpec
  std::string hash;
};

// Whether `service` was created from `spec` (its spec-hash label matches):
// then nothing needs to change.
bool HasSpecHash(const docker::Service& service, const SealedSpec& spec);

SealedSpec BuildProxyService(const crds::ServiceCluster& cluster, const ProxyServiceInputs& inputs);
SealedSpec BuildListenerService(const crds::ServiceCluster& cluster, const std::string& image);

// The spec JSON (Docker Engine API ServiceSpec) with its hash label set.
std::string BuildProxyServiceSpec(const crds::ServiceCluster& cluster,
                                  const ProxyServiceInputs& inputs);

// The listener service of a host-mode cluster: global over the proxies'
// constraints, on the host network, running `swarmgate listen` from `image`,
// which binds the ports in the node's namespace. It changes only with the
// ports or constraints, so the proxies can be updated (start-first) under
// it.
std::string BuildListenerServiceSpec(const crds::ServiceCluster& cluster, const std::string& image);

}  // namespace sg::reconcilers
