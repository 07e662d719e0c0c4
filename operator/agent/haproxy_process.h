#pragma once
// The HAProxy engine's master process as the proxy agent supervises it
// (engine_process.h). HAProxy runs in master-worker mode in the foreground
// (-W -db) with its master CLI on <prefix>/master.sock:
//   - a reload is SIGUSR2 to the master, which re-executes itself on the new
//     configuration and starts new workers; the old ones finish their
//     connections. The master CLI's `show proc` tells whether a new worker
//     came up (the reload took) or the master counted a failed load (it kept
//     the old workers), so Reload() reports the truth rather than a signal
//     sent;
//   - the public listen addresses come from the environment: the rendered
//     configuration binds "${SG_HTTP_BIND}" and "${SG_HTTPS_BIND}", set to
//     fd@N for a socket inherited from the node's listener holder (so the
//     ports survive restarts and reloads with no refused connection), else
//     to the port itself;
//   - stop is SIGUSR1 (soft stop: workers finish their requests), bounded by
//     the drain timeout.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "operator/agent/engine_process.h"
#include "reconcilers/haproxy/haproxy_server_changes.h"

namespace sg::agent {

// What the master CLI's `show proc` says.
struct HaproxyProcList {
  pid_t master = 0;
  int failed_reloads = 0;          // the master's "[failed: N]"
  std::vector<pid_t> workers;      // current workers
  std::vector<pid_t> old_workers;  // workers of earlier configurations, draining
};
std::optional<HaproxyProcList> ParseShowProc(const std::string& text);

// Sends one command to a HAProxy CLI unix socket and returns its answer
// (the socket is closed by HAProxy after a non-interactive command).
Result<std::string> HaproxyCliCommand(const std::string& socket_path, const std::string& command,
                                      std::chrono::milliseconds timeout);

// Not thread-safe (see EngineProcess).
class ExecHaproxyProcess final : public EngineProcess {
 public:
  struct Ports {
    int http = 80;
    int https = 443;
  };
  // `prefix`: working directory (-C) and home of haproxy.cfg and master.sock.
  ExecHaproxyProcess(std::string haproxy_binary, std::string prefix, Ports ports,
                     std::chrono::milliseconds start_timeout = std::chrono::seconds(60));
  ~ExecHaproxyProcess() override;  // Stop(0) if still running

  // Listening sockets (descriptor, port) the next Start() hands to HAProxy.
  // The caller keeps ownership; they must stay open while HAProxy may be
  // restarted.
  void SetInheritedSockets(std::vector<std::pair<int, int>> fd_and_port) {
    inherited_ = std::move(fd_and_port);
  }

  std::string Engine() const override { return "haproxy"; }
  std::string ConfigFileName() const override { return "haproxy.cfg"; }
  // `haproxy -c` in the prefix, with the bind variables naming the ports.
  Status Test(const std::string& config_file) override;
  // The maps and lists the configuration carries, each written once (its
  // name carries a hash of its content); stale ones ("sg-*.map", "sg-*.lst")
  // removed.
  Status InstallFiles(const std::string& text,
                      const std::vector<const std::string*>& keep) override;
  Status Start() override;
  Status Reload() override;
  bool ReloadKeepsOldOnFailure() const override { return true; }
  // Server additions, removals and weight changes, routing map entries, and
  // new routes whose backend fits a spare one go through the worker's runtime
  // API (haproxy_server_changes.h, haproxy_map_changes.h) and are checked
  // against `show servers state` and `show map`.
  Result<bool> ApplyInPlace(const std::string& from, const std::string& to) override;
  // Routes added or removed at run time since the last start or reload.
  bool NeedsConsolidation() const override {
    return !names_.backends.empty() || !names_.retired.empty();
  }
  void Stop(std::chrono::milliseconds drain) override;
  bool Alive() override;
  pid_t Pid() const override { return pid_; }

  // The bind variables for the configuration (SG_HTTP_BIND, SG_HTTPS_BIND).
  std::map<std::string, std::string> BindVariables() const;
  std::string MasterSocket() const { return prefix_ + "/master.sock"; }
  // The worker's runtime API (the configuration's `stats socket`).
  std::string RuntimeSocket() const { return prefix_ + "/haproxy.sock"; }

 private:
  std::optional<HaproxyProcList> ShowProc() const;
  // What the worker now running loaded: read from haproxy.cfg after a start
  // or reload succeeded.
  void RememberLoadedNames();

  const std::string haproxy_;
  const std::string prefix_;
  const Ports ports_;
  const std::chrono::milliseconds start_timeout_;
  std::vector<std::pair<int, int>> inherited_;
  pid_t pid_ = 0;
  // How the running worker names the maps and the backends of routes added
  // at run time; reset by every start and reload.
  haproxy::RuntimeNames names_;
};

}  // namespace sg::agent
