#pragma once
// Report: the last step of a cluster pass, and the one writer of route and
// cluster status. Every status the operator writes goes through here, so
// routes read the same whether their cluster pass or their own pass wrote
// them. An unchanged status costs no Docker call; a written one is noted in
// the cache so the next pass compares against it.
//
// Thread-safety: stateless apart from references to thread-safe objects.

#include <string>
#include <vector>

#include "operator/runtime/clock.h"
#include "operator/store/resource_store.h"
#include "operator/store/swarm_cache.h"
#include "reconcilers/cluster/status_conditions.h"

namespace sg::reconcilers {

class StatusReporter {
 public:
  // `cache` may be null (nothing to note).
  StatusReporter(store::ResourceStore& store, store::SwarmCache* cache, runtime::Clock& clock);

  // `degraded`: see ComposeClusterStatus.
  Status ReportCluster(const store::StoredResource& cluster, const ProxyProgress& proxies,
                       const std::string& degraded);
  Status ReportRoute(const store::StoredResource& route, const RouteOutcome& outcome,
                     const std::string* degraded, bool live);
  // Routes naming a ServiceCluster that does not exist.
  Status ReportClusterNotFound(const std::vector<store::StoredResource>& routes,
                               const std::string& cluster);

 private:
  // A resource that moved to a newer generation or was deleted meanwhile is
  // not an error: its own pass writes the newer status.
  Status Write(const store::StoredResource& resource, const crds::ResourceStatus& status);
  std::string Now() const;

  store::ResourceStore& store_;
  store::SwarmCache* cache_;
  runtime::Clock& clock_;
};

}  // namespace sg::reconcilers
