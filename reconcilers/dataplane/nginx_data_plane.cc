#include "reconcilers/dataplane/nginx_data_plane.h"

#include <cstdlib>
#include <map>

namespace sg::dataplane {
namespace {

// Lines whose directive is a certificate path under `certs_dir`; their path
// prefix is replaced by "certs/" for the check.
std::string PointCertificatesAtPlaceholders(const std::string& text, const std::string& certs_dir,
                                            std::map<std::string, std::string>* files,
                                            const std::string& placeholder) {
  std::string out;
  out.reserve(text.size());
  const std::string prefix =
      certs_dir.empty() || certs_dir.back() == '/' ? certs_dir : certs_dir + "/";
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    size_t word = line.find_first_not_of(' ');
    bool cert =
        word != std::string_view::npos && (line.substr(word).rfind("ssl_certificate ", 0) == 0 ||
                                           line.substr(word).rfind("ssl_certificate_key ", 0) == 0);
    if (cert) {
      size_t path = line.find(' ', word) + 1;
      size_t semi = line.rfind(';');
      std::string_view p =
          line.substr(path, semi == std::string_view::npos ? line.size() - path : semi - path);
      std::string file;
      if (!prefix.empty() && p.rfind(prefix, 0) == 0) {
        file = "certs/" + std::string(p.substr(prefix.size()));
      } else if (!p.empty() && p[0] != '/') {
        file = std::string(p);
      } else {
        file = "certs/" + std::string(p.substr(p.rfind('/') + 1));
      }
      (*files)[file] = placeholder;
      out.append(line.substr(0, path));
      out.append(file);
      out.append(line.substr(path + p.size()));
    } else {
      out.append(line);
    }
    if (end < text.size()) out.push_back('\n');
    start = end + 1;
  }
  return out;
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
    : validator_(validator),
      options_(std::move(options)),
      placeholder_(std::move(openssl_binary)) {}

EngineConfig NginxDataPlane::Render(const TrafficModel& model) const {
  nginx::RenderedConfig rendered = nginx::RenderNginx(model, options_);
  EngineConfig out;
  out.text = std::move(rendered.text);
  out.route_of_line = std::move(rendered.route_of_line);
  return out;
}

CheckOutcome NginxDataPlane::Check(const TrafficModel& model, const EngineConfig& config) {
  std::map<std::string, std::string> files;
  const std::string* text = &config.text;
  std::string rewritten;
  if (!nginx::CertificateFiles(model).empty()) {
    auto cert = placeholder_.Get();
    if (!cert.ok()) return {cert.error(), ""};
    rewritten = PointCertificatesAtPlaceholders(config.text, model.settings.certs_dir, &files,
                                                cert->certificate_pem + cert->key_pem);
    text = &rewritten;
  }
  CheckOutcome out;
  out.status = validator_.Validate(*text, files);
  if (!out.status.ok()) out.route = config.RouteAtLine(NginxErrorLine(out.status.error().message));
  return out;
}

}  // namespace sg::dataplane
