#include "operator/store/swarm_cache.h"

#include <spdlog/spdlog.h>

#include "crds/loader.h"
#include "operator/runtime/logging.h"

namespace sg::store {
namespace {

std::shared_ptr<spdlog::logger> Log() {
  static auto logger = runtime::NamedLogger("cache");
  return logger;
}

// "sg.<kind>.<name>.<generation>" -> kind and name.
bool ParseResourceConfigName(const std::string& config, crds::Kind* kind, std::string* name) {
  if (config.rfind("sg.", 0) != 0) return false;
  size_t kind_end = config.find('.', 3);
  size_t gen_start = config.rfind('.');
  if (kind_end == std::string::npos || gen_start <= kind_end + 1) return false;
  std::string k = config.substr(3, kind_end - 3);
  if (k == crds::KindStorageName(crds::Kind::kRoute)) {
    *kind = crds::Kind::kRoute;
  } else if (k == crds::KindStorageName(crds::Kind::kServiceCluster)) {
    *kind = crds::Kind::kServiceCluster;
  } else {
    return false;
  }
  *name = config.substr(kind_end + 1, gen_start - kind_end - 1);
  return true;
}

std::string Attribute(const docker::Event& e, const char* key) {
  auto it = e.attributes.find(key);
  return it == e.attributes.end() ? std::string() : it->second;
}

// Removes the entry whose key (name) or id is `id_or_name`.
template <typename T>
void EraseByIdOrName(std::map<std::string, std::shared_ptr<const T>>& by_name,
                     const std::string& id_or_name) {
  for (auto it = by_name.begin(); it != by_name.end(); ++it) {
    if (it->first == id_or_name || it->second->id == id_or_name) {
      by_name.erase(it);
      return;
    }
  }
}

}  // namespace

SwarmCache::SwarmCache(docker::DockerClient& docker, ResourceStore& store)
    : docker_(docker), store_(store) {}

CachedResource SwarmCache::Decode(StoredResource stored) const {
  CachedResource out;
  auto d = crds::DecodeStored(stored.data);
  if (d.ok() && d->route()) out.route = std::make_shared<const crds::Route>(*d->route());
  if (d.ok() && d->cluster()) {
    out.cluster = std::make_shared<const crds::ServiceCluster>(*d->cluster());
  }
  out.stored = std::move(stored);
  return out;
}

void SwarmCache::PutResourceLocked(CachedResource r) {
  ResourceKey key{static_cast<int>(r.stored.kind), r.stored.name};
  EraseResourceLocked(key);
  if (r.route) routes_by_cluster_[r.route->spec.service_cluster].insert(r.stored.name);
  resources_[key] = std::move(r);
}

void SwarmCache::EraseResourceLocked(const ResourceKey& key) {
  auto it = resources_.find(key);
  if (it == resources_.end()) return;
  if (it->second.route) {
    auto c = routes_by_cluster_.find(it->second.route->spec.service_cluster);
    if (c != routes_by_cluster_.end()) {
      c->second.erase(key.name);
      if (c->second.empty()) routes_by_cluster_.erase(c);
    }
  }
  decoded_by_id_.erase(it->second.stored.config_id);
  resources_.erase(it);
}

Status SwarmCache::Relist() {
  auto all = store_.List(std::nullopt);
  if (!all.ok()) return all.error();
  auto services = docker_.ListServices({});
  if (!services.ok()) return services.error();
  auto tasks = docker_.ListTasks({});
  if (!tasks.ok()) return tasks.error();
  auto secrets = docker_.ListSecrets({});
  if (!secrets.ok()) return secrets.error();
  auto networks = docker_.ListNetworks({});
  if (!networks.ok()) return networks.error();
  auto nodes = docker_.ListNodes({});
  if (!nodes.ok()) return nodes.error();

  // Decode outside the lock: only configs not seen before cost anything.
  std::map<std::string, CachedResource> known;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& r : *all) {
      auto it = decoded_by_id_.find(r.config_id);
      if (it != decoded_by_id_.end()) known.emplace(it->first, it->second);
    }
  }
  std::vector<CachedResource> decoded;
  decoded.reserve(all->size());
  for (auto& r : *all) {
    auto it = known.find(r.config_id);
    if (it == known.end()) {
      decoded.push_back(Decode(std::move(r)));
    } else {
      CachedResource c = it->second;
      c.stored = std::move(r);
      decoded.push_back(std::move(c));
    }
  }

  std::lock_guard<std::mutex> lock(mu_);
  resources_.clear();
  routes_by_cluster_.clear();
  decoded_by_id_.clear();
  for (auto& r : decoded) {
    decoded_by_id_[r.stored.config_id] = r;
    PutResourceLocked(std::move(r));
  }
  ReplaceServicesLocked(std::move(*services));
  ReplaceTasksLocked(std::move(*tasks));
  secrets_.clear();
  for (auto& s : *secrets) {
    std::string name = s.name;
    secrets_[name] = std::make_shared<const docker::Secret>(std::move(s));
  }
  networks_.clear();
  for (auto& n : *networks) {
    std::string name = n.name;
    networks_[name] = std::make_shared<const docker::Network>(std::move(n));
  }
  nodes_ = std::make_shared<const NodeList>(std::move(*nodes));
  synced_ = true;
  return OkStatus();
}

bool SwarmCache::synced() const {
  std::lock_guard<std::mutex> lock(mu_);
  return synced_;
}

void SwarmCache::ReplaceServicesLocked(std::vector<docker::Service> services) {
  services_.clear();
  service_name_by_id_.clear();
  for (auto& s : services) {
    service_name_by_id_[s.id] = s.name;
    std::string name = s.name;
    services_[name] = std::make_shared<const docker::Service>(std::move(s));
  }
}

void SwarmCache::ReplaceTasksLocked(std::vector<docker::Task> tasks) {
  std::map<std::string, TaskList> by_service;
  for (auto& t : tasks) {
    std::string id = t.service_id;
    by_service[id].push_back(std::move(t));
  }
  tasks_.clear();
  for (auto& [id, list] : by_service) {
    tasks_[id] = std::make_shared<const TaskList>(std::move(list));
  }
}

void SwarmCache::ReplaceServicesAndTasks(std::vector<docker::Service> services,
                                         std::vector<docker::Task> tasks) {
  std::lock_guard<std::mutex> lock(mu_);
  ReplaceServicesLocked(std::move(services));
  ReplaceTasksLocked(std::move(tasks));
}

Status SwarmCache::RefreshResource(crds::Kind kind, const std::string& name) {
  auto got = store_.Get(kind, name);
  ResourceKey key{static_cast<int>(kind), name};
  if (!got.ok()) {
    if (!got.error().Is(ErrorCode::kNotFound)) return got.error();
    std::lock_guard<std::mutex> lock(mu_);
    EraseResourceLocked(key);
    return OkStatus();
  }
  std::optional<CachedResource> known;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = decoded_by_id_.find(got->config_id);
    if (it != decoded_by_id_.end()) known = it->second;
  }
  CachedResource r;
  if (known) {
    r = std::move(*known);
    r.stored = std::move(*got);
  } else {
    r = Decode(std::move(*got));
  }
  std::lock_guard<std::mutex> lock(mu_);
  decoded_by_id_[r.stored.config_id] = r;
  PutResourceLocked(std::move(r));
  return OkStatus();
}

void SwarmCache::RefreshService(const std::string& id, const std::string& name) {
  auto s = docker_.InspectService(id.empty() ? name : id);
  if (s.ok()) {
    PutService(std::move(*s));
  } else if (s.error().Is(ErrorCode::kNotFound)) {
    ForgetService(id.empty() ? name : id);
  } else {
    Log()->warn("refresh failed service={} error={}", name, s.error().ToString());
  }
}

void SwarmCache::RefreshSecret(const std::string& id, const std::string& name) {
  auto s = docker_.InspectSecret(id.empty() ? name : id);
  if (s.ok()) {
    PutSecret(std::move(*s));
  } else if (s.error().Is(ErrorCode::kNotFound)) {
    ForgetSecret(id.empty() ? name : id);
  } else {
    Log()->warn("refresh failed secret={} error={}", name, s.error().ToString());
  }
}

void SwarmCache::RefreshNetwork(const std::string& id, const std::string& name) {
  auto n = docker_.InspectNetwork(id.empty() ? name : id);
  if (n.ok()) {
    PutNetwork(std::move(*n));
  } else if (n.error().Is(ErrorCode::kNotFound)) {
    ForgetNetwork(id.empty() ? name : id);
  } else {
    Log()->warn("refresh failed network={} error={}", name, n.error().ToString());
  }
}

void SwarmCache::RefreshNodes() {
  if (auto st = PollNodes(); !st.ok()) {
    Log()->warn("refresh failed nodes error={}", st.error().ToString());
  }
}

Status SwarmCache::PollNodes() {
  auto nodes = docker_.ListNodes({});
  if (!nodes.ok()) return nodes.error();
  auto list = std::make_shared<const NodeList>(std::move(*nodes));
  std::lock_guard<std::mutex> lock(mu_);
  nodes_ = std::move(list);
  return OkStatus();
}

void SwarmCache::OnEvent(const docker::Event& e) {
  const std::string name = Attribute(e, "name");
  if (e.type == "config") {
    crds::Kind kind;
    std::string resource;
    if (e.action == "update" || !ParseResourceConfigName(name, &kind, &resource)) return;
    if (auto st = RefreshResource(kind, resource); !st.ok()) {
      Log()->warn("refresh failed config={} error={}", name, st.error().ToString());
    }
  } else if (e.type == "service") {
    if (e.action == "remove") {
      ForgetService(e.actor_id.empty() ? name : e.actor_id);
    } else {
      RefreshService(e.actor_id, name);
    }
  } else if (e.type == "secret") {
    if (e.action == "remove") {
      ForgetSecret(e.actor_id.empty() ? name : e.actor_id);
    } else {
      RefreshSecret(e.actor_id, name);
    }
  } else if (e.type == "network") {
    if (e.action == "remove" || e.action == "destroy") {
      ForgetNetwork(e.actor_id.empty() ? name : e.actor_id);
    } else if (e.action == "create" || e.action == "update") {
      RefreshNetwork(e.actor_id, name);
    }
  } else if (e.type == "node") {
    RefreshNodes();
  }
}

void SwarmCache::PutService(docker::Service service) {
  std::lock_guard<std::mutex> lock(mu_);
  // A renamed service (Docker allows it) must not stay under its old name.
  auto old = service_name_by_id_.find(service.id);
  if (old != service_name_by_id_.end() && old->second != service.name) services_.erase(old->second);
  service_name_by_id_[service.id] = service.name;
  std::string name = service.name;
  services_[name] = std::make_shared<const docker::Service>(std::move(service));
}

void SwarmCache::ForgetService(const std::string& id_or_name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto by_id = service_name_by_id_.find(id_or_name);
  std::string name = by_id != service_name_by_id_.end() ? by_id->second : id_or_name;
  auto it = services_.find(name);
  if (it == services_.end()) return;
  tasks_.erase(it->second->id);
  service_name_by_id_.erase(it->second->id);
  services_.erase(it);
}

void SwarmCache::PutNetwork(docker::Network network) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string name = network.name;
  networks_[name] = std::make_shared<const docker::Network>(std::move(network));
}

void SwarmCache::ForgetNetwork(const std::string& id_or_name) {
  std::lock_guard<std::mutex> lock(mu_);
  EraseByIdOrName(networks_, id_or_name);
}

void SwarmCache::PutSecret(docker::Secret secret) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string name = secret.name;
  secrets_[name] = std::make_shared<const docker::Secret>(std::move(secret));
}

void SwarmCache::ForgetSecret(const std::string& id_or_name) {
  std::lock_guard<std::mutex> lock(mu_);
  EraseByIdOrName(secrets_, id_or_name);
}

void SwarmCache::NoteStatus(crds::Kind kind, const std::string& name, int64_t generation,
                            const std::string& status_json) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = resources_.find({static_cast<int>(kind), name});
  if (it == resources_.end() || it->second.stored.generation != generation) return;
  it->second.stored.status_json = status_json;
}

std::optional<CachedResource> SwarmCache::Resource(crds::Kind kind, const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = resources_.find({static_cast<int>(kind), name});
  if (it == resources_.end()) return std::nullopt;
  return it->second;
}

std::vector<CachedResource> SwarmCache::Resources(std::optional<crds::Kind> kind) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<CachedResource> out;
  for (const auto& [key, r] : resources_) {
    if (!kind || key.kind == static_cast<int>(*kind)) out.push_back(r);
  }
  return out;
}

std::vector<CachedResource> SwarmCache::RoutesOfCluster(const std::string& cluster) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<CachedResource> out;
  auto names = routes_by_cluster_.find(cluster);
  if (names == routes_by_cluster_.end()) return out;
  out.reserve(names->second.size());
  for (const auto& name : names->second) {
    auto it = resources_.find({static_cast<int>(crds::Kind::kRoute), name});
    if (it != resources_.end()) out.push_back(it->second);
  }
  return out;
}

std::shared_ptr<const docker::Service> SwarmCache::Service(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = services_.find(name);
  return it == services_.end() ? nullptr : it->second;
}

std::shared_ptr<const TaskList> SwarmCache::TasksOf(const std::string& service_id) const {
  static const auto kNone = std::make_shared<const TaskList>();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tasks_.find(service_id);
  return it == tasks_.end() ? kNone : it->second;
}

std::shared_ptr<const docker::Secret> SwarmCache::Secret(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = secrets_.find(name);
  return it == secrets_.end() ? nullptr : it->second;
}

std::shared_ptr<const docker::Network> SwarmCache::Network(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = networks_.find(name);
  return it == networks_.end() ? nullptr : it->second;
}

std::shared_ptr<const NodeList> SwarmCache::Nodes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return nodes_;
}

}  // namespace sg::store
