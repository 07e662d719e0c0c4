// TLS passthrough: the https port is a TCP front-end that reads the SNI of
// the ClientHello without decrypting. Passthrough names go to their route's
// servers as they are; everything else goes, with a PROXY header carrying the
// client address, to the TLS-terminating listener of the HTTP front-end over
// an abstract socket.

#include <algorithm>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "reconcilers/haproxy/haproxy_render.h"

namespace sg::haproxy::internal {
namespace {

constexpr model::Duration kPassthroughIdle{600 * 1000};  // nginx's stream proxy_timeout
// How long the SNI front-end waits for a client's ClientHello. A wait on the
// client's link (slow or lossy, over the internet), not on the overlay: it
// does not follow the connect timeout to tasks.
constexpr model::Duration kClientHelloWait{5000};

struct SniEntry {
  std::string_view host;
  const model::PassthroughRoute* route;
  size_t order;
};

}  // namespace

void ConfigRenderer::RenderTcp(Writer& o) {
  o << "\n# TLS passthrough shares the https port with terminated TLS.\n";
  o << "defaults sg:tcp\n    mode tcp\n";
  if (options_.log) o << "    log global\n    option dontlognull\n";
  o << "    timeout connect " << Dur{s_.default_timeouts.connect} << '\n';
  o << "    timeout client " << Dur{kPassthroughIdle} << '\n';
  o << "    timeout server " << Dur{kPassthroughIdle} << '\n';

  // The SNI names: exact first, then wildcards with the longest suffix first
  // (nginx's `hostnames` map order).
  std::vector<SniEntry> exact, wildcard;
  size_t order = 0;
  for (const model::PassthroughRoute* p : passthrough_sorted_) {
    if (p->selection.split.empty() || p->hosts.empty()) continue;
    for (std::string_view h : SortedHosts(p->hosts)) {
      bool wild = h.size() > 2 && h.substr(0, 2) == "*.";
      (wild ? wildcard : exact).push_back({h, p, order++});
    }
  }
  std::stable_sort(wildcard.begin(), wildcard.end(), [](const SniEntry& a, const SniEntry& b) {
    if (a.host.size() != b.host.size()) return a.host.size() > b.host.size();
    return std::tie(a.host, a.order) < std::tie(b.host, b.order);
  });

  o << "\nfrontend sg:https\n";
  // The balancer's PROXY header names the client; the header sent to the
  // terminating front-end (send-proxy) carries it on.
  o << "    bind \"${" << kHttpsBindEnv << "}\"" << (s_.proxy_protocol ? " accept-proxy" : "")
    << "\n";
  if (options_.log) o << "    option tcplog\n";
  o << "    tcp-request inspect-delay " << Dur{kClientHelloWait} << '\n';
  o << "    tcp-request content accept if { req.ssl_hello_type 1 }\n";
  auto name = [](const model::PassthroughRoute& p) { return "tls:" + SafeName(p.upstream.name); };
  for (const SniEntry& e : exact) {
    RouteScope scope(o, e.route->route);
    o << "    use_backend " << name(*e.route) << " if { req.ssl_sni -i " << Word{e.host} << " }\n";
  }
  for (const SniEntry& e : wildcard) {
    RouteScope scope(o, e.route->route);
    o << "    use_backend " << name(*e.route) << " if { req.ssl_sni -i -m end "
      << Word{e.host.substr(1)} << " }\n";
  }
  o << "    default_backend sg:terminate\n";

  // The terminating side carries every HTTPS request: its idle limit must
  // outlast the HTTP front-end's own (keep-alive, websockets), so
  // that side is the one that closes.
  model::Duration relay = std::max({s_.keepalive_timeout, s_.default_timeouts.read,
                                    s_.default_timeouts.send, model::Duration{60000}});
  for (const SortedServer& ss : servers_) {
    for (const model::Location* l : ss.locations) {
      relay = std::max({relay, l->timeouts.read, l->timeouts.send});
      if (l->websocket) relay = std::max(relay, model::Duration{3600 * 1000});
    }
  }
  relay += model::Duration{10000};  // the inner side times out first
  o << "\nbackend sg:terminate\n";
  o << "    timeout server " << Dur{relay} << "\n    timeout tunnel " << Dur{relay} << '\n';
  if (tls_) {
    o << "    server terminate abns@" << Name{options_.terminate_socket} << " send-proxy-v2\n";
  } else {
    o << "    # no certificate: names that are not passed through are refused\n";
  }

  for (const model::PassthroughRoute* p : passthrough_sorted_) {
    RouteScope scope(o, p->route);
    o << "\n# route " << Name{p->route} << '\n';
    if (p->selection.split.empty() || p->hosts.empty()) {
      o << "# no endpoints: not served\n";
      continue;
    }
    const model::Upstream& u = p->upstream;
    o << "backend " << name(*p) << '\n';
    std::unordered_map<std::string, int> seen;
    for (const model::UpstreamServer* sv : SortedServers(u)) {
      std::string server = SafeName(sv->address);
      int n = ++seen[server];
      if (n > 1) server += "-" + std::to_string(n);
      ServerLine(o, u, *sv, server, false, false);
    }
  }
}

}  // namespace sg::haproxy::internal
