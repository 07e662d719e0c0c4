#pragma once
// The conditions of routes and clusters, composed from what a pass found.
// Pure functions: the status reporter writes what they return.

#include <string>

#include "crds/status.h"
#include "reconcilers/model/model_builder.h"

namespace sg::reconcilers {

// Route status. `live`: every proxy serves a configuration that includes
// this generation of the route. `degraded`: why the route is degraded
// (missing health check), or null.
crds::ResourceStatus ComposeRouteStatus(crds::ResourceStatus previous, int64_t generation,
                                        const RouteOutcome& outcome, const std::string* degraded,
                                        bool live, const std::string& now);

struct ProxyProgress {
  int desired = 0;
  int running = 0;
  bool converged = false;
  std::string progress;  // what the proxies are doing, for the message
};

// `degraded`: why part of the cluster cannot serve (its default backend),
// or empty.
crds::ResourceStatus ComposeClusterStatus(crds::ResourceStatus previous, int64_t generation,
                                          const ProxyProgress& proxies, const std::string& degraded,
                                          const std::string& now);

// A route whose ServiceCluster does not exist.
crds::ResourceStatus ComposeClusterNotFoundStatus(crds::ResourceStatus previous, int64_t generation,
                                                  const std::string& cluster,
                                                  const std::string& now);

// The decoded status in `status_json`, or an empty one.
crds::ResourceStatus PreviousStatus(const std::string& status_json);

}  // namespace sg::reconcilers
