#pragma once
// Process plumbing shared by the engines' master processes (nginx_process,
// haproxy_process): starting a long-lived child in its own process group with
// chosen inherited descriptors, reaping it, stopping its group.
// Short-lived helpers (`nginx -t`, `haproxy -c`) go through sg::RunProcess.
//
// Thread-safety: free functions without shared state.

#include <sys/types.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "operator/common/result.h"

namespace sg::agent {

// At most this many listening sockets are handed to an engine.
constexpr size_t kMaxInheritedSockets = 16;

// Forks and execs args[0] (a path) with `env` ("NAME=value" entries) in a new
// process group. The child starts with an empty signal mask, default
// SIGPIPE, stdin from /dev/null, and no descriptor above stderr except
// `inherit`, which become 3, 4, ... in the child without close-on-exec.
Result<pid_t> SpawnInGroup(const std::vector<std::string>& args,
                           const std::vector<std::string>& env, const std::vector<int>& inherit);

// This process's environment without the variables named in `drop`.
std::vector<std::string> EnvironmentWithout(const std::set<std::string>& drop);

// "exit_code=N" or "signal=N", for logs.
std::string DescribeExit(int status);

// Pids whose parent is `parent`, from /proc.
std::set<pid_t> ChildrenOf(pid_t parent);

// Reaps `pid` if it has exited: true (with its wait status) when it has.
bool Reaped(pid_t pid, int* status);

// Whether the master `*pid` still runs. If it exited: logs how (as
// `engine`), kills the rest of its process group (workers of a master that
// died abruptly keep the listening sockets, and a restart could not bind),
// sets *pid to 0 and returns false. False at once when *pid is 0.
bool MasterAlive(pid_t* pid, const char* engine);

// Sends `signal` to `pid` and waits up to `drain` for it to exit; then kills
// its whole process group and reaps it. Returns the wait status.
int StopGroup(pid_t pid, int signal, std::chrono::milliseconds drain, bool* timed_out);

// Graceful stop of the running master `*pid`: StopGroup with the engine's
// drain signal, logged (as `engine`) with how it ended; sets *pid to 0.
void DrainMaster(pid_t* pid, int signal, std::chrono::milliseconds drain, const char* engine);

}  // namespace sg::agent
