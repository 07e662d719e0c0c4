#include "reconcilers/cluster/status_reporter.h"

#include "operator/common/time_format.h"

namespace sg::reconcilers {

StatusReporter::StatusReporter(store::ResourceStore& store, store::SwarmCache* cache,
                               runtime::Clock& clock)
    : store_(store), cache_(cache), clock_(clock) {}

std::string StatusReporter::Now() const { return FormatRfc3339(clock_.WallNow()); }

Status StatusReporter::Write(const store::StoredResource& resource,
                             const crds::ResourceStatus& status) {
  std::string json = crds::EncodeStatus(status);
  if (json == resource.status_json) return OkStatus();
  auto st = store_.WriteStatusIfChanged(resource, json);
  if (st.ok()) {
    if (cache_) cache_->NoteStatus(resource.kind, resource.name, resource.generation, json);
    return st;
  }
  if (st.error().Is(ErrorCode::kConflict) || st.error().Is(ErrorCode::kNotFound)) {
    return OkStatus();
  }
  return st;
}

Status StatusReporter::ReportCluster(const store::StoredResource& cluster,
                                     const ProxyProgress& proxies, const std::string& degraded) {
  return Write(cluster, ComposeClusterStatus(PreviousStatus(cluster.status_json),
                                             cluster.generation, proxies, degraded, Now()));
}

Status StatusReporter::ReportRoute(const store::StoredResource& route, const RouteOutcome& outcome,
                                   const std::string* degraded, bool live) {
  return Write(route, ComposeRouteStatus(PreviousStatus(route.status_json), route.generation,
                                         outcome, degraded, live, Now()));
}

Status StatusReporter::ReportClusterNotFound(const std::vector<store::StoredResource>& routes,
                                             const std::string& cluster) {
  Status result;
  const std::string now = Now();
  for (const auto& r : routes) {
    auto st = Write(
        r, ComposeClusterNotFoundStatus(PreviousStatus(r.status_json), r.generation, cluster, now));
    if (!st.ok() && result.ok()) result = st;
  }
  return result;
}

}  // namespace sg::reconcilers
