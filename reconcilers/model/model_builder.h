#pragma once
// The builder: one cluster's routes and their resolved endpoints -> the
// engine-neutral traffic model. Pure and table-tested (Traefik's split of
// watcher and builder): it decides which route owns a host+path, which routes
// can be served and why the others cannot, and where each location's requests
// go (model/backend_selection.h), but reads nothing from Docker itself.
// Thread-safe: no shared state.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crds/types.h"
#include "reconcilers/endpoint_resolver.h"
#include "reconcilers/model/traffic_model.h"

namespace sg::reconcilers {

// Status reasons written on routes.
inline constexpr const char* kReasonReady = "Ready";
inline constexpr const char* kReasonConflict = "Conflict";
inline constexpr const char* kReasonClusterNotFound = "ClusterNotFound";
inline constexpr const char* kReasonBackendNotFound = "BackendNotFound";
inline constexpr const char* kReasonBackendNotAttached = "BackendNotAttached";
inline constexpr const char* kReasonNoEndpoints = "NoEndpoints";
inline constexpr const char* kReasonSecretNotFound = "SecretNotFound";
inline constexpr const char* kReasonSecretMounting = "SecretMounting";
inline constexpr const char* kReasonInvalidConfig = "InvalidConfig";
inline constexpr const char* kReasonInvalidSpec = "InvalidSpec";
inline constexpr const char* kReasonHealthcheckMissing = "HealthcheckMissing";
inline constexpr const char* kReasonNotAllowed = "NotAllowed";

// The upstream of the cluster's default backend service.
inline constexpr const char* kDefaultBackendUpstream = "d.default";

struct RouteInput {
  // Shared, not copied: the cluster reconciler keeps each decoded route
  // generation, and a pass over 10,000 routes would otherwise copy them all.
  std::shared_ptr<const crds::Route> route;
  int64_t generation = 0;
  std::string created_at;  // RFC 3339; older routes win conflicts
  // One per spec.backends entry, same order.
  std::vector<ResolvedBackend> backends;
  // TLS terminate: whether the secret exists (the proxy mounts it).
  bool secret_found = true;
  // TLS terminate: whether every running proxy already has the secret.
  bool secret_mounted = true;
};

struct RouteOutcome {
  bool served = false;  // part of the rendered config
  std::string reason;   // kReason*; kReasonReady when served and healthy
  std::string message;
  std::vector<std::string> endpoints;  // "ip:port" of every backend
};

struct BuildResult {
  model::TrafficModel model;
  std::map<std::string, RouteOutcome> routes;  // by route name
  std::vector<std::string> secrets;            // TLS secrets the proxies must mount, sorted
};

struct BuildOptions {
  std::string certs_dir = "/run/secrets";  // where the proxy finds mounted secrets
  // Routes left out on purpose (e.g. the engine rejected them), with the
  // engine's message.
  std::map<std::string, std::string> excluded;
  // The cluster's defaultBackend service, resolved like a route backend;
  // read only when the cluster names a service.
  ResolvedBackend default_backend;
};

BuildResult BuildModel(const crds::ServiceCluster& cluster, std::vector<RouteInput> routes,
                       const BuildOptions& options);

// The upstream name of backend `index` of `route`.
std::string UpstreamName(const std::string& route, size_t index);

}  // namespace sg::reconcilers
