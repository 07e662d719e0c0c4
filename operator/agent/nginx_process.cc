#include "operator/agent/nginx_process.h"

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
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include "operator/common/nginx_output.h"
#include "operator/common/process.h"
#include "operator/runtime/logging.h"

namespace sg::agent {
namespace {

const std::shared_ptr<spdlog::logger>& Log() {
  static const auto logger = runtime::NamedLogger("agent");
  return logger;
}

// At most this many listening sockets are handed to nginx.
constexpr size_t kMaxInherited = 16;

// What the nginx master's child does between fork and exec: only
// async-signal-safe calls. The agent blocks its shutdown signals in every
// thread (they are taken by sigwait), and exec keeps a blocked mask, so nginx
// would never see SIGHUP or SIGQUIT without resetting it here. It gets its own
// process group (so a drain that overruns kills the workers too). Descriptors
// above stderr are closed: the agent's sockets (Asio does not mark them
// close-on-exec) must not live on in nginx. `inherit` (n descriptors) become
// 3..3+n-1 in the child, without close-on-exec, for nginx's NGINX variable.
// (Short-lived helpers such as `nginx -t` go through sg::RunProcess.)
void PrepareMasterChild(const std::vector<int>& inherit) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGPIPE, SIG_DFL);
  setpgid(0, 0);
  int devnull = open("/dev/null", O_RDONLY);
  if (devnull >= 0) dup2(devnull, 0);
  // Out of the way first, so moving one into place never overwrites another.
  int moved[kMaxInherited];
  const size_t n = std::min(inherit.size(), kMaxInherited);
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

std::vector<char*> Argv(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  return argv;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return NotFound("cannot read " + path);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

std::string Unquote(std::string v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
    return v.substr(1, v.size() - 2);
  }
  return v;
}

std::string DescribeExit(int status) {
  if (WIFEXITED(status)) return "exit_code=" + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal=" + std::to_string(WTERMSIG(status));
  return "status=" + std::to_string(status);
}

// Pids whose parent is `parent`, from /proc (no dependency on the kernel's
// optional /proc/PID/task/TID/children).
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

}  // namespace

std::map<std::string, std::string> MainDirectives(const std::string& config) {
  std::map<std::string, std::string> out;
  std::vector<std::string> tokens;
  std::string token;
  int depth = 0;
  auto end_token = [&] {
    if (!token.empty()) tokens.push_back(std::move(token));
    token.clear();
  };
  for (size_t i = 0; i < config.size(); ++i) {
    const char c = config[i];
    if (c == '"' || c == '\'') {
      token.push_back(c);
      for (++i; i < config.size() && config[i] != c; ++i) {
        if (config[i] == '\\' && i + 1 < config.size()) token.push_back(config[i++]);
        token.push_back(config[i]);
      }
      if (i < config.size()) token.push_back(c);
    } else if (c == '#') {
      end_token();
      while (i < config.size() && config[i] != '\n') ++i;
    } else if (c == '{' && !token.empty() && token.back() == '$') {
      token.push_back(c);  // ${variable}
      for (++i; i < config.size() && config[i] != '}'; ++i) token.push_back(config[i]);
      if (i < config.size()) token.push_back('}');
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      end_token();
    } else if (c == ';') {
      end_token();
      if (depth == 0 && !tokens.empty()) {
        std::string args;
        for (size_t t = 1; t < tokens.size(); ++t) args += (t > 1 ? " " : "") + tokens[t];
        out[tokens[0]] = args;
      }
      tokens.clear();
    } else if (c == '{') {
      ++depth;
      token.clear();
      tokens.clear();
    } else if (c == '}') {
      depth = depth > 0 ? depth - 1 : 0;
      token.clear();
      tokens.clear();
    } else {
      token.push_back(c);
    }
  }
  return out;
}

std::string GlobalDirectivesFor(const std::string& config) {
  const auto d = MainDirectives(config);
  std::string g;
  if (d.count("daemon") == 0) g += "daemon off;";
  if (d.count("pid") == 0) g += std::string(g.empty() ? "" : " ") + "pid nginx.pid;";
  return g;
}

ExecNginxProcess::ExecNginxProcess(std::string nginx_binary, std::string prefix,
                                   std::chrono::milliseconds start_timeout)
    : nginx_(std::move(nginx_binary)), prefix_(std::move(prefix)), start_timeout_(start_timeout) {}

ExecNginxProcess::~ExecNginxProcess() { Stop(std::chrono::milliseconds(0)); }

std::vector<std::string> ExecNginxProcess::BaseArgs(const std::string& config_file,
                                                    const std::string& globals) const {
  // -e stderr: nginx opens its build-time error log before reading the
  // config; the proxy image has no writable /var/log/nginx.
  std::vector<std::string> args = {nginx_, "-p", prefix_ + "/", "-c", config_file, "-e", "stderr"};
  if (!globals.empty()) {
    args.push_back("-g");
    args.push_back(globals);
  }
  return args;
}

Status ExecNginxProcess::Test(const std::string& config_file) {
  auto text = ReadFile(config_file);
  if (!text.ok()) return text.error();
  const auto directives = MainDirectives(*text);
  if (auto it = directives.find("daemon"); it != directives.end() && Unquote(it->second) == "on") {
    return InvalidArgument(
        "\"daemon on\" is not supported: the proxy agent runs nginx in the "
        "foreground");
  }
  const std::string globals =
      Alive() && running_globals_set_ ? running_globals_ : GlobalDirectivesFor(*text);
  std::vector<std::string> args = BaseArgs(config_file, globals);
  args.insert(args.begin() + 1, {"-t", "-q"});
  auto run = RunProcess(args, std::chrono::seconds(30));
  if (!run.ok()) return run.error();
  if (run->exit_code == 0) return OkStatus();
  std::string message = CleanNginxOutput(run->output, prefix_);
  return InvalidArgument(message.empty() ? "nginx -t failed without a message" : message);
}

Status ExecNginxProcess::Start() {
  if (Alive()) return OkStatus();
  auto text = ReadFile(prefix_ + "/nginx.conf");
  if (!text.ok()) return text.error();
  const std::string globals = GlobalDirectivesFor(*text);
  const auto directives = MainDirectives(*text);
  std::string pid_file = "nginx.pid";
  if (auto it = directives.find("pid"); it != directives.end()) pid_file = Unquote(it->second);
  if (pid_file.empty() || pid_file[0] != '/') pid_file = prefix_ + "/" + pid_file;
  unlink(pid_file.c_str());  // a stale file from a previous master must not count as ready

  const std::vector<std::string> args = BaseArgs(prefix_ + "/nginx.conf", globals);
  std::vector<char*> argv = Argv(args);
  // The environment is built before fork: the child may only call
  // async-signal-safe functions.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "NGINX=", 6) != 0) env_strings.emplace_back(*e);
  }
  if (!inherited_.empty()) {
    std::string var = "NGINX=";
    for (size_t i = 0; i < std::min(inherited_.size(), kMaxInherited); ++i) {
      var += std::to_string(3 + i) + ";";
    }
    env_strings.push_back(var);
  }
  std::vector<char*> envp = Argv(env_strings);
  const pid_t pid = fork();
  if (pid < 0) return Internal(std::string("fork: ") + strerror(errno));
  if (pid == 0) {
    PrepareMasterChild(inherited_);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  setpgid(pid, pid);  // also in the parent: no window where a group kill misses it
  pid_ = pid;
  running_globals_ = globals;
  running_globals_set_ = true;
  Log()->info("nginx starting pid={} prefix={}", pid, prefix_);

  const auto deadline = std::chrono::steady_clock::now() + start_timeout_;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      pid_ = 0;
      running_globals_set_ = false;
      return Unavailable("nginx exited at start (" + DescribeExit(status) + "); its log says why");
    }
    // nginx writes its pid file after installing its signal handlers: from
    // then on SIGHUP reloads instead of killing it.
    auto written = ReadFile(pid_file);
    if (written.ok() && std::atoi(written->c_str()) == pid) {
      Log()->info("nginx running pid={}", pid);
      return OkStatus();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Log()->warn("nginx pid file not written in time pid={} pid_file={}", pid, pid_file);
  return OkStatus();
}

Status ExecNginxProcess::Reload() {
  if (!Alive()) return Unavailable("nginx is not running");
  const std::set<pid_t> old_workers = ChildrenOf(pid_);
  if (kill(pid_, SIGHUP) != 0) return Internal(std::string("kill SIGHUP: ") + strerror(errno));
  // The master answers SIGHUP by re-reading the config; only if that works
  // does it fork new workers and tell the old ones to finish. A new worker
  // is therefore the proof that the new config is live; none means nginx
  // kept the old config (its log says why, e.g. a port it cannot bind).
  const auto deadline = std::chrono::steady_clock::now() + start_timeout_;
  bool renewed = false;
  while (!renewed && std::chrono::steady_clock::now() < deadline) {
    for (pid_t child : ChildrenOf(pid_)) renewed = renewed || old_workers.count(child) == 0;
    if (!renewed) {
      if (!Alive()) return Unavailable("nginx exited during reload");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  if (!renewed) {
    return Unavailable("nginx did not start workers with the new configuration; its log says why");
  }
  // Idle old workers quit at once; give them a moment so that what follows
  // sees only the new config, but do not wait for long-lived connections.
  const auto settle = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (std::chrono::steady_clock::now() < settle) {
    const std::set<pid_t> now = ChildrenOf(pid_);
    if (std::none_of(old_workers.begin(), old_workers.end(),
                     [&](pid_t p) { return now.count(p) > 0; })) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return OkStatus();
}

void ExecNginxProcess::Stop(std::chrono::milliseconds drain) {
  if (!Alive()) return;
  Log()->info("nginx draining pid={} drain_timeout_ms={}", pid_, drain.count());
  kill(pid_, SIGQUIT);
  const auto deadline = std::chrono::steady_clock::now() + drain;
  int status = 0;
  for (;;) {
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno != EINTR)) {
      Log()->info("nginx stopped pid={} {}", pid_, DescribeExit(status));
      pid_ = 0;
      running_globals_set_ = false;
      return;
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // The group still exists (its leader is not reaped): kill the stragglers.
  Log()->warn("nginx drain timed out, killing pid={}", pid_);
  kill(-pid_, SIGKILL);
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = 0;
  running_globals_set_ = false;
}

bool ExecNginxProcess::Alive() {
  if (pid_ == 0) return false;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  if (r == pid_) {
    Log()->warn("nginx exited pid={} {}", pid_, DescribeExit(status));
    // Workers of a master that died abruptly keep the listening sockets and
    // would make the restart fail to bind: end the rest of its group.
    kill(-pid_, SIGKILL);
  }
  pid_ = 0;
  running_globals_set_ = false;
  return false;
}

}  // namespace sg::agent
