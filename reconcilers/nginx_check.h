#pragma once
// Validation of a rendered nginx.conf with the real `nginx -t` before it is
// delivered: a configuration that nginx rejects is never sent to the proxies.

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "operator/common/config_validator.h"
#include "operator/common/exec_config_validator.h"
#include "operator/common/result.h"

namespace sg::nginx {

// The seam the nginx engine depends on; tests use FakeNginxValidator
// (operator/testing). Its errors carry nginx's own message, with the
// temporary directory removed from paths ("... in nginx.conf:12").
using NginxValidator = sg::ConfigValidator;

// Runs `<nginx> -t -q -p DIR -c DIR/nginx.conf -e stderr` in a private temporary
// directory. The rendered config keeps pid, logs and temp paths relative to the
// prefix, so nothing outside DIR is needed. Thread-safe: each call has its own
// directory.
class ExecNginxValidator : public sg::ExecConfigValidator {
 public:
  explicit ExecNginxValidator(std::string nginx_binary = "/usr/sbin/nginx",
                              std::string temp_root = "");  // empty: $TMPDIR or /tmp
};

struct SelfSignedCertificate {
  std::string certificate_pem;
  std::string key_pem;
};

// A throw-away certificate (CN=placeholder, RSA 2048, valid one day) made with
// the openssl command line: `nginx -t` loads every ssl_certificate, and the
// operator never holds the real keys (they are Docker secrets of the proxies).
sg::Result<SelfSignedCertificate> GenerateSelfSignedCertificate(
    const std::string& openssl_binary = "/usr/bin/openssl");

// Validation files for the certificate paths of a config (CertificateFiles):
// each gets the certificate and the key in one PEM, which serves as either.
std::map<std::string, std::string> PlaceholderCertificateFiles(
    const std::vector<std::string>& paths, const SelfSignedCertificate& cert);

}  // namespace sg::nginx
