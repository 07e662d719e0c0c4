#include "operator/agent/http_client.h"

#include <algorithm>
#include <cctype>

#include "operator/common/hash.h"
#include "operator/docker/http_transport.h"

namespace sg::agent {
namespace {

// How quickly Cancel() ends a request in flight (a shutdown waits for it).
constexpr std::chrono::milliseconds kCancelPoll{50};
// The operator is one overlay hop away: connects take milliseconds, and one
// that hangs is a task that is gone (its name can still resolve for a
// moment); the next attempt resolves again.
constexpr std::chrono::milliseconds kConnectTimeout{1000};
// A long poll to an operator whose node dropped off the network fails in
// about 3 s instead of at the end of its window.
constexpr std::chrono::seconds kTcpKeepalive{1};
// Configurations are < 1 MB (Docker config limit); leave room for growth.
constexpr std::size_t kBodyLimit = 64u << 20;

docker::DockerEndpoint TransportEndpoint(const HttpEndpoint& ep) {
  docker::DockerEndpoint out;
  out.kind = docker::DockerEndpoint::Kind::kTcp;
  out.host = ep.host;
  out.port = std::to_string(ep.port);
  out.url = "http://" + out.HostHeader();
  return out;
}

std::unique_ptr<docker::HttpTransport> MakeTransport(const HttpEndpoint& ep) {
  docker::TransportOptions options;
  options.connect_timeout = kConnectTimeout;
  options.tcp_keepalive = kTcpKeepalive;
  options.cancel_poll_interval = kCancelPoll;
  options.max_body_bytes = kBodyLimit;
  options.user_agent = "swarmgate-proxy";
  // The operator is reached through its service VIP: a new connection per
  // request follows it when it moves, where an idle pooled one could hang.
  options.keep_alive = false;
  // Fails only when TLS material cannot be loaded; this endpoint is plain TCP.
  auto created = docker::HttpTransport::Create(TransportEndpoint(ep), options);
  return created.ok() ? std::move(created).value() : nullptr;
}

}  // namespace

Result<HttpEndpoint> ParseHttpUrl(const std::string& url) {
  static const std::string kScheme = "http://";
  if (url.compare(0, kScheme.size(), kScheme) != 0) {
    return InvalidArgument("operator URL \"" + url + "\" must start with http://");
  }
  std::string rest = url.substr(kScheme.size());
  HttpEndpoint ep;
  const auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) {
    ep.base_path = rest.substr(slash);
    while (!ep.base_path.empty() && ep.base_path.back() == '/') ep.base_path.pop_back();
  }
  std::string port;
  if (!authority.empty() && authority.front() == '[') {  // [::1]:9090
    const auto close = authority.find(']');
    if (close == std::string::npos) return InvalidArgument("bad IPv6 address in \"" + url + "\"");
    ep.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return InvalidArgument("bad authority in \"" + url + "\"");
      port = authority.substr(close + 2);
    }
  } else {
    const auto colon = authority.rfind(':');
    ep.host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
  }
  if (ep.host.empty()) return InvalidArgument("operator URL \"" + url + "\" has no host");
  if (!port.empty()) {
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit)) {
      return InvalidArgument("bad port in \"" + url + "\"");
    }
    const int p = std::stoi(port);
    if (p <= 0 || p > 65535) return InvalidArgument("bad port in \"" + url + "\"");
    ep.port = static_cast<std::uint16_t>(p);
  }
  return ep;
}

std::string HttpReply::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

std::string QueryEscape(const std::string& value) { return PercentEncode(value); }

HttpClient::HttpClient(HttpEndpoint endpoint)
    : endpoint_(std::move(endpoint)), transport_(MakeTransport(endpoint_)) {}

HttpClient::~HttpClient() = default;

void HttpClient::Cancel() { cancelled_ = true; }

Result<HttpReply> HttpClient::Do(const HttpCall& call, std::chrono::milliseconds timeout) {
  if (cancelled_) return Unavailable("cancelled");
  if (!transport_) return Internal("no HTTP transport for " + endpoint_.host);
  docker::HttpRequest req;
  req.method = call.method;
  req.target = call.target;
  req.headers = call.headers;
  req.body = call.body;
  req.content_type = call.content_type.empty() && !call.body.empty() ? "application/octet-stream"
                                                                     : call.content_type;
  // The transport treats 0 as "its default"; a zero deadline here means
  // "answer at once".
  req.timeout = std::max(timeout, std::chrono::milliseconds(1));
  req.cancel = &cancelled_;
  auto res = transport_->RoundTrip(req);
  if (cancelled_) return Unavailable("cancelled");
  if (!res.ok()) return res.error();
  HttpReply reply;
  reply.status = res->status;
  reply.headers = std::move(res->headers);
  reply.body = std::move(res->body);
  return reply;
}

}  // namespace sg::agent
