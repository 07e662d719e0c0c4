#include "operator/ui/status_page.h"
#include "sg_build_paths.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace sg::ui {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

// One request on a fresh connection to 127.0.0.1:port.
bhttp::response<bhttp::string_body> Get(std::uint16_t port, const std::string& target) {
  net::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(net::ip::address_v4::loopback(), port));
  bhttp::request<bhttp::empty_body> req(bhttp::verb::get, target, 11);
  req.set(bhttp::field::host, "127.0.0.1");
  req.keep_alive(false);
  bhttp::write(socket, req);
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(socket, buffer, res);
  beast::error_code ec;
  socket.shutdown(tcp::socket::shutdown_both, ec);
  return res;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

class StatusPageServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    http::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.threads = 1;
    server_ = std::make_unique<http::HttpServer>(options);
    RegisterStatusPage(*server_);
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override { server_->Stop(); }

  std::unique_ptr<http::HttpServer> server_;
};

TEST_F(StatusPageServerTest, ServesHtmlWithTheExpectedElements) {
  auto res = Get(server_->port(), "/ui");
  ASSERT_EQ(res.result_int(), 200u);
  EXPECT_EQ(std::string(res[bhttp::field::content_type]), "text/html; charset=utf-8");
  const std::string body = res.body();
  EXPECT_EQ(body, std::string(StatusPageHtml()));
  EXPECT_EQ(body.rfind("<!DOCTYPE html>", 0), 0u);
  for (const char* id : {"conn", "updated", "clusters-body", "clusters-summary", "routes-body",
                         "routes-summary", "latency-chart", "latency-summary", "latency-cluster",
                         "errors-chart", "errors-summary", "errors-by-controller"}) {
    EXPECT_NE(body.find(std::string("id=\"") + id + "\""), std::string::npos) << id;
  }
  // The page names its own origin only.
  std::string csp(res["Content-Security-Policy"]);
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("connect-src 'self'"), std::string::npos) << csp;
  // The token form is never submitted by the browser itself.
  EXPECT_NE(csp.find("form-action 'none'"), std::string::npos) << csp;
}

TEST_F(StatusPageServerTest, PathsBelowUiServeThePageAndOtherMethodsAreRefused) {
  EXPECT_EQ(Get(server_->port(), "/ui/").result_int(), 200u);
  EXPECT_EQ(Get(server_->port(), "/ui?cluster=demo").result_int(), 200u);
  EXPECT_EQ(Get(server_->port(), "/uix").result_int(), 404u);
}

TEST(StatusPageTest, FetchesNothingFromOtherHosts) {
  const std::string page = Lower(std::string(StatusPageHtml()));
  EXPECT_EQ(page.find("http://"), std::string::npos);
  EXPECT_EQ(page.find("https://"), std::string::npos);
  EXPECT_EQ(page.find("//cdn"), std::string::npos);
  EXPECT_EQ(page.find("@import"), std::string::npos);
  EXPECT_EQ(page.find("<link"), std::string::npos);
  EXPECT_EQ(page.find("<script src"), std::string::npos);
  EXPECT_EQ(page.find("url("), std::string::npos);
}

TEST(StatusPageTest, NeverWritesMarkupFromData) {
  const std::string page(StatusPageHtml());
  EXPECT_EQ(page.find("innerHTML"), std::string::npos);
  EXPECT_EQ(page.find("outerHTML"), std::string::npos);
  EXPECT_EQ(page.find("insertAdjacentHTML"), std::string::npos);
  EXPECT_EQ(page.find("document.write"), std::string::npos);
  EXPECT_EQ(page.find("eval("), std::string::npos);
  EXPECT_NE(page.find("textContent"), std::string::npos);
}

TEST(StatusPageTest, PollsTheStatusApiAndMetrics) {
  const std::string page(StatusPageHtml());
  EXPECT_NE(page.find("\"/v1/status\""), std::string::npos);
  EXPECT_NE(page.find("\"/metrics\""), std::string::npos);
  EXPECT_NE(page.find("POLL_MS = 2000"), std::string::npos);
}

// A status token is sent as a bearer header on the status API request
// only, kept for the tab (sessionStorage), and never put in a URL.
TEST(StatusPageTest, SendsTheStatusTokenAsAHeaderOnly) {
  const std::string page(StatusPageHtml());
  EXPECT_NE(page.find("\"Authorization\": \"Bearer \" + token"), std::string::npos);
  EXPECT_NE(page.find("fetchText(\"/v1/status\", true)"), std::string::npos);
  EXPECT_NE(page.find("fetchText(\"/metrics\", false)"), std::string::npos);
  EXPECT_NE(page.find("sessionStorage.setItem"), std::string::npos);
  EXPECT_EQ(page.find("localStorage"), std::string::npos);
  EXPECT_EQ(page.find("document.cookie"), std::string::npos);
  EXPECT_EQ(page.find("token="), std::string::npos);
  EXPECT_NE(page.find("e.status === 401"), std::string::npos) << "asks for a token on 401";
  EXPECT_NE(page.find("<input type=\"password\" id=\"login-token\""), std::string::npos);
}

// Every element the script looks up exists in the document.
TEST(StatusPageTest, ScriptLooksUpOnlyExistingIds) {
  const std::string page(StatusPageHtml());
  std::set<std::string> ids;
  std::regex id_attr("id=\"([a-z0-9-]+)\"");
  for (std::sregex_iterator it(page.begin(), page.end(), id_attr), end; it != end; ++it) {
    EXPECT_TRUE(ids.insert((*it)[1]).second) << "duplicate id " << (*it)[1];
  }
  std::regex lookup("\\$\\(\"([a-z0-9-]+)\"\\)");
  int lookups = 0;
  for (std::sregex_iterator it(page.begin(), page.end(), lookup), end; it != end; ++it) {
    ++lookups;
    EXPECT_EQ(ids.count((*it)[1]), 1u) << "no element with id " << (*it)[1];
  }
  EXPECT_GT(lookups, 10);
}

// The metric names the page reads are those the operator exports.
TEST(StatusPageTest, ReadsMetricsTheOperatorExports) {
  std::ifstream in(std::string(SG_SOURCE_DIR) + "/operator/metrics/swarmgate_metrics.cc");
  ASSERT_TRUE(in) << "cannot read swarmgate_metrics.cc";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string source = ss.str();
  const std::string page(StatusPageHtml());
  std::regex name("\"(swarmgate_[a-z0-9_]+)\"");
  int used = 0;
  for (std::sregex_iterator it(page.begin(), page.end(), name), end; it != end; ++it) {
    std::string metric = (*it)[1];
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      std::string s(suffix);
      if (metric.size() > s.size() && metric.compare(metric.size() - s.size(), s.size(), s) == 0 &&
          source.find("\"" + metric + "\"") == std::string::npos) {
        metric.resize(metric.size() - s.size());
      }
    }
    ++used;
    EXPECT_NE(source.find("\"" + metric + "\""), std::string::npos) << metric;
  }
  EXPECT_GE(used, 2);
}

}  // namespace
}  // namespace sg::ui
