#include "reconcilers/dataplane/nginx_data_plane.h"

#include <cstdlib>
#include <string_view>
#include <utility>
#include <vector>

namespace sg::dataplane {
namespace {

// An ssl_certificate or ssl_certificate_key line: its path under the certs
// prefix becomes "certs/<rest>", a relative path stays, any other path becomes
// "certs/<file name>".
void PointLineAtPlaceholders(std::string_view line, const std::string& certs_prefix,
                             std::string* out, std::vector<std::string>* files) {
  size_t word = line.find_first_not_of(' ');
  bool cert =
      word != std::string_view::npos && (line.substr(word).rfind("ssl_certificate ", 0) == 0 ||
                                         line.substr(word).rfind("ssl_certificate_key ", 0) == 0);
  if (!cert) {
    out->append(line);
    return;
  }
  size_t path = line.find(' ', word) + 1;
  size_t semi = line.rfind(';');
  std::string_view p =
      line.substr(path, semi == std::string_view::npos ? line.size() - path : semi - path);
  std::string file;
  if (!certs_prefix.empty() && p.rfind(certs_prefix, 0) == 0) {
    file = "certs/" + std::string(p.substr(certs_prefix.size()));
  } else if (!p.empty() && p[0] != '/') {
    file = std::string(p);
  } else {
    file = "certs/" + std::string(p.substr(p.rfind('/') + 1));
  }
  out->append(line.substr(0, path));
  out->append(file);
  out->append(line.substr(path + p.size()));
  files->push_back(std::move(file));
}

ProxyEngine Nginx(nginx::RenderOptions options) {
  ProxyEngine e;
  e.name = "nginx";
  e.render = [options = std::move(options)](const TrafficModel& model) -> EngineConfig {
    return nginx::RenderNginx(model, options);
  };
  e.check_model = [](const TrafficModel& model) -> CheckOutcome {
    Status st = nginx::CheckModel(model);
    if (st.ok()) return {st, ""};
    return {st, RouteOfMessage(st.error().message)};
  };
  e.certificate_files = nginx::CertificateFiles;
  e.point_at_placeholders = PointLineAtPlaceholders;
  e.error_line = [](const EngineConfig&, const std::string& message) {
    return NginxErrorLine(message);
  };
  return e;
}

}  // namespace

int NginxErrorLine(const std::string& message) {
  auto pos = message.rfind(".conf:");
  if (pos == std::string::npos) return 0;
  int line = std::atoi(message.c_str() + pos + 6);
  return line > 0 ? line : 0;
}

NginxDataPlane::NginxDataPlane(nginx::NginxValidator& validator, nginx::RenderOptions options,
                               std::string openssl_binary)
    : ProxyDataPlane(Nginx(std::move(options)), validator, std::move(openssl_binary)) {}

}  // namespace sg::dataplane
