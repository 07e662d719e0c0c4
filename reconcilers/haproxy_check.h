#pragma once
// Validation of a rendered haproxy.cfg with the real `haproxy -c` before it is
// delivered: a configuration that HAProxy rejects is never sent to the proxies.

#include <map>
#include <string>
#include <string_view>

#include "operator/common/result.h"

namespace sg::haproxy {

// The seam the HAProxy engine depends on; tests use FakeHaproxyValidator
// (operator/testing).
class HaproxyValidator {
 public:
  virtual ~HaproxyValidator() = default;
  // Checks `config` as the haproxy.cfg of a fresh directory, HAProxy's
  // working directory, into which `files` (path relative to that directory ->
  // content), e.g. placeholder certificates named by the config, are written
  // first. On rejection the error is InvalidArgument carrying HAProxy's own
  // messages, cleaned (CleanHaproxyOutput): "[ALERT] parsing [haproxy.cfg:12] : ...".
  virtual sg::Status Validate(const std::string& config,
                              const std::map<std::string, std::string>& files) const = 0;
};

// Runs `<haproxy> -c -C DIR -f DIR/haproxy.cfg` in a private temporary
// directory, with SG_HTTP_BIND and SG_HTTPS_BIND set to loopback addresses
// (a check binds nothing). Thread-safe: each call has its own directory.
class ExecHaproxyValidator : public HaproxyValidator {
 public:
  explicit ExecHaproxyValidator(std::string haproxy_binary = "/usr/sbin/haproxy",
                                std::string temp_root = "");  // empty: $TMPDIR or /tmp
  sg::Status Validate(const std::string& config,
                      const std::map<std::string, std::string>& files) const override;

 private:
  std::string haproxy_;
  std::string temp_root_;
};

// HAProxy's diagnostics made readable: the [ALERT] and [WARNING] lines of
// `output` joined with "; ", without the process id and section prefix
// ("[ALERT]    (123) : config : msg" becomes "[ALERT] msg"), without the
// closing summaries ("Error(s) found in configuration file", "Fatal errors
// found in configuration.") when anything else is left, and with
// `dir` + "/" removed from paths. Empty when nothing is left.
std::string CleanHaproxyOutput(std::string_view output, std::string_view dir);

// The line number of the first "[haproxy.cfg:12]" in `message`, 0 if none.
int HaproxyErrorLine(std::string_view message);

}  // namespace sg::haproxy
