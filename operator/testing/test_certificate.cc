#include "operator/testing/test_certificate.h"

#include <gtest/gtest.h>

namespace sg::testing {

const nginx::SelfSignedCertificate& TestCertificate() {
  static const nginx::SelfSignedCertificate cert = [] {
    auto c = nginx::GenerateSelfSignedCertificate();
    EXPECT_TRUE(c.ok()) << c.error().ToString();
    return c.ok() ? *c : nginx::SelfSignedCertificate{};
  }();
  return cert;
}

std::map<std::string, std::string> TestCertificateFiles(const std::vector<std::string>& paths) {
  return nginx::PlaceholderCertificateFiles(paths, TestCertificate());
}

}  // namespace sg::testing
