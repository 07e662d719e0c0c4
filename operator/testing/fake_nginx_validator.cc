#include "operator/testing/fake_nginx_validator.h"

namespace sg::nginx {

sg::Status FakeNginxValidator::Validate(const std::string& config,
                                        const std::map<std::string, std::string>&) const {
  std::lock_guard<std::mutex> lock(mu_);
  configs_.push_back(config);
  return result_;
}

void FakeNginxValidator::SetResult(sg::Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  result_ = std::move(status);
}

std::vector<std::string> FakeNginxValidator::configs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return configs_;
}

}  // namespace sg::nginx
