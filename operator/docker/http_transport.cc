#include "operator/docker/http_transport.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <limits>
#include <variant>

namespace sg::docker {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

namespace {

std::string FormatDuration(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + "s";
  return std::to_string(d.count()) + "ms";
}

bool IsIpLiteral(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// The connection was closed by the peer before it sent anything: typical of
// an idle keep-alive connection the engine has dropped.
bool IsStaleConnectionError(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::ssl::error::stream_truncated;
}

}  // namespace

// One connection to the engine with its own io_context. Not thread-safe: the
// transport hands it to one caller at a time.
class HttpTransport::Connection {
 public:
  using UnixSocket = asio::local::stream_protocol::socket;
  using TcpSocket = asio::ip::tcp::socket;
  using TlsStream = asio::ssl::stream<TcpSocket>;

  Connection() = default;
  ~Connection() { Close(); }

  asio::io_context ioc;
  beast::flat_buffer buffer;  // bytes read past the previous response
  std::variant<std::monostate, std::unique_ptr<UnixSocket>, std::unique_ptr<TcpSocket>,
               std::unique_ptr<TlsStream>>
      stream;
  bool reused = false;

  // Runs completion handlers until `done` or `until`; returns `done`.
  bool Pump(const bool& done, Clock::time_point until) {
    while (!done) {
      if (ioc.stopped()) ioc.restart();
      if (ioc.run_one_until(until) == 0) {
        if (Clock::now() >= until || ioc.stopped()) break;
      }
    }
    return done;
  }

  enum class Wait { kDone, kTimeout, kCancelled };

  // Pump that also gives up when `*cancel` turns true, checked every `poll`
  // (no flag: plain Pump).
  Wait PumpCancellable(const bool& done, Clock::time_point until, const std::atomic<bool>* cancel,
                       std::chrono::milliseconds poll) {
    if (cancel == nullptr) return Pump(done, until) ? Wait::kDone : Wait::kTimeout;
    for (;;) {
      if (cancel->load()) return Wait::kCancelled;
      const auto slice = std::min(until, Clock::now() + poll);
      if (Pump(done, slice)) return Wait::kDone;
      if (Clock::now() >= until) return Wait::kTimeout;
    }
  }

  // Aborts whatever is in flight by closing the socket, then lets the
  // aborted handlers run so nothing refers to the caller's stack afterwards.
  void Abort() {
    Close();
    ioc.restart();
    ioc.run();
  }

  void Close() {
    error_code ignored;
    std::visit(
        [&](auto& s) {
          using T = std::decay_t<decltype(s)>;
          if constexpr (std::is_same_v<T, std::unique_ptr<TlsStream>>) {
            if (s) s->next_layer().close(ignored);
          } else if constexpr (!std::is_same_v<T, std::monostate>) {
            if (s) s->close(ignored);
          }
        },
        stream);
  }

  // Calls f(stream&) with the concrete stream type.
  template <class F>
  void With(F&& f) {
    std::visit(
        [&](auto& s) {
          using T = std::decay_t<decltype(s)>;
          if constexpr (!std::is_same_v<T, std::monostate>) f(*s);
        },
        stream);
  }
};

HttpTransport::HttpTransport(DockerEndpoint endpoint, TransportOptions options)
    : endpoint_(std::move(endpoint)), options_(options) {}

HttpTransport::~HttpTransport() = default;

Result<std::unique_ptr<HttpTransport>> HttpTransport::Create(DockerEndpoint endpoint,
                                                             TransportOptions options) {
  std::unique_ptr<HttpTransport> t(new HttpTransport(std::move(endpoint), options));
  if (t->endpoint_.tls) {
    auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                     asio::ssl::context::no_tlsv1_1);
    ctx->set_verify_mode(asio::ssl::verify_peer);
    error_code ec;
    const DockerEndpoint& ep = t->endpoint_;
    auto fail = [&](const std::string& what, const std::string& file) {
      return InvalidArgument("TLS setup for " + ep.url + ": cannot load " + what + " " + file +
                             ": " + ec.message());
    };
    if (!ep.ca_file.empty()) {
      ctx->load_verify_file(ep.ca_file, ec);
      if (ec) return fail("CA certificate", ep.ca_file);
    } else {
      ctx->set_default_verify_paths(ec);
      if (ec) return fail("system trust store", "");
    }
    if (!ep.cert_file.empty()) {
      ctx->use_certificate_chain_file(ep.cert_file, ec);
      if (ec) return fail("client certificate", ep.cert_file);
      ctx->use_private_key_file(ep.key_file, asio::ssl::context::pem, ec);
      if (ec) return fail("client key", ep.key_file);
    }
    t->tls_ = std::move(ctx);
  }
  return t;
}

Result<std::unique_ptr<HttpTransport::Connection>> HttpTransport::Dial(
    const std::atomic<bool>* cancel) {
  auto conn = std::make_unique<Connection>();
  const auto deadline = Clock::now() + options_.connect_timeout;
  bool done = false;
  error_code ec;
  using Wait = Connection::Wait;
  auto wait = [&]() {
    return conn->PumpCancellable(done, deadline, cancel, options_.cancel_poll_interval);
  };
  // Not kDone: aborts what is in flight and says why.
  auto gave_up = [&](Wait w) {
    conn->Abort();
    if (w == Wait::kCancelled) return Unavailable("cancelled");
    return Unavailable("cannot connect to " + endpoint_.url + ": timed out after " +
                       FormatDuration(options_.connect_timeout));
  };
  auto failed = [&](const error_code& e) {
    return Unavailable("cannot connect to " + endpoint_.url + ": " + e.message());
  };

  if (endpoint_.kind == DockerEndpoint::Kind::kUnix) {
    auto sock = std::make_unique<Connection::UnixSocket>(conn->ioc);
    sock->async_connect(asio::local::stream_protocol::endpoint(endpoint_.socket_path),
                        [&](const error_code& e) {
                          ec = e;
                          done = true;
                        });
    conn->stream = std::move(sock);
    if (Wait w = wait(); w != Wait::kDone) return gave_up(w);
    if (ec) return failed(ec);
    return conn;
  }

  asio::ip::tcp::resolver resolver(conn->ioc);
  asio::ip::tcp::resolver::results_type endpoints;
  resolver.async_resolve(endpoint_.host, endpoint_.port,
                         [&](const error_code& e, asio::ip::tcp::resolver::results_type r) {
                           ec = e;
                           endpoints = std::move(r);
                           done = true;
                         });
  if (Wait w = wait(); w != Wait::kDone) {
    resolver.cancel();
    conn->Abort();
    if (w == Wait::kCancelled) return Unavailable("cancelled");
    return Unavailable("cannot connect to " + endpoint_.url + ": name resolution timed out");
  }
  if (ec) return failed(ec);

  auto sock = std::make_unique<Connection::TcpSocket>(conn->ioc);
  done = false;
  asio::async_connect(*sock, endpoints, [&](const error_code& e, const asio::ip::tcp::endpoint&) {
    ec = e;
    done = true;
  });
  Connection::TcpSocket* raw = sock.get();
  conn->stream = std::move(sock);
  if (Wait w = wait(); w != Wait::kDone) return gave_up(w);
  if (ec) return failed(ec);
  raw->set_option(asio::ip::tcp::no_delay(true), ec);
  if (options_.tcp_keepalive.count() > 0) {
    const int fd = raw->native_handle();
    const int on = 1, idle = static_cast<int>(options_.tcp_keepalive.count()), probes = 2;
    // Best effort: a socket without keepalive still works, only slower to
    // notice a vanished peer.
    (void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &idle, sizeof idle);
    (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof probes);
  }

  if (!endpoint_.tls) return conn;

  auto tls = std::make_unique<Connection::TlsStream>(std::move(*raw), *tls_);
  if (!IsIpLiteral(endpoint_.host)) {
    // SNI, so a TLS front end can pick the right certificate.
    SSL_set_tlsext_host_name(tls->native_handle(), endpoint_.host.c_str());
  }
  tls->set_verify_callback(asio::ssl::host_name_verification(endpoint_.host));
  done = false;
  tls->async_handshake(asio::ssl::stream_base::client, [&](const error_code& e) {
    ec = e;
    done = true;
  });
  conn->stream = std::move(tls);
  if (Wait w = wait(); w != Wait::kDone) return gave_up(w);
  if (ec) {
    return Unavailable("TLS handshake with " + endpoint_.url + " failed: " + ec.message());
  }
  return conn;
}

std::unique_ptr<HttpTransport::Connection> HttpTransport::TakeIdle() {
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.empty()) return nullptr;
  auto conn = std::move(idle_.back());
  idle_.pop_back();
  return conn;
}

void HttpTransport::ReturnIdle(std::unique_ptr<Connection> conn) {
  if (!options_.keep_alive) return;
  conn->reused = true;
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < options_.max_idle_connections) idle_.push_back(std::move(conn));
}

namespace {

http::request<http::string_body> BuildRequest(const HttpRequest& in, const DockerEndpoint& ep,
                                              const TransportOptions& options) {
  http::request<http::string_body> req;
  req.method(http::string_to_verb(in.method));
  req.target(in.target);
  req.version(11);
  req.set(http::field::host, ep.HostHeader());
  req.set(http::field::user_agent, options.user_agent);
  if (!options.keep_alive) req.keep_alive(false);
  for (const auto& [name, value] : in.headers) req.set(name, value);
  if (!in.body.empty()) {
    req.set(http::field::content_type,
            in.content_type.empty() ? "application/json" : in.content_type);
    req.body() = in.body;
  }
  req.prepare_payload();
  return req;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

template <class Fields>
std::map<std::string, std::string> HeaderMap(const Fields& fields) {
  std::map<std::string, std::string> out;
  for (const auto& field : fields) {
    out[Lower(std::string(field.name_string()))] = std::string(field.value());
  }
  return out;
}

}  // namespace

std::string HttpResponse::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

Result<HttpResponse> HttpTransport::RoundTrip(const HttpRequest& request) {
  const auto timeout = request.timeout.count() > 0 ? request.timeout : options_.request_timeout;
  const auto req = BuildRequest(request, endpoint_, options_);
  const std::string what = request.method + " " + request.target;
  using Wait = Connection::Wait;
  auto gave_up = [&](Connection& conn, Wait w) {
    conn.Abort();
    if (w == Wait::kCancelled) return Unavailable("cancelled");
    return Unavailable(what + " to " + endpoint_.url + " timed out after " +
                       FormatDuration(timeout));
  };

  // A pooled connection may have been closed by the engine while idle; that
  // shows as EOF before any response byte, and the request is then retried
  // once on a fresh connection (the engine never saw it).
  for (int attempt = 0;; ++attempt) {
    if (request.cancel != nullptr && request.cancel->load()) return Unavailable("cancelled");
    std::unique_ptr<Connection> conn = attempt == 0 ? TakeIdle() : nullptr;
    if (!conn) {
      auto dialed = Dial(request.cancel);
      if (!dialed.ok()) return dialed.error();
      conn = std::move(dialed).value();
    }
    const auto deadline = Clock::now() + timeout;
    bool done = false;
    error_code ec;
    conn->With([&](auto& s) {
      http::async_write(s, req, [&](const error_code& e, size_t) {
        ec = e;
        done = true;
      });
    });
    Wait w = conn->PumpCancellable(done, deadline, request.cancel, options_.cancel_poll_interval);
    if (w != Wait::kDone) return gave_up(*conn, w);
    if (ec) {
      if (conn->reused && attempt == 0 && IsStaleConnectionError(ec)) continue;
      return Unavailable(what + " to " + endpoint_.url + " failed: " + ec.message());
    }

    http::response_parser<http::string_body> parser;
    parser.body_limit(options_.max_body_bytes);
    if (request.method == "HEAD") parser.skip(true);
    done = false;
    conn->With([&](auto& s) {
      http::async_read(s, conn->buffer, parser, [&](const error_code& e, size_t) {
        ec = e;
        done = true;
      });
    });
    w = conn->PumpCancellable(done, deadline, request.cancel, options_.cancel_poll_interval);
    if (w != Wait::kDone) return gave_up(*conn, w);
    if (ec) {
      if (conn->reused && attempt == 0 && !parser.got_some() && IsStaleConnectionError(ec)) {
        continue;
      }
      return Unavailable(what + " to " + endpoint_.url + " failed: " + ec.message());
    }
    auto& res = parser.get();
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    out.headers = HeaderMap(res);
    out.body = std::move(res.body());
    if (options_.keep_alive && res.keep_alive() && !parser.need_eof()) {
      ReturnIdle(std::move(conn));
    }
    return out;
  }
}

Result<HttpResponse> HttpTransport::Stream(const HttpRequest& request,
                                           const std::function<bool(std::string_view)>& on_data,
                                           const std::atomic<bool>& cancel,
                                           const std::function<void(int)>& on_header) {
  const auto timeout = request.timeout.count() > 0 ? request.timeout : options_.request_timeout;
  const std::string what = request.method + " " + request.target;
  auto dialed = Dial(&cancel);
  if (!dialed.ok()) {
    if (cancel.load()) return HttpResponse{};
    return dialed.error();
  }
  std::unique_ptr<Connection> conn = std::move(dialed).value();
  const auto req = BuildRequest(request, endpoint_, options_);

  // Runs until done, the deadline, or cancel; polls the flag in between.
  enum class Outcome { kDone, kTimeout, kCancelled };
  auto pump = [&](const bool& done, Clock::time_point deadline) {
    for (;;) {
      if (cancel.load()) return Outcome::kCancelled;
      auto slice = std::min(deadline, Clock::now() + options_.cancel_poll_interval);
      if (conn->Pump(done, slice)) return Outcome::kDone;
      if (Clock::now() >= deadline) return Outcome::kTimeout;
    }
  };

  bool done = false;
  error_code ec;
  auto deadline = Clock::now() + timeout;
  conn->With([&](auto& s) {
    http::async_write(s, req, [&](const error_code& e, size_t) {
      ec = e;
      done = true;
    });
  });
  http::response_parser<http::buffer_body> parser;
  // An event stream has no natural end. Not boost::none: Beast 1.74
  // compares a Content-Length against the optional limit and then treats
  // "no limit" as smaller than any length.
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  Outcome o = pump(done, deadline);
  if (o == Outcome::kDone && !ec) {
    done = false;
    conn->With([&](auto& s) {
      http::async_read_header(s, conn->buffer, parser, [&](const error_code& e, size_t) {
        ec = e;
        done = true;
      });
    });
    o = pump(done, deadline);
  }
  if (o == Outcome::kCancelled) {
    conn->Abort();
    return HttpResponse{};
  }
  if (o == Outcome::kTimeout) {
    conn->Abort();
    return Unavailable(what + " to " + endpoint_.url + " timed out after " +
                       FormatDuration(timeout));
  }
  if (ec) return Unavailable(what + " to " + endpoint_.url + " failed: " + ec.message());

  HttpResponse out;
  out.status = static_cast<int>(parser.get().result_int());
  out.headers = HeaderMap(parser.get());
  if (on_header) on_header(out.status);
  const bool success = out.status >= 200 && out.status < 300;
  // An error answer is a small JSON document: read it all within the
  // request deadline. A success streams until cancelled, so no deadline.
  const auto body_deadline = success ? Clock::time_point::max() : deadline;
  char buf[16384];
  while (!parser.is_done()) {
    parser.get().body().data = buf;
    parser.get().body().size = sizeof(buf);
    done = false;
    conn->With([&](auto& s) {
      http::async_read_some(s, conn->buffer, parser, [&](const error_code& e, size_t) {
        ec = e;
        done = true;
      });
    });
    o = pump(done, body_deadline);
    if (o != Outcome::kDone) {
      conn->Abort();
      if (o == Outcome::kCancelled) return out;
      return Unavailable(what + " to " + endpoint_.url + " timed out after " +
                         FormatDuration(timeout));
    }
    if (ec == http::error::need_buffer) ec = {};
    if (ec) {
      return Unavailable(what + " to " + endpoint_.url + ": stream ended: " + ec.message());
    }
    const size_t n = sizeof(buf) - parser.get().body().size;
    if (n == 0) continue;
    if (!success) {
      out.body.append(buf, n);
      if (out.body.size() > options_.max_body_bytes) break;
      continue;
    }
    if (!on_data(std::string_view(buf, n))) {
      conn->Abort();
      return out;
    }
  }
  return out;
}

}  // namespace sg::docker
