#pragma once
// Validation of a rendered haproxy.cfg with the real `haproxy -c` before it is
// delivered: a configuration that HAProxy rejects is never sent to the proxies.

#include <string>
#include <string_view>

#include "operator/common/config_validator.h"
#include "operator/common/exec_config_validator.h"

namespace sg::haproxy {

// The seam the HAProxy engine depends on; tests use FakeHaproxyValidator
// (operator/testing). Its errors carry HAProxy's own messages, cleaned
// (CleanHaproxyOutput): "[ALERT] parsing [haproxy.cfg:12] : ...".
using HaproxyValidator = sg::ConfigValidator;

// Runs `<haproxy> -c -C DIR -f DIR/haproxy.cfg` in a private temporary
// directory, HAProxy's working directory, with SG_HTTP_BIND and SG_HTTPS_BIND
// set to loopback addresses (a check binds nothing). Thread-safe: each call
// has its own directory.
class ExecHaproxyValidator : public sg::ExecConfigValidator {
 public:
  explicit ExecHaproxyValidator(std::string haproxy_binary = "/usr/sbin/haproxy",
                                std::string temp_root = "");  // empty: $TMPDIR or /tmp
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
