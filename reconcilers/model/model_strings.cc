#include "reconcilers/model/model_strings.h"

#include "reconcilers/model/cors_origin.h"

namespace sg::model {

void ForEachModelString(const TrafficModel& m,
                        const std::function<void(const ModelString&)>& visit) {
  auto put = [&](std::string_view route, std::string_view field, std::string_view v,
                 StringRole role) {
    visit(ModelString{route, field, v, role});
  };
  auto optional = [&](std::string_view route, std::string_view field, std::string_view v,
                      StringRole role) {
    if (!v.empty()) put(route, field, v, role);
  };
  optional("", "settings.status_address", m.settings.status_address, StringRole::kWord);
  optional("", "settings.certs_dir", m.settings.certs_dir, StringRole::kWord);
  put("", "settings.rate_limit_zone_size", m.settings.rate_limit_zone_size, StringRole::kWord);
  for (const std::string& n : m.settings.trusted_proxies) {
    put("", "trustedProxies", n, StringRole::kWord);
  }
  auto edit = [&](std::string_view route, const HeaderEdit& e) {
    for (const auto& [name, value] : e.set) {
      put(route, "header name", name, StringRole::kArg);
      put(route, "header value", value, StringRole::kQuoted);
    }
    for (const auto& [name, value] : e.add) {
      put(route, "header name", name, StringRole::kArg);
      put(route, "header value", value, StringRole::kQuoted);
    }
    for (const std::string& name : e.remove) put(route, "header name", name, StringRole::kArg);
  };
  auto upstream = [&](std::string_view route, const Upstream& u) {
    put(route, "upstream name", u.name, StringRole::kName);
    edit(route, u.request_headers);
    edit(route, u.response_headers);
    optional(route, "sticky cookie", u.sticky_cookie, StringRole::kArg);
    for (const UpstreamServer& s : u.servers) {
      put(route, "upstream server", s.address, StringRole::kWord);
    }
  };
  for (const Upstream& u : m.upstreams) upstream(u.route, u);
  auto tls = [&](std::string_view route, const std::optional<TlsCertificate>& t) {
    if (!t) return;
    put(route, "certificate", t->certificate_file, StringRole::kWord);
    put(route, "key", t->key_file, StringRole::kWord);
  };
  auto selection = [&](std::string_view route, const BackendSelection& s) {
    for (const WeightedUpstream& w : s.split) put(route, "backend", w.upstream, StringRole::kName);
    for (const WeightedUpstream& w : s.canary_split) {
      put(route, "backend", w.upstream, StringRole::kName);
    }
    optional(route, "sticky cookie", s.sticky_cookie, StringRole::kArg);
  };
  for (const Server& s : m.servers) {
    std::string_view route = s.locations.empty() ? std::string_view() : s.locations[0].route;
    for (const std::string& h : s.hosts) put(route, "host", h, StringRole::kWord);
    tls(route, s.tls);
    for (const Location& l : s.locations) {
      put(l.route, "route name", l.route, StringRole::kName);
      put(l.route, "path", l.path,
          l.path_match == PathMatch::kRegex ? StringRole::kPattern : StringRole::kWord);
      for (const ValueMatch& h : l.headers) {
        put(l.route, "header name", h.name, StringRole::kArg);
        put(l.route, "header value", h.value, h.regex ? StringRole::kPattern : StringRole::kQuoted);
      }
      for (const ValueMatch& q : l.query) {
        put(l.route, "query parameter name", q.name, StringRole::kArg);
        put(l.route, "query parameter value", q.value,
            q.regex ? StringRole::kPattern : StringRole::kQuoted);
      }
      if (!l.method.empty()) put(l.route, "method", l.method, StringRole::kName);
      if (l.rewrite) put(l.route, "rewrite", *l.rewrite, StringRole::kWord);
      if (l.rewrite_full_path) put(l.route, "rewrite", *l.rewrite_full_path, StringRole::kWord);
      if (l.rewrite_host) put(l.route, "rewrite hostname", *l.rewrite_host, StringRole::kWord);
      edit(l.route, l.request_headers);
      edit(l.route, l.response_headers);
      if (const auto& r = l.redirect) {
        optional(l.route, "redirect scheme", r->scheme, StringRole::kName);
        optional(l.route, "redirect hostname", r->host, StringRole::kWord);
        if (r->full_path) put(l.route, "redirect path", *r->full_path, StringRole::kWord);
        if (r->prefix) put(l.route, "redirect path", *r->prefix, StringRole::kWord);
      }
      if (l.mirror) put(l.route, "mirror", l.mirror->upstream, StringRole::kName);
      for (const BackendRef& b : l.backends) put(l.route, "backend", b.upstream, StringRole::kName);
      selection(l.route, l.selection);
      optional(l.route, "canary header name", l.canary.header_name, StringRole::kArg);
      put(l.route, "canary header value", l.canary.header_value, StringRole::kQuoted);
      optional(l.route, "canary cookie name", l.canary.cookie_name, StringRole::kArg);
      put(l.route, "canary cookie value", l.canary.cookie_value, StringRole::kQuoted);
      for (const std::string& n : l.ip_access.allow) put(l.route, "ipAccess", n, StringRole::kWord);
      for (const std::string& n : l.ip_access.deny) put(l.route, "ipAccess", n, StringRole::kWord);
      if (const auto& c = l.cors) {
        put(l.route, "cors origins", CorsOriginPattern(c->origins), StringRole::kPattern);
        for (const std::string& v : c->methods) put(l.route, "cors method", v, StringRole::kName);
        for (const std::string& v : c->allow_headers) {
          put(l.route, "cors header", v, StringRole::kArg);
        }
        for (const std::string& v : c->expose_headers) {
          put(l.route, "cors header", v, StringRole::kArg);
        }
      }
      if (const auto& c = l.compression) {
        for (const std::string& t : c->types)
          put(l.route, "compression type", t, StringRole::kWord);
      }
    }
  }
  for (const HostRedirect& r : m.redirects) {
    put(r.route, "route name", r.route, StringRole::kName);
    put(r.route, "redirect from", r.from_host, StringRole::kWord);
    put(r.route, "redirect to", r.to_url, StringRole::kWord);
    tls(r.route, r.tls);
  }
  for (const PassthroughRoute& p : m.passthrough) {
    put(p.route, "route name", p.route, StringRole::kName);
    for (const std::string& h : p.hosts) put(p.route, "host", h, StringRole::kWord);
    upstream(p.route, p.upstream);
    selection(p.route, p.selection);
  }
}

void ForEachCertificate(
    const TrafficModel& m,
    const std::function<void(std::string_view route, const TlsCertificate& tls)>& visit) {
  for (const Server& s : m.servers) {
    if (!s.tls) continue;
    visit(s.locations.empty() ? std::string_view() : s.locations[0].route, *s.tls);
  }
  for (const HostRedirect& r : m.redirects) {
    if (r.tls) visit(r.route, *r.tls);
  }
}

}  // namespace sg::model
