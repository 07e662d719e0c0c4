#pragma once
// Where the Docker Engine API lives and how to reach it, resolved the way the
// docker CLI does: --docker-host, else DOCKER_HOST, else the local socket;
// TLS from DOCKER_TLS_VERIFY / DOCKER_CERT_PATH.

#include <optional>
#include <string>
#include <string_view>

#include "operator/common/result.h"

namespace sg::docker {

inline constexpr char kDefaultDockerHost[] = "unix:///var/run/docker.sock";

struct DockerEndpoint {
  enum class Kind { kUnix, kTcp };

  Kind kind = Kind::kUnix;
  std::string url;          // as resolved, for messages: "unix:///var/run/docker.sock"
  std::string socket_path;  // kUnix
  std::string host;         // kTcp: name or address, without IPv6 brackets
  std::string port;         // kTcp
  bool tls = false;
  std::string ca_file;    // empty: the system's default trust store
  std::string cert_file;  // client certificate (PEM), optional
  std::string key_file;   // client key (PEM), optional

  // Value of the HTTP Host header: Docker ignores it, but HTTP/1.1 requires
  // one; the docker CLI sends "docker" over unix sockets.
  std::string HostHeader() const;
};

// The process environment as far as endpoint resolution is concerned; a
// parameter so tests need not touch the real environment.
struct DockerEnv {
  std::optional<std::string> docker_host;  // DOCKER_HOST
  std::optional<std::string> tls_verify;   // DOCKER_TLS_VERIFY
  std::optional<std::string> cert_path;    // DOCKER_CERT_PATH
  std::optional<std::string> home;         // HOME, for the ~/.docker default

  static DockerEnv FromProcess();
};

// Parses one endpoint URL: unix://PATH, tcp://HOST:PORT, http://HOST:PORT,
// https://HOST:PORT ([v6]:PORT allowed). `tls` forces TLS for tcp/http;
// https implies it. When TLS is on, certificates come from `cert_dir`
// (ca.pem, cert.pem, key.pem); with `require_certs` all three must exist.
Result<DockerEndpoint> ParseDockerEndpoint(std::string_view url, bool tls, bool require_certs,
                                           std::string_view cert_dir);

// Full resolution: flag value (may be empty), then env.docker_host, then
// kDefaultDockerHost. TLS when DOCKER_TLS_VERIFY is non-empty and not "0"
// (then all three certificate files are required) or the scheme is https.
Result<DockerEndpoint> ResolveDockerEndpoint(std::string_view flag_value, const DockerEnv& env);
Result<DockerEndpoint> ResolveDockerEndpoint(std::string_view flag_value);

}  // namespace sg::docker
