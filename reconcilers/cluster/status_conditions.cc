#include "reconcilers/cluster/status_conditions.h"

namespace sg::reconcilers {
namespace {

crds::Condition Cond(const char* type, bool status, std::string reason, std::string message) {
  crds::Condition c;
  c.type = type;
  c.status = status ? crds::kConditionTrue : crds::kConditionFalse;
  c.reason = std::move(reason);
  c.message = std::move(message);
  return c;
}

constexpr const char* kWaitingForProxies = "waiting for every proxy to serve it";

}  // namespace

crds::ResourceStatus PreviousStatus(const std::string& status_json) {
  if (status_json.empty()) return {};
  auto old = crds::DecodeStatus(status_json);
  return old.ok() ? *old : crds::ResourceStatus{};
}

crds::ResourceStatus ComposeRouteStatus(crds::ResourceStatus status, int64_t generation,
                                        const RouteOutcome& outcome, const std::string* degraded,
                                        bool live, const std::string& now) {
  status.observed_generation = generation;
  status.endpoints = outcome.endpoints;
  const bool healthy = outcome.served && outcome.reason == kReasonReady;
  const bool ready = healthy && live;
  std::string reason = outcome.reason;
  std::string message = outcome.message;
  if (ready) message = std::to_string(outcome.endpoints.size()) + " endpoints";
  if (healthy && !live) {
    reason = "Converging";
    message = kWaitingForProxies;
  }
  status.SetCondition(Cond(crds::kConditionReady, ready, reason, message), now);
  status.SetCondition(Cond(crds::kConditionProgressing, outcome.served && !live,
                           live ? "Converged" : "Converging", live ? "" : kWaitingForProxies),
                      now);
  if (degraded) {
    status.SetCondition(Cond(crds::kConditionDegraded, true, kReasonHealthcheckMissing, *degraded),
                        now);
  } else if (outcome.reason == kReasonInvalidConfig) {
    status.SetCondition(Cond(crds::kConditionDegraded, true, kReasonInvalidConfig, outcome.message),
                        now);
  } else {
    status.SetCondition(Cond(crds::kConditionDegraded, false, "None", ""), now);
  }
  return status;
}

crds::ResourceStatus ComposeClusterStatus(crds::ResourceStatus status, int64_t generation,
                                          const ProxyProgress& proxies, const std::string& degraded,
                                          const std::string& now) {
  status.observed_generation = generation;
  status.proxy_replicas = crds::ProxyReplicas{proxies.desired, proxies.running};
  std::string replicas =
      std::to_string(proxies.running) + "/" + std::to_string(proxies.desired) + " proxies running";
  status.SetCondition(
      Cond(crds::kConditionReady, proxies.converged, proxies.converged ? "Ready" : "Converging",
           replicas + "; " + proxies.progress),
      now);
  status.SetCondition(Cond(crds::kConditionProgressing, !proxies.converged,
                           proxies.converged ? "Converged" : "Converging", proxies.progress),
                      now);
  status.SetCondition(degraded.empty() ? Cond(crds::kConditionDegraded, false, "None", "")
                                       : Cond(crds::kConditionDegraded, true,
                                              "DefaultBackendUnavailable", degraded),
                      now);
  return status;
}

crds::ResourceStatus ComposeClusterNotFoundStatus(crds::ResourceStatus status, int64_t generation,
                                                  const std::string& cluster,
                                                  const std::string& now) {
  status.observed_generation = generation;
  status.endpoints.clear();
  status.SetCondition(
      Cond(crds::kConditionReady, false, kReasonClusterNotFound,
           "ServiceCluster \"" + cluster + "\" not found; apply it or fix spec.serviceCluster"),
      now);
  status.SetCondition(Cond(crds::kConditionProgressing, false, "Waiting", ""), now);
  status.SetCondition(Cond(crds::kConditionDegraded, false, "None", ""), now);
  return status;
}

}  // namespace sg::reconcilers
