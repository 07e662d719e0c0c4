#include "reconcilers/model/model_builder.h"

#include "reconcilers/model/backend_selection.h"

#include "crds/route_admission.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <optional>
#include <set>
#include <tuple>

namespace sg::reconcilers {
namespace {

model::Duration Ms(const crds::Duration& d) { return model::Duration(d.value.count()); }

std::string HostPathKey(const std::string& host, const std::string& path) { return host + path; }

// Passthrough owns the whole host on the https port: any other route using
// that host over TLS conflicts with it.
std::string SniKey(const std::string& host) { return "sni:" + host; }

// Docker writes times as RFC 3339 with the trailing zeros of the fraction
// dropped ("...:05.1Z" is earlier than "...:05.12Z", "...:05Z" than
// "...:05.1Z"), so they only compare as strings once the fraction is padded
// to nanoseconds.
std::string SortableTime(const std::string& t) {
  auto time_start = t.find('T');
  if (time_start == std::string::npos) return t;
  auto zone = t.find_first_of("Zz+-", time_start);
  if (zone == std::string::npos) zone = t.size();
  auto dot = t.find('.', time_start);
  std::string fraction;
  if (dot != std::string::npos && dot < zone) {
    fraction = t.substr(dot + 1, zone - dot - 1);
  } else {
    dot = zone;
  }
  fraction.resize(9, '0');
  return t.substr(0, dot) + "." + fraction + t.substr(zone);
}

// One match of a route with the backends of its rule (a range of
// AllBackends(spec)): the shorthand's one, or each rule's.
struct RuleMatch {
  const crds::RouteMatch* match = nullptr;  // null: the shorthand (PathPrefix spec.path)
  const std::string* shorthand_path = nullptr;
  size_t rule = 0, index = 0;
  size_t first_backend = 0, backends = 0;
};

std::vector<RuleMatch> MatchesOf(const crds::RouteSpec& spec) {
  std::vector<RuleMatch> out;
  if (spec.rules.empty()) {
    RuleMatch m;
    m.shorthand_path = &spec.path;
    m.backends = spec.backends.size();
    out.push_back(m);
    return out;
  }
  size_t first = spec.backends.size();
  for (size_t r = 0; r < spec.rules.size(); ++r) {
    const crds::RouteRule& rule = spec.rules[r];
    for (size_t i = 0; i < rule.matches.size(); ++i) {
      out.push_back({&rule.matches[i], nullptr, r, i, first, rule.backends.size()});
    }
    first += rule.backends.size();
  }
  return out;
}

// Rules of one route rank apart from those of the next older route.
constexpr int kRanksPerRoute = 64;

bool Conditional(const crds::RouteMatch& m) {
  return !m.headers.empty() || !m.query_params.empty() || !m.method.empty();
}

// What a match claims on a host. A plain prefix claims host+path like the
// shorthand, so the two conflict; anything else its whole condition.
std::string MatchKey(const std::string& host, const RuleMatch& rm) {
  if (rm.shorthand_path) return HostPathKey(host, *rm.shorthand_path);
  const crds::RouteMatch& m = *rm.match;
  if (m.path.type == crds::PathMatchType::kPathPrefix && !Conditional(m)) {
    return HostPathKey(host, m.path.value);
  }
  auto values = [](const std::vector<crds::ValueMatch>& list, bool lower_names) {
    std::vector<std::string> v;
    for (const auto& x : list) {
      std::string n = x.name;
      if (lower_names) {
        for (char& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      v.push_back(n + (x.type == crds::ValueMatchType::kExact ? "=" : "~") + x.value);
    }
    std::sort(v.begin(), v.end());
    std::string out;
    for (const auto& x : v) out += x + "\n";
    return out;
  };
  return "match:" + host + "\n" + crds::ToString(m.path.type) + " " + m.path.value + "\n" +
         m.method + "\nh\n" + values(m.headers, true) + "q\n" + values(m.query_params, false);
}

model::ValueMatch ModelValue(const crds::ValueMatch& v) {
  return {v.name, v.value, v.type == crds::ValueMatchType::kRegularExpression};
}

void ApplyMatch(const RuleMatch& rm, model::Location& loc) {
  if (rm.shorthand_path) {
    loc.path = *rm.shorthand_path;
    return;
  }
  const crds::RouteMatch& m = *rm.match;
  loc.path = m.path.value;
  loc.path_match = m.path.type == crds::PathMatchType::kExact ? model::PathMatch::kExact
                   : m.path.type == crds::PathMatchType::kRegularExpression
                       ? model::PathMatch::kRegex
                       : model::PathMatch::kPrefix;
  for (const auto& h : m.headers) loc.headers.push_back(ModelValue(h));
  for (const auto& q : m.query_params) loc.query.push_back(ModelValue(q));
  loc.method = m.method;
  loc.match_field =
      "spec.rules[" + std::to_string(rm.rule) + "].matches[" + std::to_string(rm.index) + "]";
}

// The upstream of rule `rule`'s mirror: "r.ROUTE.R-m".
std::string MirrorUpstreamName(const std::string& route, size_t rule) {
  return "r." + route + "." + std::to_string(rule) + "-m";
}

// Backend `index` of AllBackends(spec) of a route with rules: "r.ROUTE.R-B",
// rule R's backend B, so that adding a rule renames no upstream before it;
// MirrorUpstreamName for the backend of a mirror.
std::string RuleUpstreamName(const std::string& route, const crds::RouteSpec& spec, size_t index) {
  index -= spec.backends.size();
  for (size_t r = 0; r < spec.rules.size(); ++r) {
    if (index < spec.rules[r].backends.size()) {
      return "r." + route + "." + std::to_string(r) + "-" + std::to_string(index);
    }
    index -= spec.rules[r].backends.size();
  }
  for (size_t r = 0; r < spec.rules.size(); ++r) {
    if (!spec.rules[r].filters.mirror) continue;
    if (index == 0) return MirrorUpstreamName(route, r);
    --index;
  }
  return "r." + route + ".x";
}

// How many of AllBackends(spec) are mirrors (they come last).
size_t MirrorCount(const crds::RouteSpec& spec) {
  size_t n = 0;
  for (const auto& r : spec.rules) n += r.filters.mirror ? 1 : 0;
  return n;
}

model::HeaderEdit Edit(const std::optional<crds::HeaderModifier>& m) {
  model::HeaderEdit e;
  if (!m) return e;
  for (const auto& h : m->set) e.set.emplace_back(h.name, h.value);
  for (const auto& h : m->add) e.add.emplace_back(h.name, h.value);
  e.remove = m->remove;
  return e;
}

// A path modifier as the model has it: a prefix replacement or a full path.
void SplitPathModifier(const std::optional<crds::PathModifier>& p,
                       std::optional<std::string>* prefix, std::optional<std::string>* full_path) {
  if (!p) return;
  *(p->type == crds::PathModifierType::kReplacePrefixMatch ? prefix : full_path) = p->value;
}

// "No limit" where an engine needs a finite timeout: a day.
constexpr model::Duration kNoLimit{24LL * 3600 * 1000};

// Rule `r` of `route`'s filters, timeouts and retries on each of its
// locations.
void ApplyRule(const std::string& route, size_t r, const crds::RouteRule& rule,
               model::Location& loc) {
  const crds::RouteFilters& f = rule.filters;
  loc.request_headers = Edit(f.request_headers);
  loc.response_headers = Edit(f.response_headers);
  if (f.url_rewrite) {
    loc.rewrite_host = f.url_rewrite->hostname;
    SplitPathModifier(f.url_rewrite->path, &loc.rewrite, &loc.rewrite_full_path);
  }
  if (f.redirect) {
    const crds::RequestRedirect& r = *f.redirect;
    model::LocationRedirect out;
    out.scheme = r.scheme.value_or("");
    out.host = r.hostname.value_or("");
    out.port = r.port.value_or(0);
    SplitPathModifier(r.path, &out.prefix, &out.full_path);
    out.code = r.status_code;
    loc.redirect = std::move(out);
  } else if (rule.backends.empty()) {
    loc.fixed_status = 500;  // the Gateway API's answer for a rule without backends
  }
  if (f.mirror) loc.mirror = model::Mirror{MirrorUpstreamName(route, r), f.mirror->percent};
  if (const auto& t = rule.timeouts.backend_request) {
    loc.timeouts.read = t->value.count() > 0 ? Ms(*t) : kNoLimit;
  }
  if (const auto& t = rule.timeouts.request) {
    if (t->value.count() > 0) {
      loc.request_timeout = Ms(*t);
      // One attempt cannot outlast the whole request.
      model::Duration read = loc.timeouts.read.count() > 0 ? loc.timeouts.read : Ms(*t);
      loc.timeouts.read = std::min(read, Ms(*t));
    } else if (!rule.timeouts.backend_request) {
      loc.timeouts.read = kNoLimit;  // no limit at all, unless one attempt has its own
    }
  }
  if (rule.retry) loc.retry = model::RetryPolicy{rule.retry->codes, rule.retry->attempts};
}

// The cluster's default backend: a fixed status, or one upstream of the
// named service with the routes' default health and timeouts.
void BuildFallback(const crds::ServiceCluster& cluster, const ResolvedBackend& resolved,
                   BuildResult& out) {
  const auto& spec = cluster.spec.default_backend;
  if (!spec) return;
  if (spec->service.empty()) {
    out.model.fallback.status = spec->status;
    return;
  }
  const crds::HealthCheck health;
  model::Upstream u;
  u.name = kDefaultBackendUpstream;
  for (const auto& e : resolved.endpoints) u.servers.push_back({e.Address(), 1});
  u.max_fails = health.max_fails;
  u.fail_timeout = Ms(health.fail_timeout);
  model::Location loc;
  loc.backends = {{u.name, 1, false}};
  loc.selection = model::SelectBackends({{u.name, 1, false, !u.servers.empty(), ""}}, false);
  out.model.upstreams.push_back(std::move(u));
  out.model.fallback.location = std::move(loc);
}

}  // namespace

std::string UpstreamName(const std::string& route, size_t index) {
  return "r." + route + "." + std::to_string(index);
}

BuildResult BuildModel(const crds::ServiceCluster& cluster, std::vector<RouteInput> routes,
                       const BuildOptions& options) {
  BuildResult out;
  auto& model = out.model;
  const auto& proxy = cluster.spec.proxy;
  model.settings.worker_connections = proxy.config.worker_connections;
  model.settings.keepalive_timeout = Ms(proxy.config.keepalive_timeout);
  model.settings.client_max_body_size =
      static_cast<long long>(proxy.config.client_max_body_size_bytes);
  model.settings.http_port = proxy.ports.http;
  model.settings.https_port = proxy.ports.https;
  model.settings.certs_dir = options.certs_dir;
  model.settings.trusted_proxies = cluster.spec.client_address.trusted_proxies;
  model.settings.proxy_protocol = cluster.spec.client_address.proxy_protocol;
  switch (cluster.spec.access_log.format) {
    case crds::AccessLogFormat::kOff:
      model.settings.access_log = model::AccessLogFormat::kOff;
      break;
    case crds::AccessLogFormat::kCombined:
      model.settings.access_log = model::AccessLogFormat::kCombined;
      break;
    case crds::AccessLogFormat::kJson:
      model.settings.access_log = model::AccessLogFormat::kJson;
      break;
  }

  // Older routes claim first; ties broken by name so the outcome is stable.
  std::stable_sort(routes.begin(), routes.end(), [](const RouteInput& a, const RouteInput& b) {
    return std::make_tuple(SortableTime(a.created_at), std::cref(a.route->metadata.name)) <
           std::make_tuple(SortableTime(b.created_at), std::cref(b.route->metadata.name));
  });

  std::map<std::string, std::string> claims;     // host+path or sni:host -> route name
  std::map<std::string, model::Server> servers;  // by host
  std::set<std::string> secrets;

  int route_rank = -1;  // age order, oldest 0
  for (auto& in : routes) {
    ++route_rank;
    const auto& route = *in.route;
    const auto& spec = route.spec;
    const std::string& name = route.metadata.name;
    RouteOutcome& outcome = out.routes[name];
    for (const auto& b : in.backends) {
      for (const auto& e : b.endpoints) outcome.endpoints.push_back(e.Address());
    }

    if (std::string refused = crds::RouteAdmission(cluster, route); !refused.empty()) {
      outcome.reason = kReasonNotAllowed;
      outcome.message = std::move(refused);
      outcome.endpoints.clear();
      continue;
    }
    if (auto it = options.excluded.find(name); it != options.excluded.end()) {
      outcome.reason = kReasonInvalidConfig;
      outcome.message = std::string(crds::ToString(cluster.spec.proxy.engine)) +
                        " rejected this route: " + it->second;
      continue;
    }
    bool passthrough = spec.tls && spec.tls->mode == crds::TlsMode::kPassthrough;
    bool terminate = spec.tls && spec.tls->mode == crds::TlsMode::kTerminate;
    if (terminate && !in.secret_found) {
      outcome.reason = kReasonSecretNotFound;
      outcome.message = "TLS secret \"" + spec.tls->secret.value_or("") +
                        "\" not found; create it with: docker secret create " +
                        spec.tls->secret.value_or("") + " cert-and-key.pem";
      continue;
    }
    if (terminate && !in.secret_mounted) {
      // The proxies must mount it first (a rolling update of the proxy
      // service); a config naming a file they lack would be rejected by
      // every proxy and hold back every other change until then.
      secrets.insert(*spec.tls->secret);
      outcome.reason = kReasonSecretMounting;
      outcome.message = "waiting for the proxies to mount TLS secret \"" + *spec.tls->secret + "\"";
      continue;
    }

    // The route's matches: the one-rule shorthand, or one per rule and match.
    std::vector<RuleMatch> matches = MatchesOf(spec);

    // Conflicts. A plain or terminated route owns host+match; a passthrough
    // route owns the whole host on the https port ("sni:"), which clashes
    // with terminated routes of that host ("term:", shared among them).
    // Each key is made once: the ones this route claims, and the ones it
    // checks (what it claims, and what clashes with it without being its).
    std::vector<std::string> keys, checked;
    for (const auto& host : spec.hosts) {
      if (passthrough) {
        keys.push_back(SniKey(host));
        checked.push_back(keys.back());
        checked.push_back("term:" + host);
        continue;
      }
      for (const RuleMatch& m : matches) {
        keys.push_back(MatchKey(host, m));
        checked.push_back(keys.back());
      }
      if (terminate) {
        keys.push_back("term:" + host);
        checked.push_back(SniKey(host));
      }
    }
    std::string conflict;
    for (const auto& key : checked) {
      auto it = claims.find(key);
      if (it != claims.end() && it->second != name) {
        conflict = it->second;
        break;
      }
    }
    if (!conflict.empty()) {
      outcome.reason = kReasonConflict;
      outcome.message = "host+path already claimed by older route \"" + conflict + "\"";
      continue;
    }
    for (const auto& k : keys) claims.emplace(k, name);

    // Upstreams, one per backend (of the shorthand, then of each rule).
    std::vector<const crds::Backend*> all = crds::AllBackends(spec);
    const size_t first_mirror = all.size() - MirrorCount(spec);
    std::vector<model::BackendRef> refs;
    std::vector<model::BackendCandidate> candidates;
    for (size_t i = 0; i < all.size(); ++i) {
      const auto& b = *all[i];
      model::Upstream u;
      u.name = spec.rules.empty() ? UpstreamName(name, i) : RuleUpstreamName(name, spec, i);
      u.route = name;
      if (i < in.backends.size()) {
        for (const auto& e : in.backends[i].endpoints) u.servers.push_back({e.Address(), 1});
      }
      u.max_fails = spec.health_check.max_fails;
      u.fail_timeout = Ms(spec.health_check.fail_timeout);
      if (spec.sticky_session) u.sticky_cookie = spec.sticky_session->cookie;
      if (passthrough) {
        // SNI routing sends to one upstream; extra backends join it.
        if (i == 0) {
          model::PassthroughRoute p;
          p.route = name;
          p.hosts = spec.hosts;
          p.upstream = u;
          model.passthrough.push_back(std::move(p));
        } else {
          auto& servers_of_first = model.passthrough.back().upstream.servers;
          servers_of_first.insert(servers_of_first.end(), u.servers.begin(), u.servers.end());
        }
        continue;
      }
      u.request_headers = Edit(b.request_headers);
      u.response_headers = Edit(b.response_headers);
      if (i >= first_mirror) {
        // A copy of requests: no session cookie, not part of any split.
        u.sticky_cookie.clear();
        model.upstreams.push_back(std::move(u));
        continue;
      }
      refs.push_back({u.name, b.weight, b.canary});
      candidates.push_back({u.name, b.weight, b.canary, !u.servers.empty(), u.sticky_cookie});
      model.upstreams.push_back(std::move(u));
    }
    if (passthrough && !all.empty()) {
      auto& p = model.passthrough.back();
      p.selection = model::PassthroughSelection(p.upstream);
    }
    outcome.served = true;

    if (!passthrough) {
      model::Location base;
      base.route = name;
      base.rewrite = spec.rewrite;
      if (spec.canary) {
        if (spec.canary->header) {
          base.canary.header_name = spec.canary->header->name;
          base.canary.header_value = spec.canary->header->value.value_or("");
        }
        if (spec.canary->cookie) {
          base.canary.cookie_name = spec.canary->cookie->name;
          base.canary.cookie_value = spec.canary->cookie->value.value_or("");
        }
      }
      base.websocket = spec.websocket;
      base.timeouts = {Ms(spec.timeouts.connect), Ms(spec.timeouts.read), Ms(spec.timeouts.send)};
      if (spec.rate_limit) {
        base.rate_limit = {spec.rate_limit->requests_per_second, spec.rate_limit->burst};
      }
      if (spec.ip_access) base.ip_access = {spec.ip_access->allow, spec.ip_access->deny};
      if (spec.cors) {
        const crds::Cors& c = *spec.cors;
        base.cors = model::Cors{c.allow_origins,  c.allow_methods,     c.allow_headers,
                                c.expose_headers, c.allow_credentials, c.max_age.value_or(-1)};
      }
      // The route's own setting, else the cluster's.
      const auto& compression = spec.compression ? spec.compression : cluster.spec.compression;
      if (compression && compression->enabled) {
        base.compression =
            model::Compression{compression->types, compression->min_length.value_or(-1)};
      }
      std::vector<model::Location> locations;
      for (const RuleMatch& m : matches) {
        model::Location loc = base;
        ApplyMatch(m, loc);
        if (m.match) ApplyRule(name, m.rule, spec.rules[m.rule], loc);
        loc.rank = route_rank * kRanksPerRoute + static_cast<int>(m.rule);
        // The rule's backends; decided once per rule: every host selects alike.
        loc.backends.assign(refs.begin() + static_cast<long>(m.first_backend),
                            refs.begin() + static_cast<long>(m.first_backend + m.backends));
        std::vector<model::BackendCandidate> rule_candidates(
            candidates.begin() + static_cast<long>(m.first_backend),
            candidates.begin() + static_cast<long>(m.first_backend + m.backends));
        loc.selection =
            model::SelectBackends(std::move(rule_candidates), model::HasCanaryRule(loc.canary));
        locations.push_back(std::move(loc));
      }
      for (const auto& host : spec.hosts) {
        auto& server = servers[host];
        server.hosts = {host};
        if (terminate) {
          // The Docker secret holds the chain and the key in one PEM file.
          std::string file = *spec.tls->secret;
          if (!server.tls) server.tls = model::TlsCertificate{file, file};
          server.redirect_http = server.redirect_http || spec.tls->redirect_http;
          secrets.insert(file);
        }
        server.locations.insert(server.locations.end(), locations.begin(), locations.end());
      }
    }
    for (const auto& r : spec.redirects) {
      model::HostRedirect hr;
      hr.route = name;
      hr.from_host = r.from;
      hr.to_url = r.to;
      hr.code = r.code;
      if (claims.emplace(HostPathKey(r.from, "/"), name).second) {
        model.redirects.push_back(std::move(hr));
      }
    }

    // Served: Ready unless a backend cannot be resolved.
    outcome.reason = kReasonReady;
    for (size_t i = 0; i < in.backends.size(); ++i) {
      const auto& b = in.backends[i];
      if (b.problem == BackendProblem::kNotFound) {
        outcome.reason = kReasonBackendNotFound;
        outcome.message = "backends[" + std::to_string(i) + "]: " + b.message;
        break;
      }
      if (b.problem == BackendProblem::kNotAttached) {
        outcome.reason = kReasonBackendNotAttached;
        outcome.message = "backends[" + std::to_string(i) + "]: " + b.message;
        break;
      }
    }
    // A route whose rules all redirect or answer 500 needs no endpoints.
    if (outcome.reason == kReasonReady && outcome.endpoints.empty() && first_mirror > 0) {
      int on_lost_nodes = 0;
      for (const auto& b : in.backends) on_lost_nodes += b.on_lost_nodes;
      outcome.reason = kReasonNoEndpoints;
      outcome.message =
          on_lost_nodes > 0
              ? "every running task of the backends is on a node Swarm reports down or "
                "unreachable (" +
                    std::to_string(on_lost_nodes) +
                    "): requests get 503 until Swarm starts them elsewhere"
              : "no running task of any backend yet: requests get 503";
    }
  }
  for (auto& [host, server] : servers) model.servers.push_back(std::move(server));
  BuildFallback(cluster, options.default_backend, out);
  out.secrets.assign(secrets.begin(), secrets.end());
  return out;
}

}  // namespace sg::reconcilers
