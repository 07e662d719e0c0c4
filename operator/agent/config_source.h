#pragma once
// Where the proxy agent gets its nginx configuration from, behind a small
// interface so the agent's loop is tested with a fake:
//   - HttpConfigSource: the operator's ConfigHub (hot delivery), long-polled
//     with the cluster's bearer token, on the leading operator;
//   - StaticFileSource: a file mounted by Swarm (rolling delivery), re-read
//     at every poll.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "operator/agent/http_client.h"
#include "operator/agent/leader_following_client.h"
#include "operator/common/result.h"
#include "operator/runtime/backoff.h"
#include "operator/runtime/clock.h"

namespace sg::agent {

struct FetchedConfig {
  std::int64_t generation = 0;
  std::string text;
};

// Thread-safety: Fetch() is called by one thread (the agent's loop);
// Report() may be called concurrently from another (the nginx supervisor);
// Cancel() from any thread.
class ConfigSource {
 public:
  virtual ~ConfigSource() = default;
  // Waits up to `wait` for a configuration whose generation differs from
  // `after`. `serving` is the SHA-256 (hex) of the text the engine serves, ""
  // before the first: an operator that restarted recognises a proxy that
  // already serves its configuration by it, whatever number it knew it by.
  // nullopt: nothing new in that window. Errors: the source is unreachable
  // (Unavailable), refuses the token (InvalidArgument) or does not know the
  // cluster (NotFound); the caller retries with backoff.
  virtual Result<std::optional<FetchedConfig>> Fetch(std::int64_t after, const std::string& serving,
                                                     std::chrono::seconds wait) = 0;
  // Tells the source the outcome of applying `generation`: ok=true means it
  // is served now; ok=false carries nginx's message.
  virtual Status Report(std::int64_t generation, bool ok, const std::string& message) = 0;
  // Makes a blocked Fetch() return at once, for shutdown. Terminal.
  virtual void Cancel() = 0;
};

class HttpConfigSource final : public ConfigSource {
 public:
  // `token` is the cluster's agent token in clear; it is only ever sent in
  // the Authorization header, never logged.
  HttpConfigSource(HttpEndpoint endpoint, std::string cluster, std::string proxy_id,
                   std::string token);

  Result<std::optional<FetchedConfig>> Fetch(std::int64_t after, const std::string& serving,
                                             std::chrono::seconds wait) override;
  Status Report(std::int64_t generation, bool ok, const std::string& message) override;
  void Cancel() override;

 private:
  const std::string cluster_;
  const std::string proxy_id_;
  const std::string token_;
  const std::string base_path_;
  // Shared by Fetch() and Report(): whichever learns of a new leader first
  // sends the other there too.
  LeaderFollowingClient client_;
  std::mutex report_mu_;  // serializes Report() callers
};

// Serves one file: the first Fetch() returns it as generation 1; later ones
// wait `wait` and return a new generation if its content changed.
class StaticFileSource final : public ConfigSource {
 public:
  // `clock` must outlive the source.
  StaticFileSource(std::string path, runtime::Clock& clock);

  Result<std::optional<FetchedConfig>> Fetch(std::int64_t after, const std::string& serving,
                                             std::chrono::seconds wait) override;
  Status Report(std::int64_t generation, bool ok, const std::string& message) override;
  void Cancel() override;

 private:
  const std::string path_;
  runtime::Clock& clock_;
  runtime::StopSignal cancelled_;
  // Touched by Fetch() only (one thread).
  std::int64_t generation_ = 0;
  std::string last_;
};

}  // namespace sg::agent
