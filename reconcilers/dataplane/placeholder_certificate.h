#pragma once
// The throw-away self-signed certificate an engine's check loads in place of
// the proxies' real ones: the operator never holds the proxies' keys (they
// are Docker secrets of the proxy tasks), but `nginx -t` and `haproxy -c`
// load every certificate a configuration names. Made once, on first use.
//
// Thread-safety: Get() may be called from any number of threads.

#include <mutex>
#include <optional>
#include <string>

#include "operator/common/result.h"
#include "reconcilers/nginx_check.h"

namespace sg::dataplane {

class PlaceholderCertificate {
 public:
  explicit PlaceholderCertificate(std::string openssl_binary)
      : openssl_(std::move(openssl_binary)) {}

  // The certificate, generated with openssl on the first call.
  Result<nginx::SelfSignedCertificate> Get();

 private:
  const std::string openssl_;
  std::mutex mu_;
  std::optional<nginx::SelfSignedCertificate> cert_;  // GUARDED_BY(mu_)
};

}  // namespace sg::dataplane
