#pragma once
// The HAProxy engine behind the data-plane seam: render the model to
// haproxy.cfg, check it with the real `haproxy -c`, and name the route of the
// line HAProxy complains about.
//
// Thread-safety: Render and Check may run concurrently (the placeholder
// certificate is made once, by PlaceholderCertificate).

#include <string>

#include "reconcilers/dataplane/data_plane.h"
#include "reconcilers/dataplane/placeholder_certificate.h"
#include "reconcilers/haproxy/haproxy_renderer.h"
#include "reconcilers/haproxy_check.h"
#include "reconcilers/nginx_check.h"

namespace sg::dataplane {

class HaproxyDataPlane : public DataPlane {
 public:
  // `validator` must outlive this object; `options`: HAProxy's run-time details.
  HaproxyDataPlane(haproxy::HaproxyValidator& validator, haproxy::RenderOptions options = {},
                   std::string openssl_binary = "/usr/bin/openssl");

  std::string Engine() const override { return "haproxy"; }
  EngineConfig Render(const TrafficModel& model) const override;
  // First what HAProxy cannot express (haproxy::CheckModel: e.g. a key file
  // it cannot load), then `haproxy -c`. The operator never holds the proxies'
  // keys, but `haproxy -c` loads every certificate: `crt` paths are pointed
  // at a placeholder (certificate and key in one PEM) inside the check's own
  // directory. Only those words change, so line numbers still match `config`.
  CheckOutcome Check(const TrafficModel& model, const EngineConfig& config) override;

 private:
  haproxy::HaproxyValidator& validator_;
  haproxy::RenderOptions options_;
  PlaceholderCertificate placeholder_;
};

}  // namespace sg::dataplane
