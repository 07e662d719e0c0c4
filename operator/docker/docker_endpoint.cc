#include "operator/docker/docker_endpoint.h"

#include <sys/stat.h>

#include <cstdlib>

namespace sg::docker {
namespace {

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::optional<std::string> Getenv(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

Error BadEndpoint(std::string_view url, std::string_view why) {
  return InvalidArgument("invalid Docker endpoint \"" + std::string(url) +
                         "\": " + std::string(why));
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

std::string DockerEndpoint::HostHeader() const {
  if (kind == Kind::kUnix) return "docker";
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + port;
  return host + ":" + port;
}

DockerEnv DockerEnv::FromProcess() {
  DockerEnv env;
  env.docker_host = Getenv("DOCKER_HOST");
  env.tls_verify = Getenv("DOCKER_TLS_VERIFY");
  env.cert_path = Getenv("DOCKER_CERT_PATH");
  env.home = Getenv("HOME");
  return env;
}

Result<DockerEndpoint> ParseDockerEndpoint(std::string_view url, bool tls, bool require_certs,
                                           std::string_view cert_dir) {
  DockerEndpoint ep;
  ep.url = std::string(url);
  auto sep = url.find("://");
  if (sep == std::string_view::npos) {
    return BadEndpoint(url, "expected unix://PATH or tcp://HOST:PORT");
  }
  std::string_view scheme = url.substr(0, sep);
  std::string_view rest = url.substr(sep + 3);

  if (scheme == "unix") {
    if (rest.empty()) return BadEndpoint(url, "missing socket path");
    ep.kind = DockerEndpoint::Kind::kUnix;
    ep.socket_path = std::string(rest);
    return ep;
  }
  if (scheme != "tcp" && scheme != "http" && scheme != "https") {
    return BadEndpoint(url, "unsupported scheme \"" + std::string(scheme) +
                                "\" (supported: unix, tcp, http, https)");
  }
  ep.kind = DockerEndpoint::Kind::kTcp;
  ep.tls = tls || scheme == "https";

  // A trailing "/" is harmless; a base path is something we do not support.
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    if (rest.substr(slash) != "/")
      return BadEndpoint(url, "a path after HOST:PORT is not supported");
    rest = rest.substr(0, slash);
  }
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos) return BadEndpoint(url, "unterminated [IPv6] address");
    ep.host = std::string(rest.substr(1, close - 1));
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return BadEndpoint(url, "expected :PORT after ]");
      port = after.substr(1);
      if (port.empty()) return BadEndpoint(url, "empty port");
    }
  } else {
    auto colon = rest.rfind(':');
    if (colon != std::string_view::npos) {
      ep.host = std::string(rest.substr(0, colon));
      port = rest.substr(colon + 1);
      if (port.empty()) return BadEndpoint(url, "empty port");
    } else {
      ep.host = std::string(rest);
    }
  }
  if (ep.host.empty()) return BadEndpoint(url, "missing host");
  if (port.empty()) {
    ep.port = ep.tls ? "2376" : "2375";
  } else {
    if (!AllDigits(port) || port.size() > 5 || std::stoi(std::string(port)) == 0 ||
        std::stoi(std::string(port)) > 65535) {
      return BadEndpoint(url, "invalid port \"" + std::string(port) + "\"");
    }
    ep.port = std::string(port);
  }

  if (ep.tls) {
    std::string dir(cert_dir);
    if (!dir.empty() && dir.back() != '/') dir += '/';
    struct Want {
      const char* name;
      std::string* field;
    };
    for (Want w : {Want{"ca.pem", &ep.ca_file}, Want{"cert.pem", &ep.cert_file},
                   Want{"key.pem", &ep.key_file}}) {
      std::string path = dir + w.name;
      if (FileExists(path)) {
        *w.field = path;
      } else if (require_certs) {
        return BadEndpoint(url, "TLS is on (DOCKER_TLS_VERIFY) but " + path + " does not exist");
      }
    }
    if (ep.cert_file.empty() != ep.key_file.empty()) {
      return BadEndpoint(url, "TLS client certificate and key must both exist in " + dir);
    }
  }
  return ep;
}

Result<DockerEndpoint> ResolveDockerEndpoint(std::string_view flag_value, const DockerEnv& env) {
  std::string url;
  if (!flag_value.empty()) {
    url = std::string(flag_value);
  } else if (env.docker_host && !env.docker_host->empty()) {
    url = *env.docker_host;
  } else {
    url = kDefaultDockerHost;
  }
  bool verify = env.tls_verify && !env.tls_verify->empty() && *env.tls_verify != "0";
  std::string cert_dir;
  if (env.cert_path && !env.cert_path->empty()) {
    cert_dir = *env.cert_path;
  } else {
    cert_dir = (env.home ? *env.home : std::string()) + "/.docker";
  }
  return ParseDockerEndpoint(url, verify, verify, cert_dir);
}

Result<DockerEndpoint> ResolveDockerEndpoint(std::string_view flag_value) {
  return ResolveDockerEndpoint(flag_value, DockerEnv::FromProcess());
}

}  // namespace sg::docker
