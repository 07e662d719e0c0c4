#pragma once
// A validator for tests: records every configuration and answers with a
// preset status instead of running nginx.
//
// Thread-safety: all methods lock one mutex.

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "reconcilers/nginx_check.h"

namespace sg::nginx {

class FakeNginxValidator : public NginxValidator {
 public:
  sg::Status Validate(const std::string& config,
                      const std::map<std::string, std::string>& files) const override;
  void SetResult(sg::Status status);
  std::vector<std::string> configs() const;

 private:
  mutable std::mutex mu_;
  sg::Status result_;                         // GUARDED_BY(mu_)
  mutable std::vector<std::string> configs_;  // GUARDED_BY(mu_)
};

}  // namespace sg::nginx
