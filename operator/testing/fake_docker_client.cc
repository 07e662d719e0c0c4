#include "operator/testing/fake_docker_client.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <regex>

#include "operator/docker/wire_format.h"

namespace sg::docker {
namespace {

constexpr char kOutOfSequence[] = "rpc error: code = Unknown desc = update out of sequence";
// A service on the predefined host network names it "host"; the engine
// resolves the name to Swarm's copy of that network, which has no subnet.
constexpr char kHostNetworkName[] = "host";
constexpr char kPredefinedHostNetworkId[] = "hostnetwork00000000000000";

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool IsWrite(std::string_view method) {
  return StartsWith(method, "Create") || StartsWith(method, "Update") ||
         StartsWith(method, "Remove");
}

// Unknown filter keys are a 400 from the engine; catching them here keeps
// typos in callers from passing silently.
Status CheckFilterKeys(const Filters& filters, std::initializer_list<const char*> allowed) {
  for (const auto& [key, values] : filters) {
    (void)values;
    bool ok = std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return key == a; });
    if (!ok) return InvalidArgument("Invalid filter '" + key + "'");
  }
  return OkStatus();
}

const std::vector<std::string>* Get(const Filters& f, const char* key) {
  auto it = f.find(key);
  return it == f.end() || it->second.empty() ? nullptr : &it->second;
}

// Every "key" or "key=value" must hold (the engine ANDs label filters).
bool LabelsMatch(const Labels& labels, const Filters& f, const char* key = "label") {
  const auto* wanted = Get(f, key);
  if (wanted == nullptr) return true;
  for (const auto& w : *wanted) {
    auto eq = w.find('=');
    if (eq == std::string::npos) {
      if (labels.count(w) == 0) return false;
    } else {
      auto it = labels.find(w.substr(0, eq));
      if (it == labels.end() || it->second != w.substr(eq + 1)) return false;
    }
  }
  return true;
}

// Other filters OR their values: one must match.
template <class Pred>
bool AnyOf(const Filters& f, const char* key, Pred pred) {
  const auto* values = Get(f, key);
  if (values == nullptr) return true;
  return std::any_of(values->begin(), values->end(), pred);
}

bool IdPrefixMatch(const Filters& f, const std::string& id) {
  return AnyOf(f, "id", [&](const std::string& v) { return StartsWith(id, v); });
}

bool NamePrefixMatch(const Filters& f, const std::string& name) {
  return AnyOf(f, "name", [&](const std::string& v) { return StartsWith(name, v); });
}

bool ValidObjectName(const std::string& name) {
  static const std::regex re("^[a-zA-Z0-9]+(?:[a-zA-Z0-9-_.]*[a-zA-Z0-9])?$");
  return !name.empty() && name.size() <= 64 && std::regex_match(name, re);
}

std::string JoinNames(const std::vector<const Service*>& services) {
  std::string out;
  for (const Service* s : services) out += (out.empty() ? "" : ", ") + s->name;
  return out;
}

std::string ToJson(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return std::string(sb.GetString(), sb.GetSize());
}

// "1700000000" or "1700000000.123456789" -> nanoseconds.
int64_t ParseUnixNanos(const std::string& s) {
  auto dot = s.find('.');
  int64_t secs = std::atoll(s.substr(0, dot).c_str());
  int64_t nanos = 0;
  if (dot != std::string::npos) {
    std::string frac = s.substr(dot + 1, 9);
    frac.append(9 - frac.size(), '0');
    nanos = std::atoll(frac.c_str());
  }
  return secs * 1000000000LL + nanos;
}

}  // namespace

FakeDockerClient::FakeDockerClient() {
  version_info_ = VersionInfo{"20.10.24+dfsg1", "1.41", "1.12", "linux", "amd64"};
  std::lock_guard<std::mutex> lock(mu_);
  swarm_.id = NewIdLocked();
  swarm_.created_at = NowLocked();
  swarm_.version = ++index_;
  Node node;
  node.id = NewIdLocked();
  node.version = ++index_;
  node.hostname = "node-1";
  node.role = "manager";
  node.availability = "active";
  node.state = "ready";
  node.addr = "127.0.0.1";
  node.manager_reachability = "reachable";
  node.spec_json = R"({"Labels":{},"Role":"manager","Availability":"active"})";
  nodes_[node.id] = node;
}

// ---- bookkeeping

std::optional<Error> FakeDockerClient::EnterLocked(const char* method) {
  ++calls_[method];
  call_log_.emplace_back(method);
  for (auto it = failures_.begin(); it != failures_.end(); ++it) {
    if (std::string_view(method).find(it->method_substring) == std::string_view::npos) continue;
    Error e = it->error;
    if (--it->remaining <= 0) failures_.erase(it);
    return e;
  }
  return std::nullopt;
}

std::string FakeDockerClient::NewIdLocked() {
  // splitmix64 of a counter, in base 36: looks like a swarmkit id, stays
  // deterministic from run to run.
  uint64_t x = ++id_counter_ * 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  x ^= x >> 31;
  static const char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string id;
  uint64_t y = x ^ (id_counter_ << 17);
  for (int i = 0; i < 25; ++i) {
    uint64_t& src = i < 12 ? x : y;
    id.push_back(kDigits[src % 36]);
    src /= 36;
    if (src == 0) src = id_counter_ * 7919 + static_cast<uint64_t>(i);
  }
  return id;
}

std::string FakeDockerClient::NowLocked() {
  int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  last_nanos_ = std::max(now, last_nanos_ + 1);
  std::time_t secs = static_cast<std::time_t>(last_nanos_ / 1000000000LL);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  char frac[16];
  std::snprintf(frac, sizeof(frac), ".%09lldZ", static_cast<long long>(last_nanos_ % 1000000000LL));
  return std::string(buf) + frac;
}

void FakeDockerClient::EmitLocked(const std::string& type, const std::string& action,
                                  const std::string& id, const std::string& name) {
  NowLocked();
  Event e;
  e.type = type;
  e.action = action;
  e.actor_id = id;
  e.attributes["name"] = name;
  e.scope = "swarm";
  e.time_nano = last_nanos_;
  e.time = last_nanos_ / 1000000000LL;
  events_.push_back(std::move(e));
  events_cv_.notify_all();
}

// Like the engine: exact id, then exact name, then a unique id prefix.
std::string FakeDockerClient::ResolveLocked(const std::string& id_or_name,
                                            const std::map<std::string, std::string>& ids_by_name,
                                            const std::vector<std::string>& all_ids) const {
  if (id_or_name.empty()) return "";
  if (std::find(all_ids.begin(), all_ids.end(), id_or_name) != all_ids.end()) return id_or_name;
  if (auto it = ids_by_name.find(id_or_name); it != ids_by_name.end()) return it->second;
  std::string found;
  for (const auto& id : all_ids) {
    if (StartsWith(id, id_or_name)) {
      if (!found.empty()) return "";  // ambiguous
      found = id;
    }
  }
  return found;
}

#define SG_FAKE_FIND(FUNC, MAP, NAME_EXPR)                                  \
  std::string FakeDockerClient::FUNC(const std::string& id_or_name) const { \
    std::map<std::string, std::string> by_name;                             \
    std::vector<std::string> ids;                                           \
    for (const auto& [id, obj] : MAP) {                                     \
      by_name[NAME_EXPR] = id;                                              \
      ids.push_back(id);                                                    \
    }                                                                       \
    return ResolveLocked(id_or_name, by_name, ids);                         \
  }

SG_FAKE_FIND(FindConfigLocked, configs_, obj.spec.name)
SG_FAKE_FIND(FindSecretLocked, secrets_, obj.meta.name)
SG_FAKE_FIND(FindServiceLocked, services_, obj.name)
SG_FAKE_FIND(FindNetworkLocked, networks_, obj.net.name)
SG_FAKE_FIND(FindNodeLocked, nodes_, obj.hostname)
#undef SG_FAKE_FIND

template <class Object, class Read>
Result<Object> FakeDockerClient::Inspect(const char* method, const char* kind,
                                         const std::string& id_or_name,
                                         std::string (FakeDockerClient::*find)(const std::string&)
                                             const,
                                         const Read& read) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = EnterLocked(method)) return *e;
  std::string id = (this->*find)(id_or_name);
  if (id.empty()) return NotFound(std::string(kind) + " " + id_or_name + " not found");
  return read(id);
}

// ---- version, swarm

Result<VersionInfo> FakeDockerClient::Version() {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = EnterLocked("Version")) return *e;
  return version_info_;
}

Result<SwarmInfo> FakeDockerClient::InspectSwarm() {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = EnterLocked("InspectSwarm")) return *e;
  return swarm_;
}

// ---- configs

Result<std::vector<Config>> FakeDockerClient::ListConfigs(const Filters& filters) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = EnterLocked("ListConfigs")) return *e;
  if (auto s = CheckFilterKeys(filters, {"id", "name", "label"}); !s.ok()) return s.error();
  std::vector<Config> out;
  for (const auto& [id, c] : configs_) {
    if (IdPrefixMatch(filters, id) && NamePrefixMatch(filters, c.spec.name) &&
        LabelsMatch(c.spec.labels, filters)) {
      out.push_back(c);
    }
  }
  return out;
}

Result<Config> FakeDockerClient::InspectConfig(const std::string& id_or_name) {
  return Inspect<Config>("InspectConfig", "config", id_or_name, &FakeDockerClient::FindConfigLocked,
                         [&](const std::string& id) { return configs_.at(id); });
}

Result<std::string> FakeDockerClient::CreateConfig(const ConfigSpec& spec) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = EnterLocked("CreateConfig")) return *e;
  if (!ValidObjectName(spec.name)) {
    return InvalidArgument(
        "rpc error: code = InvalidArgument desc = invalid name, only 64 [a-zA-Z0-9-_.] characters "
        "allowed, and the start and end character must be [a-zA-Z0-9]");
  }
  if (spec.data.empty() || spec.data.size() >= 1024000) {
    return InvalidArgument(
        "rpc error: code = InvalidArgument desc = config data must be larger than 0 and less than "
        "1024000 bytes");
  }
  for (const auto& [id, c] : configs_) {
    if (c.spec.name == spec.name) {
      return Conflict("rpc error: code = AlreadyExists desc = config " + spec.name +
                      " already exists");
    }
  }
  Config c;
  c.id = NewIdLocked();
  c.version = ++index_;
  c.created_at = c.updated_at = NowLocked();
  c.spec = spec;
  configs_[c.id] = c;
  EmitLocked("config", "create", c.id, spec.name);
  return c.id;
}

Status FakeDockerClient::UpdateConfig(const std::string& id_in, uint64_t version,
                                      const ConfigSpec& spec) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = EnterLocked("UpdateConfig")) return *e;
  std::string id = FindConfigLocked(id_in);
  if (id.empty()) return NotFound("config " + id_in + " not found");
  Config& c = configs_.at(id);
  if (version != c.version) return Conflict(kOutOfSequence);
  if (spec.name != c.spec.name || spec.data != c.spec.data) {
    return InvalidArgument(
        "rpc error: code = InvalidArgument desc = only updates to Labels are allowed");
  }
  c.spec.labels = spec.labels;
  c.version = ++index_;
  c.updated_at = NowLocked();
  EmitLocked("config", "update", c.id, c.spec.name);
  return OkStatus();
}

Status FakeDockerClient::RemoveConfig(const std::string& id_or_name) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = EnterLocked("RemoveConfig")) return *e;
  std::string id = FindConfigLocked(id_or_name);
  if (id.empty()) return NotFound("config " + id_or_name + " not found");
  const Config& c = configs_.at(id);
  auto users = UsersLocked("config", id, c.spec.name);
  if (!users.empty()) {
    return InvalidArgument("rpc error: code = InvalidArgument desc = config '" + c.spec.name +
                           "' is in use by the following service" +
                           (users.size() > 1 ? "s: " : ": ") + JoinNames(users));
  }
  std::string name = c.spec.name;
  configs_.erase(id);
  ++index_;
  EmitLocked("config", "remove", id, name);
  return OkStatus();
}

// ---- secrets

Result<std::vector<Secret>> FakeDockerClient::ListSecrets(const Filters& filters) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = EnterLocked("ListSecrets")) return *e;
  if (auto s = CheckFilterKeys(filters, {"id", "name", "label"}); !s.ok()) return s.error();
  std::vector<Secret> out;
  for (const auto& [id, r] : secrets_) {
    if (IdPrefixMatch(filters, id) && NamePrefixMatch(filters, r.meta.name) &&
        LabelsMatch(r.meta.labels, filters)) {
      out.push_back(r.meta);
    }
  }
  return out;
}

Result<Secret> FakeDockerClient::InspectSecret(const std::string& id_or_name) {
  return Inspect<Secret>("InspectSecret", "secret", id_or_name, &FakeDockerClient::FindSecretLocked,
                         [&](const std::string& id) { return secrets_.at(id).meta; });
}

Result<std::string> FakeDockerClient::CreateSecret(const SecretSpec& spec) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = EnterLocked("CreateSecret")) return *e;
  if (!ValidObjectName(spec.name)) {
    return InvalidArgument(
        "rpc error: code = InvalidArgument desc = invalid name, only 64 [a-zA-Z0-9-_.] characters "
        "allowed, and the start and end character must be [a-zA-Z0-9]");
  }
  if (spec.data.empty() || spec.data.size() > 500 * 1024) {
    return InvalidArgument(
        "rpc error: code = InvalidArgument desc = secret data must be larger than 0 and less than "
        "500 KiB");
  }
  for (const auto& [id, r] : secrets_) {
    if (r.meta.name == spec.name) {
      return Conflict("rpc error: code = AlreadyExists desc = secret " + spec.name +
                      " already exists");
    }
  }
  SecretRecord r;
  r.meta.id = NewIdLocked();
  r.meta.version = ++index_;
  r.meta.created_at = r.meta.updated_at = NowLocked();
  r.meta.name = spec.name;
  r.meta.labels = spec.labels;
  r.data = spec.data;
  secrets_[r.meta.id] = r;
  EmitLocked("secret", "create", r.meta.id, spec.name);
  return r.meta.id;
}

Status FakeDockerClient::RemoveSecret(const std::string& id_or_name) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = EnterLocked("RemoveSecret")) return *e;
  std::string id = FindSecretLocked(id_or_name);
  if (id.empty()) return NotFound("secret " + id_or_name + " not found");
  std::string name = secrets_.at(id).meta.name;
  auto users = UsersLocked("secret", id, name);
  if (!users.empty()) {
    return InvalidArgument("rpc error: code = InvalidArgument desc = secret '" + name +
                           "' is in use by the following service" +
                           (users.size() > 1 ? "s: " : ": ") + JoinNames(users));
  }
  secrets_.erase(id);
  ++index_;
  EmitLocked("secret", "remove", id, name);
  return OkStatus();
}

// ---- services

std::vector<const Service*> FakeDockerClient::UsersLocked(const char* kind, const std::string& id,
                                                          const std::string& name) const {
  std::vector<const Service*> out;
  const std::string k(kind);
  for (const auto& [sid, s] : services_) {
    if (k == "network") {
      if (std::find(s.network_targets.begin(), s.network_targets.end(), id) !=
          s.network_targets.end()) {
        out.push_back(&s);
      }
      continue;
    }
    rapidjson::Document doc;
    doc.Parse(s.spec_json.c_str());
    if (doc.HasParseError() || !doc.IsObject()) continue;
    const char* list = k == "config" ? "Configs" : "Secrets";
    const char* id_key = k == "config" ? "ConfigID" : "SecretID";
    const char* name_key = k == "config" ? "ConfigName" : "SecretName";
    auto tt = doc.FindMember("TaskTemplate");
    if (tt == doc.MemberEnd() || !tt->value.IsObject()) continue;
    auto cs = tt->value.FindMember("ContainerSpec");
    if (cs == tt->value.MemberEnd() || !cs->value.IsObject()) continue;
    auto refs = cs->value.FindMember(list);
    if (refs == cs->value.MemberEnd() || !refs->value.IsArray()) continue;
    for (const auto& r : refs->value.GetArray()) {
      if (!r.IsObject()) continue;
      auto i = r.FindMember(id_key);
      auto n = r.FindMember(name_key);
      bool by_id = i != r.MemberEnd() && i->value.IsString() && id == i->value.GetString();
      bool by_name = n != r.MemberEnd() && n->value.IsString() && name == n->value.GetString();
      if (by_id || by_name) {
        out.push_back(&s);
        break;
      }
    }
  }
  return out;
}

Result<Service> FakeDockerClient::BuildServiceLocked(const std::string& spec_json,
                                                     const std::string& id,
                                                     const Service* previous) {
  rapidjson::Document doc;
  doc.Parse(spec_json.c_str(), spec_json.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return InvalidArgument("invalid JSON in service spec");
  }
  auto& alloc = doc.GetAllocator();
  auto name_it = doc.FindMember("Name");
  if (name_it == doc.MemberEnd() || !name_it->value.IsString() ||
      name_it->value.GetStringLength() == 0) {
    // The engine makes up a name when none is given.
    std::string generated = "svc-" + id.substr(0, 8);
    if (name_it != doc.MemberEnd()) doc.RemoveMember("Name");
    doc.AddMember("Name", rapidjson::Value(generated.c_str(), alloc), alloc);
  }
  auto tt = doc.FindMember("TaskTemplate");
  const rapidjson::Value* image = nullptr;
  if (tt != doc.MemberEnd() && tt->value.IsObject()) {
    auto cs = tt->value.FindMember("ContainerSpec");
    if (cs != tt->value.MemberEnd() && cs->value.IsObject()) {
      auto im = cs->value.FindMember("Image");
      if (im != cs->value.MemberEnd() && im->value.IsString() && im->value.GetStringLength() > 0) {
        image = &im->value;
      }
    }
    // Network targets may be names; the engine stores ids.
    auto nets = tt->value.FindMember("Networks");
    if (nets != tt->value.MemberEnd() && nets->value.IsArray()) {
      for (auto& n : nets->value.GetArray()) {
        if (!n.IsObject()) continue;
        auto target = n.FindMember("Target");
        if (target == n.MemberEnd() || !target->value.IsString()) continue;
        std::string want = target->value.GetString();
        std::string nid =
            want == kHostNetworkName ? kPredefinedHostNetworkId : FindNetworkLocked(want);
        if (nid.empty()) return NotFound("network " + want + " not found");
        target->value.SetString(nid.c_str(), static_cast<rapidjson::SizeType>(nid.size()), alloc);
      }
    }
  }
  if (image == nullptr) {
    return InvalidArgument(
        "rpc error: code = InvalidArgument desc = ContainerSpec: image reference must be provided");
  }

  Service s;
  s.id = id;
  s.spec_json = ToJson(doc);
  if (auto st = ParseServiceSpecFields(s.spec_json, &s); !st.ok()) return st.error();
  if (previous != nullptr && previous->name != s.name) {
    return InvalidArgument(
        "rpc error: code = Unimplemented desc = renaming services is not supported");
  }
  bool dnsrr = false;
  if (auto ep = doc.FindMember("EndpointSpec"); ep != doc.MemberEnd() && ep->value.IsObject()) {
    auto mode = ep->value.FindMember("Mode");
    dnsrr = mode != ep->value.MemberEnd() && mode->value.IsString() &&
            std::string(mode->value.GetString()) == "dnsrr";
  }
  if (!dnsrr) {
    for (const auto& nid : s.network_targets) {
      if (nid == kPredefinedHostNetworkId) continue;  // no subnet, no VIP
      const VirtualIP* kept = nullptr;
      if (previous != nullptr) {
        for (const auto& v : previous->virtual_ips) {
          if (v.network_id == nid) kept = &v;
        }
      }
      if (kept != nullptr) {
        s.virtual_ips.push_back(*kept);
        continue;
      }
      NetworkRecord& rec = networks_.at(nid);
      s.virtual_ips.push_back(VirtualIP{
          nid, "10.0." + std::to_string(rec.subnet) + "." + std::to_string(rec.next_ip++) + "/24"});
    }
  }
  if (previous != nullptr) {
    s.created_at = previous->created_at;
    s.update_state = previous->update_state;
  }
  return s;
}

Result<std::vector<Service>> FakeDockerClient::ListServices(const Filters& filters) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = EnterLocked("ListServices")) return *e;
  if (auto s = CheckFilterKeys(filters, {"id", "name", "label", "mode"}); !s.ok()) {
    return s.error();
  }
  std::vector<Service> out;
  for (const auto& [id, s] : services_) {
    bool global = s.spec_json.find("\"Global\"") != std::string::npos;
    bool mode_ok = AnyOf(filters, "mode", [&](const std::string& m) {
      return m == (global ? "global" : "replicated");
    });
    if (IdPrefixMatch(filters, id) && NamePrefixMatch(filters, s.name) &&
        LabelsMatch(s.labels, filters) && mode_ok) {
      out.push_back(s);
    }
  }
  return out;
}

Result<Service> FakeDockerClient::InspectService(const std::string& id_or_name) {
  return Inspect<Service>("InspectService", "service", id_or_name,
                          &FakeDockerClient::FindServiceLocked,
                          [&](const std::string& id) { return services_.at(id); });
}

Result<std::string> FakeDockerClient::CreateService(const std::string& spec_json) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = EnterLocked("CreateService")) return *e;
  std::string id = NewIdLocked();
  auto built = BuildServiceLocked(spec_json, id, nullptr);
  if (!built.ok()) return built.error();
  Service s = std::move(built).value();
  for (const auto& [other_id, other] : services_) {
    if (other.name == s.name) {
      return Conflict(
          "rpc error: code = AlreadyExists desc = name conflicts with an existing object: "
          "service " +
          s.name + " already exists");
    }
  }
  s.version = ++index_;
  s.created_at = s.updated_at = NowLocked();
  services_[id] = s;
  EmitLocked("service", "create", id, s.name);
  return id;
}

Status FakeDockerClient::UpdateService(const std::string& id_in, uint64_t version,
                                       const std::string& spec_json) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = EnterLocked("UpdateService")) return *e;
  std::string id = FindServiceLocked(id_in);
  if (id.empty()) return NotFound("service " + id_in + " not found");
  Service& current = services_.at(id);
  if (version != current.version) return Conflict(kOutOfSequence);
  auto built = BuildServiceLocked(spec_json, id, &current);
  if (!built.ok()) return built.error();
  Service s = std::move(built).value();
  s.version = ++index_;
  s.updated_at = NowLocked();
  current = std::move(s);
  EmitLocked("service", "update", id, current.name);
  return OkStatus();
}

Status FakeDockerClient::RemoveService(const std::string& id_or_name) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = EnterLocked("RemoveService")) return *e;
  std::string id = FindServiceLocked(id_or_name);
  if (id.empty()) return NotFound("service " + id_or_name + " not found");
  std::string name = services_.at(id).name;
  services_.erase(id);
  tasks_.erase(id);
  ++index_;
  EmitLocked("service", "remove", id, name);
  return OkStatus();
}

// ---- tasks

Result<std::vector<Task>> FakeDockerClient::ListTasks(const Filters& filters) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = EnterLocked("ListTasks")) return *e;
  if (auto s = CheckFilterKeys(filters, {"id", "service", "node", "desired-state"}); !s.ok()) {
    return s.error();
  }
  std::vector<std::string> service_ids;
  if (const auto* wanted = Get(filters, "service")) {
    for (const auto& w : *wanted) {
      std::string sid = FindServiceLocked(w);
      if (sid.empty()) return NotFound("service " + w + " not found");
      service_ids.push_back(sid);
    }
  }
  std::vector<std::string> node_ids;
  if (const auto* wanted = Get(filters, "node")) {
    for (const auto& w : *wanted) {
      std::string nid = FindNodeLocked(w);
      node_ids.push_back(nid.empty() ? w : nid);
    }
  }
  std::vector<Task> out;
  for (const auto& [sid, tasks] : tasks_) {
    if (!service_ids.empty() &&
        std::find(service_ids.begin(), service_ids.end(), sid) == service_ids.end()) {
      continue;
    }
    for (const auto& t : tasks) {
      if (!node_ids.empty() &&
          std::find(node_ids.begin(), node_ids.end(), t.node_id) == node_ids.end()) {
        continue;
      }
      if (!IdPrefixMatch(filters, t.id)) continue;
      if (!AnyOf(filters, "desired-state",
                 [&](const std::string& d) { return d == t.desired_state; })) {
        continue;
      }
      out.push_back(t);
    }
  }
  return out;
}

// ---- networks

Result<std::vector<Network>> FakeDockerClient::ListNetworks(const Filters& filters) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = EnterLocked("ListNetworks")) return *e;
  if (auto s = CheckFilterKeys(filters, {"id", "name", "label", "driver", "scope"}); !s.ok()) {
    return s.error();
  }
  std::vector<Network> out;
  for (const auto& [id, r] : networks_) {
    const Network& n = r.net;
    // The engine matches network names by substring, unlike other objects.
    bool name_ok = AnyOf(filters, "name",
                         [&](const std::string& v) { return n.name.find(v) != std::string::npos; });
    bool driver_ok = AnyOf(filters, "driver", [&](const std::string& v) { return v == n.driver; });
    bool scope_ok = AnyOf(filters, "scope", [&](const std::string& v) { return v == n.scope; });
    if (IdPrefixMatch(filters, id) && name_ok && driver_ok && scope_ok &&
        LabelsMatch(n.labels, filters)) {
      out.push_back(n);
    }
  }
  return out;
}

Result<Network> FakeDockerClient::InspectNetwork(const std::string& id_or_name) {
  return Inspect<Network>("InspectNetwork", "network", id_or_name,
                          &FakeDockerClient::FindNetworkLocked,
                          [&](const std::string& id) { return networks_.at(id).net; });
}

Result<std::string> FakeDockerClient::CreateNetwork(const NetworkSpec& spec) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = EnterLocked("CreateNetwork")) return *e;
  if (spec.name.empty()) return InvalidArgument("network name is required");
  for (const auto& [id, r] : networks_) {
    if (r.net.name == spec.name) {
      return Conflict("network with name " + spec.name + " already exists");
    }
  }
  NetworkRecord r;
  r.net.id = NewIdLocked();
  r.net.name = spec.name;
  r.net.driver = spec.driver;
  r.net.scope = spec.driver == "overlay" ? "swarm" : "local";
  r.net.attachable = spec.attachable;
  r.net.labels = spec.labels;
  r.subnet = next_subnet_++;
  networks_[r.net.id] = r;
  ++index_;
  EmitLocked("network", "create", r.net.id, spec.name);
  return r.net.id;
}

Status FakeDockerClient::RemoveNetwork(const std::string& id_or_name) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = EnterLocked("RemoveNetwork")) return *e;
  std::string id = FindNetworkLocked(id_or_name);
  if (id.empty()) return NotFound("network " + id_or_name + " not found");
  auto users = UsersLocked("network", id, networks_.at(id).net.name);
  if (!users.empty()) {
    return InvalidArgument("rpc error: code = FailedPrecondition desc = network " + id +
                           " is in use by service " + users.front()->id);
  }
  std::string name = networks_.at(id).net.name;
  networks_.erase(id);
  ++index_;
  EmitLocked("network", "remove", id, name);
  return OkStatus();
}

// ---- nodes

Result<std::vector<Node>> FakeDockerClient::ListNodes(const Filters& filters) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = EnterLocked("ListNodes")) return *e;
  if (auto s = CheckFilterKeys(filters, {"id", "name", "role", "node.label"}); !s.ok()) {
    return s.error();
  }
  std::vector<Node> out;
  for (const auto& [id, n] : nodes_) {
    bool role_ok = AnyOf(filters, "role", [&](const std::string& v) { return v == n.role; });
    if (IdPrefixMatch(filters, id) && NamePrefixMatch(filters, n.hostname) && role_ok &&
        LabelsMatch(n.labels, filters, "node.label")) {
      out.push_back(n);
    }
  }
  return out;
}

Status FakeDockerClient::UpdateNode(const std::string& id_in, uint64_t version,
                                    const std::string& spec_json) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = EnterLocked("UpdateNode")) return *e;
  std::string id = FindNodeLocked(id_in);
  if (id.empty()) return NotFound("node " + id_in + " not found");
  Node& n = nodes_.at(id);
  if (version != n.version) return Conflict(kOutOfSequence);
  rapidjson::Document doc;
  doc.Parse(spec_json.c_str(), spec_json.size());
  if (doc.HasParseError() || !doc.IsObject()) return InvalidArgument("invalid JSON in node spec");
  auto str = [&](const char* key) -> std::string {
    auto it = doc.FindMember(key);
    return it != doc.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
  };
  std::string role = str("Role");
  if (role != "manager" && role != "worker") {
    return InvalidArgument("invalid Role: \"" + role + "\"");
  }
  std::string availability = str("Availability");
  if (availability != "active" && availability != "pause" && availability != "drain") {
    return InvalidArgument("invalid Availability: \"" + availability + "\"");
  }
  Labels labels;
  if (auto it = doc.FindMember("Labels"); it != doc.MemberEnd() && it->value.IsObject()) {
    for (auto m = it->value.MemberBegin(); m != it->value.MemberEnd(); ++m) {
      if (m->value.IsString()) labels[m->name.GetString()] = m->value.GetString();
    }
  }
  n.role = role;
  n.availability = availability;
  n.labels = std::move(labels);
  n.spec_json = ToJson(doc);
  n.version = ++index_;
  EmitLocked("node", "update", id, n.hostname);
  return OkStatus();
}

// ---- events

Status FakeDockerClient::StreamEvents(const EventOptions& options,
                                      const std::function<bool(const Event&)>& on_event,
                                      const std::atomic<bool>& cancel) {
  size_t next = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto e = EnterLocked("StreamEvents")) return *e;
    if (auto s = CheckFilterKeys(options.filters, {"type", "event", "scope"}); !s.ok()) return s;
    if (options.since.empty()) {
      next = events_.size();
    } else {
      int64_t since = ParseUnixNanos(options.since);
      while (next < events_.size() && events_[next].time_nano < since) ++next;
    }
  }
  const int64_t until = options.until.empty() ? 0 : ParseUnixNanos(options.until);
  auto matches = [&](const Event& e) {
    const Filters& f = options.filters;
    return AnyOf(f, "type", [&](const std::string& v) { return v == e.type; }) &&
           AnyOf(f, "event", [&](const std::string& v) { return v == e.action; }) &&
           AnyOf(f, "scope", [&](const std::string& v) { return v == e.scope; });
  };
  while (!cancel.load()) {
    std::vector<Event> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (next == events_.size()) {
        events_cv_.wait_for(lock, std::chrono::milliseconds(50));
      }
      for (; next < events_.size(); ++next) batch.push_back(events_[next]);
    }
    for (const auto& e : batch) {
      if (until != 0 && e.time_nano > until) return OkStatus();
      if (matches(e) && !on_event(e)) return OkStatus();
    }
    if (until != 0) {
      int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
      if (now >= until) return OkStatus();
    }
  }
  return OkStatus();
}

// ---- test controls

void FakeDockerClient::SetTasks(const std::string& service_id, std::vector<Task> tasks) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& t : tasks) {
    t.service_id = service_id;
    if (t.id.empty()) t.id = NewIdLocked();
  }
  tasks_[service_id] = std::move(tasks);
}

void FakeDockerClient::SetServiceUpdateState(const std::string& service_id,
                                             const std::string& state) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string id = FindServiceLocked(service_id);
  if (!id.empty()) services_.at(id).update_state = state;
}

std::string FakeDockerClient::AddNode(Node node) {
  std::lock_guard<std::mutex> lock(mu_);
  if (node.id.empty()) node.id = NewIdLocked();
  node.version = ++index_;
  if (node.spec_json.empty()) {
    node.spec_json = R"({"Labels":{},"Role":")" + node.role + R"(","Availability":")" +
                     node.availability + R"("})";
  }
  nodes_[node.id] = node;
  return node.id;
}

bool FakeDockerClient::SetNodeStatus(const std::string& id_or_name, const std::string& state,
                                     const std::string& manager_reachability) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string id = FindNodeLocked(id_or_name);
  if (id.empty()) return false;
  Node& n = nodes_.at(id);
  const std::string old_state = n.state;
  n.state = state;
  if (!manager_reachability.empty()) n.manager_reachability = manager_reachability;
  n.version = ++index_;
  EmitLocked("node", "update", id, n.hostname);
  events_.back().attributes["state.old"] = old_state;
  events_.back().attributes["state.new"] = state;
  return true;
}

void FakeDockerClient::SetVersionInfo(VersionInfo info) {
  std::lock_guard<std::mutex> lock(mu_);
  version_info_ = std::move(info);
}

void FakeDockerClient::InjectEvent(Event event) {
  std::lock_guard<std::mutex> lock(mu_);
  if (event.time_nano == 0) {
    NowLocked();
    event.time_nano = last_nanos_;
    event.time = last_nanos_ / 1000000000LL;
  }
  events_.push_back(std::move(event));
  events_cv_.notify_all();
}

void FakeDockerClient::FailNext(std::string method_substring, Error error, int times) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.push_back(Failure{std::move(method_substring), std::move(error), times});
}

int FakeDockerClient::CallCount(std::string_view method) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = calls_.find(method);
  return it == calls_.end() ? 0 : it->second;
}

int FakeDockerClient::WriteCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (const auto& [method, count] : calls_) {
    if (IsWrite(method)) n += count;
  }
  return n;
}

std::vector<std::string> FakeDockerClient::CallLog() const {
  std::lock_guard<std::mutex> lock(mu_);
  return call_log_;
}

void FakeDockerClient::ResetCounters() {
  std::lock_guard<std::mutex> lock(mu_);
  calls_.clear();
  call_log_.clear();
}

uint64_t FakeDockerClient::CurrentIndex() const {
  std::lock_guard<std::mutex> lock(mu_);
  return index_;
}

}  // namespace sg::docker
