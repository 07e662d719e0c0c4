#pragma once
// Control of the proxy engine's master process (nginx or HAProxy) that the
// proxy agent supervises, behind a small interface so the agent's loop is
// tested with a fake and knows no engine.
//
// Implementations run the engine in the foreground as a child of the agent,
// in its own process group: the agent owns the master's pid (no pid-file
// race), reloads it gracefully, drains it on stop, and kills the whole group
// if a drain overruns.

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "operator/common/result.h"

namespace sg::agent {

// Not thread-safe: the agent serializes every call under its own mutex.
class EngineProcess {
 public:
  virtual ~EngineProcess() = default;

  // "nginx" or "haproxy": for logs and messages.
  virtual std::string Engine() const = 0;
  // The live configuration's file name inside the prefix ("nginx.conf").
  virtual std::string ConfigFileName() const = 0;
  // The engine's own check of `config_file` as it would run live.
  // InvalidArgument carries the engine's message; other errors mean the
  // check could not run.
  virtual Status Test(const std::string& config_file) = 0;
  // Writes the files the configuration `text` carries beside it in the
  // prefix (HAProxy's maps, reconcilers/haproxy/haproxy_side_files.h), before
  // `text` is tested, started or reloaded, and removes earlier ones that
  // neither `text` nor a configuration in `keep` names. InvalidArgument: the
  // text carries a file it may not write. Nothing to do for nginx.
  virtual Status InstallFiles(const std::string& text,
                              const std::vector<const std::string*>& keep) {
    (void)text;
    (void)keep;
    return OkStatus();
  }
  // Starts the engine on the live configuration and waits until it is up
  // (it answers signals or its control socket) or has failed.
  virtual Status Start() = 0;
  // Graceful reload: new workers with the new configuration, old ones
  // finish their requests. Returns once the new configuration is live;
  // InvalidArgument if the engine refused the new configuration and kept
  // the old one serving, Unavailable if it is not running or did not say in
  // time.
  virtual Status Reload() = 0;
  // Whether a failed Reload() leaves the running configuration serving, so
  // that the agent may reload without a Test() first (HAProxy's master keeps
  // its old workers when the new configuration does not load; an nginx
  // master does too, but reports it only in its error log).
  virtual bool ReloadKeepsOldOnFailure() const { return false; }
  // Changes the running engine (called only while Alive()) from the
  // configuration `from`, the one it runs, to `to` without a reload, where the engine can take the
  // difference at run time. True once the change is in effect and verified; false when the
  // difference needs a reload (nothing was changed); an error when the engine refused or did not
  // show part of the change, after which the caller reloads to get back to a known state.
  virtual Result<bool> ApplyInPlace(const std::string& from, const std::string& to) {
    (void)from;
    (void)to;
    return false;
  }
  // Whether the running engine serves its configuration laid out otherwise
  // than a reload of the file would (HAProxy: routes added at run time in
  // spare backends, removed ones still loaded), so that a reload once
  // changes pause gives it back its own layout (backend names in metrics,
  // free spares).
  virtual bool NeedsConsolidation() const { return false; }
  // Graceful stop: waits up to `drain` for in-flight requests, then kills
  // what is left. No-op if not running.
  virtual void Stop(std::chrono::milliseconds drain) = 0;
  // Whether the master runs; reaps it (and logs how it ended) if it exited.
  virtual bool Alive() = 0;
  // Master pid, 0 when not running.
  virtual pid_t Pid() const = 0;
};

}  // namespace sg::agent
