#pragma once
// A validator for tests: records every configuration and the files that came
// with it, and answers with a preset status instead of running HAProxy.
//
// Thread-safety: all methods lock one mutex.

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "reconcilers/haproxy_check.h"

namespace sg::haproxy {

class FakeHaproxyValidator : public HaproxyValidator {
 public:
  sg::Status Validate(const std::string& config,
                      const std::map<std::string, std::string>& files) const override;
  void SetResult(sg::Status status);
  std::vector<std::string> configs() const;
  // The files of the last call.
  std::map<std::string, std::string> last_files() const;

 private:
  mutable std::mutex mu_;
  sg::Status result_;                                 // GUARDED_BY(mu_)
  mutable std::vector<std::string> configs_;          // GUARDED_BY(mu_)
  mutable std::map<std::string, std::string> files_;  // GUARDED_BY(mu_)
};

}  // namespace sg::haproxy
