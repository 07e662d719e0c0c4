#include "operator/interlock/label_plan.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <sstream>
#include <tuple>
#include <utility>

#include "crds/grammar.h"

namespace sg::interlock::detail {

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

// Why a well-formed label still has no swarmgate equivalent.
std::string UnmappedReason(const std::string& key) {
  static const std::map<std::string, std::string> kReasons = {
      {"template",
       "custom nginx templates are not supported: swarmgate renders and validates the "
       "configuration itself; use Route fields (timeouts, rateLimit, healthCheck) instead"},
      {"ssl_backend",
       "TLS from the proxy to the backend (re-encryption) is not supported: the proxy talks "
       "plain HTTP to the backend, or use tls mode passthrough to let the backend terminate"},
      {"ssl_backend_tls_verify",
       "TLS from the proxy to the backend (re-encryption) is not supported, so there is "
       "nothing to verify"},
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

bool IsMappedLabel(const std::string& key) {
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
  return kMapped.count(key) > 0;
}

// Interlock's docs ask stack files to write com.docker.lb.network with the
// stack's prefix (STACK_NET), as docker stack deploy names the network; a
// label that names the network as the file does (NET) still reached the
// service. When the service is attached to STACK_NET and not to NET, the
// label meant STACK_NET.
std::string ResolveStackNetwork(const std::string& network, const ServiceInput& svc) {
  const auto& attached = svc.networks;
  auto ns = svc.labels.find(kStackNamespaceLabel);
  if (ns == svc.labels.end() || ns->second.empty() || attached.empty() ||
      std::find(attached.begin(), attached.end(), network) != attached.end()) {
    return network;
  }
  std::string prefixed = ns->second + "_" + network;
  if (std::find(attached.begin(), attached.end(), prefixed) != attached.end()) return prefixed;
  return network;
}

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
  p.attached_networks = svc.networks;
  auto get = [&](const std::string& k) -> const std::string* {
    auto it = lb.find(k);
    return it == lb.end() ? nullptr : &it->second;
  };
  auto note = [&](const std::string& s) { p.notes.push_back(s); };

  // default_backend: Interlock sent the requests for hosts it did not know to
  // this service, which needs no hosts of its own.
  const std::string* dflt = get("default_backend");
  if (dflt) {
    auto b = ParseBool(*dflt);
    if (!b) return Skip("default_backend", *dflt, "expected true or false");
    p.default_backend = *b;
  }
  const std::string* hosts = get("hosts");
  if (!hosts && !p.default_backend) {
    return Skip("default_backend", dflt ? *dflt : std::string(),
                "the service is not a default backend and has no com.docker.lb.hosts, so "
                "Interlock did not route to it");
  }
  // The label the service is imported for, named by the messages that
  // concern the whole service.
  const std::string anchor = hosts ? "hosts" : "default_backend";
  const std::string& anchor_value = hosts ? *hosts : *dflt;

  // hosts
  if (hosts) {
    for (const std::string& h : SplitList(*hosts)) {
      std::string host = Lower(h);
      if (std::string e = crds::CheckHost(host); !e.empty()) {
        return Skip("hosts", *hosts, "host " + Shown(h) + " is not valid: expected " + e);
      }
      if (std::find(p.hosts.begin(), p.hosts.end(), host) == p.hosts.end()) {
        p.hosts.push_back(host);
      }
    }
    if (p.hosts.empty()) return Skip("hosts", *hosts, "no host given");
    if (p.hosts.size() > 64) return Skip("hosts", *hosts, "more than 64 hosts");
  }

  // port
  const std::string* port = get("port");
  if (!port) {
    return Skip(anchor, anchor_value,
                "com.docker.lb.port is missing: expected the port number (1-65535) the service "
                "listens on");
  }
  auto parsed_port = ParsePort(*port);
  if (!parsed_port) return Skip("port", *port, "expected a port number 1-65535");
  p.port = *parsed_port;

  if (std::string e = crds::CheckDockerName(svc.name); !e.empty()) {
    return Skip(anchor, anchor_value, "service name " + Shown(svc.name) + " is not valid: " + e);
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
    p.network = ResolveStackNetwork(n, svc);
    if (p.network != n) {
      note("com.docker.lb.network=" + Shown(*net) + " is the network " + Shown(p.network) +
           " the service is attached to: docker stack deploy prefixes the networks of stack " +
           Shown(svc.labels.at(kStackNamespaceLabel)) + " with its name");
    }
  }

  // A default backend without hosts has no Route: the labels that only
  // shape a route have nowhere to go.
  if (!hosts) {
    static const std::set<std::string> kService = {"default_backend", "port", "service_cluster",
                                                   "network"};
    for (const auto& [k, v] : lb) {
      if (kService.count(k)) continue;
      note("com.docker.lb." + k + "=" + Shown(v) + ": not mapped, " +
           (IsMappedLabel(k) ? std::string("the service has no com.docker.lb.hosts, so it gets no "
                                           "Route: it is only its cluster's defaultBackend")
                             : UnmappedReason(k)));
    }
    ParseOutcome out;
    out.plan = std::move(p);
    return out;
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

  // redirects: "<source>,<target>" pairs separated by ';', a trailing ';'
  // allowed (Interlock's documented form); pairs separated by ',' alone
  // ("a,b,c,d") are read too.
  if (const std::string* rd = get("redirects")) {
    std::vector<std::string> items;
    std::istringstream pairs(*rd);
    for (std::string pair; std::getline(pairs, pair, ';');) {
      auto parts = SplitList(pair);
      if (parts.size() % 2 != 0) {
        return Skip("redirects", *rd, "expected source,target URL pairs separated by ';'");
      }
      items.insert(items.end(), parts.begin(), parts.end());
    }
    if (items.empty()) {
      return Skip("redirects", *rd, "expected source,target URL pairs separated by ';'");
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
      p.redirects.push_back({*from, to, kInterlockRedirectCode});
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
  for (const auto& [k, v] : lb) {
    if (k == "default_backend" || IsMappedLabel(k)) continue;
    note("com.docker.lb." + k + "=" + Shown(v) + ": not mapped, " + UnmappedReason(k));
  }
  ParseOutcome out;
  out.plan = std::move(p);
  return out;
}

}  // namespace sg::interlock::detail
