#include "operator/agent/http_client.h"

#include <algorithm>
#include <cctype>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace sg::agent {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

// Configurations are < 1 MB (Docker config limit); leave room for growth.
constexpr std::uint64_t kBodyLimit = 64u << 20;

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
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

std::string QueryEscape(const std::string& value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

// One io_context per client, run only inside Do() on the caller's thread.
// Cancel() posts a handler that closes the request in flight; the pointers
// below are set and read only on the thread running the io_context.
struct HttpClient::Io {
  net::io_context ioc;
  tcp::resolver* resolver = nullptr;
  beast::tcp_stream* stream = nullptr;

  void Abort() {
    if (resolver != nullptr) resolver->cancel();
    if (stream != nullptr) {
      beast::error_code ignored;
      stream->socket().close(ignored);
    }
  }
};

HttpClient::HttpClient(HttpEndpoint endpoint)
    : endpoint_(std::move(endpoint)), io_(std::make_unique<Io>()) {}

HttpClient::~HttpClient() = default;

void HttpClient::Cancel() {
  cancelled_ = true;
  // Runs inside the Do() in flight, or at the start of the next one (which
  // then finds cancelled_ set anyway). Never stops the io_context, so Do()
  // always completes its own handlers before its frame goes away.
  Io* io = io_.get();
  net::post(io->ioc, [io] { io->Abort(); });
}

Result<HttpReply> HttpClient::Do(const HttpCall& call, std::chrono::milliseconds timeout) {
  if (cancelled_) return Unavailable("cancelled");
  net::io_context& ioc = io_->ioc;
  ioc.restart();

  tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  io_->resolver = &resolver;
  io_->stream = &stream;
  struct Unlink {
    Io* io;
    ~Unlink() {
      io->resolver = nullptr;
      io->stream = nullptr;
    }
  } unlink{io_.get()};
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(call.method), call.target, 11};
  req.set(bhttp::field::host, endpoint_.host + ":" + std::to_string(endpoint_.port));
  req.set(bhttp::field::user_agent, "swarmgate-proxy");
  req.keep_alive(false);
  for (const auto& [name, value] : call.headers) req.set(name, value);
  if (!call.body.empty()) {
    req.set(bhttp::field::content_type,
            call.content_type.empty() ? "application/octet-stream" : call.content_type);
    req.body() = call.body;
  }
  req.prepare_payload();
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(kBodyLimit);

  beast::error_code result;
  const char* stage = "resolve";
  bool done = false;
  auto finish = [&](beast::error_code ec) {
    result = ec;
    done = true;
  };
  resolver.async_resolve(
      endpoint_.host, std::to_string(endpoint_.port),
      [&](beast::error_code ec, const tcp::resolver::results_type& results) {
        if (ec) return finish(ec);
        stage = "connect";
        stream.async_connect(results, [&](beast::error_code ec2, const tcp::endpoint&) {
          if (ec2) return finish(ec2);
          stage = "write";
          bhttp::async_write(stream, req, [&](beast::error_code ec3, std::size_t) {
            if (ec3) return finish(ec3);
            stage = "read";
            bhttp::async_read(stream, buffer, parser,
                              [&](beast::error_code ec4, std::size_t) { finish(ec4); });
          });
        });
      });
  ioc.run_for(timeout);

  const std::string where = endpoint_.host + ":" + std::to_string(endpoint_.port);
  if (!done) {
    io_->Abort();
    ioc.restart();
    ioc.run();  // completes the aborted operations while this frame lives
    if (cancelled_) return Unavailable("cancelled");
    return Unavailable(std::string(stage) + " " + where + ": timed out after " +
                       std::to_string(timeout.count()) + "ms");
  }
  if (cancelled_) return Unavailable("cancelled");
  if (result) {
    return Unavailable(std::string(stage) + " " + where + ": " + result.message());
  }
  HttpReply reply;
  auto& res = parser.get();
  reply.status = static_cast<int>(res.result_int());
  for (const auto& field : res) {
    reply.headers[Lower(std::string(field.name_string()))] = std::string(field.value());
  }
  reply.body = std::move(res.body());
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return reply;
}

}  // namespace sg::agent
