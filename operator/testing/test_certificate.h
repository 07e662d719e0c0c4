#pragma once
// The placeholder certificate of the engines' tests: one per test binary,
// because key generation is slow. Its PEM holds certificate and key, so a
// file with it serves as either.

#include <map>
#include <string>
#include <vector>

#include "reconcilers/nginx_check.h"

namespace sg::testing {

// Made on first use; a failure to make it fails the test that asked first
// (and leaves the PEM strings empty).
const nginx::SelfSignedCertificate& TestCertificate();

// Validation files for `paths` (an engine's CertificateFiles), each holding
// TestCertificate().
std::map<std::string, std::string> TestCertificateFiles(const std::vector<std::string>& paths);

}  // namespace sg::testing
