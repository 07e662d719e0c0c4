#include "operator/agent/leader_following_client.h"

#include "operator/runtime/logging.h"

namespace sg::agent {
namespace {

const std::shared_ptr<spdlog::logger>& Log() {
  static const auto logger = runtime::NamedLogger("agent");
  return logger;
}

// A follower names the leader directly; more hops mean operators that
// disagree, and the caller's backoff is the better place to wait.
constexpr int kMaxRedirects = 2;

bool SameEndpoint(const HttpEndpoint& a, const HttpEndpoint& b) {
  return a.host == b.host && a.port == b.port;
}

}  // namespace

LeaderFollowingClient::LeaderFollowingClient(HttpEndpoint configured)
    : configured_(std::move(configured)), base_(std::make_shared<HttpClient>(configured_)) {}

std::shared_ptr<HttpClient> LeaderFollowingClient::Next(bool* to_leader) const {
  std::lock_guard<std::mutex> l(mu_);
  if (cancelled_) return nullptr;
  *to_leader = leader_ != nullptr;
  return leader_ ? leader_ : base_;
}

std::optional<HttpEndpoint> LeaderFollowingClient::Leader() const {
  std::lock_guard<std::mutex> l(mu_);
  if (!leader_) return std::nullopt;
  return leader_->endpoint();
}

Result<HttpReply> LeaderFollowingClient::Do(const HttpCall& call,
                                            std::chrono::milliseconds timeout) {
  for (int attempt = 0; attempt <= kMaxRedirects + 1; ++attempt) {
    bool to_leader = false;
    std::shared_ptr<HttpClient> client = Next(&to_leader);
    if (!client) return Unavailable("cancelled");
    auto reply = client->Do(call, timeout);
    const bool redirect = reply.ok() && (reply->status == 307 || reply->status == 308);
    if (reply.ok() && !redirect) return reply;
    if (!reply.ok() && !to_leader) return reply;
    if (!reply.ok()) {
      // The leader we knew is gone or unreachable: ask the service again.
      Log()->info("leader unreachable leader={}:{} error={}", client->endpoint().host,
                  client->endpoint().port, reply.error().ToString());
      std::lock_guard<std::mutex> l(mu_);
      if (leader_ == client) leader_.reset();
      continue;
    }
    auto target = ParseHttpUrl(reply->Header("location"));
    if (!target.ok()) {
      return Unavailable("redirect without a usable Location: " + target.error().message);
    }
    HttpEndpoint leader = configured_;
    leader.host = target->host;
    leader.port = target->port;
    std::lock_guard<std::mutex> l(mu_);
    if (cancelled_) return Unavailable("cancelled");
    if (!leader_ || !SameEndpoint(leader_->endpoint(), leader)) {
      Log()->info("following leader leader={}:{}", leader.host, leader.port);
      leader_ = std::make_shared<HttpClient>(leader);
    } else if (to_leader) {
      // The leader we knew redirects to itself: a follower that has not yet
      // seen the change; ask the service next time.
      leader_.reset();
    }
  }
  return Unavailable("too many redirects between operators");
}

void LeaderFollowingClient::Cancel() {
  std::shared_ptr<HttpClient> base, leader;
  {
    std::lock_guard<std::mutex> l(mu_);
    cancelled_ = true;
    base = base_;
    leader = leader_;
  }
  base->Cancel();
  if (leader) leader->Cancel();
}

}  // namespace sg::agent
