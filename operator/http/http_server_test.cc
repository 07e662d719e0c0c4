#include "operator/http/http_server.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "operator/http/observability_routes.h"
#include "operator/metrics/swarmgate_metrics.h"

namespace sg::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

// Every wait in these tests ends long before this unless something is broken.
constexpr auto kDeadline = 15s;

using ClientResponse = bhttp::response<bhttp::string_body>;

// A minimal HTTP/1.1 client on one connection. Operations run on a private
// io_context with a deadline, so a broken server fails the test, not hangs it.
class Client {
 public:
  explicit Client(std::uint16_t port) {
    Run([&](auto done) {
      socket_.async_connect(tcp::endpoint(net::ip::address_v4::loopback(), port),
                            [done](beast::error_code ec) { done(ec); });
    });
  }

  ClientResponse Send(const std::string& method, const std::string& target,
                      const std::string& body = "", bool keep_alive = true) {
    SendOnly(method, target, body, keep_alive);
    return Read();
  }

  ClientResponse Read() {
    ClientResponse res;
    Run([&](auto done) {
      bhttp::async_read(socket_, buffer_, res,
                        [done](beast::error_code ec, std::size_t) { done(ec); });
    });
    return res;
  }

  // Writes a request without reading the answer.
  void SendOnly(const std::string& method, const std::string& target, const std::string& body = "",
                bool keep_alive = true) {
    bhttp::request<bhttp::string_body> req(bhttp::string_to_verb(method), target, 11);
    req.set(bhttp::field::host, "localhost");
    req.keep_alive(keep_alive);
    req.body() = body;
    req.prepare_payload();
    Run([&](auto done) {
      bhttp::async_write(socket_, req, [done](beast::error_code ec, std::size_t) { done(ec); });
    });
  }

  void Close() {
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

  // True if the server closed the connection (the next read sees EOF).
  bool ServerClosed() {
    char c;
    beast::error_code result;
    Run(
        [&](auto done) {
          socket_.async_read_some(net::buffer(&c, 1),
                                  [done](beast::error_code ec, std::size_t) { done(ec); });
        },
        &result);
    return result == net::error::eof || result == net::error::connection_reset;
  }

  beast::error_code last_error;

 private:
  template <class Start>
  void Run(Start start, beast::error_code* out = nullptr) {
    bool finished = false;
    beast::error_code ec;
    io_.restart();
    start([&](beast::error_code e) {
      finished = true;
      ec = e;
    });
    io_.run_for(kDeadline);
    ASSERT_TRUE(finished) << "client operation timed out";
    if (out) {
      *out = ec;
    } else {
      ASSERT_FALSE(ec) << ec.message();
    }
  }

  net::io_context io_;
  tcp::socket socket_{io_};
  beast::flat_buffer buffer_;
};

// Collects the Responders of pending long-polls for the test to answer.
class Waiters {
 public:
  void Add(Responder r) {
    std::lock_guard<std::mutex> l(mu_);
    list_.push_back(std::move(r));
    cv_.notify_all();
  }
  bool WaitFor(std::size_t n) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, kDeadline, [&] { return list_.size() >= n; });
  }
  std::vector<Responder> Take() {
    std::lock_guard<std::mutex> l(mu_);
    return std::move(list_);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Responder> list_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions o = {}) {
    o.listen = "127.0.0.1:0";
    server_ = std::make_unique<HttpServer>(o);
    RegisterObservabilityRoutes(*server_, registry_, [this]() -> Status {
      if (ready_) return OkStatus();
      return Unavailable("initial sync not done");
    });
    server_->Handle("GET", "/v1/", [](const Request& r) {
      return Response::Text(200, "v1 " + r.path + " after=" + r.Query("after").value_or("-"));
    });
    server_->Handle("GET", "/v1/clusters/", [](const Request& r) {
      return Response::Json(200, "{\"path\":\"" + r.path + "\"}");
    });
    server_->Handle("POST", "/echo", [](const Request& r) {
      Response resp = Response::Text(201, r.body);
      resp.headers.emplace_back("X-Seen-Header", r.Header("x-custom"));
      return resp;
    });
    server_->HandleAsync("GET", "/poll", [this](const Request& r, Responder responder) {
      if (auto t = r.Query("timeout_ms")) {
        responder.SetDeadline(std::chrono::milliseconds(std::stoi(*t)),
                              Response::Text(200, "no change\n"));
      }
      waiters_.Add(std::move(responder));
    });
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_NE(server_->port(), 0);
  }

  void TearDown() override {
    if (server_) server_->Stop();
  }

  metrics::Registry registry_;
  metrics::SwarmgateMetrics metrics_{registry_};
  std::atomic<bool> ready_{false};
  Waiters waiters_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, HealthzAndRouting) {
  StartServer();
  Client c(server_->port());
  auto h = c.Send("GET", "/healthz");
  EXPECT_EQ(h.result_int(), 200);
  EXPECT_EQ(h.body(), "ok\n");

  auto v1 = c.Send("GET", "/v1/status?after=7");
  EXPECT_EQ(v1.result_int(), 200);
  EXPECT_EQ(v1.body(), "v1 /v1/status after=7");

  // The longest prefix wins.
  auto cl = c.Send("GET", "/v1/clusters/public/config?after=3");
  EXPECT_EQ(cl.result_int(), 200);
  EXPECT_EQ(cl[bhttp::field::content_type], "application/json");
  EXPECT_EQ(cl.body(), "{\"path\":\"/v1/clusters/public/config\"}");
}

TEST_F(HttpServerTest, NotFoundAndMethodNotAllowed) {
  StartServer();
  Client c(server_->port());
  EXPECT_EQ(c.Send("GET", "/nope").result_int(), 404);
  EXPECT_EQ(c.Send("GET", "/healthzzz").result_int(), 404);  // prefixes match whole segments
  EXPECT_EQ(c.Send("DELETE", "/healthz").result_int(), 405);
  // The connection survives error answers.
  EXPECT_EQ(c.Send("GET", "/healthz").result_int(), 200);
}

TEST_F(HttpServerTest, RequestBodyHeadersAndQueryDecoding) {
  StartServer();
  Client c(server_->port());
  auto r = c.Send("POST", "/echo", "hello body");
  EXPECT_EQ(r.result_int(), 201);
  EXPECT_EQ(r.body(), "hello body");
  auto q = c.Send("GET", "/v1/x?after=a%20b+c");
  EXPECT_EQ(q.body(), "v1 /v1/x after=a b c");
}

TEST_F(HttpServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  StartServer();
  Client c(server_->port());
  for (int i = 0; i < 5; ++i) {
    auto r = c.Send("GET", "/healthz");
    EXPECT_EQ(r.result_int(), 200);
    EXPECT_TRUE(r.keep_alive());
  }
}

TEST_F(HttpServerTest, ConnectionCloseIsHonoured) {
  StartServer();
  Client c(server_->port());
  auto r = c.Send("GET", "/healthz", "", /*keep_alive=*/false);
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_FALSE(r.keep_alive());
  EXPECT_TRUE(c.ServerClosed());
}

TEST_F(HttpServerTest, BodyLimitAnswers413) {
  ServerOptions o;
  o.body_limit = 16;
  StartServer(o);
  Client c(server_->port());
  auto r = c.Send("POST", "/echo", std::string(15, 'x'));
  EXPECT_EQ(r.result_int(), 201);
  Client big(server_->port());
  auto r2 = big.Send("POST", "/echo", std::string(100, 'x'));
  EXPECT_EQ(r2.result_int(), 413);
}

TEST_F(HttpServerTest, MetricsServesTheRegistry) {
  StartServer();
  metrics_.reconcile_total.WithLabels({"route", "success"}).Inc(3);
  Client c(server_->port());
  auto r = c.Send("GET", "/metrics");
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(r[bhttp::field::content_type], kMetricsContentType);
  // The registry, with the process's own CPU and memory read at the scrape.
  EXPECT_NE(r.body().find("swarmgate_reconcile_total{controller=\"route\",result=\"success\"} 3\n"),
            std::string::npos)
      << r.body();
  EXPECT_NE(r.body().find("\nprocess_resident_memory_bytes "), std::string::npos) << r.body();
  EXPECT_NE(r.body().find("# TYPE swarmgate_render_duration_seconds histogram\n"),
            std::string::npos);
}

TEST_F(HttpServerTest, ReadyzFollowsTheReadinessCheck) {
  StartServer();
  Client c(server_->port());
  auto r = c.Send("GET", "/readyz");
  EXPECT_EQ(r.result_int(), 503);
  EXPECT_EQ(r.body(), "not ready: initial sync not done\n");
  ready_ = true;
  auto r2 = c.Send("GET", "/readyz");
  EXPECT_EQ(r2.result_int(), 200);
  EXPECT_EQ(r2.body(), "ok\n");
}

TEST_F(HttpServerTest, LongPollAnsweredFromAnotherThread) {
  StartServer();
  ClientResponse res;
  std::thread client([&] {
    Client c(server_->port());
    res = c.Send("GET", "/poll");
    // The connection is reusable after a long-poll.
    EXPECT_EQ(c.Send("GET", "/healthz").result_int(), 200);
  });
  ASSERT_TRUE(waiters_.WaitFor(1));
  auto pending = waiters_.Take();
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_TRUE(pending[0].Pending());
  std::thread answerer(
      [r = pending[0]] { EXPECT_TRUE(r.Respond(Response::Text(200, "gen 8\n"))); });
  answerer.join();
  client.join();
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "gen 8\n");
  // Only the first answer counts.
  EXPECT_FALSE(pending[0].Pending());
  EXPECT_FALSE(pending[0].Respond(Response::Text(200, "late\n")));
}

TEST_F(HttpServerTest, LongPollDeadlineAnswersForTheHandler) {
  StartServer();
  Client c(server_->port());
  auto r = c.Send("GET", "/poll?timeout_ms=20");
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(r.body(), "no change\n");
  ASSERT_TRUE(waiters_.WaitFor(1));
  auto pending = waiters_.Take();
  EXPECT_FALSE(pending[0].Pending());
  EXPECT_FALSE(pending[0].Respond(Response::Text(200, "too late\n")));
}

TEST_F(HttpServerTest, LongPollOfAClientThatLeftIsNoLongerPending) {
  StartServer();
  Client c(server_->port());
  c.SendOnly("GET", "/poll");
  ASSERT_TRUE(waiters_.WaitFor(1));
  auto pending = waiters_.Take();
  EXPECT_TRUE(pending[0].Pending());
  c.Close();
  const auto end = std::chrono::steady_clock::now() + kDeadline;
  while (pending[0].Pending() && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_FALSE(pending[0].Pending());
  EXPECT_FALSE(pending[0].Respond(Response::Text(200, "nobody there\n")));
}

TEST_F(HttpServerTest, PipelinedRequestDuringLongPollIsServedAfterIt) {
  StartServer();
  Client c(server_->port());
  c.SendOnly("GET", "/poll");
  ASSERT_TRUE(waiters_.WaitFor(1));
  // A second request arrives while the first waits: it must neither close
  // the connection nor be lost.
  c.SendOnly("GET", "/healthz");
  auto pending = waiters_.Take();
  std::this_thread::sleep_for(20ms);  // let the server see the pipelined bytes
  EXPECT_TRUE(pending[0].Pending());
  EXPECT_TRUE(pending[0].Respond(Response::Text(200, "first\n")));
  ClientResponse first = c.Read();
  ClientResponse second = c.Read();
  EXPECT_EQ(first.body(), "first\n");
  EXPECT_EQ(second.result_int(), 200);
  EXPECT_EQ(second.body(), "ok\n");
}

TEST_F(HttpServerTest, HundredsOfConcurrentLongPollsOnTwoThreads) {
  ServerOptions o;
  o.threads = 2;
  StartServer(o);
  constexpr int kClients = 300;

  // All clients run asynchronously on one test thread.
  struct Poll {
    explicit Poll(net::io_context& io) : socket(io) {}
    tcp::socket socket;
    beast::flat_buffer buffer;
    bhttp::request<bhttp::string_body> req{bhttp::verb::get, "/poll", 11};
    ClientResponse res;
    bool done = false;
  };
  net::io_context io;
  std::vector<std::unique_ptr<Poll>> polls;
  std::atomic<int> answered{0};
  const tcp::endpoint ep(net::ip::address_v4::loopback(), server_->port());
  for (int i = 0; i < kClients; ++i) {
    polls.push_back(std::make_unique<Poll>(io));
    Poll* p = polls.back().get();
    p->req.set(bhttp::field::host, "localhost");
    p->socket.async_connect(ep, [p, &answered](beast::error_code ec) {
      if (ec) return;
      bhttp::async_write(p->socket, p->req, [p, &answered](beast::error_code ec, std::size_t) {
        if (ec) return;
        bhttp::async_read(p->socket, p->buffer, p->res,
                          [p, &answered](beast::error_code ec, std::size_t) {
                            p->done = !ec;
                            ++answered;
                          });
      });
    });
  }
  std::thread io_thread([&] { io.run_for(kDeadline * 2); });

  ASSERT_TRUE(waiters_.WaitFor(kClients));
  // The server is still responsive while all of them wait.
  {
    Client c(server_->port());
    EXPECT_EQ(c.Send("GET", "/healthz").result_int(), 200);
  }
  auto pending = waiters_.Take();
  std::thread answerer([&pending] {
    for (auto& r : pending) r.Respond(Response::Text(200, "gen 2\n"));
  });
  answerer.join();
  io_thread.join();
  EXPECT_EQ(answered.load(), kClients);
  int ok = 0;
  for (auto& p : polls) ok += p->done && p->res.result_int() == 200 && p->res.body() == "gen 2\n";
  EXPECT_EQ(ok, kClients);
}

TEST_F(HttpServerTest, StopAnswersWaitingLongPollsAndReturns) {
  StartServer();
  ClientResponse res;
  std::thread client([&] {
    Client c(server_->port());
    res = c.Send("GET", "/poll");
  });
  ASSERT_TRUE(waiters_.WaitFor(1));
  server_->Stop();
  client.join();
  EXPECT_EQ(res.result_int(), 503);
  EXPECT_FALSE(res.keep_alive());
  auto pending = waiters_.Take();
  EXPECT_FALSE(pending[0].Respond(Response::Text(200, "after stop\n")));
  server_->Stop();  // idempotent
}

TEST_F(HttpServerTest, StopClosesIdleKeepAliveConnections) {
  StartServer();
  Client c(server_->port());
  EXPECT_EQ(c.Send("GET", "/healthz").result_int(), 200);
  server_->Stop();
  EXPECT_TRUE(c.ServerClosed());
}

TEST(HttpServerStartTest, BindConflictIsAnError) {
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  HttpServer a(o);
  ASSERT_TRUE(a.Start().ok());
  o.listen = "127.0.0.1:" + std::to_string(a.port());
  HttpServer b(o);
  auto s = b.Start();
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.error().Is(ErrorCode::kUnavailable)) << s.error().ToString();
}

TEST(HttpServerStartTest, BadAddressIsInvalidArgument) {
  ServerOptions o;
  o.listen = "not-an-ip:80";
  HttpServer s(o);
  auto st = s.Start();
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.error().Is(ErrorCode::kInvalidArgument));
}

TEST(ParseListenAddressTest, Forms) {
  auto a = ParseListenAddress(":9090");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->first, "");
  EXPECT_EQ(a->second, 9090);
  auto b = ParseListenAddress("0.0.0.0:9090");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->first, "0.0.0.0");
  auto c = ParseListenAddress("[::1]:0");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->first, "::1");
  EXPECT_EQ(c->second, 0);
  EXPECT_FALSE(ParseListenAddress("9090").ok());
  EXPECT_FALSE(ParseListenAddress("host:").ok());
  EXPECT_FALSE(ParseListenAddress("host:99999").ok());
  EXPECT_FALSE(ParseListenAddress("host:12a").ok());
}

TEST(PercentDecodeTest, Decodes) {
  EXPECT_EQ(PercentDecode("a%2Fb%20c+d"), "a/b c+d");
  EXPECT_EQ(PercentDecode("a+b", true), "a b");
  EXPECT_EQ(PercentDecode("bad%zz%4"), "bad%zz%4");
}

}  // namespace
}  // namespace sg::http
