// Orchestration of one render and the public API; each part of haproxy.cfg is
// emitted by its own haproxy_render_*.cc.

#include "reconcilers/haproxy/haproxy_renderer.h"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "reconcilers/haproxy/haproxy_render.h"
#include "reconcilers/haproxy/haproxy_writer.h"
#include "reconcilers/model/model_strings.h"

namespace sg::haproxy {
namespace internal {
namespace {

// HAProxy's lookup of a separate key (ssl_sock_load_files_by_bundle et al.):
// "<cert>.key", or with ssl-load-extra-del-ext the certificate path up to its
// last '.' followed by ".key".
std::string ExtraKeyPath(const std::string& cert, bool del_ext) {
  if (!del_ext) return cert + ".key";
  size_t dot = cert.rfind('.');
  if (dot == std::string::npos) return cert + ".key";
  return cert.substr(0, dot) + ".key";
}

}  // namespace

bool KeyNeedsDelExt(const model::TlsCertificate& tls) {
  return tls.key_file != tls.certificate_file &&
         tls.key_file != ExtraKeyPath(tls.certificate_file, false) &&
         tls.key_file == ExtraKeyPath(tls.certificate_file, true);
}

bool KeyLoadable(const model::TlsCertificate& tls, bool del_ext) {
  return tls.key_file == tls.certificate_file ||
         tls.key_file == ExtraKeyPath(tls.certificate_file, del_ext);
}

ConfigRenderer::ConfigRenderer(const model::TrafficModel& model, const RenderOptions& options)
    : m_(model), s_(model.settings), options_(options) {}

std::pair<std::string, std::vector<LineRun>> ConfigRenderer::Render() {
  SortEverything();
  passthrough_ = model::ServesPassthrough(passthrough_sorted_);
  CollectCertificates();
  for (const SortedServer& ss : servers_) {
    for (const model::Location* l : ss.locations) websocket_ = websocket_ || l->websocket;
  }

  size_t estimate = 4096 + 512 * m_.upstreams.size() + 128 * m_.redirects.size();
  for (const model::Server& s : m_.servers) estimate += 256 + 1024 * s.locations.size();
  Writer out(estimate);
  RenderGlobal(out);
  RenderDefaults(out);
  RenderStatus(out);
  BuildRoutingFiles();
  RenderHttpFrontend(out);
  RenderBackends(out);
  RenderSpareBackends(out);
  if (passthrough_) RenderTcp(out);
  RenderSideFiles(out);
  return {out.TakeText(), out.TakeLineRuns()};
}

void ConfigRenderer::RenderSideFiles(Writer& o) {
  if (side_files_.empty()) return;
  o << "\n# The maps and lists above, written beside this file before HAProxy reads it\n"
       "# (the configuration travels as one text).\n";
  for (const auto& [file, routes] : side_files_) {
    o << SideFileStart(file.name);
    size_t start = 0;
    for (std::string_view route : routes) {
      size_t end = file.content.find('\n', start);
      RouteScope scope(o, route);
      o << SideFileLine(std::string_view(file.content).substr(start, end - start));
      start = end + 1;
    }
  }
}

void ConfigRenderer::CollectCertificates() {
  auto add = [&](const std::optional<model::TlsCertificate>& t) {
    if (!t) return;
    certificates_.push_back(JoinCertPath(s_, t->certificate_file));
    model::TlsCertificate joined{certificates_.back(), JoinCertPath(s_, t->key_file)};
    del_ext_ = del_ext_ || KeyNeedsDelExt(joined);
  };
  for (const SortedServer& ss : servers_) {
    if (!ss.hosts.empty()) add(ss.server->tls);
  }
  for (const model::HostRedirect* r : redirects_) add(r->tls);
  model::SortUnique(&certificates_);
  tls_ = !certificates_.empty();
}

void ConfigRenderer::SortEverything() {
  model::SortedModel sorted = model::SortModel(m_);
  // Ids of virtual hosts and redirects come from what they are (their host
  // names), not from their place in the order: a new host then adds its own
  // map lines and leaves every other host's lines as they were. The rare
  // equal hash gets a suffix.
  std::unordered_set<std::string> ids;
  auto id_of = [&](char kind, const std::string& what) {
    const std::string id = kind + ShortHash(what);
    std::string unique = id;
    for (int n = 2; !ids.insert(unique).second; ++n) unique = id + "-" + std::to_string(n);
    return unique;
  };
  servers_.reserve(sorted.servers.size());
  for (model::SortedServer& s : sorted.servers) {
    std::string hosts;
    for (std::string_view h : s.hosts) hosts.append(h).push_back(' ');
    SortedServer ss{std::move(s), id_of('h', hosts)};
    // A host with a location matched otherwise than by context root is
    // routed by rules in the order of precedence (PrecedesMatch), every
    // location of it included.
    ss.by_rules = std::any_of(ss.locations.begin(), ss.locations.end(), [](const auto* l) {
      return l->path_match != model::PathMatch::kPrefix || model::HasConditions(*l);
    });
    if (ss.by_rules) {
      std::stable_sort(ss.locations.begin(), ss.locations.end(), model::PrecedesMatch);
      servers_.push_back(std::move(ss));
      continue;
    }
    // One location per context root: two routes claiming one host+path are
    // resolved by the builder (older wins); a duplicate here keeps the first,
    // like the nginx engine. Then the longest context root first.
    std::vector<const model::Location*> unique;
    std::unordered_set<std::string_view> seen;
    for (const model::Location* l : ss.locations) {
      if (seen.insert(BasePath(l->path)).second) unique.push_back(l);
    }
    std::stable_sort(unique.begin(), unique.end(),
                     [](const model::Location* a, const model::Location* b) {
                       return BasePath(a->path).size() > BasePath(b->path).size();
                     });
    ss.locations = std::move(unique);
    servers_.push_back(std::move(ss));
  }
  upstreams_sorted_ = std::move(sorted.upstreams);
  for (const model::Upstream* u : upstreams_sorted_) upstream_by_name_.emplace(u->name, u);
  redirects_ = std::move(sorted.redirects);
  for (const model::HostRedirect* r : redirects_) {
    redirect_ids_.push_back(id_of('r', r->from_host + " " + r->route));
  }
  passthrough_sorted_ = std::move(sorted.passthrough);
}

}  // namespace internal

RenderedConfig RenderHaproxy(const model::TrafficModel& model, const RenderOptions& options) {
  return model::WithRouteOfLines(internal::ConfigRenderer(model, options).Render());
}

std::string RenderHaproxyConfig(const model::TrafficModel& model, const RenderOptions& options) {
  return internal::ConfigRenderer(model, options).Render().first;
}

std::vector<std::string> CertificateFiles(const model::TrafficModel& m) {
  std::vector<std::string> out;
  auto add = [&](const std::optional<model::TlsCertificate>& t) {
    if (t) out.push_back(internal::JoinCertPath(m.settings, t->certificate_file));
  };
  for (const model::Server& s : m.servers) {
    if (!s.hosts.empty()) add(s.tls);
  }
  for (const model::HostRedirect& r : m.redirects) add(r.tls);
  model::SortUnique(&out);
  return out;
}

namespace {

// Keeps the first problem it is shown. Not thread-safe; one per check.
class ModelChecker {
 public:
  template <class Pred>
  void Check(std::string_view route, std::string_view field, std::string_view v, Pred ok) {
    if (!error_.empty() || ok(v)) return;
    error_ =
        fmt::format("route \"{}\": {} \"{}\" cannot be written into haproxy.cfg", route, field, v);
  }
  void Word(std::string_view route, std::string_view field, std::string_view v) {
    Check(route, field, v, IsSafeWord);
  }
  void OptionalWord(std::string_view route, std::string_view field, std::string_view v) {
    if (!v.empty()) Word(route, field, v);
  }
  void Name(std::string_view route, std::string_view field, std::string_view v) {
    Check(route, field, v, IsSafeName);
  }
  void OptionalArg(std::string_view route, std::string_view field, std::string_view v) {
    if (!v.empty()) Check(route, field, v, IsSafeArg);
  }
  void Quoted(std::string_view route, std::string_view field, std::string_view v) {
    Check(route, field, v, IsSafeQuoted);
  }
  void Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
  }
  sg::Status status() const {
    if (!error_.empty()) return sg::InvalidArgument(error_);
    return sg::OkStatus();
  }

 private:
  std::string error_;
};

}  // namespace

sg::Status CheckModel(const model::TrafficModel& m) {
  using namespace model;  // NOLINT(build/namespaces): the model's types only
  ModelChecker c;
  ForEachModelString(m, [&](const ModelString& s) {
    switch (s.role) {
      case StringRole::kWord:
        c.Word(s.route, s.field, s.value);
        break;
      case StringRole::kName:
        c.Name(s.route, s.field, s.value);
        break;
      case StringRole::kArg:
        c.OptionalArg(s.route, s.field, s.value);
        break;
      case StringRole::kQuoted:
        c.Quoted(s.route, s.field, s.value);
        break;
      case StringRole::kPattern:
        c.Check(s.route, s.field, s.value, IsSafePattern);
        break;
    }
  });

  // What HAProxy 2.6 cannot do: copy requests, leave small responses
  // uncompressed (it has no minimum size), and retry statuses other than
  // those retry-on names.
  static constexpr int kRetryCodes[] = {401, 403, 404, 408, 425, 500, 501, 502, 503, 504};
  for (const Server& s : m.servers) {
    for (const Location& l : s.locations) {
      if (l.mirror) {
        c.Fail(
            fmt::format("route \"{}\": HAProxy 2.6 cannot mirror requests ({}.filters "
                        "RequestMirror); use spec.proxy.engine nginx for this cluster",
                        l.route, RuleField(l)));
      }
      if (l.compression && l.compression->min_length >= 0) {
        c.Fail(
            fmt::format("route \"{}\": HAProxy 2.6 cannot leave small responses uncompressed "
                        "(spec.compression.minLength); leave it out or use spec.proxy.engine "
                        "nginx for this cluster",
                        l.route));
      }
      if (!l.retry) continue;
      for (int code : l.retry->codes) {
        if (std::find(std::begin(kRetryCodes), std::end(kRetryCodes), code) !=
            std::end(kRetryCodes)) {
          continue;
        }
        c.Fail(
            fmt::format("route \"{}\": HAProxy cannot retry status {} ({}.retry.codes): "
                        "retry-on takes 401, 403, 404, 408, 425, 500, 501, 502, 503 and 504",
                        l.route, code, RuleField(l)));
      }
    }
  }

  bool del_ext = false;
  auto joined = [&](const TlsCertificate& t) {
    return TlsCertificate{internal::JoinCertPath(m.settings, t.certificate_file),
                          internal::JoinCertPath(m.settings, t.key_file)};
  };
  for (const Server& s : m.servers) {
    if (s.tls && !s.hosts.empty()) del_ext = del_ext || internal::KeyNeedsDelExt(joined(*s.tls));
  }
  for (const HostRedirect& r : m.redirects) {
    if (r.tls) del_ext = del_ext || internal::KeyNeedsDelExt(joined(*r.tls));
  }
  ForEachCertificate(m, [&](std::string_view route, const TlsCertificate& t) {
    if (internal::KeyLoadable(joined(t), del_ext)) return;
    c.Fail(fmt::format(
        "route \"{}\": HAProxy cannot load key \"{}\" for certificate \"{}\": put the key in "
        "the certificate file{}",
        route, t.key_file, t.certificate_file,
        del_ext ? " or name it like the other keys (the certificate name with its extension "
                  "replaced by .key)"
                : " or name it \"" + t.certificate_file + ".key\""));
  });
  return c.status();
}

sg::Status CheckRenderOptions(const RenderOptions& o) {
  ModelChecker c;
  c.Word("", "runtime_socket", o.runtime_socket);
  if (o.log) c.Word("", "log_target", o.log_target);
  c.Name("", "terminate_socket", o.terminate_socket);
  if (o.spare_backends < 0 || o.spare_backends > 1000) {
    return sg::InvalidArgument("spare_backends: expected 0 to 1000, got " +
                               std::to_string(o.spare_backends));
  }
  return c.status();
}

}  // namespace sg::haproxy
