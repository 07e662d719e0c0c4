#pragma once
// Interlock -> swarmgate: turns the `com.docker.lb.*` labels of Swarm services
// into ServiceCluster and Route YAML. A pure function of its input: the
// `swarmgate import interlock` command only gathers the services (from the
// Swarm or a stack file) and prints the result.
//
// Every label that cannot be mapped becomes a `# comment` in the output saying
// why; a service with an invalid value is left out (with a comment naming the
// label and the value), so the output always passes `swarmgate validate`.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sg::interlock {

struct ServiceInput {
  std::string name;  // the Docker service name (stack services: STACK_service)
  // Desired replicas; nullopt when unknown (global mode): counts as 1 for the
  // replica-ratio weights.
  std::optional<uint64_t> replicas;
  std::map<std::string, std::string> labels;
  // The Docker names of the networks the service is attached to; empty when
  // unknown. Interlock's proxy joined the networks of the services it routed
  // to, so a network a cluster's services already share becomes its network
  // and no service has to be updated.
  std::vector<std::string> networks;
};

struct ConvertOptions {
  // Cluster of services without com.docker.lb.service_cluster.
  std::string default_cluster = "default";
  // Where the services came from, for the header comment.
  std::string source = "the Swarm";
};

struct ConvertResult {
  std::string yaml;  // multi-document YAML, comments included
  // One line per note (also present as comments in `yaml`), prefixed by the
  // service it concerns.
  std::vector<std::string> warnings;
  int services_seen = 0;      // services carrying any com.docker.lb.* label
  int services_imported = 0;  // of those, the ones that became a backend
  int clusters = 0;
  int routes = 0;
};

ConvertResult Convert(const std::vector<ServiceInput>& services,
                      const ConvertOptions& options = {});

// The names of a service's networks from its Spec.TaskTemplate.Networks
// targets (ids, or names), given the Swarm's networks as id -> name. Empty
// (unknown) when a target is none of them.
std::vector<std::string> NetworkNames(const std::vector<std::string>& targets,
                                      const std::map<std::string, std::string>& names_by_id);

// "api_v2.Web" -> "api-v2-web": a valid resource name (at most 40 chars),
// "route" when nothing usable is left.
std::string SanitizeName(const std::string& name);

}  // namespace sg::interlock
