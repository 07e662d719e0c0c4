// The stream block of TLS passthrough: per route, its SNI map entries and its
// upstream; the front-end servers are shared.

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "reconcilers/nginx/nginx_render.h"

namespace sg::nginx::internal {

void ConfigRenderer::RenderStream() {
  size_t longest = 0;
  size_t names = 0;
  for (const model::PassthroughRoute* p : passthrough_sorted_) {
    for (const std::string& h : p->hosts) {
      longest = std::max(longest, h.size());
      ++names;
    }
  }
  out_ << "\n# TLS passthrough shares the https port with terminated TLS: the front-end\n"
          "# reads the SNI without decrypting and hands the connection, with a PROXY\n"
          "# header carrying the client address, either to the passthrough server or to\n"
          "# the http block's TLS listener.\n";
  out_ << "stream {\n";
  out_ << "    map_hash_max_size "
       << static_cast<long long>(NextPow2(std::max<size_t>(2048, 2 * names))) << ";\n";
  out_ << "    map_hash_bucket_size "
       << static_cast<long long>(std::max<size_t>(128, NextPow2(longest + 32))) << ";\n";
  Writer listener(256), upstream(256), upstreams(1024);
  for (const model::PassthroughRoute* p : passthrough_sorted_) {
    const model::Upstream& u = p->upstream;
    RouteScope listener_scope(listener, p->route);
    RouteScope upstream_scope(upstream, p->route);
    RouteScope upstreams_scope(upstreams, p->route);
    if (p->selection.split.empty() || p->hosts.empty()) {
      upstreams << "    # route " << Tok(p->route) << ": no endpoints\n";
      continue;
    }
    std::vector<std::string_view> hosts = SortedHosts(p->hosts);
    listener << "        # route " << Tok(p->route) << '\n';
    upstream << "        # route " << Tok(p->route) << '\n';
    for (std::string_view h : hosts) {
      listener << "        " << Tok(h) << " sg_passthrough;\n";
      upstream << "        " << Tok(h) << ' ' << Tok(u.name) << ";\n";
    }
    upstreams << "    # route " << Tok(p->route) << '\n';
    upstreams << "    upstream " << Tok(u.name) << " {\n";
    for (const model::UpstreamServer* sv : SortedServers(u)) {
      upstreams << "        server " << Tok(sv->address);
      if (sv->weight != 1) upstreams << " weight=" << sv->weight;
      PassiveHealth(upstreams, u);
      upstreams << ";\n";
    }
    upstreams << "    }\n";
  }
  out_ << "    map $ssl_preread_server_name $sg_tls_listener {\n        hostnames;\n";
  out_.Append(std::move(listener)) << "        default sg_terminate;\n    }\n";
  out_ << "    map $ssl_preread_server_name $sg_passthrough_upstream {\n        hostnames;\n";
  out_.Append(std::move(upstream)) << "        default \"\";\n    }\n";
  out_ << "    upstream sg_terminate {\n        server 127.0.0.1:" << s_.tls_internal_port
       << ";\n    }\n";
  out_ << "    upstream sg_passthrough {\n        server 127.0.0.1:" << s_.passthrough_internal_port
       << ";\n    }\n";
  out_.Append(std::move(upstreams));
  out_ << "    server {\n        listen " << s_.https_port;
  if (s_.proxy_protocol) {
    // The balancer's PROXY header names the client; the header sent on
    // carries it (realip replaces the connection's address).
    out_ << " proxy_protocol;\n        set_real_ip_from 0.0.0.0/0;\n"
            "        set_real_ip_from ::/0;\n";
  } else {
    out_ << ";\n";
  }
  out_ << "        ssl_preread on;\n        proxy_protocol on;\n"
       << "        proxy_pass $sg_tls_listener;\n    }\n";
  out_ << "    server {\n        listen 127.0.0.1:" << s_.passthrough_internal_port
       << " proxy_protocol;\n"
       << "        ssl_preread on;\n"
       << "        proxy_connect_timeout " << Dur{s_.default_timeouts.connect} << ";\n"
       << "        proxy_pass $sg_passthrough_upstream;\n    }\n";
  out_ << "}\n";
}

}  // namespace sg::nginx::internal
