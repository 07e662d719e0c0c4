#pragma once
// The nginx engine behind the data-plane seam: render the model to
// nginx.conf, check it with the real `nginx -t`, and name the route of the
// line nginx complains about.
//
// Thread-safety: Render and Check may run concurrently (the placeholder
// certificate is made once, by PlaceholderCertificate).

#include <string>

#include "reconcilers/dataplane/data_plane.h"
#include "reconcilers/dataplane/placeholder_certificate.h"
#include "reconcilers/nginx/nginx_renderer.h"
#include "reconcilers/nginx_check.h"

namespace sg::dataplane {

class NginxDataPlane : public DataPlane {
 public:
  // `validator` must outlive this object; `options`: nginx's run-time paths.
  NginxDataPlane(nginx::NginxValidator& validator, nginx::RenderOptions options = {},
                 std::string openssl_binary = "/usr/bin/openssl");

  std::string Engine() const override { return "nginx"; }
  EngineConfig Render(const TrafficModel& model) const override;
  // The operator never holds the proxies' keys (they are Docker secrets of
  // the proxy tasks), but `nginx -t` loads every certificate: certificate
  // paths are pointed at a placeholder inside the check's own directory.
  // Only those paths change, so line numbers still match `config`.
  CheckOutcome Check(const TrafficModel& model, const EngineConfig& config) override;

 private:
  nginx::NginxValidator& validator_;
  nginx::RenderOptions options_;
  PlaceholderCertificate placeholder_;
};

// The line number nginx names in a message ("... in nginx.conf:12"), 0 if none.
int NginxErrorLine(const std::string& message);

}  // namespace sg::dataplane
