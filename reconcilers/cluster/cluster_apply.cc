#include "reconcilers/cluster/cluster_apply.h"

#include <spdlog/spdlog.h>

#include "operator/runtime/logging.h"

namespace sg::reconcilers {
namespace {

std::shared_ptr<spdlog::logger> Log() {
  static auto logger = runtime::NamedLogger("cluster");
  return logger;
}

docker::Labels OwnedLabels(const std::string& cluster) {
  return {{kLabelOwner, OwnerValue(cluster)}, {kLabelManagedBy, kManagedByValue}};
}

std::string OwnerFilter(const std::string& cluster) {
  return std::string(kLabelOwner) + "=" + OwnerValue(cluster);
}

}  // namespace

std::string RollingConfigName(const std::string& cluster, const std::string& text) {
  return "sg.proxy." + cluster + "." + Sha256Hex(text).substr(0, 12);
}

ClusterApplier::ClusterApplier(docker::DockerClient& docker, store::SwarmCache* cache,
                               ConfigPublisher& publisher, ApplyOptions options)
    : docker_(docker), cache_(cache), publisher_(publisher), options_(std::move(options)) {}

Result<std::string> ClusterApplier::EnsureNetwork(const std::string& cluster,
                                                  const ClusterSnapshot& snapshot,
                                                  const std::string& name) {
  if (snapshot.network) return snapshot.network->id;
  docker::NetworkSpec spec;
  spec.name = name;
  spec.driver = "overlay";
  spec.attachable = true;
  spec.labels = OwnedLabels(cluster);
  auto id = docker_.CreateNetwork(spec);
  if (!id.ok()) return id.error();
  Log()->info("network created cluster={} network={}", cluster, name);
  if (cache_) {
    if (auto n = docker_.InspectNetwork(*id); n.ok()) cache_->PutNetwork(*n);
  }
  return id;
}

Result<std::string> ClusterApplier::EnsureControlNetwork(const ClusterSnapshot& snapshot) {
  if (snapshot.control_network) return snapshot.control_network->id;
  // The operator's stack creates it; if it is missing (operator run outside
  // Swarm), create it so proxies can start, shared by every cluster.
  docker::NetworkSpec spec;
  spec.name = options_.control_network;
  spec.driver = "overlay";
  spec.attachable = true;
  spec.labels = {{kLabelManagedBy, kManagedByValue}};
  auto id = docker_.CreateNetwork(spec);
  if (!id.ok()) return id.error();
  if (cache_) {
    if (auto n = docker_.InspectNetwork(*id); n.ok()) cache_->PutNetwork(*n);
  }
  return id;
}

Result<std::string> ClusterApplier::EnsureToken(const std::string& cluster,
                                                const ClusterSnapshot& snapshot,
                                                const std::string& name, std::string* secret_id) {
  if (const docker::Secret* s = snapshot.FindSecret(name)) {
    auto it = s->labels.find(kLabelTokenHash);
    if (it != s->labels.end()) {
      *secret_id = s->id;
      return it->second;
    }
    // Without its digest the token cannot be checked: replace it if it is
    // ours (the next pass rolls the proxies onto the new one).
    auto owner = s->labels.find(kLabelOwner);
    if (owner == s->labels.end() || owner->second != OwnerValue(cluster)) {
      return Conflict("secret \"" + name + "\" exists but was not created by swarmgate; remove it");
    }
    auto st = docker_.RemoveSecret(s->id);
    if (!st.ok()) return st.error();
    if (cache_) cache_->ForgetSecret(s->id);
  }
  // Docker never returns secret data, so only the digest is kept (in a label)
  // to check what agents present.
  auto token = RandomHexToken();
  if (!token.ok()) return token.error();
  docker::SecretSpec spec;
  spec.name = name;
  spec.data = *token;
  spec.labels = OwnedLabels(cluster);
  std::string digest = Sha256Hex(*token);
  spec.labels[kLabelTokenHash] = digest;
  auto id = docker_.CreateSecret(spec);
  if (!id.ok()) return id.error();
  *secret_id = *id;
  if (cache_) {
    if (auto s = docker_.InspectSecret(*id); s.ok()) cache_->PutSecret(*s);
  }
  return digest;
}

Result<std::string> ClusterApplier::EnsureRollingConfig(const std::string& cluster,
                                                        const std::string& name,
                                                        const std::string& text) {
  auto existing = docker_.InspectConfig(name);
  if (existing.ok()) return existing->id;
  if (!existing.error().Is(ErrorCode::kNotFound)) return existing.error();
  docker::ConfigSpec spec;
  spec.name = name;
  spec.data = text;
  spec.labels = OwnedLabels(cluster);
  return docker_.CreateConfig(spec);
}

void ClusterApplier::RemoveStaleRollingConfigs(const std::string& cluster,
                                               const std::string& keep) {
  auto configs = docker_.ListConfigs({{"label", {OwnerFilter(cluster)}}});
  if (!configs.ok()) return;
  for (const auto& c : *configs) {
    if (c.spec.name == keep || c.spec.name.rfind("sg.proxy.", 0) != 0) continue;
    // Docker refuses to remove a config a task still uses; the next pass retries.
    (void)docker_.RemoveConfig(c.id);
  }
}

Result<docker::Service> ClusterApplier::EnsureService(const std::string& cluster,
                                                      const std::string& name,
                                                      const SealedSpec& spec,
                                                      const docker::Service* current) {
  Result<docker::Service> service = NotFound(name);
  if (current) {
    if (HasSpecHash(*current, spec)) return *current;
    auto st = docker_.UpdateService(current->id, current->version, spec.json);
    if (!st.ok()) return st.error();  // a stale version retries with backoff
    Log()->info("service updated cluster={} service={}", cluster, name);
    service = docker_.InspectService(current->id);
  } else {
    auto id = docker_.CreateService(spec.json);
    if (!id.ok()) return id.error();
    Log()->info("service created cluster={} service={}", cluster, name);
    service = docker_.InspectService(*id);
  }
  if (service.ok() && cache_) cache_->PutService(*service);
  return service;
}

Status ClusterApplier::EnsureListener(const ClusterPlan& plan, const docker::Service* current) {
  const std::string& name = plan.name;
  if (!plan.desired.listener) {
    if (!current) return OkStatus();
    auto st = docker_.RemoveService(current->id);
    if (!st.ok() && !st.error().Is(ErrorCode::kNotFound)) return st;
    if (cache_) cache_->ForgetService(current->id);
    Log()->info("listener service removed cluster={} (publish mode ingress)", name);
    return OkStatus();
  }
  // Keep the image the listeners run: replacing them rolls every node's
  // holder for nothing. Only a change they need (ports, constraints)
  // replaces them, and then with the cluster's current image.
  if (current) {
    auto it = current->labels.find(kLabelImage);
    if (it != current->labels.end() &&
        HasSpecHash(*current, BuildListenerService(plan.cluster, it->second))) {
      return OkStatus();
    }
  }
  auto service =
      EnsureService(name, ListenerServiceName(name),
                    BuildListenerService(plan.cluster, plan.cluster.spec.proxy.image), current);
  if (!service.ok()) return service.error();
  return OkStatus();
}

Result<Applied> ClusterApplier::Apply(const ClusterSnapshot& snapshot, const ClusterPlan& plan,
                                      const std::string& config_text,
                                      const std::vector<SecretRef>& tls_secrets,
                                      const runtime::Trigger& trigger,
                                      runtime::Clock::TimePoint now) {
  const std::string& name = plan.name;
  Applied applied;
  auto network_id = EnsureNetwork(name, snapshot, plan.desired.network_name);
  if (!network_id.ok()) return network_id.error();
  applied.network_id = *network_id;

  ProxyServiceInputs inputs;
  inputs.network_id = *network_id;
  inputs.tls_secrets = tls_secrets;
  if (plan.desired.hot) {
    auto control = EnsureControlNetwork(snapshot);
    if (!control.ok()) return control.error();
    inputs.control_network_id = *control;
    inputs.operator_url = options_.operator_url;
    auto digest = EnsureToken(name, snapshot, plan.desired.token_secret, &inputs.token.id);
    if (!digest.ok()) return digest.error();
    inputs.token.name = plan.desired.token_secret;
    inputs.token.target = kTokenSecretTarget;
    publisher_.SetToken(name, *digest);
    applied.config_generation =
        publisher_.Publish(name, config_text, trigger.name.empty() ? "resync" : trigger.name,
                           trigger.empty() ? now : trigger.time);
  } else {
    applied.rolling_config_name = RollingConfigName(name, config_text);
    auto config_id = EnsureRollingConfig(name, applied.rolling_config_name, config_text);
    if (!config_id.ok()) return config_id.error();
    inputs.config_id = *config_id;
    inputs.config_name = applied.rolling_config_name;
  }

  // Host mode: the listener service holds the node ports, so proxies carry
  // none and Swarm can start a replacement beside the task it replaces.
  auto listener = EnsureListener(plan, snapshot.FindService(ListenerServiceName(name)));
  if (!listener.ok()) return listener.error();
  auto proxy = EnsureService(name, ProxyServiceName(name),
                             BuildProxyService(plan.desired.proxy_cluster, inputs),
                             snapshot.FindService(ProxyServiceName(name)));
  if (!proxy.ok()) return proxy.error();
  applied.proxy = std::move(*proxy);
  return applied;
}

Status ClusterApplier::Teardown(const std::string& cluster) {
  docker::Filters owned{{"label", {OwnerFilter(cluster)}}};
  bool remaining = false;
  auto services = docker_.ListServices(owned);
  if (!services.ok()) return services.error();
  for (const auto& s : *services) {
    auto st = docker_.RemoveService(s.id);
    if (!st.ok() && !st.error().Is(ErrorCode::kNotFound)) return st;
    if (cache_) cache_->ForgetService(s.id);
  }
  auto configs = docker_.ListConfigs(owned);
  if (!configs.ok()) return configs.error();
  for (const auto& c : *configs) {
    auto st = docker_.RemoveConfig(c.id);
    if (!st.ok() && !st.error().Is(ErrorCode::kNotFound)) remaining = true;
  }
  auto secrets = docker_.ListSecrets(owned);
  if (!secrets.ok()) return secrets.error();
  for (const auto& s : *secrets) {
    auto st = docker_.RemoveSecret(s.id);
    if (!st.ok() && !st.error().Is(ErrorCode::kNotFound)) {
      remaining = true;
    } else if (cache_) {
      cache_->ForgetSecret(s.id);
    }
  }
  auto networks = docker_.ListNetworks(owned);
  if (!networks.ok()) return networks.error();
  for (const auto& n : *networks) {
    auto st = docker_.RemoveNetwork(n.id);
    if (!st.ok() && !st.error().Is(ErrorCode::kNotFound)) {
      remaining = true;
    } else if (cache_) {
      cache_->ForgetNetwork(n.id);
    }
  }
  if (remaining) return Unavailable("cluster/" + cluster + ": owned objects still in use");
  Log()->info("cluster removed cluster={}", cluster);
  return OkStatus();
}

Result<std::vector<std::string>> ClusterApplier::OrphanedClusters(
    const std::set<std::string>& live) {
  std::set<std::string> orphans;
  auto collect = [&](const docker::Labels& labels) {
    auto it = labels.find(kLabelOwner);
    if (it != labels.end() && it->second.rfind("cluster/", 0) == 0 && !live.count(it->second)) {
      orphans.insert(it->second.substr(8));
    }
  };
  docker::Filters managed{{"label", {std::string(kLabelManagedBy) + "=" + kManagedByValue}}};
  if (auto s = docker_.ListServices(managed); s.ok()) {
    for (const auto& x : *s) collect(x.labels);
  }
  if (auto n = docker_.ListNetworks(managed); n.ok()) {
    for (const auto& x : *n) collect(x.labels);
  }
  if (auto c = docker_.ListConfigs(managed); c.ok()) {
    for (const auto& x : *c) collect(x.spec.labels);
  }
  if (auto s = docker_.ListSecrets(managed); s.ok()) {
    for (const auto& x : *s) collect(x.labels);
  }
  return std::vector<std::string>(orphans.begin(), orphans.end());
}

}  // namespace sg::reconcilers
