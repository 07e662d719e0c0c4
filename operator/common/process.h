#pragma once
// Running a short-lived helper program (`nginx -t`, `openssl req`) and
// collecting what it prints, with a deadline. Long-lived children that are
// supervised (the proxy agent's nginx master) are not run through this.
//
// The child starts with an empty signal mask and default SIGPIPE (callers
// often block their shutdown signals in every thread and ignore SIGPIPE, and
// exec would pass both on), stdin from /dev/null, and no descriptor above
// stderr (sockets of the caller must not live on in the child).
//
// Thread-safety: RunProcess may be called from any number of threads at once.

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "operator/common/result.h"

namespace sg {

struct ProcessResult {
  int exit_code = -1;      // exit status; -1 when a signal ended the process
  int term_signal = 0;     // the signal that ended it, 0 when it exited
  std::string output;      // stdout and stderr interleaved, in the order written
  bool truncated = false;  // output beyond ProcessOptions::max_output_bytes was dropped

  bool Succeeded() const { return exit_code == 0; }
};

struct ProcessOptions {
  // From the start until the process has exited; then it is killed (SIGKILL).
  std::chrono::milliseconds timeout{30000};
  // Output kept; the rest is still read (so the child never blocks on a full
  // pipe) but dropped.
  std::size_t max_output_bytes = 1u << 20;
  // "NAME=value" entries added to (or replacing in) the caller's environment.
  std::vector<std::string> environment;
};

// Runs argv[0] (a path: there is no PATH lookup) with `argv` and waits for it.
// Errors: InvalidArgument for an empty argv; Internal when the program cannot
// be started ("cannot run <path>: <reason>") or a pipe/fork fails;
// Unavailable when it did not finish within the timeout ("<path> did not
// finish in time"). Any exit status is a successful run.
Result<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                 const ProcessOptions& options);
Result<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                 std::chrono::milliseconds timeout);

}  // namespace sg
