#include "operator/agent/haproxy_process.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "operator/agent/supervised_child.h"
#include "operator/common/process.h"
#include "operator/runtime/logging.h"
#include "reconcilers/haproxy/haproxy_server_changes.h"
#include "reconcilers/haproxy/haproxy_side_files.h"
#include "reconcilers/haproxy_check.h"

namespace sg::agent {
namespace {

const std::shared_ptr<spdlog::logger>& Log() {
  static const auto logger = runtime::NamedLogger("agent");
  return logger;
}

using Clock = std::chrono::steady_clock;

bool Contains(const std::vector<pid_t>& v, pid_t p) {
  return std::find(v.begin(), v.end(), p) != v.end();
}

}  // namespace

std::optional<HaproxyProcList> ParseShowProc(const std::string& text) {
  // #<PID>          <type>          <reloads>       <uptime>        <version>
  // 16737           master          1 [failed: 1]   0d00h00m05s     2.6.12
  // # workers
  // 16771           worker          1               0d00h00m05s     2.6.12
  // # old workers
  // 16701           worker          2               ...
  // # programs
  HaproxyProcList out;
  std::istringstream in(text);
  std::string line, section;
  bool saw_master = false;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] == '#') {
      section = line.rfind("#<", 0) == 0 ? "" : line.substr(1);
      while (!section.empty() && section.front() == ' ') section.erase(0, 1);
      continue;
    }
    std::istringstream fields(line);
    long pid = 0;
    std::string type;
    if (!(fields >> pid >> type) || pid <= 0) continue;
    if (type == "master") {
      out.master = static_cast<pid_t>(pid);
      saw_master = true;
      const size_t f = line.find("[failed:");
      if (f != std::string::npos) out.failed_reloads = std::atoi(line.c_str() + f + 8);
    } else if (type == "worker") {
      (section == "old workers" ? out.old_workers : out.workers).push_back(static_cast<pid_t>(pid));
    }
  }
  if (!saw_master) return std::nullopt;
  return out;
}

Result<std::string> HaproxyCliCommand(const std::string& socket_path, const std::string& command,
                                      std::chrono::milliseconds timeout) {
  sockaddr_un addr{};
  if (socket_path.size() >= sizeof(addr.sun_path)) {
    return InvalidArgument("socket path too long: " + socket_path);
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Internal(std::string("socket: ") + strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Unavailable("connect " + socket_path + ": " + strerror(errno));
  }
  const std::string line = command + "\n";
  if (send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
    return Unavailable("send to " + socket_path + ": " + strerror(errno));
  }
  // The stats socket closes after a non-interactive command; the master CLI
  // keeps the connection and ends each answer with an empty line.
  std::string out;
  const auto deadline = Clock::now() + timeout;
  char buf[4096];
  while (Clock::now() < deadline) {
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n == 0) return out;
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
    if (out.size() >= 2 && out.compare(out.size() - 2, 2, "\n\n") == 0) return out;
  }
  return Unavailable("no complete answer from " + socket_path + " to \"" + command + "\"");
}

ExecHaproxyProcess::ExecHaproxyProcess(std::string haproxy_binary, std::string prefix, Ports ports,
                                       std::chrono::milliseconds start_timeout)
    : haproxy_(std::move(haproxy_binary)),
      prefix_(std::move(prefix)),
      ports_(ports),
      start_timeout_(start_timeout) {}

ExecHaproxyProcess::~ExecHaproxyProcess() { Stop(std::chrono::milliseconds(0)); }

std::map<std::string, std::string> ExecHaproxyProcess::BindVariables() const {
  // fd@N names the descriptor as HAProxy sees it: inherited sockets become
  // 3, 4, ... in the child (SpawnInGroup).
  auto bind_for = [&](int port) {
    for (size_t i = 0; i < inherited_.size() && i < kMaxInheritedSockets; ++i) {
      if (inherited_[i].second == port) return "fd@" + std::to_string(3 + i);
    }
    return "ipv4@:" + std::to_string(port);
  };
  return {{"SG_HTTP_BIND", bind_for(ports_.http)}, {"SG_HTTPS_BIND", bind_for(ports_.https)}};
}

Status ExecHaproxyProcess::Test(const std::string& config_file) {
  // `haproxy -c` binds nothing but does check that an fd@ descriptor is a
  // socket, which the check process does not hold: it sees the ports.
  ProcessOptions options;
  options.environment = {"SG_HTTP_BIND=ipv4@:" + std::to_string(ports_.http),
                         "SG_HTTPS_BIND=ipv4@:" + std::to_string(ports_.https)};
  auto run = RunProcess({haproxy_, "-c", "-C", prefix_, "-f", config_file}, options);
  if (!run.ok()) return run.error();
  if (run->exit_code == 0) return OkStatus();
  std::string message = haproxy::CleanHaproxyOutput(run->output, prefix_);
  if (message.empty()) message = run->output;
  return InvalidArgument(message.empty() ? "haproxy -c failed without a message" : message);
}

std::optional<HaproxyProcList> ExecHaproxyProcess::ShowProc() const {
  auto answer = HaproxyCliCommand(MasterSocket(), "show proc", std::chrono::seconds(2));
  if (!answer.ok()) return std::nullopt;
  return ParseShowProc(*answer);
}

Status ExecHaproxyProcess::InstallFiles(const std::string& text,
                                        const std::vector<const std::string*>& keep) {
  auto files = haproxy::SideFiles(text);
  if (!files.ok()) return files.error();
  std::set<std::string> named;
  for (const haproxy::SideFile& f : *files) {
    named.insert(f.name);
    const std::string path = prefix_ + "/" + f.name;
    std::error_code ec;
    // The name carries a hash of the content: a file of the right size is
    // the one a configuration already installed.
    if (std::filesystem::file_size(path, ec) == f.content.size() && !ec) continue;
    const std::string tmp = path + ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out.write(f.content.data(), static_cast<std::streamsize>(f.content.size()));
      if (!out) return Internal("cannot write " + tmp);
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
      return Internal("cannot move " + tmp + " into place");
    }
  }
  // Usually the running and the installed text are one, often the new one
  // too: each distinct text is parsed once.
  std::vector<const std::string*> others;
  for (const std::string* k : keep) {
    if (k == nullptr || *k == text) continue;
    if (std::none_of(others.begin(), others.end(),
                     [&](const std::string* o) { return *o == *k; })) {
      others.push_back(k);
    }
  }
  for (const std::string* other : others) {
    auto kept = haproxy::SideFiles(*other);
    if (!kept.ok()) continue;
    for (const haproxy::SideFile& f : *kept) named.insert(f.name);
  }
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(prefix_, ec)) {
    const std::string name = entry.path().filename().string();
    const bool side = name.rfind("sg-", 0) == 0 &&
                      (name.size() > 4 && (name.compare(name.size() - 4, 4, ".map") == 0 ||
                                           name.compare(name.size() - 4, 4, ".lst") == 0));
    if (side && !named.count(name)) std::filesystem::remove(entry.path(), ec);
  }
  return OkStatus();
}

Status ExecHaproxyProcess::Start() {
  if (Alive()) return OkStatus();
  unlink(MasterSocket().c_str());  // a stale socket must not count as ready
  std::vector<std::string> args = {haproxy_, "-W",          "-db", "-C",          prefix_,
                                   "-f",     "haproxy.cfg", "-S",  MasterSocket()};
  std::vector<std::string> env = EnvironmentWithout({"SG_HTTP_BIND", "SG_HTTPS_BIND"});
  for (const auto& [k, v] : BindVariables()) env.push_back(k + "=" + v);
  std::vector<int> fds;
  for (const auto& [fd, port] : inherited_) fds.push_back(fd);
  auto spawned = SpawnInGroup(args, env, fds);
  if (!spawned.ok()) return spawned.error();
  pid_ = *spawned;
  Log()->info("haproxy starting pid={} prefix={}", pid_, prefix_);

  const auto deadline = Clock::now() + start_timeout_;
  while (Clock::now() < deadline) {
    int status = 0;
    if (Reaped(pid_, &status)) {
      const pid_t pid = std::exchange(pid_, 0);
      return Unavailable("haproxy exited at start (" + DescribeExit(status) + ", pid " +
                         std::to_string(pid) + "); its log says why");
    }
    // Ready once the master answers and lists a worker: the worker has
    // bound (or taken) the listeners.
    if (auto procs = ShowProc(); procs && !procs->workers.empty()) {
      Log()->info("haproxy running pid={} worker={}", pid_, procs->workers.front());
      RememberLoadedNames();
      return OkStatus();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Log()->warn("haproxy master CLI not ready in time pid={}", pid_);
  RememberLoadedNames();
  return OkStatus();
}

Status ExecHaproxyProcess::Reload() {
  if (!Alive()) return Unavailable("haproxy is not running");
  const auto before = ShowProc();
  if (!before) return Unavailable("haproxy master CLI does not answer");
  if (kill(pid_, SIGUSR2) != 0) return Internal(std::string("kill SIGUSR2: ") + strerror(errno));
  // The master re-executes itself on the new configuration. Success: a
  // current worker that was not there before. Failure: its failed-load count
  // went up (it keeps the old workers serving).
  const auto deadline = Clock::now() + start_timeout_;
  while (Clock::now() < deadline) {
    if (!Alive()) return Unavailable("haproxy exited during reload");
    if (auto now = ShowProc()) {
      if (now->failed_reloads > before->failed_reloads) {
        return InvalidArgument("haproxy kept its old configuration (the new one failed to load)");
      }
      for (pid_t w : now->workers) {
        if (!Contains(before->workers, w) && !Contains(before->old_workers, w)) {
          RememberLoadedNames();
          return OkStatus();
        }
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return Unavailable("haproxy did not start a worker with the new configuration in time");
}

Result<bool> ExecHaproxyProcess::ApplyInPlace(const std::string& from, const std::string& to) {
  const auto changes = haproxy::PlanRuntimeChanges(from, to, names_);
  if (!changes) return false;
  constexpr std::chrono::milliseconds kTimeout{2000};
  const std::string socket = RuntimeSocket();
  auto send = [&](const std::string& command, bool map) -> Status {
    auto answer = HaproxyCliCommand(socket, command, kTimeout);
    if (!answer.ok()) return answer.error();
    const bool ok = map ? haproxy::MapCommandSucceeded(*answer)
                        : haproxy::ServerCommandSucceeded(command, *answer);
    if (!ok) return Internal("haproxy refused \"" + command + "\": " + *answer);
    return OkStatus();
  };
  const haproxy::ServerChanges& servers = changes->servers;
  auto servers_state = [&]() -> Result<haproxy::ServersState> {
    std::string state;
    for (const auto& backend : servers.Backends()) {
      auto answer = HaproxyCliCommand(socket, "show servers state " + backend, kTimeout);
      if (!answer.ok()) return answer.error();
      state += *answer;
    }
    return haproxy::ParseServersState(state);
  };
  auto before = servers_state();
  if (!before.ok()) return before.error();
  // Servers first (a new route's backend has its servers before a map
  // entry leads to it), then the map entries in their own safe order.
  for (const auto& command : haproxy::ServerChangeCommands(servers, *before)) {
    if (Status st = send(command, false); !st.ok()) return st.error();
  }
  for (const auto& command : haproxy::MapEditCommands(changes->maps)) {
    if (Status st = send(command, true); !st.ok()) return st.error();
  }
  auto after = servers_state();
  if (!after.ok()) return after.error();
  std::string missing = haproxy::CheckServerChanges(servers, *after);
  std::map<std::string, std::map<std::string, std::string>> shown;
  for (const haproxy::MapEdit& e : changes->maps) {
    if (shown.count(e.file)) continue;
    auto answer = HaproxyCliCommand(
        socket, std::string(e.list ? "show acl " : "show map ") + e.file, kTimeout);
    if (!answer.ok()) return answer.error();
    shown[e.file] = haproxy::ParseShowMap(*answer);
  }
  const std::string maps_missing = haproxy::CheckMapEdits(changes->maps, shown);
  if (!maps_missing.empty()) missing += (missing.empty() ? "" : "; ") + maps_missing;
  if (!missing.empty()) return Internal("haproxy does not show the runtime change: " + missing);
  changes->ApplyTo(&names_);
  Log()->info(
      "haproxy changed at run time servers_added={} servers_removed={} reweighted={} "
      "map_edits={} new_backends={} retired_backends={}",
      servers.added.size(), servers.removed.size(), servers.reweighted.size(), changes->maps.size(),
      changes->taken.size(), changes->retired.size());
  return true;
}

void ExecHaproxyProcess::RememberLoadedNames() {
  std::ifstream in(prefix_ + "/haproxy.cfg", std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  names_ = haproxy::LoadedNames(text.str());
}

void ExecHaproxyProcess::Stop(std::chrono::milliseconds drain) {
  if (!Alive()) return;
  DrainMaster(&pid_, SIGUSR1, drain, "haproxy");
}

bool ExecHaproxyProcess::Alive() { return MasterAlive(&pid_, "haproxy"); }

}  // namespace sg::agent
