#pragma once
// Process exit codes of the CLI (DESIGN.md §5).

namespace sg::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitInvalid = 1,      // invalid input, rejected, not found, conflict
  kExitUsage = 2,        // bad flags or arguments
  kExitUnreachable = 3,  // the Docker endpoint did not answer
};

}  // namespace sg::cli
