#include "operator/docker/engine_client.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "operator/docker/wire_format.h"

namespace sg::docker {
namespace {

std::shared_ptr<spdlog::logger> Log() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto existing = spdlog::get("docker");
    return existing ? existing : spdlog::stderr_color_mt("docker");
  }();
  return logger;
}

std::string WithQuery(std::string path, const std::string& query) {
  if (query.empty()) return path;
  return path + (path.find('?') == std::string::npos ? "?" : "&") + query;
}

std::string Seg(const std::string& id) { return UrlEncode(id); }

// A response body through its parser; errors pass through.
template <typename T>
Result<T> Parsed(Result<std::string> body, Result<T> (*parse)(std::string_view)) {
  if (!body.ok()) return body.error();
  return parse(*body);
}

// A call whose body says nothing the caller needs.
Status Done(const Result<std::string>& body) {
  if (!body.ok()) return body.error();
  return OkStatus();
}

}  // namespace

EngineClient::EngineClient(std::unique_ptr<HttpTransport> transport, RequestObserver observer)
    : transport_(std::move(transport)), observer_(std::move(observer)) {}

Result<std::unique_ptr<EngineClient>> EngineClient::Connect(const DockerEndpoint& endpoint,
                                                            EngineClientOptions options) {
  auto transport = HttpTransport::Create(endpoint, options.transport);
  if (!transport.ok()) return transport.error();
  std::unique_ptr<EngineClient> client(
      new EngineClient(std::move(transport).value(), std::move(options.observer)));
  auto version = client->Version();
  if (!version.ok()) return version.error();
  if (!ApiVersionAtLeast(version->api_version, kMinApiMajor, kMinApiMinor)) {
    return InvalidArgument(
        "Docker API " + (version->api_version.empty() ? "(unknown)" : version->api_version) +
        " at " + endpoint.url + " is too old: swarmgate needs >= " + std::to_string(kMinApiMajor) +
        "." + std::to_string(kMinApiMinor));
  }
  return client;
}

Result<std::unique_ptr<EngineClient>> EngineClient::ConnectFromFlag(
    std::string_view docker_host_flag, EngineClientOptions options) {
  auto endpoint = ResolveDockerEndpoint(docker_host_flag);
  if (!endpoint.ok()) return endpoint.error();
  return Connect(*endpoint, std::move(options));
}

Result<std::string> EngineClient::Do(const char* method, const char* endpoint,
                                     const std::string& path, const std::string& body,
                                     bool unversioned) {
  HttpRequest req;
  req.method = method;
  req.target = unversioned ? path : kApiVersionPrefix + path;
  req.body = body;
  const auto start = std::chrono::steady_clock::now();
  auto res = transport_->RoundTrip(req);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (observer_) observer_(method, endpoint, res.ok() ? res->status : 0, seconds);
  if (!res.ok()) return res.error();
  if (res->status < 200 || res->status >= 300) {
    return MapHttpError(res->status, res->body, std::string(method) + " " + req.target,
                        transport_->endpoint().url);
  }
  return std::move(res->body);
}

Result<VersionInfo> EngineClient::Version() {
  // Unversioned on purpose: an engine older than 1.41 rejects /v1.41/...
  // with 400 "client version is too new" before we could say what is wrong.
  return Parsed(Do("GET", "/version", "/version", {}, /*unversioned=*/true), ParseVersion);
}

Result<SwarmInfo> EngineClient::InspectSwarm() {
  return Parsed(Do("GET", "/swarm", "/swarm"), ParseSwarm);
}

// ---- the REST shape every Swarm object collection shares

Result<std::string> EngineClient::ListIn(const Collection& c, const Filters& filters) {
  return Do("GET", c.root, WithQuery(c.root, FiltersQuery(filters)));
}

Result<std::string> EngineClient::InspectIn(const Collection& c, const std::string& id_or_name,
                                            const std::string& query) {
  return Do("GET", c.item, WithQuery(std::string(c.root) + "/" + Seg(id_or_name), query));
}

Result<std::string> EngineClient::CreateIn(const Collection& c, const std::string& body) {
  return Do("POST", c.create, c.create, body);
}

Status EngineClient::UpdateIn(const Collection& c, const std::string& id, uint64_t version,
                              const std::string& body) {
  return Done(Do("POST", c.update,
                 std::string(c.root) + "/" + Seg(id) + "/update?version=" + std::to_string(version),
                 body));
}

Status EngineClient::RemoveIn(const Collection& c, const std::string& id_or_name) {
  return Done(Do("DELETE", c.item, std::string(c.root) + "/" + Seg(id_or_name)));
}

namespace {
constexpr EngineClient::Collection kConfigs{"/configs", "/configs/{id}", "/configs/create",
                                            "/configs/{id}/update"};
constexpr EngineClient::Collection kSecrets{"/secrets", "/secrets/{id}", "/secrets/create", ""};
constexpr EngineClient::Collection kServices{"/services", "/services/{id}", "/services/create",
                                             "/services/{id}/update"};
constexpr EngineClient::Collection kTasks{"/tasks", "", "", ""};
constexpr EngineClient::Collection kNetworks{"/networks", "/networks/{id}", "/networks/create", ""};
constexpr EngineClient::Collection kNodes{"/nodes", "", "", "/nodes/{id}/update"};
}  // namespace

// ---- configs

Result<std::vector<Config>> EngineClient::ListConfigs(const Filters& filters) {
  return Parsed(ListIn(kConfigs, filters), ParseConfigList);
}

Result<Config> EngineClient::InspectConfig(const std::string& id_or_name) {
  return Parsed(InspectIn(kConfigs, id_or_name), ParseConfig);
}

Result<std::string> EngineClient::CreateConfig(const ConfigSpec& spec) {
  return Parsed(CreateIn(kConfigs, ConfigSpecJson(spec)), ParseCreatedId);
}

Status EngineClient::UpdateConfig(const std::string& id, uint64_t version, const ConfigSpec& spec) {
  return UpdateIn(kConfigs, id, version, ConfigSpecJson(spec));
}

Status EngineClient::RemoveConfig(const std::string& id_or_name) {
  return RemoveIn(kConfigs, id_or_name);
}

// ---- secrets

Result<std::vector<Secret>> EngineClient::ListSecrets(const Filters& filters) {
  return Parsed(ListIn(kSecrets, filters), ParseSecretList);
}

Result<Secret> EngineClient::InspectSecret(const std::string& id_or_name) {
  return Parsed(InspectIn(kSecrets, id_or_name), ParseSecret);
}

Result<std::string> EngineClient::CreateSecret(const SecretSpec& spec) {
  return Parsed(CreateIn(kSecrets, SecretSpecJson(spec)), ParseCreatedId);
}

Status EngineClient::RemoveSecret(const std::string& id_or_name) {
  return RemoveIn(kSecrets, id_or_name);
}

// ---- services

Result<std::vector<Service>> EngineClient::ListServices(const Filters& filters) {
  return Parsed(ListIn(kServices, filters), ParseServiceList);
}

Result<Service> EngineClient::InspectService(const std::string& id_or_name) {
  // insertDefaults=false: the Spec comes back as stored, so resending it
  // after an edit does not freeze engine defaults into it.
  return Parsed(InspectIn(kServices, id_or_name, "insertDefaults=false"), ParseService);
}

Result<std::string> EngineClient::CreateService(const std::string& spec_json) {
  return Parsed(CreateIn(kServices, spec_json), ParseCreatedId);
}

Status EngineClient::UpdateService(const std::string& id, uint64_t version,
                                   const std::string& spec_json) {
  return UpdateIn(kServices, id, version, spec_json);
}

Status EngineClient::RemoveService(const std::string& id_or_name) {
  return RemoveIn(kServices, id_or_name);
}

// ---- tasks

Result<std::vector<Task>> EngineClient::ListTasks(const Filters& filters) {
  return Parsed(ListIn(kTasks, filters), ParseTaskList);
}

// ---- networks

Result<std::vector<Network>> EngineClient::ListNetworks(const Filters& filters) {
  return Parsed(ListIn(kNetworks, filters), ParseNetworkList);
}

Result<Network> EngineClient::InspectNetwork(const std::string& id_or_name) {
  return Parsed(InspectIn(kNetworks, id_or_name), ParseNetwork);
}

Result<std::string> EngineClient::CreateNetwork(const NetworkSpec& spec) {
  return Parsed(CreateIn(kNetworks, NetworkCreateJson(spec)), ParseCreatedId);
}

Status EngineClient::RemoveNetwork(const std::string& id_or_name) {
  return RemoveIn(kNetworks, id_or_name);
}

// ---- nodes

Result<std::vector<Node>> EngineClient::ListNodes(const Filters& filters) {
  return Parsed(ListIn(kNodes, filters), ParseNodeList);
}

Status EngineClient::UpdateNode(const std::string& id, uint64_t version,
                                const std::string& spec_json) {
  return UpdateIn(kNodes, id, version, spec_json);
}

// ---- events

Status EngineClient::StreamEvents(const EventOptions& options,
                                  const std::function<bool(const Event&)>& on_event,
                                  const std::atomic<bool>& cancel) {
  std::string query;
  auto add = [&](const std::string& kv) { query += (query.empty() ? "" : "&") + kv; };
  if (!options.since.empty()) add("since=" + UrlEncode(options.since));
  if (!options.until.empty()) add("until=" + UrlEncode(options.until));
  if (!options.filters.empty()) add(FiltersQuery(options.filters));

  HttpRequest req;
  req.method = "GET";
  req.target = WithQuery(std::string(kApiVersionPrefix) + "/events", query);
  const auto start = std::chrono::steady_clock::now();
  bool observed = false;
  auto on_header = [&](int status) {
    observed = true;
    if (observer_) {
      observer_("GET", "/events", status,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
  };

  // The engine writes one JSON object per line; chunk boundaries need not
  // align with lines, so partial lines wait in `pending`.
  std::string pending;
  bool stopped_by_callback = false;
  auto on_data = [&](std::string_view data) {
    pending.append(data);
    size_t begin = 0;
    for (size_t nl; (nl = pending.find('\n', begin)) != std::string::npos; begin = nl + 1) {
      std::string_view line(pending.data() + begin, nl - begin);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty()) continue;
      auto event = ParseEvent(line);
      if (!event.ok()) {
        Log()->warn("skipping malformed event from {}: {}", transport_->endpoint().url,
                    event.error().message);
        continue;
      }
      if (!on_event(*event)) {
        stopped_by_callback = true;
        return false;
      }
    }
    pending.erase(0, begin);
    return true;
  };

  auto res = transport_->Stream(req, on_data, cancel, on_header);
  if (!res.ok()) {
    if (!observed && observer_) {
      observer_("GET", "/events", 0,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    if (cancel.load()) return OkStatus();
    return res.error();
  }
  if (cancel.load() || stopped_by_callback) return OkStatus();
  if (res->status != 0 && (res->status < 200 || res->status >= 300)) {
    return MapHttpError(res->status, res->body, "GET " + req.target, transport_->endpoint().url);
  }
  // The engine ended the stream: normal with `until`, otherwise the caller
  // should reconnect with `since`.
  if (!options.until.empty()) return OkStatus();
  return Unavailable("event stream from " + transport_->endpoint().url + " ended");
}

}  // namespace sg::docker
