#pragma once
// Control of the nginx master process the proxy agent supervises, behind a
// small interface so the agent's loop is tested with a fake.
//
// The real implementation runs nginx in the foreground as a child of the
// agent, in its own process group: the agent owns the master's pid (no pid
// file race), reloads it with SIGHUP, drains it with SIGQUIT, and kills the
// whole group if a drain overruns.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "operator/common/result.h"

namespace sg::agent {

// Not thread-safe: the agent serializes every call under its own mutex.
class NginxProcess {
 public:
  virtual ~NginxProcess() = default;

  // `nginx -t` of `config_file` in the serving prefix (so relative paths in
  // it resolve as they will when it is live). InvalidArgument carries
  // nginx's message; other errors mean the check could not run.
  virtual Status Test(const std::string& config_file) = 0;
  // Starts nginx on `<prefix>/nginx.conf` and waits until it is up (its pid
  // file is written, hence its signal handlers installed) or has failed.
  virtual Status Start() = 0;
  // Graceful reload (SIGHUP): new workers with the new config, old ones
  // finish their requests. Returns once the new config is live; Unavailable
  // if nginx is not running or kept its old config.
  virtual Status Reload() = 0;
  // Graceful stop (SIGQUIT): waits up to `drain` for in-flight requests,
  // then kills what is left. No-op if not running.
  virtual void Stop(std::chrono::milliseconds drain) = 0;
  // Whether the master runs; reaps it (and logs how it ended) if it exited.
  virtual bool Alive() = 0;
  // Master pid, 0 when not running.
  virtual pid_t Pid() const = 0;
};

// Top-level (main context) directives of an nginx configuration, name ->
// arguments as written (quotes kept), for the few the agent must know about:
// `daemon` and `pid` decide the `-g` flags it may add without duplicating a
// directive (nginx rejects duplicates).
std::map<std::string, std::string> MainDirectives(const std::string& config);

// The `-g` directives to pass for this configuration: "daemon off;" unless it
// sets `daemon`, and "pid nginx.pid;" unless it sets `pid` (so readiness can
// be detected). Empty when nothing is missing.
std::string GlobalDirectivesFor(const std::string& config);

class ExecNginxProcess final : public NginxProcess {
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

  Status Test(const std::string& config_file) override;
  Status Start() override;
  Status Reload() override;
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
