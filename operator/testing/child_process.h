#pragma once
// A program the real-traffic tests run beside them (a proxy under test, the
// backends behind it): started in its own directory, its stdout and stderr
// kept in <dir>/output.log for failure messages, stopped on destruction.

#include <sys/types.h>

#include <string>
#include <vector>

namespace sg::testing {

class ChildProcess {
 public:
  // Runs `argv` (argv[0] an absolute path) in `dir`, which must exist, with
  // `env` ("NAME=value") added to the environment.
  ChildProcess(const std::string& dir, std::vector<std::string> argv,
               std::vector<std::string> env = {});
  // SIGTERM, then waits for the exit.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Everything the program wrote so far.
  std::string Output() const;

 private:
  std::string dir_;
  pid_t pid_ = -1;
};

}  // namespace sg::testing
