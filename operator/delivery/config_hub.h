#pragma once
// The operator side of `hot` delivery (DESIGN.md section 3): holds the current
// nginx configuration of every ServiceCluster, hands it to the proxy agents of
// that cluster over a long-poll endpoint, collects the generation each proxy
// reports serving, and from those reports measures convergence exactly.
//
//   reconciler --Publish()--> ConfigHub <--GET /v1/proxy/config-- agent
//                             ConfigHub <--POST /v1/proxy/report-- agent
//
// Generations are per cluster, start at 1 with the first published text and
// only move when the text changes. They live in memory, and continue across
// operator restarts through the agents: an agent's long-poll names the
// generation it knows (`after`) and the SHA-256 of the text it serves
// (`serving`). When a restarted operator hears of a generation above its own,
// it takes that number for its current text if the agent serves that very
// text (the agent is then serving, with nothing to fetch, and the text's
// pending convergence is dropped: the proxies served it before this process
// started), and otherwise numbers its current text one above, which the
// agent then fetches. The long-poll answers any `after` that differs from the
// current generation.
//
// Authentication: each cluster has its own token (a Docker secret mounted in
// its proxies); the hub keeps only its SHA-256 and compares digests in
// constant time. A token opens exactly one cluster's configuration.
//
// Thread-safety: every method may be called from any thread (reconcilers,
// HTTP I/O threads). One mutex guards all state; HTTP answers to waiting
// agents are sent after it is released.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operator/common/hash.h"
#include "operator/common/result.h"
#include "operator/http/http_server.h"
#include "operator/metrics/swarmgate_metrics.h"
#include "operator/runtime/clock.h"

namespace sg::delivery {

// Header carrying the configuration generation on /v1/proxy/config answers.
inline constexpr const char* kGenerationHeader = "X-Swarmgate-Generation";
inline constexpr const char* kConfigPath = "/v1/proxy/config";
inline constexpr const char* kReportPath = "/v1/proxy/report";

// Lower-case hex SHA-256 of `data` (for SetToken and for tests); the one in
// operator/common/hash.h, kept under this name for existing callers.
using sg::Sha256Hex;

struct ConfigHubOptions {
  // Long-poll window when the agent sends no `wait`, and its upper bound.
  std::chrono::seconds default_wait{30};
  std::chrono::seconds max_wait{60};
  // A proxy that is no longer expected is forgotten once it has not reported
  // for this long (it belonged to a task that is gone).
  std::chrono::seconds forget_unexpected_after{300};
  // Bound on remembered unconverged generations per cluster (a cluster whose
  // proxies never report must not grow without limit); the oldest go first.
  std::size_t max_pending_generations = 256;
  // After the hub starts, how long expected proxies that have not been heard
  // from yet count as unknown rather than as not serving (AwaitingProxies):
  // agents reconnect within about a second of a restarted operator.
  std::chrono::seconds agent_grace{15};
};

// What the status API shows of one proxy.
struct ProxyState {
  std::string id;
  bool expected = false;                        // one of the tasks the reconciler expects
  std::int64_t generation = 0;                  // last generation it reported serving (0: none)
  bool last_ok = true;                          // outcome of its last report
  std::string last_error;                       // nginx's message of its last failed report
  std::int64_t failed_generation = 0;           // generation of that failure
  runtime::Clock::WallTimePoint last_report{};  // zero: never reported
  runtime::Clock::WallTimePoint last_poll{};    // last config request
};

class ConfigHub {
 public:
  // `clock` and `metrics` must outlive the hub.
  ConfigHub(runtime::Clock& clock, metrics::SwarmgateMetrics& metrics,
            ConfigHubOptions options = {});
  ~ConfigHub();

  ConfigHub(const ConfigHub&) = delete;
  ConfigHub& operator=(const ConfigHub&) = delete;

  // Offers `config_text` to the proxies of `cluster`. Same text as now: no
  // change, returns the current generation (an earlier `trigger_time` still
  // becomes the trigger of that generation if it is not served yet). New
  // text: generation + 1, waiting agents are answered, the generation gauge
  // is set, and (trigger, trigger_time) is remembered until every expected
  // proxy serves it. `trigger` is a DESIGN.md section 4 value (route,
  // servicecluster, service, task, resync).
  std::int64_t Publish(const std::string& cluster, const std::string& config_text,
                       const std::string& trigger, runtime::Clock::TimePoint trigger_time);

  // Registers the SHA-256 (hex, either case) of the cluster's agent token;
  // replaces the previous one. An invalid hex string locks the cluster out
  // (every request gets 401) and is logged.
  void SetToken(const std::string& cluster, const std::string& token_sha256_hex);
  // Drops everything about the cluster (deleted ServiceCluster): waiting
  // agents get 404, its metric series are removed.
  void Forget(const std::string& cluster);
  // The proxy task ids that must serve a generation before it counts as
  // converged (running tasks of the cluster's proxy service).
  void SetExpectedProxies(const std::string& cluster, std::vector<std::string> proxy_ids);

  // An agent's report: ok=true means it now serves `generation`; ok=false
  // means it rejected it (nginx's `message`) and still serves the previous
  // one. NotFound for an unknown cluster.
  Status Report(const std::string& cluster, const std::string& proxy_id, std::int64_t generation,
                bool ok, const std::string& message);

  // Called (outside the hub's lock, on the reporting request's thread) when
  // a report brings every expected proxy of `cluster` to its current
  // generation: the cluster's pass can report convergence now instead of
  // polling for it. Set before the server starts; not changed afterwards.
  void SetOnServed(std::function<void(const std::string& cluster)> on_served);

  // Consulted first on every agent request: a response sends the agent
  // elsewhere (a follower operator points it at the leader); nullopt lets
  // the hub answer.
  using Gate = std::function<std::optional<http::Response>(const http::Request&)>;
  void SetGate(Gate gate);
  // Forgets every cluster, as a freshly started operator knows none, and
  // answers waiting agents with `answer_to_waiters`. The agent grace period
  // (AwaitingProxies) starts again. For an operator that stops or starts
  // leading: generations continue through the agents' reports as across a
  // restart.
  void Reset(const http::Response& answer_to_waiters);

  // Current generation offered to the cluster; 0 before the first Publish.
  std::int64_t Generation(const std::string& cluster) const;
  // The lowest generation served by the expected proxies: 0 when one of
  // them has not reported yet or none is expected.
  std::int64_t ServedGeneration(const std::string& cluster) const;
  // Every expected or recently reporting proxy, sorted by id.
  std::vector<ProxyState> ProxyStates(const std::string& cluster) const;
  // Agents whose long-poll is waiting for a new generation of the cluster.
  std::size_t WaitingAgents(const std::string& cluster) const;
  // Whether, within agent_grace of the hub's start, an expected proxy of the
  // cluster has neither polled nor reported yet: what it serves is unknown
  // (an operator that just restarted), so statuses should not be written
  // from ServedGeneration().
  bool AwaitingProxies(const std::string& cluster) const;
  // Whether every expected proxy serves some configuration, whichever: it
  // polled naming the text it serves (also one of an earlier operator
  // process, which ServedGeneration() does not count) or reported one.
  // False when none is expected.
  bool EveryProxyServes(const std::string& cluster) const;

  // GET /v1/proxy/config and POST /v1/proxy/report. The hub must outlive the
  // server's request handling (stop the server first).
  void RegisterRoutes(http::HttpServer& server);

 private:
  struct Cluster;
  struct Waiter;

  void HandleConfig(const http::Request& req, http::Responder responder);
  http::Response HandleReport(const http::Request& req);
  // Report() under mu_; `now_served`: this report converged the cluster.
  Status ReportLocked(const std::string& cluster, const std::string& proxy_id,
                      std::int64_t generation, bool ok, const std::string& message,
                      bool* now_served);
  // The cluster when the request's bearer token opens it; otherwise nullptr
  // and `denial` is the answer (404 unknown cluster, 401 bad token).
  // Requires mu_.
  Cluster* Authorize(const http::Request& req, const std::string& cluster, http::Response* denial);
  // Observes convergence of every pending generation the expected proxies
  // all serve. Requires mu_.
  void CheckConvergence(const std::string& name, Cluster& c);
  std::int64_t ServedLocked(const Cluster& c) const;
  // The gate's answer to `req`, nullopt when there is none. Takes mu_.
  std::optional<http::Response> GateAnswer(const http::Request& req) const;
  // Removes the cluster's metric series. Requires mu_.
  void RemoveSeriesLocked(const std::string& name, Cluster& c);
  // A poll from an agent that knows generation `after` and serves the text
  // whose SHA-256 is `serving` (see the header comment); `first_contact`: the
  // first poll or report of that proxy this process sees. Waiters a new
  // number leaves behind go to *renumbered_waiters, to be answered with the
  // text. Returns whether it brought every expected proxy to the current
  // generation. Requires mu_.
  bool RecogniseLocked(const std::string& name, Cluster& c, const std::string& proxy,
                       std::int64_t after, const std::string& serving, bool first_contact,
                       std::vector<Waiter>* renumbered_waiters);

  std::function<void(const std::string&)> on_served_;
  // The gate as set last; guarded by mu_ (copied out before it is called).
  std::shared_ptr<const Gate> gate_;

  runtime::Clock& clock_;
  metrics::SwarmgateMetrics& metrics_;
  const ConfigHubOptions options_;

  mutable std::mutex mu_;
  runtime::Clock::TimePoint started_;  // guarded by mu_; start, or last Reset()
  std::map<std::string, std::unique_ptr<Cluster>> clusters_;  // guarded by mu_
};

}  // namespace sg::delivery
