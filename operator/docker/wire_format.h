#pragma once
// The JSON and query-string shapes of the Docker Engine API v1.41: encoding
// requests, decoding answers into docker_types.h values, and mapping error
// answers to sg::Error. Pure functions, shared by EngineClient and the fake.

#include <string>
#include <string_view>
#include <vector>

#include "operator/common/result.h"
#include "operator/docker/docker_types.h"

namespace sg::docker {

// Percent-encodes everything except RFC 3986 unreserved characters, so the
// result is safe both as a path segment and as a query value (sg::PercentEncode
// of operator/common/hash.h).
std::string UrlEncode(std::string_view s);

// {"label":["a=b"],"name":["x"]} — the JSON Docker expects in `filters`.
std::string EncodeFiltersJson(const Filters& filters);
// "filters=%7B...%7D", or "" when there are no filters.
std::string FiltersQuery(const Filters& filters);

// True when a dotted API version ("1.41") is at least major.minor.
bool ApiVersionAtLeast(std::string_view version, int major, int minor);

// Docker's error body is {"message": "..."}; falls back to the raw body.
std::string DockerErrorMessage(std::string_view body);

// Maps a non-2xx answer to an error. `what` is "POST /v1.41/configs/create",
// `endpoint_url` the engine's URL; both only appear in Unavailable messages,
// otherwise the message is Docker's own.
Error MapHttpError(int status, std::string_view body, std::string_view what,
                   std::string_view endpoint_url);

Result<VersionInfo> ParseVersion(std::string_view json);
Result<SwarmInfo> ParseSwarm(std::string_view json);
Result<Config> ParseConfig(std::string_view json);
Result<std::vector<Config>> ParseConfigList(std::string_view json);
Result<Secret> ParseSecret(std::string_view json);
Result<std::vector<Secret>> ParseSecretList(std::string_view json);
Result<Service> ParseService(std::string_view json);
Result<std::vector<Service>> ParseServiceList(std::string_view json);
// Fills the fields a Service derives from its Spec (name, labels, replicas,
// has_healthcheck, network_targets); spec_json is left untouched.
Status ParseServiceSpecFields(std::string_view spec_json, Service* out);
Result<Task> ParseTask(std::string_view json);
Result<std::vector<Task>> ParseTaskList(std::string_view json);
Result<Network> ParseNetwork(std::string_view json);
Result<std::vector<Network>> ParseNetworkList(std::string_view json);
Result<Node> ParseNode(std::string_view json);
Result<std::vector<Node>> ParseNodeList(std::string_view json);
// One line of the /events stream.
Result<Event> ParseEvent(std::string_view line);
// {"ID": "..."} (configs, secrets, services) or {"Id": "..."} (networks).
Result<std::string> ParseCreatedId(std::string_view json);

// Request bodies.
std::string ConfigSpecJson(const ConfigSpec& spec);  // Data base64-encoded
std::string SecretSpecJson(const SecretSpec& spec);
std::string NetworkCreateJson(const NetworkSpec& spec);  // CheckDuplicate: true

}  // namespace sg::docker
