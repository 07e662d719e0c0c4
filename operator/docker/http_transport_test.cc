// HttpTransport features beyond what EngineClient uses: request headers and
// content type, response headers, cancellation of a round trip, and
// one-request-per-connection mode (the proxy agent's client relies on them).
#include "operator/docker/http_transport.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "operator/testing/test_unix_http_server.h"

namespace sg::docker {
namespace {

using namespace std::chrono_literals;
using testing::TestRequest;
using testing::TestSocket;
using testing::TestUnixHttpServer;
using testing::WriteResponse;

std::unique_ptr<HttpTransport> TransportFor(const TestUnixHttpServer& server,
                                            TransportOptions options = {}) {
  auto ep = ParseDockerEndpoint(server.url(), false, false, "");
  EXPECT_TRUE(ep.ok());
  auto t = HttpTransport::Create(*ep, options);
  EXPECT_TRUE(t.ok());
  return std::move(t).value();
}

HttpRequest Req(const std::string& method, const std::string& target,
                const std::string& body = "") {
  HttpRequest r;
  r.method = method;
  r.target = target;
  r.body = body;
  return r;
}

TEST(HttpTransportTest, SendsHeadersAndContentTypeAndReturnsResponseHeaders) {
  std::mutex mu;
  TestRequest seen;
  TestUnixHttpServer server([&](const TestRequest& req, TestSocket& s) {
    {
      std::lock_guard<std::mutex> lock(mu);
      seen = req;
    }
    WriteResponse(s, 201, "ok", "X-Swarmgate-Generation: 7\r\nX-Twice: a\r\nx-twice: b\r\n");
    return true;
  });
  TransportOptions options;
  options.user_agent = "test-agent";
  auto t = TransportFor(server, options);
  HttpRequest req;
  req.method = "POST";
  req.target = "/v1/report?x=1";
  req.body = "hello";
  req.content_type = "text/plain";
  req.headers = {{"Authorization", "Bearer abc"}};
  auto res = t->RoundTrip(req);
  ASSERT_TRUE(res.ok()) << res.error().ToString();
  EXPECT_EQ(res->status, 201);
  EXPECT_EQ(res->body, "ok");
  EXPECT_EQ(res->Header("x-swarmgate-generation"), "7");
  EXPECT_EQ(res->Header("content-length"), "2");
  EXPECT_EQ(res->Header("x-twice"), "b");
  EXPECT_EQ(res->Header("absent"), "");

  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(seen.method_string(), "POST");
  EXPECT_EQ(seen.target(), "/v1/report?x=1");
  EXPECT_EQ(seen["Authorization"], "Bearer abc");
  EXPECT_EQ(seen["Content-Type"], "text/plain");
  EXPECT_EQ(seen["User-Agent"], "test-agent");
  EXPECT_EQ(seen.body(), "hello");
}

TEST(HttpTransportTest, JsonIsTheDefaultContentType) {
  std::mutex mu;
  std::string content_type;
  TestUnixHttpServer server([&](const TestRequest& req, TestSocket& s) {
    {
      std::lock_guard<std::mutex> lock(mu);
      content_type = std::string(req["Content-Type"]);
    }
    WriteResponse(s, 200, "{}");
    return true;
  });
  auto t = TransportFor(server);
  auto res = t->RoundTrip(Req("POST", "/x", "{}"));
  ASSERT_TRUE(res.ok()) << res.error().ToString();
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(content_type, "application/json");
}

TEST(HttpTransportTest, CancelEndsARoundTripInFlight) {
  std::atomic<bool> release{false};
  TestUnixHttpServer server([&](const TestRequest&, TestSocket& s) {
    // Never answers in time: a long-poll that has nothing new.
    for (int i = 0; i < 500 && !release; ++i) std::this_thread::sleep_for(10ms);
    WriteResponse(s, 304, "");
    return false;
  });
  TransportOptions options;
  options.cancel_poll_interval = 20ms;
  auto t = TransportFor(server, options);
  std::atomic<bool> cancel{false};
  HttpRequest req = Req("GET", "/wait");
  req.timeout = 30s;
  req.cancel = &cancel;
  std::thread canceller([&] {
    std::this_thread::sleep_for(100ms);
    cancel = true;
  });
  const auto start = std::chrono::steady_clock::now();
  auto res = t->RoundTrip(req);
  const auto took = std::chrono::steady_clock::now() - start;
  canceller.join();
  release = true;
  ASSERT_FALSE(res.ok());
  EXPECT_TRUE(res.error().Is(ErrorCode::kUnavailable));
  EXPECT_EQ(res.error().message, "cancelled");
  EXPECT_LT(took, 3s);
  // Already cancelled: fails before connecting.
  EXPECT_EQ(t->RoundTrip(req).error().message, "cancelled");
}

TEST(HttpTransportTest, WithoutKeepAliveEveryRequestHasItsOwnConnection) {
  std::mutex mu;
  std::vector<std::string> connection_headers;
  TestUnixHttpServer server([&](const TestRequest& req, TestSocket& s) {
    {
      std::lock_guard<std::mutex> lock(mu);
      connection_headers.emplace_back(req["Connection"]);
    }
    WriteResponse(s, 200, "{}");
    return true;  // the server would keep the connection
  });
  TransportOptions options;
  options.keep_alive = false;
  auto t = TransportFor(server, options);
  for (int i = 0; i < 3; ++i) {
    auto res = t->RoundTrip(Req("GET", "/x"));
    ASSERT_TRUE(res.ok()) << res.error().ToString();
  }
  EXPECT_EQ(server.connections(), 3);
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(connection_headers, (std::vector<std::string>{"close", "close", "close"}));
}

TEST(HttpTransportTest, KeepAliveReusesTheConnection) {
  TestUnixHttpServer server([&](const TestRequest&, TestSocket& s) {
    WriteResponse(s, 200, "{}");
    return true;
  });
  auto t = TransportFor(server);
  for (int i = 0; i < 3; ++i) {
    auto res = t->RoundTrip(Req("GET", "/x"));
    ASSERT_TRUE(res.ok()) << res.error().ToString();
  }
  EXPECT_EQ(server.connections(), 1);
}

}  // namespace
}  // namespace sg::docker
