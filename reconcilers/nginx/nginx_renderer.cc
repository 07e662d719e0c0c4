// Orchestration of one render and the public API; each nginx context is
// emitted by its own nginx_render_*.cc.

#include "reconcilers/nginx/nginx_renderer.h"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>
#include <tuple>
#include <utility>

#include "reconcilers/nginx/nginx_render.h"
#include "reconcilers/nginx/nginx_writer.h"

namespace sg::nginx {
namespace internal {
namespace {

template <class T, class Less>
std::vector<const T*> SortedPtrs(const std::vector<T>& v, Less less) {
  std::vector<const T*> out;
  out.reserve(v.size());
  for (const T& x : v) out.push_back(&x);
  std::sort(out.begin(), out.end(), [&](const T* a, const T* b) { return less(*a, *b); });
  return out;
}

bool LocationLess(const model::Location* a, const model::Location* b) {
  return std::tie(a->path, a->route) < std::tie(b->path, b->route);
}

}  // namespace

std::string JoinCertPath(const model::Settings& s, const std::string& file) {
  if (file.empty() || file[0] == '/' || s.certs_dir.empty()) return file;
  std::string p = s.certs_dir;
  if (p.back() != '/') p.push_back('/');
  return p + file;
}

std::string_view BasePath(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return path.empty() ? std::string_view("/") : path;
}

std::vector<std::string_view> SortedHosts(const std::vector<std::string>& hosts) {
  std::vector<std::string_view> out(hosts.begin(), hosts.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<const model::UpstreamServer*> SortedServers(const model::Upstream& u) {
  return SortedPtrs(u.servers, [](const model::UpstreamServer& a, const model::UpstreamServer& b) {
    return std::tie(a.address, a.weight) < std::tie(b.address, b.weight);
  });
}

ConfigRenderer::ConfigRenderer(const model::TrafficModel& model, const RenderOptions& options)
    : m_(model),
      s_(model.settings),
      options_(options),
      out_(8192 + 128 * model.upstreams.size()),
      maps_(1024),
      zones_(256) {}

size_t ConfigRenderer::EstimateServersSize(const model::TrafficModel& m) {
  size_t n = 2048 + 256 * m.redirects.size();
  for (const model::Server& s : m.servers) n += 256 + 512 * s.locations.size();
  return n;
}

std::pair<std::string, std::vector<LineRun>> ConfigRenderer::Render() {
  SortEverything();
  passthrough_ = false;
  for (const model::PassthroughRoute* p : passthrough_sorted_) {
    if (!p->selection.split.empty() && !p->hosts.empty()) passthrough_ = true;
  }
  tls_ = passthrough_;
  for (const SortedServer& ss : servers_) tls_ = tls_ || ss.server->tls.has_value();
  for (const model::HostRedirect* r : redirects_) tls_ = tls_ || r->tls.has_value();

  Writer servers(EstimateServersSize(m_));
  RenderDefaultServers(servers);
  RenderStatusServer(servers);
  for (const SortedServer& ss : servers_) RenderServer(servers, ss);
  for (const model::HostRedirect* r : redirects_) RenderRedirect(servers, *r);

  RenderMain();
  out_ << "http {\n";
  RenderHttpSettings();
  if (!zones_.empty()) out_ << "\n    # Rate limits, one zone per route.\n";
  out_.Append(std::move(zones_));
  RenderUpstreams();
  out_.Reserve(maps_.size() + servers.size() + 256);
  if (!maps_.empty()) {
    out_ << "\n    # Backend selection per route: canary rules, then the weighted split.\n";
  }
  out_.Append(std::move(maps_));
  out_.Append(std::move(servers));
  out_ << "}\n";
  if (passthrough_) RenderStream();
  return {out_.TakeText(), out_.TakeLineRuns()};
}

void ConfigRenderer::SortEverything() {
  servers_.reserve(m_.servers.size());
  for (const model::Server& s : m_.servers) {
    SortedServer ss{&s, SortedHosts(s.hosts), {}};
    ss.locations.reserve(s.locations.size());
    for (const model::Location& l : s.locations) ss.locations.push_back(&l);
    std::sort(ss.locations.begin(), ss.locations.end(), LocationLess);
    servers_.push_back(std::move(ss));
  }
  std::sort(servers_.begin(), servers_.end(), [](const SortedServer& a, const SortedServer& b) {
    if (a.hosts != b.hosts) return a.hosts < b.hosts;
    // Identical host lists are a builder bug; still keep the order stable.
    size_t n = std::min(a.locations.size(), b.locations.size());
    for (size_t i = 0; i < n; ++i) {
      if (LocationLess(a.locations[i], b.locations[i])) return true;
      if (LocationLess(b.locations[i], a.locations[i])) return false;
    }
    return a.locations.size() < b.locations.size();
  });
  upstreams_sorted_ = SortedPtrs(
      m_.upstreams,
      [](const model::Upstream& a, const model::Upstream& b) { return a.name < b.name; });
  redirects_ =
      SortedPtrs(m_.redirects, [](const model::HostRedirect& a, const model::HostRedirect& b) {
        return std::tie(a.from_host, a.route, a.to_url) < std::tie(b.from_host, b.route, b.to_url);
      });
  passthrough_sorted_ = SortedPtrs(
      m_.passthrough, [](const model::PassthroughRoute& a, const model::PassthroughRoute& b) {
        return std::tie(a.route, a.upstream.name) < std::tie(b.route, b.upstream.name);
      });
}

}  // namespace internal

std::string RenderedConfig::RouteAtLine(int line) const {
  if (line < 1 || static_cast<size_t>(line) > route_of_line.size()) return "";
  return route_of_line[static_cast<size_t>(line) - 1];
}

RenderedConfig RenderNginx(const model::TrafficModel& model, const RenderOptions& options) {
  auto [text, runs] = internal::ConfigRenderer(model, options).Render();
  RenderedConfig out;
  out.text = std::move(text);
  size_t lines = 0;
  for (const LineRun& run : runs) lines += run.lines;
  out.route_of_line.reserve(lines);
  for (const LineRun& run : runs) {
    out.route_of_line.insert(out.route_of_line.end(), run.lines, std::string(run.route));
  }
  return out;
}

std::string RenderNginxConfig(const model::TrafficModel& model, const RenderOptions& options) {
  return internal::ConfigRenderer(model, options).Render().first;
}

namespace {

// Keeps the first unsafe string it is shown. Not thread-safe; one per check.
class StringChecker {
 public:
  void Token(std::string_view route, std::string_view field, std::string_view v) {
    if (!error_.empty() || IsSafeToken(v)) return;
    error_ =
        fmt::format("route \"{}\": {} \"{}\" cannot be written into nginx.conf", route, field, v);
  }
  void OptionalToken(std::string_view route, std::string_view field, std::string_view v) {
    if (!v.empty()) Token(route, field, v);
  }
  void Quoted(std::string_view route, std::string_view field, std::string_view v) {
    if (!error_.empty() || IsSafeQuoted(v)) return;
    error_ =
        fmt::format("route \"{}\": {} \"{}\" cannot be written into nginx.conf", route, field, v);
  }
  sg::Status status() const {
    if (!error_.empty()) return sg::InvalidArgument(error_);
    return sg::OkStatus();
  }

 private:
  std::string error_;
};

}  // namespace

sg::Status CheckModelStrings(const model::TrafficModel& m) {
  using namespace model;  // NOLINT(build/namespaces): the model's types only
  StringChecker c;
  c.OptionalToken("", "settings.status_address", m.settings.status_address);
  c.OptionalToken("", "settings.certs_dir", m.settings.certs_dir);
  c.Token("", "settings.rate_limit_zone_size", m.settings.rate_limit_zone_size);
  auto upstream = [&](std::string_view route, const Upstream& u) {
    c.Token(route, "upstream name", u.name);
    c.OptionalToken(route, "sticky cookie", u.sticky_cookie);
    for (const UpstreamServer& s : u.servers) c.Token(route, "upstream server", s.address);
  };
  for (const Upstream& u : m.upstreams) upstream(u.route, u);
  auto tls = [&](std::string_view route, const std::optional<TlsCertificate>& t) {
    if (!t) return;
    c.Token(route, "certificate", t->certificate_file);
    c.Token(route, "key", t->key_file);
  };
  auto selection = [&](std::string_view route, const BackendSelection& s) {
    for (const WeightedUpstream& w : s.split) c.Token(route, "backend", w.upstream);
    for (const WeightedUpstream& w : s.canary_split) c.Token(route, "backend", w.upstream);
    c.OptionalToken(route, "sticky cookie", s.sticky_cookie);
  };
  for (const Server& s : m.servers) {
    std::string_view route = s.locations.empty() ? std::string_view() : s.locations[0].route;
    for (const std::string& h : s.hosts) c.Token(route, "host", h);
    tls(route, s.tls);
    for (const Location& l : s.locations) {
      c.Token(l.route, "route name", l.route);
      c.Token(l.route, "path", l.path);
      if (l.rewrite) c.Token(l.route, "rewrite", *l.rewrite);
      for (const BackendRef& b : l.backends) c.Token(l.route, "backend", b.upstream);
      selection(l.route, l.selection);
      c.OptionalToken(l.route, "canary header name", l.canary.header_name);
      c.Quoted(l.route, "canary header value", l.canary.header_value);
      c.OptionalToken(l.route, "canary cookie name", l.canary.cookie_name);
      c.Quoted(l.route, "canary cookie value", l.canary.cookie_value);
    }
  }
  for (const HostRedirect& r : m.redirects) {
    c.Token(r.route, "route name", r.route);
    c.Token(r.route, "redirect from", r.from_host);
    c.Token(r.route, "redirect to", r.to_url);
    tls(r.route, r.tls);
  }
  for (const PassthroughRoute& p : m.passthrough) {
    c.Token(p.route, "route name", p.route);
    for (const std::string& h : p.hosts) c.Token(p.route, "host", h);
    upstream(p.route, p.upstream);
    selection(p.route, p.selection);
  }
  return c.status();
}

sg::Status CheckRenderOptions(const RenderOptions& o) {
  StringChecker c;
  c.Token("", "pid_file", o.pid_file);
  c.Token("", "error_log", o.error_log);
  c.Token("", "access_log", o.access_log);
  c.OptionalToken("", "temp_dir", o.temp_dir);
  c.Token("", "stream_module", o.stream_module);
  c.OptionalToken("", "user", o.user);
  return c.status();
}

std::vector<std::string> CertificateFiles(const model::TrafficModel& m) {
  std::vector<std::string> out;
  auto add = [&](const std::optional<model::TlsCertificate>& t) {
    if (!t) return;
    out.push_back(internal::JoinCertPath(m.settings, t->certificate_file));
    out.push_back(internal::JoinCertPath(m.settings, t->key_file));
  };
  for (const model::Server& s : m.servers) add(s.tls);
  for (const model::HostRedirect& r : m.redirects) add(r.tls);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace sg::nginx
