#include "operator/agent/supervised_child.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "operator/runtime/logging.h"

namespace sg::agent {
namespace {

// What the master's child does between fork and exec: only async-signal-safe
// calls. The agent blocks its shutdown signals in every thread (they are
// taken by sigwait), and exec keeps a blocked mask, so the engine would never
// see its reload or stop signals without resetting it here. It gets its own
// process group (so a drain that overruns kills the workers too).
// Descriptors above stderr are closed: the agent's sockets (Asio does not
// mark them close-on-exec) must not live on in the engine.
void PrepareChild(const std::vector<int>& inherit) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGPIPE, SIG_DFL);
  setpgid(0, 0);
  int devnull = open("/dev/null", O_RDONLY);
  if (devnull >= 0) dup2(devnull, 0);
  // Out of the way first, so moving one into place never overwrites another.
  int moved[kMaxInheritedSockets];
  const size_t n = std::min(inherit.size(), kMaxInheritedSockets);
  for (size_t i = 0; i < n; ++i) moved[i] = fcntl(inherit[i], F_DUPFD_CLOEXEC, 1024);
  for (size_t i = 0; i < n; ++i) dup2(moved[i], static_cast<int>(3 + i));
  const unsigned first_closed = static_cast<unsigned>(3 + n);
#ifdef SYS_close_range
  if (syscall(SYS_close_range, first_closed, ~0u, 0u) == 0) return;
#endif
  long max_fd = sysconf(_SC_OPEN_MAX);
  if (max_fd < 0 || max_fd > 65536) max_fd = 65536;
  for (int fd = static_cast<int>(first_closed); fd < max_fd; ++fd) close(fd);
}

std::vector<char*> Pointers(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

Result<pid_t> SpawnInGroup(const std::vector<std::string>& args,
                           const std::vector<std::string>& env, const std::vector<int>& inherit) {
  if (args.empty()) return InvalidArgument("no program to run");
  // Built before fork: the child may only call async-signal-safe functions.
  std::vector<char*> argv = Pointers(args);
  std::vector<char*> envp = Pointers(env);
  const pid_t pid = fork();
  if (pid < 0) return Internal(std::string("fork: ") + strerror(errno));
  if (pid == 0) {
    PrepareChild(inherit);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  setpgid(pid, pid);  // also in the parent: no window where a group kill misses it
  return pid;
}

std::vector<std::string> EnvironmentWithout(const std::set<std::string>& drop) {
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    const char* eq = std::strchr(*e, '=');
    const std::string name = eq ? std::string(*e, static_cast<size_t>(eq - *e)) : std::string(*e);
    if (drop.count(name) == 0) out.emplace_back(*e);
  }
  return out;
}

std::string DescribeExit(int status) {
  if (WIFEXITED(status)) return "exit_code=" + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal=" + std::to_string(WTERMSIG(status));
  return "status=" + std::to_string(status);
}

// No dependency on the kernel's optional /proc/PID/task/TID/children.
std::set<pid_t> ChildrenOf(pid_t parent) {
  std::set<pid_t> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::ifstream f(entry.path() / "stat");
    std::string stat;
    if (!std::getline(f, stat)) continue;
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 1));
    std::string state;
    pid_t ppid = 0;
    if (rest >> state >> ppid && ppid == parent) out.insert(std::atoi(name.c_str()));
  }
  return out;
}

bool Reaped(pid_t pid, int* status) {
  if (pid <= 0) return true;
  const pid_t r = waitpid(pid, status, WNOHANG);
  return r == pid || (r < 0 && errno == ECHILD);
}

bool MasterAlive(pid_t* pid, const char* engine) {
  if (*pid == 0) return false;
  int status = 0;
  const pid_t r = waitpid(*pid, &status, WNOHANG);
  if (r == 0) return true;
  if (r == *pid) {
    runtime::NamedLogger("agent")->warn("{} exited pid={} {}", engine, *pid, DescribeExit(status));
    kill(-*pid, SIGKILL);
  }
  *pid = 0;
  return false;
}

int StopGroup(pid_t pid, int signal, std::chrono::milliseconds drain, bool* timed_out) {
  *timed_out = false;
  int status = 0;
  kill(pid, signal);
  const auto deadline = std::chrono::steady_clock::now() + drain;
  for (;;) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR)) return status;
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // The group still exists (its leader is not reaped): kill the stragglers.
  *timed_out = true;
  kill(-pid, SIGKILL);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

void DrainMaster(pid_t* pid, int signal, std::chrono::milliseconds drain, const char* engine) {
  const auto log = runtime::NamedLogger("agent");
  log->info("{} draining pid={} drain_timeout_ms={}", engine, *pid, drain.count());
  bool timed_out = false;
  const int status = StopGroup(*pid, signal, drain, &timed_out);
  if (timed_out) {
    log->warn("{} drain timed out, killed pid={}", engine, *pid);
  } else {
    log->info("{} stopped pid={} {}", engine, *pid, DescribeExit(status));
  }
  *pid = 0;
}

}  // namespace sg::agent
