// Orchestration of one render and the public API; each nginx context is
// emitted by its own nginx_render_*.cc.

#include "reconcilers/nginx/nginx_renderer.h"

#include "reconcilers/model/render_order.h"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "reconcilers/model/model_strings.h"
#include "reconcilers/nginx/nginx_render.h"
#include "reconcilers/nginx/nginx_writer.h"

namespace sg::nginx {
namespace internal {

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
  passthrough_ = model::ServesPassthrough(passthrough_sorted_);
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
  model::SortedModel sorted = model::SortModel(m_);
  servers_ = std::move(sorted.servers);
  upstreams_sorted_ = std::move(sorted.upstreams);
  redirects_ = std::move(sorted.redirects);
  passthrough_sorted_ = std::move(sorted.passthrough);
}

}  // namespace internal

RenderedConfig RenderNginx(const model::TrafficModel& model, const RenderOptions& options) {
  return model::WithRouteOfLines(internal::ConfigRenderer(model, options).Render());
}

std::string RenderNginxConfig(const model::TrafficModel& model, const RenderOptions& options) {
  return internal::ConfigRenderer(model, options).Render().first;
}

sg::Status CheckModelStrings(const model::TrafficModel& m) {
  std::string error;
  model::ForEachModelString(m, [&](const model::ModelString& s) {
    if (!error.empty()) return;
    const bool ok = s.role == model::StringRole::kQuoted    ? IsSafeQuoted(s.value)
                    : s.role == model::StringRole::kPattern ? IsSafePattern(s.value)
                                                            : IsSafeToken(s.value);
    if (!ok) {
      error = fmt::format("route \"{}\": {} \"{}\" cannot be written into nginx.conf", s.route,
                          s.field, s.value);
    }
  });
  if (!error.empty()) return sg::InvalidArgument(error);
  return sg::OkStatus();
}

namespace {

// The statuses proxy_next_upstream can retry (http_<code>).
constexpr int kRetryCodes[] = {403, 404, 429, 500, 502, 503, 504};

}  // namespace

sg::Status CheckModel(const model::TrafficModel& m) {
  std::unordered_set<std::string_view> edited;  // upstreams with header filters of their own
  for (const model::Upstream& u : m.upstreams) {
    if (!u.request_headers.empty() || !u.response_headers.empty()) edited.insert(u.name);
  }
  for (const model::Server& s : m.servers) {
    for (const model::Location& l : s.locations) {
      if (model::HasConditions(l)) {
        return sg::InvalidArgument(fmt::format(
            "route \"{}\": nginx cannot express header, query parameter or method matches ({}): "
            "it chooses a location by path alone; use spec.proxy.engine haproxy for this cluster",
            l.route, l.match_field));
      }
      if (l.retry) {
        for (int code : l.retry->codes) {
          if (std::find(std::begin(kRetryCodes), std::end(kRetryCodes), code) ==
              std::end(kRetryCodes)) {
            return sg::InvalidArgument(fmt::format(
                "route \"{}\": nginx cannot retry status {} ({}.retry.codes): it retries 403, "
                "404, 429, 500, 502, 503 and 504 only",
                l.route, code, model::RuleField(l)));
          }
        }
      }
      // Per-backend filters need the backend chosen before the request
      // leaves; nginx picks it by a variable at proxy_pass.
      size_t upstreams = l.selection.split.size() + l.selection.canary_split.size();
      if (upstreams < 2 || edited.empty()) continue;
      for (const model::BackendRef& b : l.backends) {
        if (edited.count(b.upstream) == 0) continue;
        return sg::InvalidArgument(fmt::format(
            "route \"{}\": nginx cannot apply header filters per backend of a split ({}.backends "
            "filters): put them on the rule, or use spec.proxy.engine haproxy for this cluster",
            l.route, model::RuleField(l)));
      }
    }
  }
  return sg::OkStatus();
}

sg::Status CheckRenderOptions(const RenderOptions& o) {
  const std::pair<std::string_view, const std::string*> fields[] = {
      {"pid_file", &o.pid_file},
      {"error_log", &o.error_log},
      {"access_log", &o.access_log},
      {"access_log_target", &o.access_log_target},
      {"stream_module", &o.stream_module},
      {"temp_dir", &o.temp_dir},
      {"user", &o.user}};
  for (const auto& [field, value] : fields) {
    const bool optional = field == "temp_dir" || field == "user";
    if ((optional && value->empty()) || IsSafeToken(*value)) continue;
    return sg::InvalidArgument(
        fmt::format("route \"\": {} \"{}\" cannot be written into nginx.conf", field, *value));
  }
  return sg::OkStatus();
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
  model::SortUnique(&out);
  return out;
}

}  // namespace sg::nginx
