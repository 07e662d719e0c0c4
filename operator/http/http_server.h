#pragma once
// The operator's HTTP/1.1 server (metrics, health, status API, and the
// configuration endpoint the proxy agents long-poll), on Boost.Beast.
//
// Model: one io_context run by a few threads; every connection is a chain of
// asynchronous operations on its own strand, so a connection costs no thread
// while it is idle or while its request waits for an asynchronous answer.
// Handlers come in two kinds:
//   - Handler: returns the Response at once; runs on an I/O thread, so it
//     must be quick and must not block.
//   - AsyncHandler: receives a Responder and may answer later, from any
//     thread (long-poll). Until then the connection only holds a timer.
//
// Thread-safety: Handle*/Start/Stop are meant for one owning thread; routes
// may be added after Start(). Responder is safe to use from any thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "operator/common/result.h"

namespace sg::http {

struct Request {
  std::string method;                          // upper case, e.g. "GET"
  std::string target;                          // as received: path and query
  std::string path;                            // target without the query, not percent-decoded
  std::map<std::string, std::string> query;    // decoded; last value wins
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string remote_address;

  // Header value by case-insensitive name; "" when absent.
  std::string Header(std::string_view name) const;
  std::optional<std::string> Query(const std::string& name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers

  static Response Text(int status, std::string body);
  static Response Json(int status, std::string body);
};

namespace detail {
struct PendingResponse;
}

// The handle through which an AsyncHandler answers its request. Copyable;
// all copies refer to the same request, and only the first answer counts.
class Responder {
 public:
  explicit Responder(std::shared_ptr<detail::PendingResponse> pending);

  // Sends the response. Returns false, and does nothing, if the request was
  // already answered, timed out, or its connection closed.
  bool Respond(Response response) const;
  // Answers `on_timeout` if nothing else answered within `timeout` (replaces
  // the server's default deadline). A long-poll handler sets this to its poll
  // window, e.g. 30 s with "no newer generation".
  void SetDeadline(std::chrono::steady_clock::duration timeout, Response on_timeout) const;
  // True while the request still waits for an answer: waiter lists use it to
  // drop requests whose deadline passed or whose client went away.
  bool Pending() const;

 private:
  std::shared_ptr<detail::PendingResponse> pending_;
};

using Handler = std::function<Response(const Request&)>;
using AsyncHandler = std::function<void(const Request&, Responder)>;

struct ServerOptions {
  // ":9090", "0.0.0.0:9090", "127.0.0.1:0" (0 = any free port), "[::1]:9090".
  std::string listen = ":9090";
  int threads = 2;
  std::size_t body_limit = 1 << 20;  // larger requests get 413
  // How long a keep-alive connection may idle, or take to send a request.
  std::chrono::milliseconds read_timeout{std::chrono::seconds(75)};
  std::chrono::milliseconds write_timeout{std::chrono::seconds(30)};
  // Deadline for an AsyncHandler that sets none (answered 503).
  std::chrono::milliseconds async_timeout{std::chrono::seconds(60)};
  // How long Stop() lets connections finish before closing them.
  std::chrono::milliseconds shutdown_grace{std::chrono::seconds(5)};
};

// Parses ServerOptions::listen into host and port; host "" means any IPv4.
Result<std::pair<std::string, std::uint16_t>> ParseListenAddress(std::string_view addr);
// Decodes %XX escapes, and '+' as a space when `plus_as_space`.
std::string PercentDecode(std::string_view s, bool plus_as_space = false);

class HttpServer {
 public:
  explicit HttpServer(ServerOptions options);
  ~HttpServer();  // Stop()s

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Routes a method ("GET"; "*" for any) and path prefix to a handler. A
  // prefix ending in '/' matches every path under it; otherwise it matches
  // the path itself and paths below it ("/metrics" matches "/metrics" and
  // "/metrics/x", not "/metricsx"). The longest matching prefix wins; a path
  // that matches only with other methods gets 405, no match 404.
  void Handle(const std::string& method, const std::string& prefix, Handler handler);
  void HandleAsync(const std::string& method, const std::string& prefix, AsyncHandler handler);

  // Binds, listens and starts the I/O threads. Errors: InvalidArgument for a
  // bad address, Unavailable when the address cannot be bound.
  Status Start();
  // Stops accepting, answers waiting async requests with 503, lets requests
  // in progress finish (up to shutdown_grace), closes every connection and
  // joins the threads. Idempotent.
  void Stop();

  // The bound port (useful with port 0); 0 before Start().
  std::uint16_t port() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace sg::http
