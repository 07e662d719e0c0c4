#include "reconcilers/dataplane/haproxy_data_plane.h"

#include <algorithm>
#include <string_view>
#include <utility>
#include <vector>

#include "reconcilers/haproxy/haproxy_server_changes.h"

namespace sg::dataplane {
namespace {

// The check's own name for certificate path `p`: "certs/<p relative to
// certs_prefix>", or "certs/<file name>" for paths outside it.
std::string PlaceholderPath(std::string_view p, const std::string& certs_prefix) {
  std::string_view rest = p;
  if (!certs_prefix.empty() && p.substr(0, certs_prefix.size()) == certs_prefix) {
    rest = p.substr(certs_prefix.size());
  }
  bool inside = !rest.empty() && rest[0] != '/' && rest.find("..") == std::string_view::npos;
  if (!inside) rest = rest.substr(rest.rfind('/') + 1);
  return "certs/" + std::string(rest);
}

// Rewrites the word after every " crt " of a bind line.
void PointLineAtPlaceholders(std::string_view line, const std::string& certs_prefix,
                             std::string* out, std::vector<std::string>* files) {
  size_t word = line.find_first_not_of(' ');
  if (word == std::string_view::npos || line.substr(word).rfind("bind ", 0) != 0) {
    out->append(line);
    return;
  }
  size_t from = 0;
  for (size_t crt = line.find(" crt ", from); crt != std::string_view::npos;
       crt = line.find(" crt ", from)) {
    size_t path = crt + 5;
    size_t path_end = line.find(' ', path);
    if (path_end == std::string_view::npos) path_end = line.size();
    std::string file = PlaceholderPath(line.substr(path, path_end - path), certs_prefix);
    out->append(line.substr(from, path - from));
    out->append(file);
    files->push_back(std::move(file));
    from = path_end;
  }
  out->append(line.substr(from));
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

ProxyEngine Haproxy(haproxy::RenderOptions options) {
  ProxyEngine e;
  e.name = "haproxy";
  e.render = [options = std::move(options)](const TrafficModel& model) -> EngineConfig {
    return haproxy::RenderHaproxy(model, options);
  };
  e.check_model = [](const TrafficModel& model) -> CheckOutcome {
    Status st = haproxy::CheckModel(model);
    if (st.ok()) return {st, ""};
    return {st, RouteOfMessage(st.error().message)};
  };
  // What the runtime API can change adds nothing HAProxy's parser could
  // refuse: servers come from Swarm's task addresses and take only what `add
  // server` takes, map lines are words the renderer made safe, and a new
  // backend has the settings of a spare backend that was checked.
  e.covered_by_check = [](const std::string& checked, const std::string& next) {
    return haproxy::PlanRuntimeChanges(checked, next).has_value();
  };
  e.certificate_files = haproxy::CertificateFiles;
  e.point_at_placeholders = PointLineAtPlaceholders;
  e.error_line = [](const EngineConfig& config, const std::string& message) {
    int line = haproxy::HaproxyErrorLine(message);
    return line != 0 ? line : BackendLine(config, message);
  };
  return e;
}

}  // namespace

HaproxyDataPlane::HaproxyDataPlane(haproxy::HaproxyValidator& validator,
                                   haproxy::RenderOptions options, std::string openssl_binary)
    : ProxyDataPlane(Haproxy(std::move(options)), validator, std::move(openssl_binary)) {}

}  // namespace sg::dataplane
