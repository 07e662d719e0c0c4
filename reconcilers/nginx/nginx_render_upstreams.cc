// Upstream blocks, each written for the route that owns it.

#include <string>

#include "reconcilers/nginx/nginx_render.h"

namespace sg::nginx::internal {

void ConfigRenderer::RenderUpstreams() {
  bool any = false;
  for (const model::Upstream* u : upstreams_sorted_) {
    if (!any) {
      out_ << "\n    # Upstreams without endpoints are omitted (nginx rejects an empty\n"
              "    # upstream); their locations answer 503.\n";
      any = true;
    }
    RouteScope scope(out_, u->route);
    RouteScope maps_scope(maps_, u->route);
    if (u->servers.empty()) {
      out_ << "    # upstream " << Tok(u->name) << ": no endpoints\n";
      continue;
    }
    out_ << "    upstream " << Tok(u->name) << " {\n";
    if (!u->sticky_cookie.empty()) {
      // Sticky sessions without nginx plus: a consistent hash of the session
      // cookie. New clients hash on their request id, which is also the cookie
      // value they receive (see sg_ss_*), so their next requests stay on the
      // same task. When a task goes away only its sessions move (to the next
      // task on the ring); other sessions stay where they are.
      std::string key = StickyKeyVar(u->sticky_cookie);
      out_ << "        hash " << key << " consistent;\n";
    }
    for (const model::UpstreamServer* sv : SortedServers(*u)) {
      out_ << "        server " << Tok(sv->address);
      if (sv->weight != 1) out_ << " weight=" << sv->weight;
      PassiveHealth(out_, *u);
      out_ << ";\n";
    }
    if (u->keepalive > 0) out_ << "        keepalive " << u->keepalive << ";\n";
    out_ << "    }\n";
  }
}

// nginx's defaults (1 failure, 10s) are left implicit: shorter configs.
void ConfigRenderer::PassiveHealth(Writer& o, const model::Upstream& u) {
  if (u.max_fails != 1) o << " max_fails=" << u.max_fails;
  if (u.fail_timeout != model::Duration{10000}) o << " fail_timeout=" << Dur{u.fail_timeout};
}

}  // namespace sg::nginx::internal
