#include "reconcilers/cluster/cluster_plan.h"

#include <utility>

#include "reconcilers/cluster/observe.h"
#include "reconcilers/endpoint_resolver.h"
#include "reconcilers/lost_nodes.h"

namespace sg::reconcilers {
namespace {

bool Rolled(const docker::Service& s) {
  return s.update_state.empty() || s.update_state == "completed" ||
         s.update_state == "rollback_completed";
}

// A resolved backend as the model input fingerprint holds it.
void AppendResolved(const ResolvedBackend& b, std::string& in) {
  in += "|" + std::to_string(static_cast<int>(b.problem)) + "-" + std::to_string(b.on_lost_nodes);
  for (const auto& e : b.endpoints) in += "," + e.Address();
}

}  // namespace

std::string ModelInputFingerprint(const ClusterPlan& plan) {
  std::string in;
  in.reserve(64 + 96 * plan.route_inputs.size());
  in += plan.name + "#" + std::to_string(plan.generation) + "#" + plan.created_at + "\n";
  for (const auto& r : plan.route_inputs) {
    in += r.route->metadata.name + "#" + std::to_string(r.generation) + "#" + r.created_at + "#" +
          (r.secret_found ? "f" : "-") + (r.secret_mounted ? "m" : "-");
    for (const auto& b : r.backends) AppendResolved(b, in);
    in += "\n";
  }
  if (plan.cluster.spec.default_backend) {
    in += "default";
    AppendResolved(plan.default_backend, in);
    in += "\n";
  }
  return Sha256Hex(in);
}

BuildOptions PlanBuildOptions(const PlanOptions& options, const ClusterPlan& plan) {
  BuildOptions build;
  build.certs_dir = options.certs_dir;
  build.default_backend = plan.default_backend;
  return build;
}

std::string MissingHealthcheckMessage(const std::string& service, int port) {
  return "service \"" + service +
         "\" has no health check, so a rolling update cannot wait for new tasks to be ready; add "
         "one, e.g. docker service update --health-cmd 'wget -q -O /dev/null http://127.0.0.1:" +
         std::to_string(port) + "/healthz' " + service;
}

std::vector<SecretRef> TlsSecretsToMount(const ClusterSnapshot& snapshot,
                                         const std::vector<std::string>& names) {
  std::vector<SecretRef> out;
  for (const auto& name : names) {
    if (const docker::Secret* s = snapshot.FindSecret(name)) out.push_back({s->id, name, name});
  }
  return out;
}

ClusterPlan PlanCluster(const ClusterSnapshot& snapshot, const PlanOptions& options) {
  ClusterPlan plan;
  plan.name = snapshot.name;
  plan.cluster = *snapshot.cluster->cluster;
  plan.generation = snapshot.cluster->stored.generation;
  plan.created_at = snapshot.cluster->stored.created_at;
  const auto& proxy = plan.cluster.spec.proxy;
  const bool hot = proxy.delivery == crds::Delivery::kHot;

  DesiredObjects& desired = plan.desired;
  desired.network_name = ClusterNetworkName(plan.cluster);
  desired.hot = hot;
  if (hot) desired.token_secret = TokenSecretName(plan.name);
  desired.listener = proxy.publish_mode == crds::PublishMode::kHost;
  desired.proxy_cluster = plan.cluster;
  const docker::Service* current_proxy = snapshot.FindService(ProxyServiceName(plan.name));
  if (current_proxy && current_proxy->publishes_host_ports && desired.listener) {
    // Proxies from before the listener service still hold the host ports:
    // the listeners cannot start until they are gone, and a start-first
    // replacement would wait for a listener for ever. This one update is
    // stop-first.
    desired.proxy_cluster.spec.proxy.update_policy.order = crds::UpdateOrder::kStopFirst;
  }

  // Hot delivery: secrets every running proxy has (the proxy service is not
  // rolling and its spec mounts them). Rolling delivery mounts the secrets
  // and the config in the same update.
  std::set<std::string> mounted;
  if (hot && current_proxy && Rolled(*current_proxy)) {
    mounted.insert(current_proxy->secret_names.begin(), current_proxy->secret_names.end());
  }

  // Tasks on nodes Swarm reports lost leave the configuration at once,
  // before Swarm reschedules them.
  plan.lost_nodes = snapshot.nodes ? LostNodes(*snapshot.nodes) : std::set<std::string>{};
  const std::set<std::string>& lost_nodes = plan.lost_nodes;
  // Until apply creates the network no backend can be attached to it.
  ClusterNetwork network{"", desired.network_name};
  if (snapshot.network) network = {snapshot.network->id, snapshot.network->name};
  // A service the cluster sends to, resolved and watched.
  auto resolve = [&](const std::string& service, int port, bool vip) {
    plan.used_services.insert(service);
    const docker::Service* svc = snapshot.FindService(service);
    static const store::TaskList kNoTasks;
    const auto& tasks = svc ? snapshot.TasksOf(svc->id) : kNoTasks;
    return std::make_pair(ResolveBackend(service, svc, tasks, port, network, vip, lost_nodes), svc);
  };
  for (const auto& r : snapshot.routes) {
    if (!r.route) continue;
    const crds::Route& route = *r.route;
    plan.route_names.insert(r.stored.name);
    RouteInput in;
    in.route = r.route;
    in.generation = r.stored.generation;
    in.created_at = r.stored.created_at;
    bool vip = crds::EffectiveBackendMode(route, &plan.cluster) == crds::BackendMode::kVip;
    for (const crds::Backend* backend : crds::AllBackends(route.spec)) {
      const crds::Backend& b = *backend;
      auto [resolved, svc] = resolve(b.service, b.port, vip);
      in.backends.push_back(std::move(resolved));
      if (svc && route.spec.update_policy && route.spec.update_policy->require_healthcheck &&
          !svc->has_healthcheck) {
        plan.degraded[r.stored.name] = MissingHealthcheckMessage(b.service, b.port);
      }
    }
    if (route.spec.tls && route.spec.tls->mode == crds::TlsMode::kTerminate) {
      const auto& secret = route.spec.tls->secret;
      in.secret_found = secret && snapshot.FindSecret(*secret) != nullptr;
      in.secret_mounted = !hot || (secret && mounted.count(*secret));
    }
    plan.route_inputs.push_back(std::move(in));
  }
  if (const auto& d = plan.cluster.spec.default_backend; d && !d->service.empty()) {
    bool vip = plan.cluster.spec.backend_mode == crds::BackendMode::kVip;
    plan.default_backend = resolve(d->service, d->port, vip).first;
    if (plan.default_backend.problem != BackendProblem::kNone) {
      plan.default_backend_problem = "spec.defaultBackend: " + plan.default_backend.message;
    } else if (plan.default_backend.endpoints.empty()) {
      plan.default_backend_problem = "spec.defaultBackend: no running task of service \"" +
                                     d->service + "\" yet: requests no route claims get 503";
    }
  }
  plan.built = BuildModel(plan.cluster, plan.route_inputs, PlanBuildOptions(options, plan));
  return plan;
}

}  // namespace sg::reconcilers
