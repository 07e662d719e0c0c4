#include "operator/testing/child_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "operator/testing/file_contents.h"

namespace sg::testing {

ChildProcess::ChildProcess(const std::string& dir, std::vector<std::string> argv,
                           std::vector<std::string> env)
    : dir_(dir) {
  pid_ = fork();
  if (pid_ == 0) {
    if (chdir(dir.c_str()) != 0) _exit(126);
    for (const std::string& e : env) putenv(const_cast<char*>(e.c_str()));
    std::string log = dir + "/output.log";
    FILE* f = freopen(log.c_str(), "w", stdout);
    if (f == nullptr || dup2(fileno(stdout), 2) < 0) _exit(125);
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
}

ChildProcess::~ChildProcess() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  waitpid(pid_, nullptr, 0);
}

std::string ChildProcess::Output() const { return FileContents(dir_ + "/output.log"); }

}  // namespace sg::testing
