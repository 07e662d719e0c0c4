#include "operator/app/status_routes.h"

#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "operator/http/observability_routes.h"
#include "operator/metrics/registry.h"

namespace sg::app {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

// One request on a fresh connection to 127.0.0.1:port, with an
// Authorization header when `authorization` is not empty.
bhttp::response<bhttp::string_body> Get(std::uint16_t port, const std::string& target,
                                        const std::string& authorization = "") {
  net::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(net::ip::address_v4::loopback(), port));
  bhttp::request<bhttp::empty_body> req(bhttp::verb::get, target, 11);
  req.set(bhttp::field::host, "127.0.0.1");
  if (!authorization.empty()) req.set(bhttp::field::authorization, authorization);
  req.keep_alive(false);
  bhttp::write(socket, req);
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(socket, buffer, res);
  beast::error_code ec;
  socket.shutdown(tcp::socket::shutdown_both, ec);
  return res;
}

// The operator's routes as RunOperator registers them, with canned
// status and leader answers.
class StatusRoutesTest : public ::testing::Test {
 protected:
  void Start(const std::optional<http::BearerAuth>& auth) {
    http::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.threads = 1;
    server_ = std::make_unique<http::HttpServer>(options);
    http::RegisterObservabilityRoutes(*server_, registry_, {});
    RegisterStatusRoutes(
        *server_, auth,
        [](const http::Request&) { return http::Response::Json(200, "{\"routes\":[]}"); },
        [](const http::Request&) { return http::Response::Json(200, "{\"leader\":true}"); });
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  std::uint16_t port() const { return server_->port(); }

  metrics::Registry registry_;
  std::unique_ptr<http::HttpServer> server_;
};

http::BearerAuth Auth(const std::string& token) {
  auto auth = http::BearerAuth::ForToken(token);
  EXPECT_TRUE(auth.ok()) << auth.error().ToString();
  return *auth;
}

TEST_F(StatusRoutesTest, WithATokenTheStatusApiAnswersOnlyTheBearer) {
  Start(Auth("s3cret-token"));

  auto none = Get(port(), "/v1/status");
  EXPECT_EQ(none.result_int(), 401u);
  EXPECT_EQ(std::string(none[bhttp::field::www_authenticate]), "Bearer realm=\"swarmgate\"");
  EXPECT_EQ(none.body().find("routes"), std::string::npos);

  auto wrong = Get(port(), "/v1/status", "Bearer not-the-token");
  EXPECT_EQ(wrong.result_int(), 401u);
  EXPECT_EQ(std::string(wrong[bhttp::field::www_authenticate]),
            "Bearer realm=\"swarmgate\", error=\"invalid_token\"");

  EXPECT_EQ(Get(port(), "/v1/status", "Basic czNjcmV0LXRva2Vu").result_int(), 401u);
  EXPECT_EQ(Get(port(), "/v1/status/x", "Bearer not-the-token").result_int(), 401u);
  EXPECT_EQ(Get(port(), "/v1/status?token=s3cret-token").result_int(), 401u);

  auto right = Get(port(), "/v1/status", "Bearer s3cret-token");
  EXPECT_EQ(right.result_int(), 200u);
  EXPECT_EQ(right.body(), "{\"routes\":[]}");
}

TEST_F(StatusRoutesTest, WithATokenHealthMetricsLeaderAndThePageStayOpen) {
  Start(Auth("s3cret-token"));
  for (const char* path : {"/healthz", "/readyz", "/metrics", "/v1/leader", "/ui"}) {
    EXPECT_EQ(Get(port(), path).result_int(), 200u) << path;
    // A wrong token does not close them either: Prometheus may send one.
    EXPECT_EQ(Get(port(), path, "Bearer not-the-token").result_int(), 200u) << path;
  }
}

TEST_F(StatusRoutesTest, WithoutATokenEverythingIsOpen) {
  Start(std::nullopt);
  for (const char* path : {"/v1/status", "/healthz", "/readyz", "/metrics", "/v1/leader", "/ui"}) {
    EXPECT_EQ(Get(port(), path).result_int(), 200u) << path;
  }
  EXPECT_EQ(Get(port(), "/v1/status").body(), "{\"routes\":[]}");
}

}  // namespace
}  // namespace sg::app
