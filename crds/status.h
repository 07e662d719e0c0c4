#pragma once
// Kubernetes-shaped status of a resource, stored as compact JSON in the
// swarmgate.io/status label of the resource's current Docker config.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operator/common/result.h"

namespace sg::crds {

inline constexpr const char* kConditionReady = "Ready";
inline constexpr const char* kConditionProgressing = "Progressing";
inline constexpr const char* kConditionDegraded = "Degraded";

inline constexpr const char* kConditionTrue = "True";
inline constexpr const char* kConditionFalse = "False";
inline constexpr const char* kConditionUnknown = "Unknown";

struct Condition {
  std::string type;    // Ready | Progressing | Degraded
  std::string status;  // "True" | "False" | "Unknown"
  std::string reason;  // CamelCase, e.g. Conflict
  std::string message;
  std::string last_transition_time;  // RFC 3339, UTC

  bool operator==(const Condition& o) const;
};

struct ProxyReplicas {
  int desired = 0;
  int running = 0;
  bool operator==(const ProxyReplicas& o) const {
    return desired == o.desired && running == o.running;
  }
};

struct ResourceStatus {
  int64_t observed_generation = 0;
  std::vector<Condition> conditions;
  std::vector<std::string> endpoints;           // routes: resolved addresses (ip:port)
  std::optional<ProxyReplicas> proxy_replicas;  // clusters

  bool operator==(const ResourceStatus& o) const;
  const Condition* FindCondition(std::string_view type) const;
  // Adds or replaces the condition of the same type. last_transition_time
  // moves to `now` only when the status value changes, as in Kubernetes.
  // Returns whether anything changed.
  bool SetCondition(Condition condition, const std::string& now);
};

// {"observedGeneration":N,"conditions":[...],"endpoints":[...],"proxyReplicas":{...}}
std::string EncodeStatus(const ResourceStatus& status);
sg::Result<ResourceStatus> DecodeStatus(std::string_view json);

}  // namespace sg::crds
