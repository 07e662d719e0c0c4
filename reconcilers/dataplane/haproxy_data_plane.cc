#include "reconcilers/dataplane/haproxy_data_plane.h"

#include <algorithm>
#include <map>
#include <string_view>
#include <utility>

namespace sg::dataplane {
namespace {

// The check's own name for certificate path `p`: "certs/<p relative to
// certs_dir>", or "certs/<file name>" for paths outside it.
std::string PlaceholderPath(std::string_view p, const std::string& certs_dir) {
  const std::string prefix =
      certs_dir.empty() || certs_dir.back() == '/' ? certs_dir : certs_dir + "/";
  std::string_view rest = p;
  if (!prefix.empty() && p.substr(0, prefix.size()) == prefix) rest = p.substr(prefix.size());
  bool inside = !rest.empty() && rest[0] != '/' && rest.find("..") == std::string_view::npos;
  if (!inside) rest = rest.substr(rest.rfind('/') + 1);
  return "certs/" + std::string(rest);
}

// Rewrites the word after every " crt " of the bind lines.
std::string PointCertificatesAtPlaceholders(const std::string& text, const std::string& certs_dir,
                                            std::map<std::string, std::string>* files,
                                            const std::string& placeholder) {
  std::string out;
  out.reserve(text.size());
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    size_t word = line.find_first_not_of(' ');
    if (word != std::string_view::npos && line.substr(word).rfind("bind ", 0) == 0) {
      size_t from = 0;
      for (size_t crt = line.find(" crt ", from); crt != std::string_view::npos;
           crt = line.find(" crt ", from)) {
        size_t path = crt + 5;
        size_t path_end = line.find(' ', path);
        if (path_end == std::string_view::npos) path_end = line.size();
        std::string file = PlaceholderPath(line.substr(path, path_end - path), certs_dir);
        (*files)[file] = placeholder;
        out.append(line.substr(from, path - from));
        out.append(file);
        from = path_end;
      }
      out.append(line.substr(from));
    } else {
      out.append(line);
    }
    if (end < text.size()) out.push_back('\n');
    start = end + 1;
  }
  return out;
}

// The route a CheckModel message names: `route "X": ...`.
std::string MessageRoute(const std::string& message) {
  static constexpr std::string_view kPrefix = "route \"";
  if (message.rfind(kPrefix, 0) != 0) return "";
  size_t end = message.find('"', kPrefix.size());
  if (end == std::string::npos) return "";
  return message.substr(kPrefix.size(), end - kPrefix.size());
}

// HAProxy names some errors by proxy rather than by line ("Proxy 'sg:http':
// unable to find required use_backend: 'r.shop.0'"): the line declaring the
// first backend a quoted name denotes, 0 if none.
int BackendLine(const EngineConfig& config, const std::string& message) {
  for (size_t open = message.find('\''); open != std::string::npos;
       open = message.find('\'', open + 1)) {
    size_t close = message.find('\'', open + 1);
    if (close == std::string::npos) break;
    std::string needle = "\nbackend " + message.substr(open + 1, close - open - 1) + "\n";
    size_t at = config.text.find(needle);
    if (at != std::string::npos) {
      return static_cast<int>(std::count(config.text.begin(), config.text.begin() + at + 1, '\n')) +
             1;
    }
    open = close;
  }
  return 0;
}

}  // namespace

HaproxyDataPlane::HaproxyDataPlane(haproxy::HaproxyValidator& validator,
                                   haproxy::RenderOptions options, std::string openssl_binary)
    : validator_(validator),
      options_(std::move(options)),
      placeholder_(std::move(openssl_binary)) {}

EngineConfig HaproxyDataPlane::Render(const TrafficModel& model) const {
  haproxy::RenderedConfig rendered = haproxy::RenderHaproxy(model, options_);
  EngineConfig out;
  out.text = std::move(rendered.text);
  out.route_of_line = std::move(rendered.route_of_line);
  return out;
}

CheckOutcome HaproxyDataPlane::Check(const TrafficModel& model, const EngineConfig& config) {
  if (Status st = haproxy::CheckModel(model); !st.ok()) {
    return {st, MessageRoute(st.error().message)};
  }
  std::map<std::string, std::string> files;
  const std::string* text = &config.text;
  std::string rewritten;
  if (!haproxy::CertificateFiles(model).empty()) {
    auto cert = placeholder_.Get();
    if (!cert.ok()) return {cert.error(), ""};
    rewritten = PointCertificatesAtPlaceholders(config.text, model.settings.certs_dir, &files,
                                                cert->certificate_pem + cert->key_pem);
    text = &rewritten;
  }
  CheckOutcome out;
  out.status = validator_.Validate(*text, files);
  if (!out.status.ok()) {
    const std::string& message = out.status.error().message;
    int line = haproxy::HaproxyErrorLine(message);
    if (line == 0) line = BackendLine(config, message);
    out.route = config.RouteAtLine(line);
  }
  return out;
}

}  // namespace sg::dataplane
