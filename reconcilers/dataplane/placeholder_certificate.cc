#include "reconcilers/dataplane/placeholder_certificate.h"

namespace sg::dataplane {

Result<nginx::SelfSignedCertificate> PlaceholderCertificate::Get() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!cert_) {
    auto cert = nginx::GenerateSelfSignedCertificate(openssl_);
    if (!cert.ok()) return cert.error();
    cert_ = *cert;
  }
  return *cert_;
}

}  // namespace sg::dataplane
