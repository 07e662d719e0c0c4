#pragma once
// HTTP/1.1 to the Docker Engine over a unix socket, TCP or TLS, built on
// Boost.Beast. Blocking calls with deadlines: every connection owns a private
// io_context that the calling thread runs until the operation completes or
// its deadline passes (then the socket is closed, which aborts it).
//
// It is the project's one HTTP client: the proxy agent talks to the operator
// through it too (operator/agent/http_client.h, plain TCP), which is why a
// request may carry its own headers and a cancel flag and a response carries
// its headers.
//
// Thread-safety: RoundTrip and Stream may be called concurrently. Idle
// keep-alive connections sit in a small pool guarded by a mutex; a connection
// is used by one call at a time.

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "operator/common/result.h"
#include "operator/docker/docker_endpoint.h"

namespace boost::asio::ssl {
class context;
}

namespace sg::docker {

struct TransportOptions {
  std::chrono::milliseconds connect_timeout{5000};   // TCP/unix connect + TLS handshake
  std::chrono::milliseconds request_timeout{30000};  // write the request, read the response
  size_t max_idle_connections = 4;
  // Streams check their cancel flag at least this often.
  std::chrono::milliseconds cancel_poll_interval{250};
  size_t max_body_bytes = 256u << 20;  // config lists carry every config's data
  std::string user_agent = "swarmgate";
  // false: one request per connection ("Connection: close"), nothing pooled;
  // for peers behind a Swarm VIP that may move between requests.
  bool keep_alive = true;
  // TCP only, > 0: TCP keepalive probes after this much silence, every as
  // long, and the connection fails after the second unanswered one. A long
  // poll to a peer that vanished from the network (partitioned node) then
  // fails in about three times this instead of at its deadline.
  std::chrono::seconds tcp_keepalive{0};
};

struct HttpRequest {
  std::string method;                    // "GET", "POST", "DELETE"
  std::string target;                    // path and query, already encoded
  std::string body;                      // sent when non-empty
  std::chrono::milliseconds timeout{0};  // 0: TransportOptions::request_timeout
  std::string content_type;              // of a non-empty body; "": application/json
  // Sent after Host and User-Agent (which they may replace).
  std::vector<std::pair<std::string, std::string>> headers;
  // RoundTrip only: when set, the call gives up once it turns true (checked
  // every TransportOptions::cancel_poll_interval, connecting included) and
  // fails with Unavailable("cancelled"). Must outlive the call.
  const std::atomic<bool>* cancel = nullptr;
};

struct HttpResponse {
  int status = 0;
  std::string body;
  // Every header, names lower-cased; of repeated names the last one.
  std::map<std::string, std::string> headers;

  // The value of header `lower_name`, "" when absent.
  std::string Header(const std::string& lower_name) const;
};

class HttpTransport {
 public:
  // Fails only when TLS material cannot be loaded; nothing is connected yet.
  static Result<std::unique_ptr<HttpTransport>> Create(DockerEndpoint endpoint,
                                                       TransportOptions options = {});
  ~HttpTransport();
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  // Any HTTP status is a successful round trip; errors are transport
  // failures (Unavailable: cannot connect, timeout, connection dropped).
  Result<HttpResponse> RoundTrip(const HttpRequest& request);

  // Sends `request` on a dedicated connection and hands the response body to
  // on_data as it arrives (chunk framing removed, arbitrary split points).
  // Stops when the body ends, on_data returns false or `cancel` turns true
  // (checked every cancel_poll_interval). For a non-2xx status on_data is
  // never called and the body comes back in the result. A dropped connection
  // after the header is an Unavailable error. on_header, if set, gets the
  // status as soon as the response header has arrived.
  Result<HttpResponse> Stream(const HttpRequest& request,
                              const std::function<bool(std::string_view)>& on_data,
                              const std::atomic<bool>& cancel,
                              const std::function<void(int status)>& on_header = nullptr);

  const DockerEndpoint& endpoint() const { return endpoint_; }
  const TransportOptions& options() const { return options_; }

  class Connection;  // defined in the .cc

 private:
  HttpTransport(DockerEndpoint endpoint, TransportOptions options);

  Result<std::unique_ptr<Connection>> Dial(const std::atomic<bool>* cancel = nullptr);
  std::unique_ptr<Connection> TakeIdle();
  void ReturnIdle(std::unique_ptr<Connection> conn);

  const DockerEndpoint endpoint_;
  const TransportOptions options_;
  std::unique_ptr<boost::asio::ssl::context>
      tls_;  // set when endpoint_.tls; read-only after Create

  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
};

}  // namespace sg::docker
