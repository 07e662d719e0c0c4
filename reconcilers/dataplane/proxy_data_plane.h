#pragma once
// A data plane whose engine is a proxy binary: what differs between engines
// (how the model renders, what the engine refuses before its binary runs,
// which certificates a configuration names, where a message names a line)
// is a ProxyEngine; the engines' data planes (NginxDataPlane,
// HaproxyDataPlane) only fill one in.
//
// Check runs the proxy's own validator (`nginx -t`, `haproxy -c`). The
// operator never holds the proxies' keys (they are Docker secrets of the proxy
// tasks), but the proxy loads every certificate a configuration names: the
// certificate paths are pointed at the placeholder certificate (certificate
// and key in one PEM) inside the check's own directory. Only those paths
// change, so line numbers still match the rendered configuration, and a
// rejection names the route of its line.
//
// Thread-safety: Render and Check may run concurrently (the validator allows
// it, and PlaceholderCertificate makes the certificate once).

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "operator/common/config_validator.h"
#include "reconcilers/dataplane/data_plane.h"
#include "reconcilers/dataplane/placeholder_certificate.h"

namespace sg::dataplane {

// Appends `line` to *out with every certificate path it names replaced by the
// check's own file for it (relative to the check's directory), and adds those
// file names to *files. `certs_prefix` is the model's certs_dir ending in '/',
// or "".
using CertificateLineRewrite = void (*)(std::string_view line, const std::string& certs_prefix,
                                        std::string* out, std::vector<std::string>* files);

struct ProxyEngine {
  std::string name;  // DataPlane::Engine(): "nginx"
  // The engine's renderer, its render options bound.
  std::function<EngineConfig(const TrafficModel& model)> render;
  // What the engine cannot express, checked before its binary runs; empty:
  // nothing.
  std::function<CheckOutcome(const TrafficModel& model)> check_model;
  // The certificate paths the rendered configuration names.
  std::vector<std::string> (*certificate_files)(const TrafficModel& model) = nullptr;
  CertificateLineRewrite point_at_placeholders = nullptr;
  // Whether `next` needs no check once `checked` passed one
  // (DataPlane::CoveredByCheckOf); empty: never.
  std::function<bool(const std::string& checked, const std::string& next)> covered_by_check;
  // The line `message` (a rejection of `config`) names; 0 if none.
  std::function<int(const EngineConfig& config, const std::string& message)> error_line;
};

// The route a model check's message names (`route "X": ...`); "" if none.
std::string RouteOfMessage(const std::string& message);

class ProxyDataPlane : public DataPlane {
 public:
  // `validator` must outlive this object.
  ProxyDataPlane(ProxyEngine engine, ConfigValidator& validator, std::string openssl_binary);

  std::string Engine() const override { return engine_.name; }
  EngineConfig Render(const TrafficModel& model) const override;
  // ProxyEngine::check_model, then the validator on `config` with its
  // certificate paths pointed at the placeholder when it names any.
  CheckOutcome Check(const TrafficModel& model, const EngineConfig& config) override;
  CheckOutcome CheckModel(const TrafficModel& model) override;
  bool CoveredByCheckOf(const EngineConfig& checked, const EngineConfig& next) const override;

 private:
  const ProxyEngine engine_;
  ConfigValidator& validator_;
  PlaceholderCertificate placeholder_;
};

}  // namespace sg::dataplane
