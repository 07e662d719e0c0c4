#pragma once
// Enforces a Route's updatePolicy on a backend service's spec: maps the
// policy onto the Docker layer's typed update settings, so the route
// reconciler only decides whether to send the spec back.

#include <string>

#include "crds/types.h"

namespace sg::reconcilers {

// Returns true and rewrites *spec_json when the service's update order, delay
// or stop grace period differ from the policy (unset policy fields are left
// alone).
bool ApplyUpdatePolicy(const crds::RouteUpdatePolicy& policy, std::string* spec_json);

}  // namespace sg::reconcilers
