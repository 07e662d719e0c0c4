#pragma once
// The HAProxy engine behind the data-plane seam: render the model to
// haproxy.cfg, refuse what HAProxy cannot express (haproxy::CheckModel: e.g.
// a key file it cannot load), check the rest with the real `haproxy -c`, and
// name the route of the line HAProxy complains about.
//
// Thread-safety: as ProxyDataPlane.

#include <string>

#include "reconcilers/dataplane/proxy_data_plane.h"
#include "reconcilers/haproxy/haproxy_renderer.h"
#include "reconcilers/haproxy_check.h"

namespace sg::dataplane {

class HaproxyDataPlane : public ProxyDataPlane {
 public:
  // `validator` must outlive this object; `options`: HAProxy's run-time details.
  HaproxyDataPlane(haproxy::HaproxyValidator& validator, haproxy::RenderOptions options = {},
                   std::string openssl_binary = "/usr/bin/openssl");
};

}  // namespace sg::dataplane
