#pragma once
// `swarmgate proxy`: the agent inside every proxy task of `hot` delivery
// (DESIGN.md section 3). It
//   - long-polls its ConfigSource for the cluster's configuration generation;
//   - tests a new configuration with the engine's own check (`nginx -t`,
//     `haproxy -c`) in the serving prefix, moves it into place atomically and
//     reloads the engine gracefully, then reports the generation it serves
//     (or the engine's message on rejection, keeping the last good
//     configuration);
//   - starts the engine only once the first configuration is in place, so a
//     new task is not healthy before it serves the current configuration,
//     and restarts it with capped backoff if it dies;
//   - on Shutdown() drains the engine for up to drain_timeout.
// Operator outages are logged once and retried with backoff; the engine
// keeps serving throughout.
//
// Threads: Run() is the fetch loop on the caller's thread and starts one
// supervisor thread for the engine. Every EngineProcess call and the
// installed state are under one mutex. Shutdown() and ServedGeneration() are
// thread-safe.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "operator/agent/config_source.h"
#include "operator/agent/engine_process.h"
#include "operator/runtime/backoff.h"
#include "operator/runtime/clock.h"

namespace sg::agent {

struct ProxyAgentOptions {
  // The engine's prefix; the live config is <prefix>/<EngineProcess::ConfigFileName()>.
  std::string prefix = "/var/lib/swarmgate";
  // Long-poll window asked of the operator.
  std::chrono::seconds poll_timeout{30};
  // How long in-flight requests may finish after shutdown is requested.
  std::chrono::milliseconds drain_timeout{25000};
  // How often the supervisor checks that the engine runs.
  std::chrono::milliseconds supervise_interval{200};
  // At most a second between tries: an operator that restarts (or a new
  // leader) hears from every agent within about a second of answering.
  runtime::BackoffOptions fetch_backoff{std::chrono::milliseconds(200),
                                        std::chrono::milliseconds(1000), 2.0, 0.2};
  runtime::BackoffOptions restart_backoff{std::chrono::milliseconds(500),
                                          std::chrono::milliseconds(10000), 2.0, 0.2};
  // The engine counts as stable (restart backoff resets) after running this long.
  std::chrono::seconds stable_after{30};
  // An engine that took routes at run time (EngineProcess::NeedsConsolidation)
  // is reloaded on its file once no configuration came for this long.
  std::chrono::milliseconds consolidate_after{10000};
};

class ProxyAgent {
 public:
  // `source`, `engine` and `clock` must outlive the agent.
  ProxyAgent(ConfigSource& source, EngineProcess& engine, runtime::Clock& clock,
             ProxyAgentOptions options);
  ~ProxyAgent();

  ProxyAgent(const ProxyAgent&) = delete;
  ProxyAgent& operator=(const ProxyAgent&) = delete;

  // Runs until Shutdown(); the engine is stopped before it returns. Returns the
  // process exit code: 0, or 1 if the prefix cannot be prepared.
  int Run();
  // Requests the graceful stop. Thread-safe, idempotent, callable before Run.
  void Shutdown();

  // Generation the engine serves; 0 before the first one.
  std::int64_t ServedGeneration() const;

 private:
  struct PendingReport {
    std::int64_t generation = 0;
    bool ok = false;
    std::string message;
  };

  void Apply(const FetchedConfig& config);
  // Installs and loads `config`; "" on success, else why not. Requires mu_.
  std::string ApplyLocked(const FetchedConfig& config);
  // `config` runs in the engine after `action` ("start", "reload",
  // "runtime"): recorded and logged. Returns "" (no error), as ApplyLocked.
  // Requires mu_.
  std::string Served(const FetchedConfig& config, const char* action, const std::string& timings);
  // running_text_ and its hash. Requires mu_.
  void SetRunningLocked(const std::string& text);
  // The SHA-256 of what the engine serves, "" before the first
  // configuration (ConfigSource::Fetch's `serving`).
  std::string ServingHash() const;
  void Supervise();
  // The reload of NeedsConsolidation(), when it is due. Requires mu_.
  void ConsolidateLocked(runtime::Clock::TimePoint now);
  // Records the latest outcome to report; FlushReport() sends it, keeping it
  // for a later retry if the source is unreachable.
  void QueueReport(std::int64_t generation, bool ok, std::string message);
  void FlushReport();
  std::string LivePath() const;

  ConfigSource& source_;
  EngineProcess& engine_;
  runtime::Clock& clock_;
  const ProxyAgentOptions options_;
  runtime::StopSignal stop_;

  mutable std::mutex mu_;       // guards engine_ calls and the fields below
  bool want_running_ = false;   // a good config is installed: keep the engine up
  std::string installed_text_;  // content of the live config file
  // What the engine runs: the installed text once a start, reload or
  // in-place change took; older after a reload the engine refused.
  std::string running_text_;
  std::string running_hash_;  // Sha256Hex(running_text_), "" while it is empty
  std::int64_t installed_generation_ = 0;
  std::int64_t served_generation_ = 0;  // installed and loaded by a running engine
  runtime::Clock::TimePoint started_at_{};
  runtime::Clock::TimePoint applied_at_{};  // when the last configuration came

  std::mutex report_mu_;   // serializes FlushReport() so reports keep their order
  std::mutex pending_mu_;  // guards pending_report_ (never held while sending)
  std::optional<PendingReport> pending_report_;
};

}  // namespace sg::agent
