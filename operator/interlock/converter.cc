#include "operator/interlock/converter.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <sstream>
#include <tuple>
#include <utility>

#include "crds/grammar.h"

namespace sg::interlock {
namespace {

constexpr const char* kPrefix = "com.docker.lb.";
constexpr size_t kMaxName = 40;

// ---- small string helpers ------------------------------------------------

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Comma-separated list, entries trimmed, empty entries dropped.
std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(s);
  while (std::getline(in, item, ',')) {
    item = Trim(item);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::string Join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

// A label value shown in a comment: quoted, printable ASCII only, bounded.
std::string Shown(const std::string& v) {
  std::string out = "\"";
  for (size_t i = 0; i < v.size() && i < 200; ++i) {
    unsigned char c = static_cast<unsigned char>(v[i]);
    out += (c < 0x20 || c >= 0x7f) ? '?' : static_cast<char>(c);
  }
  if (v.size() > 200) out += "...";
  return out + "\"";
}

// A comment line never carries a line break or a non-printable byte.
std::string CommentText(const std::string& s) {
  std::string out;
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    out += (c < 0x20 || c >= 0x7f) ? '?' : ch;
  }
  return out;
}

// YAML scalar: plain when unambiguous, double-quoted otherwise.
std::string Scalar(const std::string& s) {
  static const std::set<std::string> kReserved = {"true", "false", "yes", "no", "on",
                                                  "off",  "null",  "y",   "n",  "~"};
  bool plain = !s.empty() && (std::isalnum(static_cast<unsigned char>(s[0])) || s[0] == '/');
  bool numeric = !s.empty();
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (!(std::isalnum(u) || c == '.' || c == '_' || c == '/' || c == '-')) plain = false;
    if (!(std::isdigit(u) || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '_')) {
      numeric = false;
    }
  }
  if (plain && !numeric && !kReserved.count(Lower(s))) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::optional<bool> ParseBool(const std::string& raw) {
  std::string v = Lower(Trim(raw));
  if (v == "true" || v == "1" || v == "yes") return true;
  if (v == "false" || v == "0" || v == "no") return false;
  return std::nullopt;
}

std::optional<int> ParsePort(const std::string& raw) {
  std::string v = Trim(raw);
  if (v.empty() || v.size() > 5) return std::nullopt;
  for (char c : v) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  int port = std::stoi(v);
  if (port < 1 || port > 65535) return std::nullopt;
  return port;
}

// ---- one service's labels, parsed ------------------------------------------

struct Tls {
  std::string mode;  // terminate | passthrough
  std::string secret;
  bool redirect_http = false;
  bool operator==(const Tls& o) const {
    return std::tie(mode, secret, redirect_http) == std::tie(o.mode, o.secret, o.redirect_http);
  }
};

struct Redirect {
  std::string from, to;
  bool operator==(const Redirect& o) const { return from == o.from && to == o.to; }
};

struct Plan {
  std::string service;
  std::optional<uint64_t> replicas;
  std::string cluster;
  std::vector<std::string> hosts;
  int port = 0;
  std::string path = "/";
  bool rewrite = false;
  std::optional<Tls> tls;
  std::string sticky;
  std::string backend_mode;
  std::vector<std::string> websocket_paths;
  std::vector<Redirect> redirects;
  std::string network;
  std::vector<std::string> notes;  // comments for the route document

  // What must agree for two services to share one Route.
  auto RouteSettings() const {
    return std::tie(rewrite, tls, sticky, backend_mode, websocket_paths, redirects);
  }
};

// Why a well-formed label still has no swarmgate equivalent.
std::string UnmappedReason(const std::string& key) {
  static const std::map<std::string, std::string> kReasons = {
      {"template",
       "custom nginx templates are not supported: swarmgate renders and validates the "
       "configuration itself; use Route fields (timeouts, rateLimit, healthCheck) instead"},
      {"ssl_backend",
       "TLS from the proxy to the backend (re-encryption) is not supported: the proxy talks "
       "plain HTTP to the backend, or use tls mode passthrough to let the backend terminate"},
      {"ssl_backend_ssl_verify",
       "TLS from the proxy to the backend (re-encryption) is not supported, so there is "
       "nothing to verify"},
      {"default_backend",
       "there is no catch-all backend: requests for hosts no route serves get 404; add the "
       "hosts to a Route instead"},
      {"ip_hash",
       "swarmgate has no client-address hashing: use cookie-based stickySession "
       "(com.docker.lb.sticky_session_cookie) instead"},
      {"sticky_session_cookie_secure", "no equivalent: the sticky cookie is set by swarmgate"},
  };
  auto it = kReasons.find(key);
  if (it != kReasons.end()) return it->second;
  return "no swarmgate equivalent (not a label swarmgate knows how to translate)";
}

// Interlock writes redirect sources as URLs; swarmgate redirects by host.
std::optional<std::string> RedirectSourceHost(const std::string& raw) {
  std::string v = Lower(Trim(raw));
  for (const char* scheme : {"http://", "https://"}) {
    if (v.rfind(scheme, 0) == 0) v = v.substr(std::string(scheme).size());
  }
  if (!v.empty() && v.back() == '/') v.pop_back();
  if (!crds::CheckHost(v).empty()) return std::nullopt;
  return v;
}

struct ParseOutcome {
  std::optional<Plan> plan;
  std::string skip_reason;  // set when plan is empty
};

ParseOutcome Skip(const std::string& label, const std::string& value, const std::string& why) {
  ParseOutcome out;
  out.skip_reason = "com.docker.lb." + label + "=" + Shown(value) + ": " + why;
  return out;
}

ParseOutcome ParseService(const ServiceInput& svc,
                          const std::map<std::string, std::string>& lb,  // prefix removed
                          const ConvertOptions& options) {
  Plan p;
  p.service = svc.name;
  p.replicas = svc.replicas;
  auto get = [&](const std::string& k) -> const std::string* {
    auto it = lb.find(k);
    return it == lb.end() ? nullptr : &it->second;
  };
  auto note = [&](const std::string& s) { p.notes.push_back(s); };

  // hosts
  const std::string* hosts = get("hosts");
  for (const std::string& h : SplitList(*hosts)) {
    std::string host = Lower(h);
    if (std::string e = crds::CheckHost(host); !e.empty()) {
      return Skip("hosts", *hosts, "host " + Shown(h) + " is not valid: expected " + e);
    }
    if (std::find(p.hosts.begin(), p.hosts.end(), host) == p.hosts.end()) p.hosts.push_back(host);
  }
  if (p.hosts.empty()) return Skip("hosts", *hosts, "no host given");
  if (p.hosts.size() > 64) return Skip("hosts", *hosts, "more than 64 hosts");

  // port
  const std::string* port = get("port");
  if (!port) {
    return Skip("hosts", *hosts,
                "com.docker.lb.port is missing; set it to the port the service listens on");
  }
  auto parsed_port = ParsePort(*port);
  if (!parsed_port) return Skip("port", *port, "expected a port number 1-65535");
  p.port = *parsed_port;

  if (std::string e = crds::CheckDockerName(svc.name); !e.empty()) {
    return Skip("hosts", *hosts, "service name " + Shown(svc.name) + " is not valid: " + e);
  }

  // service_cluster
  p.cluster = options.default_cluster;
  if (const std::string* sc = get("service_cluster")) {
    std::string name = SanitizeName(Trim(*sc));
    if (Trim(*sc).empty()) return Skip("service_cluster", *sc, "empty cluster name");
    if (name != Trim(*sc)) {
      note("com.docker.lb.service_cluster=" + Shown(*sc) + " renamed to " + Shown(name) +
           " (resource names are lower case letters, digits and '-', at most 40)");
    }
    p.cluster = name;
  }

  // network
  if (const std::string* net = get("network")) {
    std::string n = Trim(*net);
    if (std::string e = crds::CheckDockerName(n); !e.empty() || n.empty()) {
      return Skip("network", *net, "expected a Docker network name");
    }
    p.network = n;
  }

  // backend_mode
  if (const std::string* mode = get("backend_mode")) {
    std::string m = Lower(Trim(*mode));
    if (m != "vip" && m != "task") return Skip("backend_mode", *mode, "expected vip or task");
    p.backend_mode = m;
  }

  // context_root and context_root_rewrite
  if (const std::string* root = get("context_root")) {
    std::string r = Trim(*root);
    if (std::string e = crds::CheckPath(r); !e.empty()) {
      return Skip("context_root", *root, "expected " + e);
    }
    p.path = r;
  }
  if (const std::string* rw = get("context_root_rewrite")) {
    auto b = ParseBool(*rw);
    if (!b) return Skip("context_root_rewrite", *rw, "expected true or false");
    if (*b && p.path == "/") {
      note("com.docker.lb.context_root_rewrite=" + Shown(*rw) +
           ": not mapped, there is no context root to strip");
    } else {
      p.rewrite = *b;
    }
  }

  // TLS
  const std::string* cert = get("ssl_cert");
  const std::string* key = get("ssl_key");
  bool passthrough = false;
  if (const std::string* pt = get("ssl_passthrough")) {
    auto b = ParseBool(*pt);
    if (!b) return Skip("ssl_passthrough", *pt, "expected true or false");
    passthrough = *b;
  }
  for (const auto& [label, value] : {std::pair{"ssl_cert", cert}, std::pair{"ssl_key", key}}) {
    if (value && !crds::CheckDockerName(Trim(*value)).empty()) {
      return Skip(label, *value, "expected a Docker secret name");
    }
  }
  if (passthrough) {
    p.tls = Tls{"passthrough", "", false};
    if (cert || key) {
      note(
          "com.docker.lb.ssl_cert/ssl_key: not mapped, ssl_passthrough is set, so the "
          "backend terminates TLS and the proxy needs no certificate");
    }
    if (p.path != "/") {
      note("com.docker.lb.context_root=" + Shown(p.path) +
           ": not mapped, TLS passthrough routes by SNI and never sees the URL path");
      p.path = "/";
      p.rewrite = false;
    }
  } else if (cert) {
    std::string secret = Trim(*cert);
    p.tls = Tls{"terminate", secret, false};
    note("com.docker.lb.ssl_cert=" + Shown(*cert) +
         (key ? " and com.docker.lb.ssl_key=" + Shown(*key) : std::string()) +
         ": Interlock used two secrets, swarmgate reads the certificate chain and the key "
         "from ONE secret named by tls.secret; create it with: cat cert.pem key.pem | docker "
         "secret create " +
         secret +
         " - (remove the certificate-only secret of that name first once Interlock no longer "
         "uses it, or use a new name and change tls.secret)");
    if (!key) note("com.docker.lb.ssl_key is missing: the combined secret must hold the key too");
  } else if (key) {
    note("com.docker.lb.ssl_key=" + Shown(*key) +
         ": not mapped, there is no com.docker.lb.ssl_cert, so TLS is not terminated");
  }
  if (const std::string* only = get("ssl_only")) {
    auto b = ParseBool(*only);
    if (!b) return Skip("ssl_only", *only, "expected true or false");
    if (*b && p.tls && p.tls->mode == "terminate") {
      p.tls->redirect_http = true;
    } else if (*b) {
      note("com.docker.lb.ssl_only=" + Shown(*only) + ": not mapped, " +
           (p.tls ? std::string("with TLS passthrough the proxy does not answer this host on "
                                "plain HTTP")
                  : std::string("there is no TLS certificate (com.docker.lb.ssl_cert) to "
                                "redirect to")));
    }
  }

  // sticky sessions
  if (const std::string* cookie = get("sticky_session_cookie")) {
    std::string c = Trim(*cookie);
    if (std::string e = crds::CheckToken(c); !e.empty()) {
      return Skip("sticky_session_cookie", *cookie, "expected " + e);
    }
    if (p.tls && p.tls->mode == "passthrough") {
      note("com.docker.lb.sticky_session_cookie=" + Shown(*cookie) +
           ": not mapped, TLS passthrough never sees cookies");
    } else if (p.backend_mode == "vip") {
      note("com.docker.lb.sticky_session_cookie=" + Shown(*cookie) +
           ": not mapped, sticky sessions need backendMode task (vip mode has one address)");
    } else {
      p.sticky = c;
    }
  }

  // websockets
  if (const std::string* ws = get("websocket_endpoints")) {
    for (const std::string& path : SplitList(*ws)) {
      if (std::string e = crds::CheckPath(path); !e.empty()) {
        return Skip("websocket_endpoints", *ws,
                    "endpoint " + Shown(path) + " is not valid: expected " + e);
      }
      if (std::find(p.websocket_paths.begin(), p.websocket_paths.end(), path) ==
          p.websocket_paths.end()) {
        p.websocket_paths.push_back(path);
      }
    }
    if (p.tls && p.tls->mode == "passthrough" && !p.websocket_paths.empty()) {
      note("com.docker.lb.websocket_endpoints=" + Shown(*ws) +
           ": not mapped, TLS passthrough forwards the whole connection, websockets included");
      p.websocket_paths.clear();
    }
  }

  // redirects: "from,to[,from,to...]"
  if (const std::string* rd = get("redirects")) {
    auto items = SplitList(*rd);
    if (items.empty() || items.size() % 2 != 0) {
      return Skip("redirects", *rd, "expected pairs of source,target URLs");
    }
    for (size_t i = 0; i < items.size(); i += 2) {
      auto from = RedirectSourceHost(items[i]);
      if (!from) {
        return Skip("redirects", *rd,
                    "source " + Shown(items[i]) +
                        " is not a host name (swarmgate redirects a "
                        "whole host, not a path)");
      }
      std::string to = items[i + 1];
      if (std::string e = crds::CheckRedirectUrl(to); !e.empty()) {
        return Skip("redirects", *rd, "target " + Shown(to) + " is not valid: expected " + e);
      }
      bool dup = std::any_of(p.redirects.begin(), p.redirects.end(),
                             [&](const Redirect& r) { return r.from == *from; });
      if (dup) {
        note("com.docker.lb.redirects: a second redirect from " + Shown(*from) + " was dropped");
        continue;
      }
      p.redirects.push_back({*from, to});
    }
    if (p.redirects.size() > 64) return Skip("redirects", *rd, "more than 64 redirects");
    // A host that redirects cannot also be served by the route.
    for (const Redirect& r : p.redirects) {
      auto it = std::find(p.hosts.begin(), p.hosts.end(), r.from);
      if (it != p.hosts.end()) {
        p.hosts.erase(it);
        note("host " + Shown(r.from) + " is left out of hosts: com.docker.lb.redirects " +
             "sends it to " + Shown(r.to));
      }
    }
    if (p.hosts.empty()) {
      return Skip("redirects", *rd,
                  "every host of com.docker.lb.hosts redirects, none is left "
                  "to serve");
    }
  }

  // Everything else under com.docker.lb.
  static const std::set<std::string> kMapped = {"hosts",
                                                "port",
                                                "network",
                                                "context_root",
                                                "context_root_rewrite",
                                                "ssl_cert",
                                                "ssl_key",
                                                "ssl_passthrough",
                                                "sticky_session_cookie",
                                                "websocket_endpoints",
                                                "redirects",
                                                "service_cluster",
                                                "backend_mode",
                                                "ssl_only"};
  for (const auto& [k, v] : lb) {
    if (kMapped.count(k)) continue;
    note("com.docker.lb." + k + "=" + Shown(v) + ": not mapped, " + UnmappedReason(k));
  }
  ParseOutcome out;
  out.plan = std::move(p);
  return out;
}

// ---- routes ------------------------------------------------------------------

struct Backend {
  std::string service;
  int port = 0;
  int weight = -1;  // -1: not written (default 100)
};

struct RouteDoc {
  std::string name;
  std::string cluster;
  std::vector<std::string> hosts;
  std::string path = "/";
  bool rewrite = false;
  std::vector<Backend> backends;
  std::optional<Tls> tls;
  std::string sticky;
  bool websocket = false;
  std::string backend_mode;
  std::vector<Redirect> redirects;
  std::vector<std::string> comments;
  std::vector<std::string> services;
  bool dropped = false;
};

std::string UniqueName(const std::string& base, const std::string& suffix,
                       std::set<std::string>& used) {
  for (int n = 1;; ++n) {
    std::string s = suffix + (n == 1 ? "" : "-" + std::to_string(n));
    std::string head = base.substr(0, kMaxName - s.size());
    while (!head.empty() && head.back() == '-') head.pop_back();
    std::string name = head.empty() ? "route" + s : head + s;
    if (used.insert(name).second) return name;
  }
}

void WriteComments(std::ostream& o, const std::vector<std::string>& comments) {
  for (const auto& c : comments) o << "# " << CommentText(c) << "\n";
}

void WriteRoute(std::ostream& o, const RouteDoc& r) {
  o << "---\n";
  WriteComments(o, r.comments);
  o << "apiVersion: swarmgate.io/v1alpha1\nkind: Route\nmetadata:\n  name: " << Scalar(r.name)
    << "\nspec:\n  serviceCluster: " << Scalar(r.cluster) << "\n  hosts:\n";
  for (const auto& h : r.hosts) o << "    - " << Scalar(h) << "\n";
  if (r.path != "/") o << "  path: " << Scalar(r.path) << "\n";
  if (r.rewrite) o << "  rewrite: /\n";
  o << "  backends:\n";
  for (const auto& b : r.backends) {
    o << "    - service: " << Scalar(b.service) << "\n      port: " << b.port << "\n";
    if (b.weight >= 0) o << "      weight: " << b.weight << "\n";
  }
  if (!r.backend_mode.empty()) o << "  backendMode: " << r.backend_mode << "\n";
  if (r.tls) {
    o << "  tls:\n    mode: " << r.tls->mode << "\n";
    if (!r.tls->secret.empty()) o << "    secret: " << Scalar(r.tls->secret) << "\n";
    if (r.tls->redirect_http) o << "    redirectHTTP: true\n";
  }
  if (!r.sticky.empty()) o << "  stickySession:\n    cookie: " << Scalar(r.sticky) << "\n";
  if (r.websocket) o << "  websocket: true\n";
  if (!r.redirects.empty()) {
    o << "  redirects:\n";
    for (const auto& rd : r.redirects) {
      o << "    - from: " << Scalar(rd.from) << "\n      to: " << Scalar(rd.to) << "\n";
    }
  }
}

// Weights proportional to replica counts, 0-100, at least one > 0.
std::vector<int> ReplicaWeights(const std::vector<const Plan*>& members) {
  uint64_t total = 0;
  for (const Plan* p : members) total += p->replicas.value_or(1);
  std::vector<int> out;
  for (const Plan* p : members) {
    uint64_t r = p->replicas.value_or(1);
    if (total == 0) {
      out.push_back(std::max<int>(1, static_cast<int>(100 / members.size())));
      continue;
    }
    int w = static_cast<int>((200 * r + total) / (2 * total));  // rounded
    if (r > 0 && w == 0) w = 1;
    out.push_back(w);
  }
  return out;
}

}  // namespace

std::string SanitizeName(const std::string& name) {
  std::string out;
  for (char ch : Lower(name)) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
    out += ok ? ch : '-';
  }
  // Collapse runs of '-' and trim them at both ends.
  std::string collapsed;
  for (char c : out) {
    if (c == '-' && (collapsed.empty() || collapsed.back() == '-')) continue;
    collapsed += c;
  }
  if (collapsed.size() > kMaxName) collapsed.resize(kMaxName);
  while (!collapsed.empty() && collapsed.back() == '-') collapsed.pop_back();
  return collapsed.empty() ? "route" : collapsed;
}

ConvertResult Convert(const std::vector<ServiceInput>& services, const ConvertOptions& options) {
  ConvertResult result;
  std::vector<std::string> header;  // notes on services left out
  auto warn = [&](const std::string& who, const std::string& text) {
    result.warnings.push_back(who + ": " + text);
  };

  std::vector<const ServiceInput*> sorted;
  for (const auto& s : services) sorted.push_back(&s);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const ServiceInput* a, const ServiceInput* b) { return a->name < b->name; });

  std::vector<Plan> plans;
  std::set<std::string> seen_names;
  for (const ServiceInput* svc : sorted) {
    std::map<std::string, std::string> lb;
    for (const auto& [k, v] : svc->labels) {
      if (k.rfind(kPrefix, 0) == 0 && k.size() > std::string(kPrefix).size()) {
        lb[k.substr(std::string(kPrefix).size())] = v;
      }
    }
    if (lb.empty()) continue;
    ++result.services_seen;
    std::string who = "service " + Shown(svc->name);
    if (!seen_names.insert(svc->name).second) {
      header.push_back(who + " left out: it appears twice in the input");
      warn(who, "left out: it appears twice in the input");
      continue;
    }
    if (!lb.count("hosts")) {
      std::vector<std::string> keys;
      for (const auto& kv : lb) keys.push_back("com.docker.lb." + kv.first);
      std::string text = "left out: it has " + Join(keys, ", ") +
                         " but no com.docker.lb.hosts, so Interlock did not route to it";
      header.push_back(who + " " + text);
      warn(who, text);
      continue;
    }
    ParseOutcome parsed = ParseService(*svc, lb, options);
    if (!parsed.plan) {
      header.push_back(who + " left out: " + parsed.skip_reason);
      warn(who, "left out: " + parsed.skip_reason);
      continue;
    }
    for (auto& n : parsed.plan->notes) {
      warn(who, n);
      n = who + ": " + n;
    }
    plans.push_back(std::move(*parsed.plan));
  }

  // Group services that share cluster, hosts and path: Interlock's
  // replica-ratio canary becomes one Route with weighted backends.
  std::vector<std::vector<const Plan*>> groups;
  std::map<std::string, size_t> group_of;
  for (const Plan& p : plans) {
    std::vector<std::string> hosts = p.hosts;
    std::sort(hosts.begin(), hosts.end());
    std::string key = p.cluster + "\n" + p.path + "\n" + Join(hosts, ",");
    auto [it, inserted] = group_of.emplace(key, groups.size());
    if (inserted) groups.emplace_back();
    groups[it->second].push_back(&p);
  }

  std::set<std::string> used_names;
  std::vector<RouteDoc> mains;
  std::vector<std::vector<RouteDoc>> websockets(groups.size());
  for (size_t g = 0; g < groups.size(); ++g) {
    const auto& members = groups[g];
    const Plan& lead = *members.front();
    RouteDoc r;
    std::string base = SanitizeName(lead.service);
    r.name = UniqueName(base, "", used_names);
    r.cluster = lead.cluster;
    r.hosts = lead.hosts;
    r.path = lead.path;
    r.rewrite = lead.rewrite;
    r.tls = lead.tls;
    r.sticky = lead.sticky;
    r.backend_mode = lead.backend_mode;
    r.redirects = lead.redirects;
    for (const Plan* m : members) {
      r.comments.insert(r.comments.end(), m->notes.begin(), m->notes.end());
      r.services.push_back(m->service);
      r.backends.push_back({m->service, m->port, -1});
      if (m != &lead && m->RouteSettings() != lead.RouteSettings()) {
        std::string text = "shares hosts and path with " + Shown(lead.service) +
                           " but its TLS, sticky session, rewrite, backend mode, websocket or "
                           "redirect labels differ: the route uses those of " +
                           Shown(lead.service);
        r.comments.push_back("service " + Shown(m->service) + ": " + text);
        warn("service " + Shown(m->service), text);
      }
    }
    if (members.size() > 1) {
      auto weights = ReplicaWeights(members);
      std::vector<std::string> parts;
      for (size_t i = 0; i < members.size(); ++i) {
        r.backends[i].weight = weights[i];
        const Plan& m = *members[i];
        parts.push_back(m.service + ": " +
                        (m.replicas ? std::to_string(*m.replicas) +
                                          (*m.replicas == 1 ? " replica" : " replicas")
                                    : std::string("global mode, counted as 1")) +
                        " -> weight " + std::to_string(weights[i]));
      }
      r.comments.push_back(
          "replica-ratio canary: Interlock split traffic between these services by their "
          "replica counts; swarmgate splits by request, whatever the replica counts, so the "
          "weights keep today's split (" +
          Join(parts, ", ") + ") and no longer follow scaling: edit them to shift traffic");
    }
    // One extra route per websocket endpoint (the main path itself just gets
    // websocket: true).
    for (const std::string& ws : lead.websocket_paths) {
      if (ws == r.path) {
        r.websocket = true;
        continue;
      }
      RouteDoc w = r;
      w.comments = {"websocket endpoint " + Shown(ws) + " of " + Join(r.services, ", ") +
                    " (com.docker.lb.websocket_endpoints)"};
      w.name = UniqueName(base, "-ws", used_names);
      w.path = ws;
      w.rewrite = false;
      w.websocket = true;
      w.redirects.clear();  // served once, by the main route
      websockets[g].push_back(std::move(w));
    }
    mains.push_back(std::move(r));
  }

  // Host+path claims: the first route keeps a contested host (main routes
  // before websocket routes), later ones lose it with a comment.
  std::map<std::tuple<std::string, std::string, std::string>, std::string> claims;
  auto claim = [&](RouteDoc& r) {
    std::vector<std::string> kept;
    for (const auto& h : r.hosts) {
      auto [it, inserted] = claims.emplace(std::make_tuple(r.cluster, h, r.path), r.name);
      if (inserted) {
        kept.push_back(h);
        continue;
      }
      std::string text = "host " + Shown(h) + " path " + Shown(r.path) +
                         " is already served by Route " + Shown(it->second) +
                         " of ServiceCluster " + Shown(r.cluster) + "; left out of this route";
      r.comments.push_back(text);
      warn("route " + Shown(r.name), text);
    }
    r.hosts = kept;
    if (r.hosts.empty()) {
      r.dropped = true;
      std::string text = "route " + Shown(r.name) + " (" + Join(r.services, ", ") +
                         ") left out: every host and path it would serve is already served";
      header.push_back(text);
      result.warnings.push_back(text);
    }
  };
  for (auto& r : mains) claim(r);
  for (auto& list : websockets) {
    for (auto& w : list) claim(w);
  }

  // Clusters of the routes emitted, with their networks.
  struct ClusterDoc {
    std::string network;
    std::string network_from;
    std::vector<std::string> comments;
    std::vector<std::string> services;
  };
  std::map<std::string, ClusterDoc> clusters;
  std::set<std::string> imported;
  std::vector<const RouteDoc*> emitted;
  for (size_t g = 0; g < groups.size(); ++g) {
    if (!mains[g].dropped) emitted.push_back(&mains[g]);
    for (const auto& w : websockets[g]) {
      if (!w.dropped) emitted.push_back(&w);
    }
    bool any = !mains[g].dropped || std::any_of(websockets[g].begin(), websockets[g].end(),
                                                [](const RouteDoc& w) { return !w.dropped; });
    if (!any) continue;
    ClusterDoc& c = clusters[mains[g].cluster];
    for (const Plan* m : groups[g]) {
      imported.insert(m->service);
      c.services.push_back(m->service);
      if (m->network.empty()) continue;
      if (c.network.empty()) {
        c.network = m->network;
        c.network_from = m->service;
      } else if (c.network != m->network) {
        std::string text = "com.docker.lb.network=" + Shown(m->network) +
                           " not mapped: ServiceCluster " + Shown(mains[g].cluster) +
                           " already uses network " + Shown(c.network) + " (from " +
                           Shown(c.network_from) + "); one cluster has one network";
        c.comments.push_back("service " + Shown(m->service) + ": " + text);
        warn("service " + Shown(m->service), text);
      }
    }
  }

  result.services_imported = static_cast<int>(imported.size());
  result.clusters = static_cast<int>(clusters.size());
  result.routes = static_cast<int>(emitted.size());

  std::ostringstream o;
  o << "# swarmgate resources imported from the Interlock labels of " << options.source << ": "
    << result.services_imported << " of " << result.services_seen << " labelled services, "
    << result.clusters << " ServiceCluster(s), " << result.routes << " Route(s).\n"
    << "# Read every comment: labels that could not be mapped say why.\n"
    << "# Check and apply: swarmgate validate -f FILE && swarmgate apply -f FILE\n";
  WriteComments(o, header);
  for (const auto& [name, c] : clusters) {
    std::string network = c.network.empty() ? "sg-" + name : c.network;
    o << "---\n";
    WriteComments(o, c.comments);
    o << "# backends must be attached to network " << network << " (skip those already on it):\n";
    for (const auto& s : c.services) {
      o << "#   docker service update --network-add " << network << " " << s << "\n";
    }
    o << "apiVersion: swarmgate.io/v1alpha1\nkind: ServiceCluster\nmetadata:\n  name: "
      << Scalar(name) << "\n";
    if (!c.network.empty()) o << "spec:\n  network: " << Scalar(c.network) << "\n";
  }
  for (const RouteDoc* r : emitted) WriteRoute(o, *r);
  result.yaml = o.str();
  return result;
}

}  // namespace sg::interlock
