#include "operator/common/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

namespace sg {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::string Errno(const char* what, int err) { return std::string(what) + ": " + strerror(err); }

// A descriptor at 3 or above, close-on-exec. A pipe end that landed on 0-2
// (the caller closed its standard streams) would otherwise be clobbered or
// inherited by the dup2 calls in the child.
int AboveStandardStreams(int fd) {
  if (fd > 2) return fd;
  const int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  close(fd);
  return moved;
}

struct Pipe {
  int read = -1;
  int write = -1;

  Status Open() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return Internal(Errno("pipe", errno));
    read = AboveStandardStreams(fds[0]);
    write = AboveStandardStreams(fds[1]);
    if (read < 0 || write < 0) {
      const int err = errno;
      Close();
      return Internal(Errno("fcntl", err));
    }
    return OkStatus();
  }
  void CloseRead() {
    if (read >= 0) close(read);
    read = -1;
  }
  void CloseWrite() {
    if (write >= 0) close(write);
    write = -1;
  }
  void Close() {
    CloseRead();
    CloseWrite();
  }
};

// Closes every descriptor from `first` up, except `keep` (>= first). Only
// async-signal-safe calls: it runs between fork and exec.
void CloseFrom(int first, int keep) {
#ifdef SYS_close_range
  const bool below_closed = keep == first || syscall(SYS_close_range, static_cast<unsigned>(first),
                                                     static_cast<unsigned>(keep - 1), 0u) == 0;
  if (below_closed && syscall(SYS_close_range, static_cast<unsigned>(keep + 1), ~0u, 0u) == 0) {
    return;
  }
#endif
  long max_fd = sysconf(_SC_OPEN_MAX);
  if (max_fd < 0 || max_fd > 65536) max_fd = 65536;
  for (int fd = first; fd < max_fd; ++fd) {
    if (fd != keep) close(fd);
  }
}

// The child between fork and exec: only async-signal-safe calls. On exec
// failure its errno goes to `error_fd` (close-on-exec, so a successful exec
// closes it without writing).
[[noreturn]] void ExecChild(char* const* argv, char* const* envp, int output_fd, int error_fd) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  sigaction(SIGPIPE, &dfl, nullptr);

  dup2(output_fd, 1);
  dup2(output_fd, 2);
  const int devnull = open("/dev/null", O_RDONLY);
  if (devnull > 0) dup2(devnull, 0);
  CloseFrom(3, error_fd);
  execve(argv[0], argv, envp);
  const int err = errno;
  ssize_t ignored = write(error_fd, &err, sizeof(err));
  (void)ignored;
  _exit(127);
}

// The errno the child reported before exiting, or 0 once exec succeeded
// (the pipe closed without data).
int ReadExecError(int fd) {
  int err = 0;
  size_t got = 0;
  while (got < sizeof(err)) {
    const ssize_t n = read(fd, reinterpret_cast<char*>(&err) + got, sizeof(err) - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  return got == sizeof(err) ? err : 0;
}

void KillAndReap(pid_t pid) {
  kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

Result<ProcessResult> RunProcess(const std::vector<std::string>& args,
                                 std::chrono::milliseconds timeout) {
  ProcessOptions options;
  options.timeout = timeout;
  return RunProcess(args, options);
}

Result<ProcessResult> RunProcess(const std::vector<std::string>& args,
                                 const ProcessOptions& options) {
  if (args.empty() || args[0].empty()) return InvalidArgument("no program to run");
  // Everything the child needs is allocated before fork.
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    const std::string name = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const std::string& extra : options.environment) {
      replaced = replaced || extra.substr(0, extra.find('=')) == name;
    }
    if (!replaced) env_strings.push_back(entry);
  }
  env_strings.insert(env_strings.end(), options.environment.begin(), options.environment.end());
  std::vector<char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (const std::string& e : env_strings) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  const auto deadline = SteadyClock::now() + options.timeout;
  Pipe output;
  if (Status st = output.Open(); !st.ok()) return st.error();
  Pipe exec_error;
  if (Status st = exec_error.Open(); !st.ok()) {
    output.Close();
    return st.error();
  }
  const pid_t pid = fork();
  if (pid < 0) {
    const int err = errno;
    output.Close();
    exec_error.Close();
    return Internal(Errno("fork", err));
  }
  if (pid == 0) ExecChild(argv.data(), envp.data(), output.write, exec_error.write);

  output.CloseWrite();
  exec_error.CloseWrite();
  const int exec_errno = ReadExecError(exec_error.read);
  exec_error.CloseRead();
  if (exec_errno != 0) {
    output.Close();
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return Internal("cannot run " + args[0] + ": " + strerror(exec_errno));
  }

  ProcessResult result;
  bool timed_out = false;
  char buf[4096];
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{output.read, POLLIN, 0};
    const int r = poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1 << 30)));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) break;
    if (r == 0) continue;  // the loop head decides whether time is up
    const ssize_t n = read(output.read, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) break;  // end of output: every writer closed it
    const size_t room =
        options.max_output_bytes - std::min(options.max_output_bytes, result.output.size());
    const size_t keep = std::min(room, static_cast<size_t>(n));
    result.output.append(buf, keep);
    if (keep < static_cast<size_t>(n)) result.truncated = true;
  }
  output.CloseRead();
  if (timed_out) {
    KillAndReap(pid);
    return Unavailable(args[0] + " did not finish in time");
  }

  // The output may end before the process does (it closed its streams).
  int status = 0;
  for (;;) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return Internal(Errno("waitpid", errno));
    if (SteadyClock::now() >= deadline) {
      KillAndReap(pid);
      return Unavailable(args[0] + " did not finish in time");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.term_signal = WTERMSIG(status);
  }
  return result;
}

}  // namespace sg
