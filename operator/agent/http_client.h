#pragma once
// The proxy agent's HTTP client for the operator on the control network:
// plain http:// URLs, a deadline per request, and Cancel() to abort a
// long-poll at shutdown. The wire work is done by the project's one HTTP
// transport (operator/docker/http_transport.h, Boost.Beast over TCP), one
// connection per request.
//
// Thread-safety: Do() may be called from several threads at once (each call
// gets its own connection); Cancel() may be called from any thread and is
// terminal: the request in flight and every later one fail with
// Unavailable("cancelled").

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "operator/common/result.h"

namespace sg::docker {
class HttpTransport;
}

namespace sg::agent {

struct HttpEndpoint {
  std::string host;
  std::uint16_t port = 80;
  std::string base_path;  // without a trailing '/', "" for the root
};

// Parses "http://HOST[:PORT][/BASE]". Only plain http: the control overlay
// is private to the operator and the proxies.
Result<HttpEndpoint> ParseHttpUrl(const std::string& url);

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  std::string Header(const std::string& lower_name) const;
};

struct HttpCall {
  std::string method = "GET";
  std::string target = "/";  // path and query, already encoded
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string content_type;  // set when body is not empty
};

class HttpClient {
 public:
  explicit HttpClient(HttpEndpoint endpoint);
  ~HttpClient();

  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends `call` and reads the answer within `timeout` (plus at most the
  // connect timeout, 1 s, when a new connection is needed). Transport errors,
  // timeouts and cancellation are Unavailable; any HTTP status is a
  // successful reply.
  Result<HttpReply> Do(const HttpCall& call, std::chrono::milliseconds timeout);
  void Cancel();

  const HttpEndpoint& endpoint() const { return endpoint_; }

 private:
  const HttpEndpoint endpoint_;
  std::unique_ptr<docker::HttpTransport> transport_;
  std::atomic<bool> cancelled_{false};
};

// URL query escaping of a value (RFC 3986 unreserved characters kept):
// sg::PercentEncode of operator/common/hash.h.
std::string QueryEscape(const std::string& value);

}  // namespace sg::agent
