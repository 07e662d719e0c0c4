#pragma once
// Plain values returned by the Docker Engine API client. Only the fields the
// operator reads are parsed; services keep their full Spec as JSON text so an
// update can resend it unchanged except for what the caller edits.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sg::docker {

using Labels = std::map<std::string, std::string>;
// Docker list filters: {"label": ["a=b", "c"], "name": ["x"]}.
using Filters = std::map<std::string, std::vector<std::string>>;

struct VersionInfo {
  std::string version;          // engine version, "20.10.24+dfsg1"
  std::string api_version;      // "1.41"
  std::string min_api_version;  // "1.12"
  std::string os;
  std::string arch;
};

struct SwarmInfo {
  std::string id;
  std::string created_at;
  uint64_t version = 0;
};

struct ConfigSpec {
  std::string name;
  Labels labels;
  std::string data;  // raw bytes (base64 on the wire, decoded here)
};

struct Config {
  std::string id;
  uint64_t version = 0;  // Version.Index, for compare-and-swap updates
  std::string created_at;
  std::string updated_at;
  ConfigSpec spec;
};

struct SecretSpec {
  std::string name;
  Labels labels;
  std::string data;  // only sent on create; Docker never returns secret data
};

struct Secret {
  std::string id;
  uint64_t version = 0;
  std::string created_at;
  std::string updated_at;
  std::string name;
  Labels labels;
};

struct VirtualIP {
  std::string network_id;
  std::string addr;  // CIDR, "10.0.1.2/24"
};

struct Service {
  std::string id;
  uint64_t version = 0;
  std::string created_at;
  std::string updated_at;
  std::string name;
  Labels labels;
  std::string spec_json;     // the full Spec object, to edit and resend
  std::string update_state;  // UpdateStatus.State: "", updating, completed, paused, rollback_*
  std::vector<VirtualIP> virtual_ips;  // Endpoint.VirtualIPs
  uint64_t replicas = 0;               // Spec.Mode.Replicated.Replicas (0 for global)
  bool global = false;                 // Spec.Mode.Global
  bool has_healthcheck = false;        // Spec.TaskTemplate.ContainerSpec.Healthcheck with a Test
  std::vector<std::string> network_targets;  // Spec.TaskTemplate.Networks[].Target (ids or names)
  std::vector<std::string> secret_names;     // Spec.TaskTemplate.ContainerSpec.Secrets[].SecretName
  bool publishes_host_ports = false;         // any Spec.EndpointSpec.Ports[].PublishMode == host
};

struct NetworkAttachment {
  std::string network_id;
  std::string network_name;
  std::vector<std::string> addresses;  // CIDR
};

struct Task {
  std::string id;
  uint64_t version = 0;
  std::string service_id;
  std::string node_id;
  int64_t slot = 0;
  std::string desired_state;  // running, shutdown, ...
  std::string state;          // Status.State: new ... starting, running, complete, failed, ...
  std::string message;        // Status.Message
  std::string error;          // Status.Err
  std::string container_id;   // Status.ContainerStatus.ContainerID
  std::string created_at;
  std::string updated_at;
  std::vector<NetworkAttachment> networks;  // NetworksAttachments
};

struct NetworkSpec {
  std::string name;
  std::string driver = "overlay";
  bool attachable = true;
  Labels labels;
};

struct Network {
  std::string id;
  std::string name;
  std::string driver;
  std::string scope;
  bool attachable = false;
  Labels labels;
};

struct Node {
  std::string id;
  uint64_t version = 0;
  std::string hostname;
  std::string role;          // manager | worker
  std::string availability;  // active | pause | drain
  std::string state;         // Status.State: ready | down | unknown | disconnected
  std::string addr;          // Status.Addr
  Labels labels;             // Spec.Labels
  std::string spec_json;
  // ManagerStatus.Reachability of a manager: reachable | unreachable |
  // unknown; empty for a worker.
  std::string manager_reachability;
};

// One line of GET /events.
struct Event {
  std::string type;    // service, network, config, secret, node, container, ...
  std::string action;  // create, update, remove, ...
  std::string actor_id;
  std::map<std::string, std::string> attributes;  // Actor.Attributes
  std::string scope;                              // local | swarm
  int64_t time = 0;                               // seconds
  int64_t time_nano = 0;
};

}  // namespace sg::docker
