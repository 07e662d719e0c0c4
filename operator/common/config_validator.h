#pragma once
// The seam between an engine's data plane and the proxy binary that checks
// its configuration (`nginx -t`, `haproxy -c`): a configuration the proxy
// rejects is never delivered. One interface for every engine; each engine
// names it (nginx::NginxValidator, haproxy::HaproxyValidator) and tests use
// fakes (operator/testing).
//
// Thread-safety: implementations must allow concurrent calls.

#include <map>
#include <string>

#include "operator/common/result.h"

namespace sg {

class ConfigValidator {
 public:
  virtual ~ConfigValidator() = default;
  // Checks `config` as the configuration file of a fresh directory into which
  // `files` (path relative to that directory -> content), e.g. placeholder
  // certificates named by the config, are written first. On rejection the
  // error is InvalidArgument carrying the proxy's own messages, with the
  // temporary directory removed from paths.
  virtual Status Validate(const std::string& config,
                          const std::map<std::string, std::string>& files) const = 0;
};

}  // namespace sg
