#pragma once
// A minimal blocking HTTP/1.1 client over TCP (Boost.Beast), enough for the
// proxy agent to talk to the operator on the control network: one request
// per connection, a deadline per request, and Cancel() to abort a long-poll
// at shutdown.
//
// Thread-safety: Do() runs on one thread at a time per instance (callers
// that need concurrency use one instance each); Cancel() may be called from
// any thread and is terminal: the request in flight and every later one fail
// with Unavailable("cancelled").

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "operator/common/result.h"

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

  // Sends `call` and reads the answer within `timeout` (connect included).
  // Transport errors, timeouts and cancellation are Unavailable; any HTTP
  // status is a successful reply.
  Result<HttpReply> Do(const HttpCall& call, std::chrono::milliseconds timeout);
  void Cancel();

  const HttpEndpoint& endpoint() const { return endpoint_; }

 private:
  struct Io;

  const HttpEndpoint endpoint_;
  std::unique_ptr<Io> io_;
  std::atomic<bool> cancelled_{false};
};

// URL query escaping of a value (RFC 3986 unreserved characters kept).
std::string QueryEscape(const std::string& value);

}  // namespace sg::agent
