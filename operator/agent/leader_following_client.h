#pragma once
// The agent's way to the leading operator. Several operators may run; only
// the leader holds configurations, and a follower answers agents with
// `307 Temporary Redirect` and the leader's URL (503 while no leader is
// known). Requests go to the configured endpoint (the operator service's
// name on the control network) until a redirect names the leader; later
// requests go straight to the leader until it fails to answer or redirects
// elsewhere (it died, lost its node or stepped down), and then to the
// configured endpoint again, at once.
//
// Thread-safety: Do() may be called from several threads at once; Cancel()
// from any thread, and it is terminal.

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>

#include "operator/agent/http_client.h"
#include "operator/common/result.h"

namespace sg::agent {

class LeaderFollowingClient {
 public:
  explicit LeaderFollowingClient(HttpEndpoint configured);

  // As HttpClient::Do, following at most a few redirects. The reply is the
  // first that is not a redirect.
  Result<HttpReply> Do(const HttpCall& call, std::chrono::milliseconds timeout);
  void Cancel();

  // The leader's endpoint the last redirect named; nullopt while requests
  // go to the configured endpoint.
  std::optional<HttpEndpoint> Leader() const;

 private:
  // The client for the next attempt, and whether it is the leader's.
  std::shared_ptr<HttpClient> Next(bool* to_leader) const;

  const HttpEndpoint configured_;
  mutable std::mutex mu_;
  std::shared_ptr<HttpClient> base_;    // guarded by mu_
  std::shared_ptr<HttpClient> leader_;  // guarded by mu_; null: none known
  bool cancelled_ = false;              // guarded by mu_
};

}  // namespace sg::agent
