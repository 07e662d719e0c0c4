#include "reconcilers/cluster_reconciler.h"

#include <openssl/rand.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <set>

#include <rapidjson/document.h>
#include <spdlog/spdlog.h>

#include "operator/common/time_format.h"
#include "operator/runtime/logging.h"

#include "crds/loader.h"
#include "crds/status.h"
#include "reconcilers/endpoint_resolver.h"
#include "reconcilers/model/model_builder.h"
#include "reconcilers/nginx/nginx_renderer.h"
#include "reconcilers/proxy_service_spec.h"

namespace sg::reconcilers {
namespace {

std::shared_ptr<spdlog::logger> Log() {
  static auto logger = runtime::NamedLogger("cluster");
  return logger;
}

std::string Rfc3339(std::chrono::system_clock::time_point t) { return FormatRfc3339(t); }

docker::Labels OwnedLabels(const std::string& cluster) {
  return {{kLabelOwner, OwnerValue(cluster)}, {kLabelManagedBy, kManagedByValue}};
}

std::string Owner(const std::string& cluster) {
  return std::string(kLabelOwner) + "=" + OwnerValue(cluster);
}

// nginx -t names the line that failed ("... in nginx.conf:123"); the renderer
// writes "# route NAME" comments, so the nearest one above is the culprit.
std::string RouteAtErrorLine(const std::string& config, const std::string& message) {
  auto pos = message.rfind(".conf:");
  if (pos == std::string::npos) return "";
  int line = std::atoi(message.c_str() + pos + 6);
  if (line <= 0) return "";
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= config.size() && static_cast<int>(lines.size()) < line) {
    size_t end = config.find('\n', start);
    if (end == std::string::npos) end = config.size();
    lines.push_back(config.substr(start, end - start));
    start = end + 1;
  }
  for (int i = static_cast<int>(lines.size()) - 1; i >= 0; --i) {
    auto p = lines[i].find("# route ");
    if (p != std::string::npos) {
      std::string rest = lines[i].substr(p + 8);
      size_t e = rest.find_first_of(" :;,");
      return rest.substr(0, e);
    }
  }
  return "";
}

// Secret names of a service spec's TaskTemplate.ContainerSpec.Secrets.
std::set<std::string> MountedSecrets(const std::string& spec_json) {
  std::set<std::string> out;
  rapidjson::Document d;
  d.Parse(spec_json.c_str(), spec_json.size());
  if (d.HasParseError() || !d.IsObject()) return out;
  auto task = d.FindMember("TaskTemplate");
  if (task == d.MemberEnd() || !task->value.IsObject()) return out;
  auto container = task->value.FindMember("ContainerSpec");
  if (container == task->value.MemberEnd() || !container->value.IsObject()) return out;
  auto secrets = container->value.FindMember("Secrets");
  if (secrets == container->value.MemberEnd() || !secrets->value.IsArray()) return out;
  for (const auto& s : secrets->value.GetArray()) {
    if (s.IsObject() && s.HasMember("SecretName") && s["SecretName"].IsString()) {
      out.insert(s["SecretName"].GetString());
    }
  }
  return out;
}

// Whether a service spec publishes a port in host mode
// (EndpointSpec.Ports[].PublishMode).
bool PublishesHostPorts(const std::string& spec_json) {
  rapidjson::Document d;
  d.Parse(spec_json.c_str(), spec_json.size());
  if (d.HasParseError() || !d.IsObject()) return false;
  auto endpoint = d.FindMember("EndpointSpec");
  if (endpoint == d.MemberEnd() || !endpoint->value.IsObject()) return false;
  auto ports = endpoint->value.FindMember("Ports");
  if (ports == endpoint->value.MemberEnd() || !ports->value.IsArray()) return false;
  for (const auto& p : ports->value.GetArray()) {
    if (p.IsObject() && p.HasMember("PublishMode") && p["PublishMode"].IsString() &&
        std::string(p["PublishMode"].GetString()) == "host") {
      return true;
    }
  }
  return false;
}

// Whether `service` carries the spec-hash label that the desired `spec`
// (built with its label) carries: then nothing needs to change.
bool HasSpecHashOf(const docker::Service& service, const std::string& spec) {
  auto it = service.labels.find(kLabelSpecHash);
  return it != service.labels.end() && !it->second.empty() &&
         spec.find("\"" + std::string(kLabelSpecHash) + "\":\"" + it->second + "\"") !=
             std::string::npos;
}

std::string RandomToken() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) return "";
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

crds::Condition Cond(const char* type, bool status, std::string reason, std::string message) {
  crds::Condition c;
  c.type = type;
  c.status = status ? crds::kConditionTrue : crds::kConditionFalse;
  c.reason = std::move(reason);
  c.message = std::move(message);
  return c;
}

}  // namespace

ClusterReconciler::ClusterReconciler(docker::DockerClient& docker, store::ResourceStore& store,
                                     nginx::NginxValidator& validator, ConfigPublisher& publisher,
                                     ClusterIndex& index, metrics::SwarmgateMetrics& metrics,
                                     runtime::Clock& clock, ClusterReconcilerOptions options)
    : docker_(docker),
      store_(store),
      validator_(validator),
      publisher_(publisher),
      index_(index),
      metrics_(metrics),
      clock_(clock),
      options_(std::move(options)) {}

Result<std::string> ClusterReconciler::EnsureNetwork(const std::string& cluster,
                                                     const std::string& network) {
  auto nets = docker_.ListNetworks({{"name", {network}}});
  if (!nets.ok()) return nets.error();
  for (const auto& n : *nets) {
    // The name filter matches substrings: insist on the exact name.
    if (n.name == network) return n.id;
  }
  docker::NetworkSpec spec;
  spec.name = network;
  spec.driver = "overlay";
  spec.attachable = true;
  spec.labels = OwnedLabels(cluster);
  auto id = docker_.CreateNetwork(spec);
  if (!id.ok()) return id.error();
  Log()->info("network created cluster={} network={}", cluster, network);
  return id;
}

Result<std::string> ClusterReconciler::EnsureControlNetwork() {
  auto nets = docker_.ListNetworks({{"name", {options_.control_network}}});
  if (!nets.ok()) return nets.error();
  for (const auto& n : *nets) {
    if (n.name == options_.control_network) return n.id;
  }
  // The operator's stack creates it; if it is missing (operator run outside
  // Swarm), create it so proxies can start, shared by every cluster.
  docker::NetworkSpec spec;
  spec.name = options_.control_network;
  spec.driver = "overlay";
  spec.attachable = true;
  spec.labels = {{kLabelManagedBy, kManagedByValue}};
  return docker_.CreateNetwork(spec);
}

Result<std::string> ClusterReconciler::EnsureToken(const std::string& cluster,
                                                   std::string* secret_id) {
  std::string name = "sg-token-" + cluster;
  auto secrets = docker_.ListSecrets({{"name", {name}}});
  if (!secrets.ok()) return secrets.error();
  for (const auto& s : *secrets) {
    if (s.name != name) continue;
    auto it = s.labels.find(kLabelTokenHash);
    if (it != s.labels.end()) {
      *secret_id = s.id;
      return it->second;
    }
    // Without its digest the token cannot be checked: replace it if it is
    // ours (the next pass rolls the proxies onto the new one).
    auto owner = s.labels.find(kLabelOwner);
    if (owner == s.labels.end() || owner->second != OwnerValue(cluster)) {
      return Conflict("secret \"" + name + "\" exists but was not created by swarmgate; remove it");
    }
    auto st = docker_.RemoveSecret(s.id);
    if (!st.ok()) return st.error();
  }
  // Docker never returns secret data, so only the digest is kept (in a label)
  // to check what agents present.
  std::string token = RandomToken();
  if (token.empty()) return Internal("no randomness for the agent token");
  docker::SecretSpec spec;
  spec.name = name;
  spec.data = token;
  spec.labels = OwnedLabels(cluster);
  std::string digest = Sha256Hex(token);
  spec.labels[kLabelTokenHash] = digest;
  auto id = docker_.CreateSecret(spec);
  if (!id.ok()) return id.error();
  *secret_id = *id;
  return digest;
}

Result<std::string> ClusterReconciler::EnsureRollingConfig(const std::string& cluster,
                                                           const std::string& text) {
  std::string name = "sg.proxy." + cluster + "." + Sha256Hex(text).substr(0, 12);
  auto existing = docker_.InspectConfig(name);
  if (existing.ok()) return existing->id;
  if (!existing.error().Is(ErrorCode::kNotFound)) return existing.error();
  docker::ConfigSpec spec;
  spec.name = name;
  spec.data = text;
  spec.labels = OwnedLabels(cluster);
  return docker_.CreateConfig(spec);
}

void ClusterReconciler::RemoveStaleRollingConfigs(const std::string& cluster,
                                                  const std::string& keep_name) {
  auto configs = docker_.ListConfigs({{"label", {Owner(cluster)}}});
  if (!configs.ok()) return;
  for (const auto& c : *configs) {
    if (c.spec.name == keep_name || c.spec.name.rfind("sg.proxy.", 0) != 0) continue;
    // Docker refuses to remove a config a task still uses; the next pass retries.
    (void)docker_.RemoveConfig(c.id);
  }
}

Result<docker::Service> ClusterReconciler::EnsureService(const std::string& cluster,
                                                         const std::string& name,
                                                         const std::string& spec,
                                                         const docker::Service* listed) {
  if (listed) {
    if (HasSpecHashOf(*listed, spec)) return *listed;
    auto st = docker_.UpdateService(listed->id, listed->version, spec);
    if (!st.ok()) return st.error();  // a stale version retries with backoff
    Log()->info("service updated cluster={} service={}", cluster, name);
    return docker_.InspectService(name);
  }
  auto id = docker_.CreateService(spec);
  if (!id.ok()) return id.error();
  Log()->info("service created cluster={} service={}", cluster, name);
  return docker_.InspectService(*id);
}

Status ClusterReconciler::EnsureListener(const crds::ServiceCluster& cluster,
                                         const std::string& network_id,
                                         const docker::Service* current) {
  const std::string& name = cluster.metadata.name;
  if (cluster.spec.proxy.publish_mode != crds::PublishMode::kHost) {
    if (!current) return OkStatus();
    auto st = docker_.RemoveService(current->id);
    if (!st.ok() && !st.error().Is(ErrorCode::kNotFound)) return st;
    Log()->info("listener service removed cluster={} (publish mode ingress)", name);
    return OkStatus();
  }
  // Keep the image the listeners run: restarting them would close the
  // node's ports. Only a change they need (ports, constraints, network)
  // replaces them, and then with the cluster's current image.
  if (current) {
    auto it = current->labels.find(kLabelImage);
    if (it != current->labels.end() &&
        HasSpecHashOf(*current, BuildListenerServiceSpec(cluster, it->second, network_id))) {
      return OkStatus();
    }
  }
  auto service = EnsureService(
      name, ListenerServiceName(name),
      BuildListenerServiceSpec(cluster, cluster.spec.proxy.image, network_id), current);
  if (!service.ok()) return service.error();
  return OkStatus();
}

Status ClusterReconciler::Teardown(const std::string& cluster) {
  publisher_.Forget(cluster);
  index_.Remove(cluster);
  for (const char* state : {"desired", "running"}) metrics_.proxy_replicas.Remove({cluster, state});
  for (const char* ready : {"true", "false"}) metrics_.routes.Remove({cluster, ready});
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_valid_hash_.erase(cluster);
    rolling_pending_.erase(cluster);
    included_.erase(cluster);
  }
  docker::Filters owned{{"label", {Owner(cluster)}}};
  bool remaining = false;
  auto services = docker_.ListServices(owned);
  if (!services.ok()) return services.error();
  for (const auto& s : *services) {
    auto st = docker_.RemoveService(s.id);
    if (!st.ok() && !st.error().Is(ErrorCode::kNotFound)) return st;
  }
  // Networks, configs and secrets stay "in use" until the proxy tasks are
  // gone; the pass is retried (with backoff) until they can be removed.
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
    if (!st.ok() && !st.error().Is(ErrorCode::kNotFound)) remaining = true;
  }
  auto networks = docker_.ListNetworks(owned);
  if (!networks.ok()) return networks.error();
  for (const auto& n : *networks) {
    auto st = docker_.RemoveNetwork(n.id);
    if (!st.ok() && !st.error().Is(ErrorCode::kNotFound)) remaining = true;
  }
  if (remaining) return Unavailable("cluster/" + cluster + ": owned objects still in use");
  Log()->info("cluster removed cluster={}", cluster);
  return OkStatus();
}

void ClusterReconciler::MarkRoutesClusterNotFound(const std::string& cluster) {
  auto routes = store_.List(crds::Kind::kRoute);
  if (!routes.ok()) return;
  std::string now = Rfc3339(clock_.WallNow());
  for (const auto& r : *routes) {
    auto d = crds::DecodeStored(r.data);
    if (!d.ok() || !d->route() || d->route()->spec.service_cluster != cluster) continue;
    crds::ResourceStatus status;
    if (auto old = crds::DecodeStatus(r.status_json); !r.status_json.empty() && old.ok()) {
      status = *old;
    }
    status.observed_generation = r.generation;
    status.endpoints.clear();
    status.SetCondition(Cond(crds::kConditionReady, false, kReasonClusterNotFound,
                             "ServiceCluster \"" + cluster + "\" not found"),
                        now);
    status.SetCondition(Cond(crds::kConditionProgressing, false, "Waiting", ""), now);
    status.SetCondition(Cond(crds::kConditionDegraded, false, "None", ""), now);
    (void)store_.WriteStatusIfChanged(r, crds::EncodeStatus(status));
  }
}

std::shared_ptr<const crds::Route> ClusterReconciler::DecodeRoute(const store::StoredResource& r) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = decoded_routes_.find(r.config_id);
    if (it != decoded_routes_.end()) return it->second;
  }
  auto d = crds::DecodeStored(r.data);
  std::shared_ptr<const crds::Route> route;
  if (d.ok() && d->route()) route = std::make_shared<const crds::Route>(*d->route());
  std::lock_guard<std::mutex> lock(mu_);
  decoded_routes_[r.config_id] = route;
  return route;
}

Status ClusterReconciler::CollectGarbage() {
  auto clusters = store_.List(crds::Kind::kServiceCluster);
  if (!clusters.ok()) return clusters.error();
  std::set<std::string> live;
  for (const auto& c : *clusters) live.insert(OwnerValue(c.name));
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
  Status result;
  for (const auto& cluster : orphans) {
    Log()->info("garbage collecting cluster={}", cluster);
    auto st = Teardown(cluster);
    if (!st.ok()) result = st;
  }
  return result;
}

Result<runtime::ReconcileResult> ClusterReconciler::Reconcile(const std::string& key,
                                                              const runtime::Trigger& trigger) {
  const std::string name = key.substr(key.find('/') + 1);
  auto stored = store_.Get(crds::Kind::kServiceCluster, name);
  if (!stored.ok()) {
    if (!stored.error().Is(ErrorCode::kNotFound)) return stored.error();
    auto st = Teardown(name);
    if (!st.ok()) return st.error();
    MarkRoutesClusterNotFound(name);
    return runtime::ReconcileResult{};
  }
  auto decoded = crds::DecodeStored(stored->data);
  if (!decoded.ok() || !decoded->cluster()) {
    return InvalidArgument("cluster/" + name + ": stored spec cannot be decoded: " +
                           (decoded.ok() ? "not a ServiceCluster" : decoded.error().message));
  }
  crds::ServiceCluster cluster = *decoded->cluster();
  const auto& proxy = cluster.spec.proxy;
  bool hot = proxy.delivery == crds::Delivery::kHot;
  std::string network_name = cluster.spec.network.empty() ? "sg-" + name : cluster.spec.network;

  // Stage timings for the debug log: where a slow pass spends its time.
  const auto t_start = std::chrono::steady_clock::now();
  std::vector<std::pair<const char*, double>> stages;
  auto stage = [&, last = t_start](const char* what) mutable {
    const auto now = std::chrono::steady_clock::now();
    stages.emplace_back(what, std::chrono::duration<double>(now - last).count());
    last = now;
  };
  auto network_id = EnsureNetwork(name, network_name);
  if (!network_id.ok()) return network_id.error();
  ProxyServiceInputs inputs;
  inputs.network_id = *network_id;
  if (hot) {
    auto control = EnsureControlNetwork();
    if (!control.ok()) return control.error();
    inputs.control_network_id = *control;
    inputs.operator_url = options_.operator_url;
    auto digest = EnsureToken(name, &inputs.token.id);
    if (!digest.ok()) return digest.error();
    inputs.token.name = "sg-token-" + name;
    inputs.token.target = kTokenSecretTarget;
    publisher_.SetToken(name, *digest);
  }

  stage("ensure-network-token");
  // Everything the routes need, read once per pass.
  auto routes = store_.List(crds::Kind::kRoute);
  if (!routes.ok()) return routes.error();
  auto services = docker_.ListServices({});
  if (!services.ok()) return services.error();
  auto tasks = docker_.ListTasks({});
  if (!tasks.ok()) return tasks.error();
  auto secrets = docker_.ListSecrets({});
  if (!secrets.ok()) return secrets.error();

  std::map<std::string, const docker::Service*> service_by_name;
  for (const auto& s : *services) service_by_name[s.name] = &s;
  std::map<std::string, std::vector<docker::Task>> tasks_by_service;
  for (const auto& t : *tasks) tasks_by_service[t.service_id].push_back(t);
  std::map<std::string, const docker::Secret*> secret_by_name;
  for (const auto& s : *secrets) secret_by_name[s.name] = &s;

  // Hot delivery: secrets every running proxy has (the proxy service is not
  // rolling and its spec mounts them). Rolling delivery mounts the secrets
  // and the config in the same update.
  std::set<std::string> mounted;
  auto listed_proxy = service_by_name.find(ProxyServiceName(name));
  const docker::Service* current_proxy =
      listed_proxy == service_by_name.end() ? nullptr : listed_proxy->second;
  if (hot && current_proxy &&
      (current_proxy->update_state.empty() || current_proxy->update_state == "completed" ||
       current_proxy->update_state == "rollback_completed")) {
    mounted = MountedSecrets(current_proxy->spec_json);
  }

  std::vector<RouteInput> inputs_for_model;
  std::map<std::string, const store::StoredResource*> stored_routes;
  std::map<std::string, std::string> degraded;  // route -> health-check message
  std::set<std::string> used_services, route_names;
  for (const auto& r : *routes) {
    auto decoded_route = DecodeRoute(r);
    if (!decoded_route) continue;
    const crds::Route& route = *decoded_route;
    if (route.spec.service_cluster != name) continue;
    stored_routes[r.name] = &r;
    route_names.insert(r.name);
    RouteInput in;
    in.route = decoded_route;
    in.generation = r.generation;
    in.created_at = r.created_at;
    bool vip = crds::EffectiveBackendMode(route, &cluster) == crds::BackendMode::kVip;
    for (const auto& b : route.spec.backends) {
      used_services.insert(b.service);
      auto it = service_by_name.find(b.service);
      const docker::Service* svc = it == service_by_name.end() ? nullptr : it->second;
      static const std::vector<docker::Task> kNoTasks;
      const auto& svc_tasks = svc ? tasks_by_service[svc->id] : kNoTasks;
      in.backends.push_back(
          ResolveBackend(b.service, svc, svc_tasks, b.port, {*network_id, network_name}, vip));
      if (svc && route.spec.update_policy && route.spec.update_policy->require_healthcheck &&
          !svc->has_healthcheck) {
        degraded[r.name] = "service \"" + b.service +
                           "\" has no health check, so a rolling update cannot wait for new "
                           "tasks to be ready; add one, e.g. docker service update "
                           "--health-cmd 'wget -q -O /dev/null http://127.0.0.1:" +
                           std::to_string(b.port) + "/healthz' " + b.service;
      }
    }
    if (route.spec.tls && route.spec.tls->mode == crds::TlsMode::kTerminate) {
      in.secret_found = route.spec.tls->secret && secret_by_name.count(*route.spec.tls->secret);
      in.secret_mounted =
          !hot || (route.spec.tls->secret && mounted.count(*route.spec.tls->secret));
    }
    inputs_for_model.push_back(std::move(in));
  }
  {
    // Forget decoded generations that no longer exist.
    std::lock_guard<std::mutex> lock(mu_);
    if (decoded_routes_.size() > 2 * routes->size() + 64) {
      std::map<std::string, std::shared_ptr<const crds::Route>> live;
      for (const auto& r : *routes) {
        auto it = decoded_routes_.find(r.config_id);
        if (it != decoded_routes_.end()) live.emplace(*it);
      }
      decoded_routes_ = std::move(live);
    }
  }
  index_.Set(name, used_services, route_names);

  // Render; a route that nginx rejects is left out (and reported), and the
  // rest is rendered again, a bounded number of times.
  stage("list");
  BuildOptions build;
  build.certs_dir = options_.certs_dir;
  nginx::RenderOptions render;
  render.pid_file = "nginx.pid";
  render.access_log = "off";
  render.stream_module = options_.stream_module;
  BuildResult built;
  std::string text;
  std::string nginx_error;
  for (int attempt = 0; attempt < 4; ++attempt) {
    auto t0 = std::chrono::steady_clock::now();
    built = BuildModel(cluster, inputs_for_model, build);
    text = nginx::RenderNginxConfig(built.model, render);
    metrics_.render_duration_seconds.WithLabels({}).Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    std::string hash = Sha256Hex(text);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (last_valid_hash_[name] == hash) break;
    }
    // Validate a copy whose certificates point at placeholders: the operator
    // never holds the real keys.
    BuildOptions check_build = build;
    check_build.certs_dir = "certs";
    auto check_model = BuildModel(cluster, inputs_for_model, check_build).model;
    std::string check_text = nginx::RenderNginxConfig(check_model, render);
    std::map<std::string, std::string> files;
    auto cert_paths = nginx::CertificateFiles(check_model);
    if (!cert_paths.empty()) {
      if (!placeholder_cert_) {
        auto cert = nginx::GenerateSelfSignedCertificate();
        if (!cert.ok()) return cert.error();
        placeholder_cert_ = *cert;
      }
      files = nginx::PlaceholderCertificateFiles(cert_paths, *placeholder_cert_);
    }
    auto st = validator_.Validate(check_text, files);
    if (st.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      last_valid_hash_[name] = hash;
      break;
    }
    std::string culprit = RouteAtErrorLine(check_text, st.error().message);
    Log()->warn("nginx rejected config cluster={} route={} error={}", name, culprit,
                st.error().message);
    if (culprit.empty() || build.excluded.count(culprit) || attempt == 3) {
      // Nothing to blame: keep the last good configuration serving.
      nginx_error = st.error().message;
      text.clear();
      break;
    }
    build.excluded[culprit] = st.error().message;
  }
  if (text.empty()) {
    return Internal("cluster/" + name + ": no valid configuration: " + nginx_error);
  }

  for (const auto& s : built.secrets) {
    auto it = secret_by_name.find(s);
    if (it != secret_by_name.end()) inputs.tls_secrets.push_back({it->second->id, s, s});
  }

  stage("build-render-check");
  int64_t generation = 0;
  std::string rolling_name;
  if (hot) {
    generation = publisher_.Publish(name, text, trigger.name.empty() ? "resync" : trigger.name,
                                    trigger.empty() ? clock_.Now() : trigger.time);
  } else {
    auto config_id = EnsureRollingConfig(name, text);
    if (!config_id.ok()) return config_id.error();
    inputs.config_id = *config_id;
    rolling_name = "sg.proxy." + name + "." + Sha256Hex(text).substr(0, 12);
    inputs.config_name = rolling_name;
    std::lock_guard<std::mutex> lock(mu_);
    auto& p = rolling_pending_[name];
    if (p.hash != rolling_name) {
      p = {rolling_name, trigger.name.empty() ? "resync" : trigger.name,
           trigger.empty() ? clock_.Now() : trigger.time};
    }
  }

  stage("publish");
  // Host mode: the listener service holds the node ports, so proxies carry
  // none and Swarm can start a replacement beside the task it replaces.
  auto listener_it = service_by_name.find(ListenerServiceName(name));
  auto listener = EnsureListener(
      cluster, *network_id, listener_it == service_by_name.end() ? nullptr : listener_it->second);
  if (!listener.ok()) return listener.error();
  crds::ServiceCluster effective = cluster;
  if (current_proxy && PublishesHostPorts(current_proxy->spec_json) &&
      proxy.publish_mode == crds::PublishMode::kHost) {
    // Proxies from before the listener service still hold the host ports:
    // the listeners cannot start until they are gone, and a start-first
    // replacement would wait for a listener for ever. This one update is
    // stop-first.
    effective.spec.proxy.update_policy.order = crds::UpdateOrder::kStopFirst;
  }
  auto service = EnsureService(name, ProxyServiceName(name),
                               BuildProxyServiceSpec(effective, inputs), current_proxy);
  if (!service.ok()) return service.error();

  // Proxy tasks: running ones are the proxies expected to serve the config.
  // Global mode wants one on every node Swarm gave a task.
  std::vector<std::string> running;
  std::set<std::string> proxy_nodes;
  for (const auto& t : tasks_by_service[service->id]) {
    if (t.desired_state == "running") proxy_nodes.insert(t.node_id);
    if (t.desired_state == "running" && t.state == "running") running.push_back(t.id);
  }
  const int desired = proxy.mode == crds::ProxyMode::kGlobal
                          ? std::max<int>(1, static_cast<int>(proxy_nodes.size()))
                          : proxy.replicas;
  bool converged;
  if (hot) {
    publisher_.SetExpectedProxies(name, running);
    converged = static_cast<int>(running.size()) == desired &&
                publisher_.ServedGeneration(name) >= generation;
  } else {
    bool rolled = service->update_state.empty() || service->update_state == "completed";
    converged = rolled && static_cast<int>(running.size()) == desired;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = rolling_pending_.find(name);
    if (converged && it != rolling_pending_.end() && !it->second.hash.empty()) {
      metrics_.convergence_seconds.WithLabels({name, it->second.trigger})
          .Observe(std::chrono::duration<double>(clock_.Now() - it->second.since).count());
      it->second.hash.clear();
    }
    if (converged) RemoveStaleRollingConfigs(name, rolling_name);
  }

  stage("services");
  // Status of the cluster.
  std::string now = Rfc3339(clock_.WallNow());
  {
    crds::ResourceStatus status;
    if (auto old = crds::DecodeStatus(stored->status_json);
        !stored->status_json.empty() && old.ok()) {
      status = *old;
    }
    status.observed_generation = stored->generation;
    status.proxy_replicas = crds::ProxyReplicas{desired, static_cast<int>(running.size())};
    std::string progress =
        hot ? "proxies serve configuration generation " +
                  std::to_string(publisher_.ServedGeneration(name)) + " of " +
                  std::to_string(generation)
            : "proxy service update state: " +
                  (service->update_state.empty() ? std::string("none") : service->update_state);
    std::string replicas =
        std::to_string(running.size()) + "/" + std::to_string(desired) + " proxies running";
    status.SetCondition(Cond(crds::kConditionReady, converged, converged ? "Ready" : "Converging",
                             replicas + "; " + progress),
                        now);
    status.SetCondition(Cond(crds::kConditionProgressing, !converged,
                             converged ? "Converged" : "Converging", progress),
                        now);
    status.SetCondition(Cond(crds::kConditionDegraded, false, "None", ""), now);
    auto st = store_.WriteStatusIfChanged(*stored, crds::EncodeStatus(status));
    if (!st.ok() && !st.error().Is(ErrorCode::kConflict)) return st.error();
  }

  stage("cluster-status");
  // Status of every route of the cluster.
  const int64_t served = hot ? publisher_.ServedGeneration(name) : 0;
  {
    // Forget routes that left the cluster.
    std::lock_guard<std::mutex> lock(mu_);
    auto& inc = included_[name];
    for (auto it = inc.begin(); it != inc.end();) {
      it = built.routes.count(it->first) ? std::next(it) : inc.erase(it);
    }
  }
  int ready_routes = 0, not_ready_routes = 0;
  for (const auto& [route_name, outcome] : built.routes) {
    const store::StoredResource* r = stored_routes[route_name];
    if (!r) continue;
    crds::ResourceStatus status;
    if (auto old = crds::DecodeStatus(r->status_json); !r->status_json.empty() && old.ok()) {
      status = *old;
    }
    status.observed_generation = r->generation;
    status.endpoints = outcome.endpoints;
    // Live once every proxy serves a configuration that includes this
    // version of the route (not merely the cluster's latest one, so a change
    // of one route does not flip every other route's status).
    bool live;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto& inc = included_[name][route_name];
      if (outcome.served && inc.route_generation != r->generation) {
        inc = {r->generation, hot ? generation : 0};
      }
      live = hot ? (outcome.served && served >= inc.config_generation) : converged;
    }
    bool ready = outcome.served && outcome.reason == kReasonReady && live;
    (ready ? ready_routes : not_ready_routes)++;
    std::string reason = outcome.reason;
    std::string message = outcome.message;
    if (ready) message = std::to_string(outcome.endpoints.size()) + " endpoints";
    if (outcome.served && outcome.reason == kReasonReady && !live) {
      reason = "Converging";
      message = "waiting for every proxy to serve it";
    }
    status.SetCondition(Cond(crds::kConditionReady, ready, reason, message), now);
    status.SetCondition(
        Cond(crds::kConditionProgressing, outcome.served && !live,
             live ? "Converged" : "Converging", live ? "" : "waiting for every proxy to serve it"),
        now);
    auto deg = degraded.find(route_name);
    bool is_degraded = deg != degraded.end() || outcome.reason == kReasonInvalidConfig;
    status.SetCondition(
        Cond(crds::kConditionDegraded, is_degraded,
             deg != degraded.end() ? kReasonHealthcheckMissing
                                   : (is_degraded ? kReasonInvalidConfig : "None"),
             deg != degraded.end() ? deg->second : (is_degraded ? outcome.message : "")),
        now);
    // Unchanged since this pass listed it: no Docker call (reading every
    // route's config back cost about half a second a pass at 1000 routes).
    auto st = store_.WriteStatusIfChanged(*r, crds::EncodeStatus(status));
    if (!st.ok() && !st.error().Is(ErrorCode::kConflict) && !st.error().Is(ErrorCode::kNotFound)) {
      return st.error();
    }
  }
  stage("route-statuses");
  if (Log()->should_log(spdlog::level::debug)) {
    std::string detail;
    for (const auto& [what, seconds] : stages) detail += fmt::format(" {}={:.3f}", what, seconds);
    Log()->debug("pass cluster={} routes={}{}", name, built.routes.size(), detail);
  }
  metrics_.proxy_replicas.WithLabels({name, "desired"}).Set(desired);
  metrics_.proxy_replicas.WithLabels({name, "running"}).Set(static_cast<double>(running.size()));
  metrics_.routes.WithLabels({name, "true"}).Set(ready_routes);
  metrics_.routes.WithLabels({name, "false"}).Set(not_ready_routes);

  runtime::ReconcileResult result;
  if (!converged) result.requeue_after = options_.converge_poll;
  return result;
}

}  // namespace sg::reconcilers
