#pragma once
// A scripted HTTP server on a unix socket in a temporary directory, for
// transport and client tests that need exact control over the wire (chunk
// splits, dropped keep-alive connections, answers that never come).
// Header-only and test-only.
//
// Each accepted connection gets its own thread; the handler sees every
// parsed request and writes raw bytes to the socket. Returning false closes
// the connection. The destructor shuts all sockets down and joins.

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sg::docker::testing {

using TestRequest = boost::beast::http::request<boost::beast::http::string_body>;
using TestSocket = boost::asio::local::stream_protocol::socket;

// Writes a complete response with Content-Length.
inline void WriteResponse(TestSocket& s, int status, const std::string& body,
                          const std::string& extra_headers = "") {
  std::string out = "HTTP/1.1 " + std::to_string(status) +
                    " X\r\nContent-Type: application/json\r\n" + extra_headers +
                    "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  boost::system::error_code ec;
  boost::asio::write(s, boost::asio::buffer(out), ec);
}

inline bool WriteRaw(TestSocket& s, const std::string& bytes) {
  boost::system::error_code ec;
  boost::asio::write(s, boost::asio::buffer(bytes), ec);
  return !ec;
}

class TestUnixHttpServer {
 public:
  using Handler = std::function<bool(const TestRequest&, TestSocket&)>;

  explicit TestUnixHttpServer(Handler handler) : handler_(std::move(handler)) {
    char tmpl[] = "/tmp/sg-docker-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    path_ = dir_ + "/docker.sock";
    acceptor_ = std::make_unique<boost::asio::local::stream_protocol::acceptor>(
        ioc_, boost::asio::local::stream_protocol::endpoint(path_));
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }

  ~TestUnixHttpServer() {
    stopping_ = true;
    ::shutdown(acceptor_->native_handle(), SHUT_RDWR);
    {
      // Wake the blocking accept() with a throwaway connection.
      boost::asio::io_context ioc;
      TestSocket poke(ioc);
      boost::system::error_code ec;
      poke.connect(boost::asio::local::stream_protocol::endpoint(path_), ec);
    }
    accept_thread_.join();
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& s : sockets_) ::shutdown(s->native_handle(), SHUT_RDWR);
    }
    for (auto& t : threads_) t.join();
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }

  std::string url() const { return "unix://" + path_; }
  std::string path() const { return path_; }
  int connections() const { return connections_.load(); }
  int requests() const { return requests_.load(); }

 private:
  void AcceptLoop() {
    while (!stopping_) {
      auto sock = std::make_shared<TestSocket>(ioc_);
      boost::system::error_code ec;
      acceptor_->accept(*sock, ec);
      if (ec || stopping_) return;
      ++connections_;
      std::lock_guard<std::mutex> lock(mu_);
      sockets_.push_back(sock);
      threads_.emplace_back([this, sock] { Serve(*sock); });
    }
  }

  void Serve(TestSocket& sock) {
    boost::beast::flat_buffer buf;
    for (;;) {
      TestRequest req;
      boost::system::error_code ec;
      boost::beast::http::read(sock, buf, req, ec);
      if (ec) break;
      ++requests_;
      if (!handler_(req, sock)) break;
    }
    boost::system::error_code ignored;
    sock.shutdown(TestSocket::shutdown_both, ignored);
  }

  Handler handler_;
  std::string dir_;
  std::string path_;
  boost::asio::io_context ioc_;
  std::unique_ptr<boost::asio::local::stream_protocol::acceptor> acceptor_;
  std::thread accept_thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  std::mutex mu_;
  std::vector<std::shared_ptr<TestSocket>> sockets_;
  std::vector<std::thread> threads_;
};

}  // namespace sg::docker::testing
