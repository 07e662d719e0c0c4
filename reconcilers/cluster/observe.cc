#include "reconcilers/cluster/observe.h"

#include "reconcilers/proxy_service_spec.h"

namespace sg::reconcilers {

std::string ClusterNetworkName(const crds::ServiceCluster& cluster) {
  return cluster.spec.network.empty() ? "sg-" + cluster.metadata.name : cluster.spec.network;
}

std::string TokenSecretName(const std::string& cluster) { return "sg-token-" + cluster; }

ClusterSnapshot Observe(const store::SwarmCache& cache, const std::string& cluster,
                        const std::string& control_network) {
  ClusterSnapshot s;
  s.name = cluster;
  s.cluster = cache.Resource(crds::Kind::kServiceCluster, cluster);
  s.routes = cache.RoutesOfCluster(cluster);

  auto add_service = [&](const std::string& name) {
    if (s.services.count(name)) return;
    auto svc = cache.Service(name);
    if (!svc) return;
    s.tasks[svc->id] = cache.TasksOf(svc->id);
    s.services.emplace(name, std::move(svc));
  };
  auto add_secret = [&](const std::string& name) {
    if (s.secrets.count(name)) return;
    if (auto secret = cache.Secret(name)) s.secrets.emplace(name, std::move(secret));
  };
  add_service(ProxyServiceName(cluster));
  add_service(ListenerServiceName(cluster));
  add_secret(TokenSecretName(cluster));
  for (const auto& r : s.routes) {
    if (!r.route) continue;
    for (const crds::Backend* b : crds::AllBackends(r.route->spec)) add_service(b->service);
    if (r.route->spec.tls && r.route->spec.tls->secret) add_secret(*r.route->spec.tls->secret);
  }
  if (s.cluster && s.cluster->cluster) {
    if (const auto& d = s.cluster->cluster->spec.default_backend; d && !d->service.empty()) {
      add_service(d->service);
    }
    s.network = cache.Network(ClusterNetworkName(*s.cluster->cluster));
  }
  s.control_network = cache.Network(control_network);
  s.nodes = cache.Nodes();
  return s;
}

}  // namespace sg::reconcilers
