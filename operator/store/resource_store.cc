#include "operator/store/resource_store.h"

#include <algorithm>
#include <map>

#include <spdlog/spdlog.h>

namespace sg::store {
namespace {

std::shared_ptr<spdlog::logger> Log() {
  static auto logger = [] {
    auto l = spdlog::get("store");
    return l ? l : spdlog::default_logger()->clone("store");
  }();
  return logger;
}

std::string Key(crds::Kind kind, const std::string& name) {
  return std::string(crds::KindStorageName(kind)) + "/" + name;
}

std::optional<int64_t> ParseGeneration(const std::string& s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v > 0 ? std::optional<int64_t>(v) : std::nullopt;
}

std::optional<crds::Kind> KindFromStorageName(const std::string& s) {
  for (auto k : {crds::Kind::kServiceCluster, crds::Kind::kRoute}) {
    if (s == crds::KindStorageName(k)) return k;
  }
  return std::nullopt;
}

std::string LabelOr(const docker::Labels& labels, const char* key) {
  auto it = labels.find(key);
  return it == labels.end() ? std::string() : it->second;
}

// Configs that carry our labels but a malformed generation are not ours to
// interpret; they are skipped (and never deleted) rather than failing a list.
std::optional<StoredResource> FromConfig(const docker::Config& c) {
  auto kind = KindFromStorageName(LabelOr(c.spec.labels, kLabelKind));
  auto gen = ParseGeneration(LabelOr(c.spec.labels, kLabelGeneration));
  std::string name = LabelOr(c.spec.labels, kLabelName);
  if (!kind || !gen || name.empty()) return std::nullopt;
  if (c.spec.name != ConfigName(*kind, name, *gen)) return std::nullopt;
  StoredResource r;
  r.kind = *kind;
  r.name = name;
  r.generation = *gen;
  r.config_id = c.id;
  r.version = c.version;
  r.updated_at = c.created_at;
  r.created_at = LabelOr(c.spec.labels, kLabelCreated);
  if (r.created_at.empty()) r.created_at = c.created_at;
  r.data = c.spec.data;
  r.status_json = LabelOr(c.spec.labels, kLabelStatus);
  return r;
}

}  // namespace

const char* ApplyOutcomeName(ApplyOutcome outcome) {
  switch (outcome) {
    case ApplyOutcome::kCreated:
      return "created";
    case ApplyOutcome::kConfigured:
      return "configured";
    case ApplyOutcome::kUnchanged:
      return "unchanged";
  }
  return "unknown";
}

std::string ConfigName(crds::Kind kind, const std::string& name, int64_t generation) {
  return "sg." + std::string(crds::KindStorageName(kind)) + "." + name + "." +
         std::to_string(generation);
}

Result<std::vector<StoredResource>> ResourceStore::ListGenerations(crds::Kind kind,
                                                                   const std::string& name) {
  // The name filter is a prefix the engine answers from its name index; a
  // label filter alone scans every config (at 10,000 routes each lookup cost
  // the manager tens of milliseconds). Names have no dots, so the prefix
  // "sg.<kind>.<name>." matches only this resource's generations.
  docker::Filters filters{
      {"name", {"sg." + std::string(crds::KindStorageName(kind)) + "." + name + "."}},
      {"label",
       {std::string(kLabelKind) + "=" + crds::KindStorageName(kind),
        std::string(kLabelName) + "=" + name}}};
  auto configs = client_.ListConfigs(filters);
  if (!configs.ok()) return configs.error();
  std::vector<StoredResource> out;
  for (const auto& c : *configs) {
    if (auto r = FromConfig(c); r && r->kind == kind && r->name == name) {
      out.push_back(std::move(*r));
    }
  }
  // The list endpoint omits Data on some engine versions; the current
  // generation is re-read by id below when needed.
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.generation < b.generation; });
  return out;
}

Status ResourceStore::FillData(StoredResource* r) {
  if (!r->data.empty()) return OkStatus();
  {
    std::lock_guard<std::mutex> lock(data_mu_);
    auto it = data_by_id_.find(r->config_id);
    if (it != data_by_id_.end()) {
      r->data = it->second;
      return OkStatus();
    }
  }
  auto c = client_.InspectConfig(r->config_id);
  if (!c.ok()) return c.error();
  r->data = c->spec.data;
  std::lock_guard<std::mutex> lock(data_mu_);
  data_by_id_[r->config_id] = r->data;
  return OkStatus();
}

Result<StoredResource> ResourceStore::Get(crds::Kind kind, const std::string& name) {
  auto gens = ListGenerations(kind, name);
  if (!gens.ok()) return gens.error();
  if (gens->empty()) return NotFound(Key(kind, name) + " not found");
  StoredResource current = gens->back();
  if (auto st = FillData(&current); !st.ok()) return st.error();
  return current;
}

Result<std::vector<StoredResource>> ResourceStore::List(std::optional<crds::Kind> kind) {
  docker::Filters filters{{"label",
                           {kind ? std::string(kLabelKind) + "=" + crds::KindStorageName(*kind)
                                 : std::string(kLabelKind)}}};
  auto configs = client_.ListConfigs(filters);
  if (!configs.ok()) return configs.error();
  // Highest generation per (kind, name) wins; leftovers of an interrupted
  // apply are older generations and stay invisible until the next apply.
  std::map<std::pair<int, std::string>, StoredResource> current;
  for (const auto& c : *configs) {
    auto r = FromConfig(c);
    if (!r) continue;
    auto key = std::make_pair(static_cast<int>(r->kind), r->name);
    auto it = current.find(key);
    if (it == current.end() || it->second.generation < r->generation) {
      current[key] = std::move(*r);
    }
  }
  std::vector<StoredResource> out;
  for (auto& [key, r] : current) {
    if (auto st = FillData(&r); !st.ok()) {
      if (st.error().Is(ErrorCode::kNotFound)) continue;  // deleted meanwhile
      return st.error();
    }
    out.push_back(std::move(r));
  }
  if (!kind) {
    // A full listing knows every live config: forget the data of the others.
    std::lock_guard<std::mutex> lock(data_mu_);
    std::map<std::string, std::string> live;
    for (const auto& r : out) {
      auto it = data_by_id_.find(r.config_id);
      if (it != data_by_id_.end()) live.emplace(it->first, std::move(it->second));
    }
    data_by_id_ = std::move(live);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::make_pair(static_cast<int>(a.kind), a.name) <
           std::make_pair(static_cast<int>(b.kind), b.name);
  });
  return out;
}

Result<ApplyResult> ResourceStore::Apply(crds::Kind kind, const std::string& name,
                                         const std::string& canonical_json, bool dry_run) {
  if (canonical_json.empty() || canonical_json.size() >= 1024000) {
    return InvalidArgument(Key(kind, name) +
                           ": stored data must be 1 byte to < 1,024,000 bytes, got " +
                           std::to_string(canonical_json.size()));
  }
  auto gens = ListGenerations(kind, name);
  if (!gens.ok()) return gens.error();

  std::optional<StoredResource> current;
  if (!gens->empty()) {
    current = gens->back();
    if (auto st = FillData(&*current); !st.ok()) return st.error();
  }

  ApplyResult result;
  if (current && current->data == canonical_json) {
    result.outcome = ApplyOutcome::kUnchanged;
    result.generation = current->generation;
  } else {
    result.outcome = current ? ApplyOutcome::kConfigured : ApplyOutcome::kCreated;
    result.generation = current ? current->generation + 1 : 1;
    if (!dry_run) {
      docker::ConfigSpec spec;
      spec.name = ConfigName(kind, name, result.generation);
      spec.data = canonical_json;
      spec.labels = {{kLabelKind, crds::KindStorageName(kind)},
                     {kLabelName, name},
                     {kLabelGeneration, std::to_string(result.generation)}};
      if (current) spec.labels[kLabelCreated] = current->created_at;
      auto id = client_.CreateConfig(spec);
      if (!id.ok()) {
        if (id.error().Is(ErrorCode::kConflict)) {
          return Conflict(Key(kind, name) + " was changed concurrently: generation " +
                          std::to_string(result.generation) +
                          " already exists; re-read and apply again");
        }
        return id.error();
      }
      Log()->info("applied key={} generation={} outcome={}", Key(kind, name), result.generation,
                  ApplyOutcomeName(result.outcome));
    }
  }
  if (dry_run) return result;

  // Older generations (and leftovers of interrupted applies) go last, so a
  // crash between create and delete only leaves garbage the next apply removes.
  for (const auto& g : *gens) {
    if (g.generation >= result.generation) continue;
    auto st = client_.RemoveConfig(g.config_id);
    if (!st.ok() && !st.error().Is(ErrorCode::kNotFound)) {
      Log()->warn("cannot remove old generation key={} generation={} error={}", Key(kind, name),
                  g.generation, st.error().ToString());
    }
  }
  return result;
}

Status ResourceStore::Delete(crds::Kind kind, const std::string& name) {
  auto gens = ListGenerations(kind, name);
  if (!gens.ok()) return gens.error();
  if (gens->empty()) return NotFound(Key(kind, name) + " not found");
  for (auto it = gens->rbegin(); it != gens->rend(); ++it) {
    auto st = client_.RemoveConfig(it->config_id);
    if (!st.ok() && !st.error().Is(ErrorCode::kNotFound)) return st;
  }
  Log()->info("deleted key={} generations={}", Key(kind, name), gens->size());
  return OkStatus();
}

Status ResourceStore::WriteStatusIfChanged(const StoredResource& listed,
                                           const std::string& status_json) {
  if (listed.status_json == status_json) return OkStatus();
  return WriteStatus(listed.kind, listed.name, listed.generation, status_json);
}

Status ResourceStore::WriteStatus(crds::Kind kind, const std::string& name, int64_t generation,
                                  const std::string& status_json) {
  constexpr int kMaxAttempts = 8;
  for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
    auto config = client_.InspectConfig(ConfigName(kind, name, generation));
    if (!config.ok()) {
      if (config.error().Is(ErrorCode::kNotFound)) {
        // Either deleted or superseded by a newer generation.
        auto current = Get(kind, name);
        if (current.ok()) {
          return Conflict(Key(kind, name) + " moved to generation " +
                          std::to_string(current->generation));
        }
      }
      return config.error();
    }
    if (LabelOr(config->spec.labels, kLabelStatus) == status_json) return OkStatus();
    // Between an apply's create of generation N+1 and its removal of N both
    // configs exist; a status for N is stale then too.
    auto next = client_.InspectConfig(ConfigName(kind, name, generation + 1));
    if (next.ok()) {
      return Conflict(Key(kind, name) + " moved to generation " + std::to_string(generation + 1));
    }
    if (!next.error().Is(ErrorCode::kNotFound)) return next.error();
    docker::ConfigSpec spec = config->spec;
    spec.labels[kLabelStatus] = status_json;
    auto st = client_.UpdateConfig(config->id, config->version, spec);
    if (st.ok()) return st;
    if (!st.error().Is(ErrorCode::kConflict)) return st;
    // Stale version: somebody else wrote labels in between. Re-read, retry.
    Log()->debug("status write conflict key={} attempt={}", Key(kind, name), attempt);
  }
  return Conflict(Key(kind, name) + ": status update kept losing to concurrent writers");
}

}  // namespace sg::store
