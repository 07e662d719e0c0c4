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

#include "operator/agent/supervised_child.h"
#include "operator/common/nginx_output.h"
#include "operator/common/process.h"
#include "operator/runtime/logging.h"

namespace sg::agent {
namespace {

const std::shared_ptr<spdlog::logger>& Log() {
  static const auto logger = runtime::NamedLogger("agent");
  return logger;
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
  std::vector<std::string> env = EnvironmentWithout({"NGINX"});
  if (!inherited_.empty()) {
    std::string var = "NGINX=";
    for (size_t i = 0; i < std::min(inherited_.size(), kMaxInheritedSockets); ++i) {
      var += std::to_string(3 + i) + ";";
    }
    env.push_back(var);
  }
  auto spawned = SpawnInGroup(args, env, inherited_);
  if (!spawned.ok()) return spawned.error();
  const pid_t pid = *spawned;
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
  DrainMaster(&pid_, SIGQUIT, drain, "nginx");
  running_globals_set_ = false;
}

bool ExecNginxProcess::Alive() {
  if (MasterAlive(&pid_, "nginx")) return true;
  running_globals_set_ = false;
  return false;
}

}  // namespace sg::agent
