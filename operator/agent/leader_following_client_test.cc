#include "operator/agent/leader_following_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "operator/http/http_server.h"

namespace sg::agent {
namespace {

using namespace std::chrono_literals;

// A loopback operator: answers 200 "<name>" while it leads, otherwise 307
// to `leader_url` (503 when that is empty).
class FakeOperator {
 public:
  explicit FakeOperator(std::string name) : name_(std::move(name)) {
    http::ServerOptions o;
    o.listen = "127.0.0.1:0";
    server_ = std::make_unique<http::HttpServer>(o);
    server_->Handle("GET", "/v1/proxy/config", [this](const http::Request& req) {
      ++requests;
      if (leads) return http::Response::Text(200, name_);
      std::string url = LeaderUrl();
      if (url.empty()) return http::Response::Text(503, "no leader\n");
      http::Response r = http::Response::Text(307, "elsewhere\n");
      r.headers.emplace_back("Location", url + req.target);
      return r;
    });
    EXPECT_TRUE(server_->Start().ok());
  }
  ~FakeOperator() { Stop(); }
  void Stop() {
    if (server_) server_->Stop();
    server_.reset();
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  std::uint16_t Port() const { return server_->port(); }

  std::atomic<bool> leads{false};
  std::atomic<int> requests{0};

  void PointTo(const std::string& url) {
    std::lock_guard<std::mutex> l(mu_);
    leader_url_ = url;
  }

 private:
  std::string LeaderUrl() {
    std::lock_guard<std::mutex> l(mu_);
    return leader_url_;
  }

  std::string name_;
  std::mutex mu_;
  std::string leader_url_;  // guarded by mu_
  std::unique_ptr<http::HttpServer> server_;
};

HttpCall Poll() {
  HttpCall c;
  c.target = "/v1/proxy/config?cluster=web";
  return c;
}

TEST(LeaderFollowingClientTest, FollowsTheRedirectAndGoesBackToTheServiceWhenTheLeaderGoes) {
  FakeOperator service("service"), first("first"), second("second");
  first.leads = true;
  service.PointTo(first.Url());
  LeaderFollowingClient client(HttpEndpoint{"127.0.0.1", service.Port(), ""});

  auto r = client.Do(Poll(), 2000ms);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "first");
  ASSERT_TRUE(client.Leader().has_value());
  EXPECT_EQ(client.Leader()->port, first.Port());

  // Later requests go straight to the leader.
  const int service_before = service.requests.load();
  r = client.Do(Poll(), 2000ms);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "first");
  EXPECT_EQ(service.requests.load(), service_before);

  // The leader dies; the service now names the second operator.
  first.Stop();
  second.leads = true;
  service.PointTo(second.Url());
  r = client.Do(Poll(), 2000ms);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->body, "second");
  EXPECT_EQ(client.Leader()->port, second.Port());
}

TEST(LeaderFollowingClientTest, ALeaderThatStepsDownSendsTheAgentOn) {
  FakeOperator service("service"), first("first"), second("second");
  first.leads = true;
  service.PointTo(first.Url());
  LeaderFollowingClient client(HttpEndpoint{"127.0.0.1", service.Port(), ""});
  ASSERT_TRUE(client.Do(Poll(), 2000ms).ok());
  first.leads = false;
  first.PointTo(second.Url());
  second.leads = true;
  auto r = client.Do(Poll(), 2000ms);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "second");
}

TEST(LeaderFollowingClientTest, NoKnownLeaderIsAnAnswerNotALoop) {
  FakeOperator service("service");
  LeaderFollowingClient client(HttpEndpoint{"127.0.0.1", service.Port(), ""});
  auto r = client.Do(Poll(), 2000ms);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 503);
  EXPECT_FALSE(client.Leader().has_value());
}

TEST(LeaderFollowingClientTest, OperatorsRedirectingInACircleEndInAnError) {
  FakeOperator a("a"), b("b");
  a.PointTo(b.Url());
  b.PointTo(a.Url());
  LeaderFollowingClient client(HttpEndpoint{"127.0.0.1", a.Port(), ""});
  auto r = client.Do(Poll(), 2000ms);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("redirect"), std::string::npos) << r.error().ToString();
}

}  // namespace
}  // namespace sg::agent
