#pragma once
// The nginx engine behind the data-plane seam: render the model to
// nginx.conf, check it with the real `nginx -t`, and name the route of the
// line nginx complains about.
//
// Thread-safety: as ProxyDataPlane.

#include <string>

#include "reconcilers/dataplane/proxy_data_plane.h"
#include "reconcilers/nginx/nginx_renderer.h"
#include "reconcilers/nginx_check.h"

namespace sg::dataplane {

class NginxDataPlane : public ProxyDataPlane {
 public:
  // `validator` must outlive this object; `options`: nginx's run-time paths.
  NginxDataPlane(nginx::NginxValidator& validator, nginx::RenderOptions options = {},
                 std::string openssl_binary = "/usr/bin/openssl");
};

// The line number nginx names in a message ("... in nginx.conf:12"), 0 if none.
int NginxErrorLine(const std::string& message);

}  // namespace sg::dataplane
