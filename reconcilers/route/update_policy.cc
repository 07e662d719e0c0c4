#include "reconcilers/route/update_policy.h"

#include "operator/docker/service_spec_edit.h"

namespace sg::reconcilers {

bool ApplyUpdatePolicy(const crds::RouteUpdatePolicy& policy, std::string* spec_json) {
  docker::UpdateSettings settings;
  if (policy.order) {
    settings.order = *policy.order == crds::UpdateOrder::kStartFirst ? "start-first" : "stop-first";
  }
  if (policy.delay) settings.delay_ns = policy.delay->value.count() * 1000000LL;
  if (policy.stop_grace_period) {
    settings.stop_grace_ns = policy.stop_grace_period->value.count() * 1000000LL;
  }
  return docker::ApplyUpdateSettings(settings, spec_json);
}

}  // namespace sg::reconcilers
