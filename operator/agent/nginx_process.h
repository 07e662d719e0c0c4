#pragma once
// The nginx engine's master process as the proxy agent supervises it
// (engine_process.h): nginx runs in the foreground as a child of the agent,
// reloads with SIGHUP and drains with SIGQUIT.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "operator/agent/engine_process.h"
#include "operator/common/result.h"

namespace sg::agent {

// Top-level (main context) directives of an nginx configuration, name ->
// arguments as written (quotes kept), for the few the agent must know about:
// `daemon` and `pid` decide the `-g` flags it may add without duplicating a
// directive (nginx rejects duplicates).
std::map<std::string, std::string> MainDirectives(const std::string& config);

// The `-g` directives to pass for this configuration: "daemon off;" unless it
// sets `daemon`, and "pid nginx.pid;" unless it sets `pid` (so readiness can
// be detected). Empty when nothing is missing.
std::string GlobalDirectivesFor(const std::string& config);

class ExecNginxProcess final : public EngineProcess {
 public:
  // `prefix`: the nginx prefix (-p); the live config is <prefix>/nginx.conf.
  // `start_timeout` bounds both a start and the wait for a reload's workers.
  ExecNginxProcess(std::string nginx_binary, std::string prefix,
                   std::chrono::milliseconds start_timeout = std::chrono::seconds(10));
  ~ExecNginxProcess() override;  // Stop(0) if still running

  // Listening sockets the next Start() hands to nginx (its NGINX variable, as
  // in a binary upgrade): a `listen` on the same address uses the socket
  // instead of binding, and keeps it across reloads. The caller keeps
  // ownership; the descriptors must stay open while nginx may be restarted.
  void SetInheritedSockets(std::vector<int> fds) { inherited_ = std::move(fds); }

  std::string Engine() const override { return "nginx"; }
  std::string ConfigFileName() const override { return "nginx.conf"; }
  // `nginx -t` of `config_file` in the serving prefix (so relative paths in
  // it resolve as they will when it is live).
  Status Test(const std::string& config_file) override;
  // Ready once nginx wrote its pid file (its signal handlers are installed).
  Status Start() override;
  // SIGHUP; live once a new worker exists.
  Status Reload() override;
  // SIGQUIT.
  void Stop(std::chrono::milliseconds drain) override;
  bool Alive() override;
  pid_t Pid() const override { return pid_; }

 private:
  std::vector<std::string> BaseArgs(const std::string& config_file,
                                    const std::string& globals) const;

  const std::string nginx_;
  const std::string prefix_;
  const std::chrono::milliseconds start_timeout_;
  std::vector<int> inherited_;
  pid_t pid_ = 0;
  // -g of the running master: a reload re-reads the config with the flags of
  // the command line, so a new config is tested with the same ones.
  std::string running_globals_;
  bool running_globals_set_ = false;
};

}  // namespace sg::agent
