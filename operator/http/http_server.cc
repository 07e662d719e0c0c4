#include "operator/http/http_server.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <variant>

#include <sys/socket.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "operator/runtime/logging.h"

namespace sg::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool PrefixMatches(const std::string& prefix, const std::string& path) {
  if (path.compare(0, prefix.size(), prefix) != 0) return false;
  if (!prefix.empty() && prefix.back() == '/') return true;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

std::map<std::string, std::string> ParseQuery(std::string_view q) {
  std::map<std::string, std::string> out;
  while (!q.empty()) {
    const auto amp = q.find('&');
    const auto part = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (part.empty()) continue;
    const auto eq = part.find('=');
    if (eq == std::string_view::npos) {
      out[PercentDecode(part, true)] = "";
    } else {
      out[PercentDecode(part.substr(0, eq), true)] = PercentDecode(part.substr(eq + 1), true);
    }
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------
// Request / Response

std::string Request::Header(std::string_view name) const {
  auto it = headers.find(Lower(name));
  return it == headers.end() ? std::string() : it->second;
}

std::optional<std::string> Request::Query(const std::string& name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

Response Response::Text(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response Response::Json(int status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

Result<std::pair<std::string, std::uint16_t>> ParseListenAddress(std::string_view addr) {
  const auto colon = addr.rfind(':');
  if (colon == std::string_view::npos) {
    return InvalidArgument("listen address \"" + std::string(addr) + "\": expected HOST:PORT");
  }
  std::string host(addr.substr(0, colon));
  const std::string port_s(addr.substr(colon + 1));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (port_s.empty() ||
      !std::all_of(port_s.begin(), port_s.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      port_s.size() > 5 || std::stoul(port_s) > 65535) {
    return InvalidArgument("listen address \"" + std::string(addr) + "\": bad port");
  }
  return std::make_pair(host, static_cast<std::uint16_t>(std::stoul(port_s)));
}

std::string PercentDecode(std::string_view s, bool plus_as_space) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else if (plus_as_space && s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Internals

class Connection;

namespace detail {

// Links a Responder to the connection waiting for its answer. The link is
// cut (connection reset) by the first of: an answer, the deadline, the
// connection closing. While linked, it keeps the connection alive; afterwards
// a Responder held by application code refers to nothing.
struct PendingResponse {
  std::mutex mu;
  std::shared_ptr<Connection> connection;  // guarded by mu

  std::shared_ptr<Connection> Take() {
    std::lock_guard<std::mutex> l(mu);
    return std::move(connection);
  }
  bool Linked() {
    std::lock_guard<std::mutex> l(mu);
    return connection != nullptr;
  }
};

}  // namespace detail

struct Route {
  std::string method;
  std::string prefix;
  Handler handler;
  AsyncHandler async_handler;
};

class HttpServer::Impl {
 public:
  explicit Impl(ServerOptions options) : options_(std::move(options)) {}

  ~Impl() { Stop(); }

  void AddRoute(Route r) {
    std::unique_lock<std::shared_mutex> l(routes_mu_);
    routes_.push_back(std::move(r));
  }

  // Finds the route for (method, path), or the status to answer (404/405).
  std::variant<Route, int> FindRoute(const std::string& method, const std::string& path) const {
    std::shared_lock<std::shared_mutex> l(routes_mu_);
    const Route* best = nullptr;
    bool path_matched = false;
    for (const auto& r : routes_) {
      if (!PrefixMatches(r.prefix, path)) continue;
      path_matched = true;
      if (r.method != "*" && r.method != method) continue;
      if (best == nullptr || r.prefix.size() > best->prefix.size()) best = &r;
    }
    if (best != nullptr) return *best;
    return path_matched ? 405 : 404;
  }

  Status Start();
  void Stop();
  std::uint16_t port() const { return port_.load(); }

  const ServerOptions& options() const { return options_; }
  bool stopping() const { return stopping_.load(); }

  void Register(Connection* s, std::weak_ptr<Connection> w) {
    std::lock_guard<std::mutex> l(connections_mu_);
    connections_.emplace(s, std::move(w));
  }
  void Unregister(Connection* s) {
    std::lock_guard<std::mutex> l(connections_mu_);
    connections_.erase(s);
    connections_cv_.notify_all();
  }

 private:
  void DoAccept();
  std::vector<std::shared_ptr<Connection>> LiveConnections();

  const ServerOptions options_;
  mutable std::shared_mutex routes_mu_;
  std::vector<Route> routes_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint16_t> port_{0};
  bool started_ = false;
  bool stopped_ = false;

  // Declared before io_context_: connections destroyed while the io_context is
  // torn down unregister themselves here.
  std::mutex connections_mu_;
  std::condition_variable connections_cv_;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections_;

  net::io_context io_context_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  std::optional<tcp::acceptor> acceptor_;
  std::optional<net::steady_timer> accept_retry_;
  std::vector<std::thread> threads_;
};

// One connection: reads a request, dispatches it, writes the answer, and
// loops while keep-alive. Every member is touched only on the strand.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, HttpServer::Impl& server)
      : stream_(std::move(socket)), server_(server), timer_(stream_.get_executor()) {
    boost::system::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
  }

  ~Connection() { server_.Unregister(this); }

  void Run() {
    server_.Register(this, weak_from_this());
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->DoRead(); });
  }

  // Asks the connection to finish: from any thread.
  void Shutdown(bool force) {
    net::post(stream_.get_executor(),
              [self = shared_from_this(), force] { self->OnShutdown(force); });
  }

  // Delivers the answer to the request `p` stands for: from any thread.
  void Deliver(std::shared_ptr<detail::PendingResponse> p, Response r) {
    net::post(stream_.get_executor(),
              [self = shared_from_this(), p = std::move(p), r = std::move(r)]() mutable {
                self->CompletePending(p, std::move(r));
              });
  }

  // (Re)arms the deadline of the request `p` stands for: from any thread.
  // Handlers compare `p` with pending_ so that a late timer, watch or
  // answer of one request can never complete the next one on this connection.
  void ArmDeadline(std::shared_ptr<detail::PendingResponse> p,
                   std::chrono::steady_clock::duration d, Response on_timeout) {
    net::post(stream_.get_executor(), [self = shared_from_this(), p = std::move(p), d,
                                       r = std::move(on_timeout)]() mutable {
      if (self->state_ != State::kWaiting || self->pending_ != p) return;
      self->timeout_response_ = std::move(r);
      self->timer_.expires_after(d);
      self->timer_.async_wait([self, p](boost::system::error_code ec) {
        if (ec || self->pending_ != p) return;  // cancelled, re-armed, or answered
        if (p->Take() == nullptr) return;       // an answer is on its way
        self->CompletePending(p, std::move(self->timeout_response_));
      });
    });
  }

  // Cuts the link from the pending Responder; only when no thread runs.
  void DetachPending() {
    if (pending_) pending_->Take();
  }

 private:
  enum class State { kReading, kHandling, kWaiting, kWriting, kClosed };

  void DoRead() {
    if (server_.stopping()) return Close();
    state_ = State::kReading;
    parser_.emplace();
    parser_->body_limit(server_.options().body_limit);
    parser_->header_limit(16 * 1024);
    stream_.expires_after(server_.options().read_timeout);
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (state_ == State::kClosed) return;
    if (ec == bhttp::error::body_limit) {
      keep_alive_ = false;
      return Write(Response::Text(413, "request body too large\n"));
    }
    if (ec) return Close();  // EOF, timeout, reset, shutdown, malformed
    auto& msg = parser_->get();
    keep_alive_ = msg.keep_alive();
    version_ = msg.version();

    Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    const auto q = req.target.find('?');
    req.path = req.target.substr(0, q);
    if (q != std::string::npos) req.query = ParseQuery(std::string_view(req.target).substr(q + 1));
    for (const auto& f : msg)
      req.headers[Lower(std::string(f.name_string()))] = std::string(f.value());
    req.body = std::move(msg.body());
    req.remote_address = remote_;

    state_ = State::kHandling;
    auto found = server_.FindRoute(req.method, req.path);
    if (auto* status = std::get_if<int>(&found)) {
      return Write(
          Response::Text(*status, *status == 404 ? "not found\n" : "method not allowed\n"));
    }
    const Route& route = std::get<Route>(found);
    if (route.handler) {
      Response resp;
      try {
        resp = route.handler(req);
      } catch (const std::exception& e) {
        Log()->error("handler for {} {} threw: {}", req.method, req.path, e.what());
        resp = Response::Text(500, "internal error\n");
      }
      return Write(std::move(resp));
    }

    state_ = State::kWaiting;
    pending_ = std::make_shared<detail::PendingResponse>();
    pending_->connection = shared_from_this();
    WatchPeer(pending_);
    Responder responder(pending_);
    responder.SetDeadline(server_.options().async_timeout,
                          Response::Text(503, "no answer in time\n"));
    try {
      route.async_handler(req, responder);
    } catch (const std::exception& e) {
      Log()->error("handler for {} {} threw: {}", req.method, req.path, e.what());
      responder.Respond(Response::Text(500, "internal error\n"));
    }
  }

  void CompletePending(const std::shared_ptr<detail::PendingResponse>& p, Response r) {
    if (state_ != State::kWaiting || pending_ != p) return;
    timer_.cancel();
    beast::error_code ec;
    stream_.socket().cancel(ec);  // the peer watch
    pending_->Take();
    pending_.reset();
    Write(std::move(r));
  }

  // While a request waits for its answer nothing reads the socket, so a
  // client that goes away would go unnoticed until the deadline. Waiting
  // for readability and peeking tells EOF (close, and Responder::Pending()
  // turns false so waiter lists can drop it) from a pipelined request
  // (left for the next read).
  void WatchPeer(std::shared_ptr<detail::PendingResponse> p) {
    stream_.socket().async_wait(tcp::socket::wait_read, [self = shared_from_this(),
                                                         p](beast::error_code ec) {
      if (self->state_ != State::kWaiting || self->pending_ != p) return;
      if (ec) return self->Close();
      // Never a blocking receive here: Asio would poll() on this I/O
      // thread if the readiness was spurious, stalling every connection
      // that shares it.
      char c;
      const auto n = ::recv(self->stream_.socket().native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n > 0) return;  // a pipelined request: read after this answer
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        return self->WatchPeer(p);  // spurious wake-up
      }
      self->Close();  // EOF or a socket error: the client is gone
    });
  }

  void Write(Response r) {
    state_ = State::kWriting;
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(version_);
    res->result(static_cast<unsigned>(r.status));
    res->set(bhttp::field::server, "swarmgate");
    res->set(bhttp::field::content_type, r.content_type);
    for (auto& [k, v] : r.headers) res->set(k, v);
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive_ && !server_.stopping());
    res->prepare_payload();
    stream_.expires_after(server_.options().write_timeout);
    bhttp::async_write(stream_, *res,
                       [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
                         if (ec || !res->keep_alive()) return self->Close();
                         self->DoRead();
                       });
  }

  void OnShutdown(bool force) {
    switch (state_) {
      case State::kReading:
        return Close();  // idle keep-alive, or a request not fully received
      case State::kWaiting:
        if (!force) return CompletePending(pending_, Response::Text(503, "server shutting down\n"));
        return Close();
      case State::kHandling:
      case State::kWriting:
        if (force) Close();  // else the write completes, then closes
        return;
      case State::kClosed:
        return;
    }
  }

  void Close() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    timer_.cancel();
    if (pending_) pending_->Take();
    pending_.reset();
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  static std::shared_ptr<spdlog::logger> Log() {
    static const auto log = runtime::NamedLogger("http");
    return log;
  }

  beast::tcp_stream stream_;
  HttpServer::Impl& server_;
  net::steady_timer timer_;  // async answer deadline
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<detail::PendingResponse> pending_;
  Response timeout_response_;
  std::string remote_;
  State state_ = State::kReading;
  bool keep_alive_ = true;
  unsigned version_ = 11;
};

Status HttpServer::Impl::Start() {
  if (started_) return Internal("http server already started");
  auto parsed = ParseListenAddress(options_.listen);
  if (!parsed.ok()) return parsed.error();
  auto [host, port] = *parsed;
  boost::system::error_code ec;
  net::ip::address address;
  if (host.empty() || host == "*") {
    address = net::ip::address_v4::any();
  } else if (host == "localhost") {
    address = net::ip::address_v4::loopback();
  } else {
    address = net::ip::make_address(host, ec);
    if (ec) return InvalidArgument("listen address \"" + options_.listen + "\": bad host");
  }
  const tcp::endpoint endpoint(address, port);
  acceptor_.emplace(net::make_strand(io_context_));
  auto fail = [&](const char* what) {
    return Unavailable(std::string(what) + " " + options_.listen + ": " + ec.message());
  };
  if (acceptor_->open(endpoint.protocol(), ec)) return fail("open");
  if (acceptor_->set_option(net::socket_base::reuse_address(true), ec)) return fail("configure");
  if (acceptor_->bind(endpoint, ec)) return fail("bind");
  if (acceptor_->listen(net::socket_base::max_listen_connections, ec)) return fail("listen");
  port_ = acceptor_->local_endpoint(ec).port();
  accept_retry_.emplace(acceptor_->get_executor());

  started_ = true;
  work_.emplace(net::make_work_guard(io_context_));
  DoAccept();
  const int n = std::max(1, options_.threads);
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { io_context_.run(); });
  return OkStatus();
}

void HttpServer::Impl::DoAccept() {
  acceptor_->async_accept(net::make_strand(io_context_),
                          [this](beast::error_code ec, tcp::socket socket) {
                            if (stopping_) return;
                            if (ec) {
                              // Usually fd exhaustion: back off briefly rather than spin.
                              static const auto log = runtime::NamedLogger("http");
                              log->warn("accept: {}", ec.message());
                              accept_retry_->expires_after(std::chrono::milliseconds(50));
                              accept_retry_->async_wait([this](beast::error_code e) {
                                if (!e && !stopping_) DoAccept();
                              });
                              return;
                            }
                            std::make_shared<Connection>(std::move(socket), *this)->Run();
                            DoAccept();
                          });
}

std::vector<std::shared_ptr<Connection>> HttpServer::Impl::LiveConnections() {
  std::lock_guard<std::mutex> l(connections_mu_);
  std::vector<std::shared_ptr<Connection>> out;
  for (auto& [p, w] : connections_) {
    if (auto s = w.lock()) out.push_back(std::move(s));
  }
  return out;
}

void HttpServer::Impl::Stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  stopping_ = true;
  net::post(acceptor_->get_executor(), [this] {
    beast::error_code ec;
    acceptor_->close(ec);
    accept_retry_->cancel();
  });

  // Graceful: idle connections close, waiting async requests get 503,
  // requests in progress finish their write.
  for (auto& s : LiveConnections()) s->Shutdown(false);
  {
    std::unique_lock<std::mutex> l(connections_mu_);
    connections_cv_.wait_for(l, options_.shutdown_grace, [this] { return connections_.empty(); });
  }
  for (auto& s : LiveConnections()) s->Shutdown(true);
  {
    std::unique_lock<std::mutex> l(connections_mu_);
    connections_cv_.wait_for(l, std::chrono::seconds(1), [this] { return connections_.empty(); });
  }

  work_.reset();
  io_context_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  // No I/O thread runs now. Connections still alive are held by pending
  // handlers inside the io_context or by Responders in application code:
  // cut the latter links so the io_context can release every socket.
  for (auto& s : LiveConnections()) s->DetachPending();
}

// ---------------------------------------------------------------------------
// Responder

Responder::Responder(std::shared_ptr<detail::PendingResponse> pending)
    : pending_(std::move(pending)) {}

bool Responder::Respond(Response response) const {
  auto connection = pending_->Take();
  if (!connection) return false;
  connection->Deliver(pending_, std::move(response));
  return true;
}

void Responder::SetDeadline(std::chrono::steady_clock::duration timeout,
                            Response on_timeout) const {
  std::shared_ptr<Connection> connection;
  {
    std::lock_guard<std::mutex> l(pending_->mu);
    connection = pending_->connection;
  }
  if (connection) connection->ArmDeadline(pending_, timeout, std::move(on_timeout));
}

bool Responder::Pending() const { return pending_->Linked(); }

// ---------------------------------------------------------------------------
// HttpServer

HttpServer::HttpServer(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Handle(const std::string& method, const std::string& prefix, Handler handler) {
  impl_->AddRoute(Route{method, prefix, std::move(handler), nullptr});
}

void HttpServer::HandleAsync(const std::string& method, const std::string& prefix,
                             AsyncHandler handler) {
  impl_->AddRoute(Route{method, prefix, nullptr, std::move(handler)});
}

Status HttpServer::Start() { return impl_->Start(); }

void HttpServer::Stop() { impl_->Stop(); }

std::uint16_t HttpServer::port() const { return impl_->port(); }

}  // namespace sg::http
