#pragma once
// Which clusters depend on which services and routes, as last seen by the
// cluster reconciler. Watchers use it to turn a service or task change into
// the cluster keys to reconcile. Derived state only: rebuilt by every
// reconcile, empty after a restart until the first resync fills it.
//
// Thread-safety: all methods lock one mutex.

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace sg::reconcilers {

class ClusterIndex {
 public:
  // Replaces what `cluster` depends on.
  void Set(const std::string& cluster, std::set<std::string> services,
           std::set<std::string> routes) {
    std::lock_guard<std::mutex> lock(mu_);
    services_[cluster] = std::move(services);
    routes_[cluster] = std::move(routes);
  }
  void Remove(const std::string& cluster) {
    std::lock_guard<std::mutex> lock(mu_);
    services_.erase(cluster);
    routes_.erase(cluster);
  }
  std::vector<std::string> ClustersUsingService(const std::string& service) const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (const auto& [cluster, services] : services_) {
      if (services.count(service)) out.push_back(cluster);
    }
    return out;
  }
  std::vector<std::string> ClustersOfRoute(const std::string& route) const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (const auto& [cluster, routes] : routes_) {
      if (routes.count(route)) out.push_back(cluster);
    }
    return out;
  }
  std::set<std::string> AllServices() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::set<std::string> out;
    for (const auto& [cluster, services] : services_) out.insert(services.begin(), services.end());
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::set<std::string>> services_;
  std::map<std::string, std::set<std::string>> routes_;
};

}  // namespace sg::reconcilers
