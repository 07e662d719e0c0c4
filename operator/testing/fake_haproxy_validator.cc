#include "operator/testing/fake_haproxy_validator.h"

namespace sg::haproxy {

sg::Status FakeHaproxyValidator::Validate(const std::string& config,
                                          const std::map<std::string, std::string>& files) const {
  std::lock_guard<std::mutex> lock(mu_);
  configs_.push_back(config);
  files_ = files;
  return result_;
}

void FakeHaproxyValidator::SetResult(sg::Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  result_ = std::move(status);
}

std::vector<std::string> FakeHaproxyValidator::configs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return configs_;
}

std::map<std::string, std::string> FakeHaproxyValidator::last_files() const {
  std::lock_guard<std::mutex> lock(mu_);
  return files_;
}

}  // namespace sg::haproxy
