#include "operator/docker/wire_format.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>

#include "operator/common/hash.h"
#include "operator/docker/base64.h"

namespace sg::docker {
namespace {

using rapidjson::Value;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

Result<rapidjson::Document> ParseDoc(std::string_view json, const char* what) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError()) {
    return Internal(std::string("cannot parse Docker ") + what + " JSON at offset " +
                    std::to_string(doc.GetErrorOffset()) + ": " +
                    rapidjson::GetParseError_En(doc.GetParseError()));
  }
  return doc;
}

const Value* Member(const Value& v, const char* name) {
  if (!v.IsObject()) return nullptr;
  auto it = v.FindMember(name);
  if (it == v.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

const Value* Path(const Value& v, std::initializer_list<const char*> names) {
  const Value* cur = &v;
  for (const char* n : names) {
    cur = Member(*cur, n);
    if (cur == nullptr) return nullptr;
  }
  return cur;
}

std::string Str(const Value& v, std::initializer_list<const char*> names) {
  const Value* m = Path(v, names);
  return m && m->IsString() ? std::string(m->GetString(), m->GetStringLength()) : std::string();
}

uint64_t U64(const Value& v, std::initializer_list<const char*> names) {
  const Value* m = Path(v, names);
  if (m == nullptr) return 0;
  if (m->IsUint64()) return m->GetUint64();
  return 0;
}

int64_t I64(const Value& v, std::initializer_list<const char*> names) {
  const Value* m = Path(v, names);
  if (m == nullptr) return 0;
  if (m->IsInt64()) return m->GetInt64();
  return 0;
}

std::map<std::string, std::string> StrMap(const Value& v,
                                          std::initializer_list<const char*> names) {
  std::map<std::string, std::string> out;
  const Value* m = Path(v, names);
  if (m == nullptr || !m->IsObject()) return out;
  for (auto it = m->MemberBegin(); it != m->MemberEnd(); ++it) {
    if (it->value.IsString()) {
      out[std::string(it->name.GetString(), it->name.GetStringLength())] =
          std::string(it->value.GetString(), it->value.GetStringLength());
    }
  }
  return out;
}

std::vector<std::string> StrList(const Value& v, std::initializer_list<const char*> names) {
  std::vector<std::string> out;
  const Value* m = Path(v, names);
  if (m == nullptr || !m->IsArray()) return out;
  for (const auto& e : m->GetArray()) {
    if (e.IsString()) out.emplace_back(e.GetString(), e.GetStringLength());
  }
  return out;
}

std::string ToJson(const Value& v) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  v.Accept(w);
  return std::string(sb.GetString(), sb.GetSize());
}

void WriteLabels(Writer& w, const Labels& labels) {
  w.StartObject();
  for (const auto& [k, v] : labels) {
    w.String(k.data(), static_cast<rapidjson::SizeType>(k.size()));
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  }
  w.EndObject();
}

void WriteStr(Writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

Result<Config> ConfigFrom(const Value& v) {
  Config c;
  c.id = Str(v, {"ID"});
  c.version = U64(v, {"Version", "Index"});
  c.created_at = Str(v, {"CreatedAt"});
  c.updated_at = Str(v, {"UpdatedAt"});
  c.spec.name = Str(v, {"Spec", "Name"});
  c.spec.labels = StrMap(v, {"Spec", "Labels"});
  auto data = Base64Decode(Str(v, {"Spec", "Data"}));
  if (!data.ok()) {
    return Internal("config " + c.spec.name + " (" + c.id + "): " + data.error().message);
  }
  c.spec.data = std::move(data).value();
  return c;
}

Result<Secret> SecretFrom(const Value& v) {
  Secret s;
  s.id = Str(v, {"ID"});
  s.version = U64(v, {"Version", "Index"});
  s.created_at = Str(v, {"CreatedAt"});
  s.updated_at = Str(v, {"UpdatedAt"});
  s.name = Str(v, {"Spec", "Name"});
  s.labels = StrMap(v, {"Spec", "Labels"});
  return s;
}

void SpecFieldsFrom(const Value& spec, Service* s) {
  s->name = Str(spec, {"Name"});
  s->labels = StrMap(spec, {"Labels"});
  s->replicas = U64(spec, {"Mode", "Replicated", "Replicas"});
  s->global = Path(spec, {"Mode", "Global"}) != nullptr;
  // A Test of ["NONE"] disables the image's health check.
  auto test = StrList(spec, {"TaskTemplate", "ContainerSpec", "Healthcheck", "Test"});
  s->has_healthcheck = !test.empty() && test.front() != "NONE";
  s->network_targets.clear();
  // Spec.Networks is the deprecated location; the engine still accepts it.
  for (auto path : {std::initializer_list<const char*>{"TaskTemplate", "Networks"},
                    std::initializer_list<const char*>{"Networks"}}) {
    const Value* nets = Path(spec, path);
    if (nets == nullptr || !nets->IsArray()) continue;
    for (const auto& n : nets->GetArray()) {
      std::string target = Str(n, {"Target"});
      if (!target.empty()) s->network_targets.push_back(std::move(target));
    }
  }
  s->secret_names.clear();
  if (const Value* secrets = Path(spec, {"TaskTemplate", "ContainerSpec", "Secrets"});
      secrets != nullptr && secrets->IsArray()) {
    for (const auto& x : secrets->GetArray()) {
      std::string name = Str(x, {"SecretName"});
      if (!name.empty()) s->secret_names.push_back(std::move(name));
    }
  }
  s->publishes_host_ports = false;
  if (const Value* ports = Path(spec, {"EndpointSpec", "Ports"});
      ports != nullptr && ports->IsArray()) {
    for (const auto& p : ports->GetArray()) {
      if (Str(p, {"PublishMode"}) == "host") s->publishes_host_ports = true;
    }
  }
}

Result<Service> ServiceFrom(const Value& v) {
  Service s;
  s.id = Str(v, {"ID"});
  s.version = U64(v, {"Version", "Index"});
  s.created_at = Str(v, {"CreatedAt"});
  s.updated_at = Str(v, {"UpdatedAt"});
  if (const Value* spec = Member(v, "Spec")) {
    s.spec_json = ToJson(*spec);
    SpecFieldsFrom(*spec, &s);
  } else {
    s.spec_json = "{}";
  }
  s.update_state = Str(v, {"UpdateStatus", "State"});
  if (const Value* vips = Path(v, {"Endpoint", "VirtualIPs"}); vips && vips->IsArray()) {
    for (const auto& vip : vips->GetArray()) {
      s.virtual_ips.push_back(VirtualIP{Str(vip, {"NetworkID"}), Str(vip, {"Addr"})});
    }
  }
  return s;
}

Result<Task> TaskFrom(const Value& v) {
  Task t;
  t.id = Str(v, {"ID"});
  t.version = U64(v, {"Version", "Index"});
  t.service_id = Str(v, {"ServiceID"});
  t.node_id = Str(v, {"NodeID"});
  t.slot = I64(v, {"Slot"});
  t.desired_state = Str(v, {"DesiredState"});
  t.state = Str(v, {"Status", "State"});
  t.message = Str(v, {"Status", "Message"});
  t.error = Str(v, {"Status", "Err"});
  t.container_id = Str(v, {"Status", "ContainerStatus", "ContainerID"});
  t.created_at = Str(v, {"CreatedAt"});
  t.updated_at = Str(v, {"UpdatedAt"});
  if (const Value* atts = Member(v, "NetworksAttachments"); atts && atts->IsArray()) {
    for (const auto& a : atts->GetArray()) {
      NetworkAttachment na;
      na.network_id = Str(a, {"Network", "ID"});
      na.network_name = Str(a, {"Network", "Spec", "Name"});
      na.addresses = StrList(a, {"Addresses"});
      t.networks.push_back(std::move(na));
    }
  }
  return t;
}

Result<Network> NetworkFrom(const Value& v) {
  Network n;
  n.id = Str(v, {"Id"});
  n.name = Str(v, {"Name"});
  n.driver = Str(v, {"Driver"});
  n.scope = Str(v, {"Scope"});
  const Value* att = Member(v, "Attachable");
  n.attachable = att && att->IsBool() && att->GetBool();
  n.labels = StrMap(v, {"Labels"});
  return n;
}

Result<Node> NodeFrom(const Value& v) {
  Node n;
  n.id = Str(v, {"ID"});
  n.version = U64(v, {"Version", "Index"});
  n.hostname = Str(v, {"Description", "Hostname"});
  n.role = Str(v, {"Spec", "Role"});
  n.availability = Str(v, {"Spec", "Availability"});
  n.state = Str(v, {"Status", "State"});
  n.addr = Str(v, {"Status", "Addr"});
  n.manager_reachability = Str(v, {"ManagerStatus", "Reachability"});
  n.labels = StrMap(v, {"Spec", "Labels"});
  const Value* spec = Member(v, "Spec");
  n.spec_json = spec ? ToJson(*spec) : "{}";
  return n;
}

template <class T, class F>
Result<T> ParseOne(std::string_view json, const char* what, F from) {
  auto doc = ParseDoc(json, what);
  if (!doc.ok()) return doc.error();
  if (!doc->IsObject()) return Internal(std::string("Docker ") + what + " is not a JSON object");
  return from(*doc);
}

template <class T, class F>
Result<std::vector<T>> ParseList(std::string_view json, const char* what, F from) {
  auto doc = ParseDoc(json, what);
  if (!doc.ok()) return doc.error();
  std::vector<T> out;
  if (doc->IsNull()) return out;  // some list endpoints answer null when empty
  if (!doc->IsArray()) return Internal(std::string("Docker ") + what + " list is not a JSON array");
  for (const auto& e : doc->GetArray()) {
    Result<T> item = from(e);
    if (!item.ok()) return item.error();
    out.push_back(std::move(item).value());
  }
  return out;
}

}  // namespace

std::string UrlEncode(std::string_view s) { return PercentEncode(s); }

std::string EncodeFiltersJson(const Filters& filters) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  for (const auto& [key, values] : filters) {
    WriteStr(w, key);
    w.StartArray();
    for (const auto& v : values) WriteStr(w, v);
    w.EndArray();
  }
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

std::string FiltersQuery(const Filters& filters) {
  if (filters.empty()) return "";
  return "filters=" + UrlEncode(EncodeFiltersJson(filters));
}

bool ApiVersionAtLeast(std::string_view version, int major, int minor) {
  int ma = 0, mi = 0;
  std::string v(version);
  if (std::sscanf(v.c_str(), "%d.%d", &ma, &mi) != 2) return false;
  return ma > major || (ma == major && mi >= minor);
}

std::string DockerErrorMessage(std::string_view body) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (!doc.HasParseError()) {
    std::string m = Str(doc, {"message"});
    if (!m.empty()) return m;
  }
  std::string raw(body);
  while (!raw.empty() && (raw.back() == '\n' || raw.back() == '\r' || raw.back() == ' ')) {
    raw.pop_back();
  }
  return raw;
}

Error MapHttpError(int status, std::string_view body, std::string_view what,
                   std::string_view endpoint_url) {
  std::string msg = DockerErrorMessage(body);
  if (msg.empty()) msg = "HTTP " + std::to_string(status) + " with an empty body";
  switch (status) {
    case 404:
      return NotFound(msg);
    case 409:
      return Conflict(msg);
    case 400:
      return InvalidArgument(msg);
    default:
      break;
  }
  if (status == 500) {
    // Swarm's optimistic concurrency failure surfaces as a gRPC "Unknown"
    // error, i.e. HTTP 500; it is a conflict: re-read and retry.
    if (msg.find("update out of sequence") != std::string::npos) return Conflict(msg);
    // Service create/update naming a missing network answers 500 "network X
    // not found" rather than 404.
    if (msg.find(" not found") != std::string::npos) return NotFound(msg);
  }
  if (status >= 400 && status < 500) {
    return InvalidArgument(msg + " (HTTP " + std::to_string(status) + ")");
  }
  if (status >= 500) {
    return Unavailable("Docker at " + std::string(endpoint_url) + " answered " +
                       std::to_string(status) + " to " + std::string(what) + ": " + msg);
  }
  return Internal("unexpected HTTP " + std::to_string(status) + " from Docker at " +
                  std::string(endpoint_url) + " to " + std::string(what) + ": " + msg);
}

Result<VersionInfo> ParseVersion(std::string_view json) {
  return ParseOne<VersionInfo>(json, "version", [](const Value& v) -> Result<VersionInfo> {
    VersionInfo info;
    info.version = Str(v, {"Version"});
    info.api_version = Str(v, {"ApiVersion"});
    info.min_api_version = Str(v, {"MinAPIVersion"});
    info.os = Str(v, {"Os"});
    info.arch = Str(v, {"Arch"});
    return info;
  });
}

Result<SwarmInfo> ParseSwarm(std::string_view json) {
  return ParseOne<SwarmInfo>(json, "swarm", [](const Value& v) -> Result<SwarmInfo> {
    SwarmInfo info;
    info.id = Str(v, {"ID"});
    info.created_at = Str(v, {"CreatedAt"});
    info.version = U64(v, {"Version", "Index"});
    return info;
  });
}

Result<Config> ParseConfig(std::string_view json) {
  return ParseOne<Config>(json, "config", ConfigFrom);
}
Result<std::vector<Config>> ParseConfigList(std::string_view json) {
  return ParseList<Config>(json, "config", ConfigFrom);
}
Result<Secret> ParseSecret(std::string_view json) {
  return ParseOne<Secret>(json, "secret", SecretFrom);
}
Result<std::vector<Secret>> ParseSecretList(std::string_view json) {
  return ParseList<Secret>(json, "secret", SecretFrom);
}
Result<Service> ParseService(std::string_view json) {
  return ParseOne<Service>(json, "service", ServiceFrom);
}
Result<std::vector<Service>> ParseServiceList(std::string_view json) {
  return ParseList<Service>(json, "service", ServiceFrom);
}
Result<Task> ParseTask(std::string_view json) { return ParseOne<Task>(json, "task", TaskFrom); }
Result<std::vector<Task>> ParseTaskList(std::string_view json) {
  return ParseList<Task>(json, "task", TaskFrom);
}
Result<Network> ParseNetwork(std::string_view json) {
  return ParseOne<Network>(json, "network", NetworkFrom);
}
Result<std::vector<Network>> ParseNetworkList(std::string_view json) {
  return ParseList<Network>(json, "network", NetworkFrom);
}
Result<Node> ParseNode(std::string_view json) { return ParseOne<Node>(json, "node", NodeFrom); }
Result<std::vector<Node>> ParseNodeList(std::string_view json) {
  return ParseList<Node>(json, "node", NodeFrom);
}

Status ParseServiceSpecFields(std::string_view spec_json, Service* out) {
  auto doc = ParseDoc(spec_json, "service spec");
  if (!doc.ok()) return InvalidArgument(doc.error().message);
  if (!doc->IsObject()) return InvalidArgument("service spec is not a JSON object");
  SpecFieldsFrom(*doc, out);
  return OkStatus();
}

Result<Event> ParseEvent(std::string_view line) {
  return ParseOne<Event>(line, "event", [](const Value& v) -> Result<Event> {
    Event e;
    e.type = Str(v, {"Type"});
    e.action = Str(v, {"Action"});
    // Container events still carry the pre-1.22 "status"/"id" fields.
    if (e.action.empty()) e.action = Str(v, {"status"});
    e.actor_id = Str(v, {"Actor", "ID"});
    if (e.actor_id.empty()) e.actor_id = Str(v, {"id"});
    e.attributes = StrMap(v, {"Actor", "Attributes"});
    e.scope = Str(v, {"scope"});
    e.time = I64(v, {"time"});
    e.time_nano = I64(v, {"timeNano"});
    return e;
  });
}

Result<std::string> ParseCreatedId(std::string_view json) {
  auto doc = ParseDoc(json, "create response");
  if (!doc.ok()) return doc.error();
  std::string id = Str(*doc, {"ID"});
  if (id.empty()) id = Str(*doc, {"Id"});
  if (id.empty()) return Internal("Docker create response carries no ID: " + std::string(json));
  return id;
}

namespace {

// Configs and secrets share one spec shape: name, labels, base64 data.
std::string NamedDataSpecJson(const std::string& name, const Labels& labels,
                              const std::string& data) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  w.Key("Name");
  WriteStr(w, name);
  w.Key("Labels");
  WriteLabels(w, labels);
  w.Key("Data");
  WriteStr(w, Base64Encode(data));
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

}  // namespace

std::string ConfigSpecJson(const ConfigSpec& spec) {
  return NamedDataSpecJson(spec.name, spec.labels, spec.data);
}

std::string SecretSpecJson(const SecretSpec& spec) {
  return NamedDataSpecJson(spec.name, spec.labels, spec.data);
}

std::string NetworkCreateJson(const NetworkSpec& spec) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  w.Key("Name");
  WriteStr(w, spec.name);
  // Without it the engine happily creates a second network of the same name.
  w.Key("CheckDuplicate");
  w.Bool(true);
  w.Key("Driver");
  WriteStr(w, spec.driver);
  w.Key("Attachable");
  w.Bool(spec.attachable);
  w.Key("Labels");
  WriteLabels(w, spec.labels);
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

}  // namespace sg::docker
