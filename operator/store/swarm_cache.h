#pragma once
// The operator's local view of the Swarm, in the manner of client-go's
// informers: resources, services, tasks, secrets, networks and nodes, kept
// current by the event stream (OnEvent), the task poller's listings
// (ReplaceServicesAndTasks), the writers' own results (Put*, NoteStatus) and
// a periodic full relist (Relist). Reconcilers read it instead of listing the
// Swarm, so a cluster pass costs in proportion to its own objects, not to
// everything the Swarm holds.
//
// What is read may be a little stale; reconciles are level-triggered, and
// every change that can matter also arrives as an event, a task listing or a
// relist, each of which enqueues the affected keys after the cache is
// updated.
//
// Thread-safety: every method may be called from any thread. One mutex
// guards the maps; values are handed out as shared pointers to immutable
// objects (or copies), so readers never see a partial update.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "crds/types.h"
#include "operator/docker/docker_client.h"
#include "operator/store/resource_store.h"

namespace sg::store {

// A stored resource with its spec decoded once per config id (a config's
// data never changes). Exactly one of route/cluster is set when the data
// decodes as that kind; neither when it does not.
struct CachedResource {
  StoredResource stored;
  std::shared_ptr<const crds::Route> route;
  std::shared_ptr<const crds::ServiceCluster> cluster;
};

using TaskList = std::vector<docker::Task>;
using NodeList = std::vector<docker::Node>;

class SwarmCache {
 public:
  SwarmCache(docker::DockerClient& docker, ResourceStore& store);

  // Lists everything again and replaces the cache.
  Status Relist();
  // Whether a relist has succeeded at least once.
  bool synced() const;

  // Refreshes what a Docker event names. Config updates are label changes,
  // which only status writes make, and those are noted by the writer
  // (NoteStatus), so they are skipped. A node event lists every node again:
  // nodes are few and their events rare, and a status change (a node going
  // down) must be seen before the passes it enqueues run. Errors are logged:
  // the next relist repairs what a failed refresh missed.
  void OnEvent(const docker::Event& event);
  // The task poller's listing of every service and task.
  void ReplaceServicesAndTasks(std::vector<docker::Service> services,
                               std::vector<docker::Task> tasks);

  // Re-reads one resource from the store (absent: removed from the cache).
  Status RefreshResource(crds::Kind kind, const std::string& name);

  // Write-through from the operator's own changes, so its next pass sees
  // them before the event arrives.
  void PutService(docker::Service service);
  void ForgetService(const std::string& id_or_name);
  void PutNetwork(docker::Network network);
  void ForgetNetwork(const std::string& id_or_name);
  void PutSecret(docker::Secret secret);
  void ForgetSecret(const std::string& id_or_name);
  void NoteStatus(crds::Kind kind, const std::string& name, int64_t generation,
                  const std::string& status_json);

  std::optional<CachedResource> Resource(crds::Kind kind, const std::string& name) const;
  // Current generations of `kind` (all when nullopt), sorted by kind and name.
  std::vector<CachedResource> Resources(std::optional<crds::Kind> kind) const;
  // Routes whose spec.serviceCluster is `cluster`, sorted by name.
  std::vector<CachedResource> RoutesOfCluster(const std::string& cluster) const;

  std::shared_ptr<const docker::Service> Service(const std::string& name) const;
  // Every task of the service with this id (any state); never null.
  std::shared_ptr<const TaskList> TasksOf(const std::string& service_id) const;
  std::shared_ptr<const docker::Secret> Secret(const std::string& name) const;
  std::shared_ptr<const docker::Network> Network(const std::string& name) const;
  // Every node of the Swarm as last listed; never null.
  std::shared_ptr<const NodeList> Nodes() const;
  // Lists the nodes again now. Manager reachability changes come with no
  // event, so the operator polls this; an error keeps the last listing.
  Status PollNodes();

 private:
  struct ResourceKey {
    int kind;
    std::string name;
    bool operator<(const ResourceKey& o) const {
      return kind != o.kind ? kind < o.kind : name < o.name;
    }
  };

  CachedResource Decode(StoredResource stored) const;
  void PutResourceLocked(CachedResource r);
  void EraseResourceLocked(const ResourceKey& key);
  void ReplaceServicesLocked(std::vector<docker::Service> services);
  void ReplaceTasksLocked(std::vector<docker::Task> tasks);
  void RefreshService(const std::string& id, const std::string& name);
  void RefreshSecret(const std::string& id, const std::string& name);
  void RefreshNetwork(const std::string& id, const std::string& name);
  void RefreshNodes();

  docker::DockerClient& docker_;
  ResourceStore& store_;

  mutable std::mutex mu_;
  bool synced_ = false;                                             // GUARDED_BY(mu_)
  std::map<ResourceKey, CachedResource> resources_;                 // GUARDED_BY(mu_)
  std::map<std::string, std::set<std::string>> routes_by_cluster_;  // GUARDED_BY(mu_)
  // Decoded specs by config id, reused across refreshes and relists.
  std::map<std::string, CachedResource> decoded_by_id_;                     // GUARDED_BY(mu_)
  std::map<std::string, std::shared_ptr<const docker::Service>> services_;  // by name
  std::map<std::string, std::string> service_name_by_id_;                   // GUARDED_BY(mu_)
  std::map<std::string, std::shared_ptr<const TaskList>> tasks_;            // by service id
  std::map<std::string, std::shared_ptr<const docker::Secret>> secrets_;    // by name
  std::map<std::string, std::shared_ptr<const docker::Network>> networks_;  // by name
  // Every node, replaced whole by each listing. GUARDED_BY(mu_)
  std::shared_ptr<const NodeList> nodes_ = std::make_shared<const NodeList>();
};

}  // namespace sg::store
