#pragma once
// nginx's diagnostics made readable: the one cleaner behind the operator's
// `nginx -t` check and the proxy agent's, so both report a rejected
// configuration with the same words.
//
// Thread-safety: a pure function.

#include <string>
#include <string_view>

namespace sg {

// The lines of `output` (what `nginx -t -q -e stderr` printed) joined with
// "; ", without the "test failed" / "syntax is ok" epilogue, the "nginx: "
// prefix and the error-log prefix ("2026/01/02 03:04:05 [emerg] 12#12: msg"
// becomes "[emerg] msg"), and with `prefix_dir` + "/" removed from paths so
// messages do not depend on a temporary directory:
//   [emerg] unknown directive "x" in nginx.conf:3
// Empty when nothing is left: the caller words that case itself.
std::string CleanNginxOutput(std::string_view output, std::string_view prefix_dir);

}  // namespace sg
