// sg-echo: the backend that end-to-end tests route to.
//
// Every HTTP request is answered with a JSON description of the request and of
// the task that served it, so a test can tell which replica answered and what
// the proxy forwarded. Extras for routing tests:
//   /healthz          -> 200 "ok"
//   ?status=CODE      -> answer with that status
//   ?delay=MS         -> wait before answering (in-flight requests for drain tests)
//   ?fail_slot=N      -> the task of slot N answers 500 (retry tests)
//   ?pad=N            -> N more bytes ("x" repeated, at most 1 MiB) in a "pad"
//                        field, a body worth compressing
//   ?acao=ORIGIN      -> its own Access-Control-Allow-Origin, which a
//                        route's CORS policy replaces
//   ?echo_count=PATH  -> "seen": how many requests for PATH this task got
//                        (mirror tests; counting requests are not counted)
//   websocket upgrade -> echo every message back unchanged
//   --tls-cert/--tls-key -> serve TLS with that certificate (passthrough tests)
// On SIGTERM/SIGINT it stops accepting, closes idle keep-alive connections,
// lets in-flight requests finish, and exits 0 (forcibly after --drain-timeout).
//
// Threading: one io_context run by --threads threads; each connection lives on
// its own strand, so a connection's handlers never run concurrently.

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

struct Options {
  unsigned short port = 8080;
  int threads = 0;
  std::string tls_cert;
  std::string tls_key;
  std::chrono::milliseconds drain_timeout{10000};
};

// Identity of the task, read once at startup (Swarm sets these through
// service templates such as {{.Service.Name}}).
struct Identity {
  std::string service;
  std::string slot;
  std::string task;
  std::string container;
};

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

Identity LoadIdentity() {
  Identity id;
  id.service = Env("SG_SERVICE");
  id.slot = Env("SG_SLOT");
  id.task = Env("SG_TASK");
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) == 0) id.container = host;
  return id;
}

// Parses "a=1&b=2" style values; returns the first value of `key`.
std::optional<std::string> QueryParam(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    auto amp = query.find('&');
    auto part = query.substr(0, amp);
    auto eq = part.find('=');
    if (part.substr(0, eq) == key) {
      return std::string(eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

template <class Body>
std::string DescribeRequest(const http::request<Body>& req, const Identity& id,
                            const std::string& remote, bool tls) {
  std::string_view target(req.target().data(), req.target().size());
  auto qpos = target.find('?');
  std::string_view path = target.substr(0, qpos);
  std::string_view query =
      qpos == std::string_view::npos ? std::string_view{} : target.substr(qpos + 1);

  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&w](std::string_view s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  };
  w.StartObject();
  w.Key("service"), str(id.service);
  w.Key("slot"), str(id.slot);
  w.Key("task"), str(id.task);
  w.Key("container"), str(id.container);
  w.Key("method"), str(std::string_view(req.method_string().data(), req.method_string().size()));
  w.Key("target"), str(target);
  w.Key("path"), str(path);
  w.Key("query"), str(query);
  w.Key("remote"), str(remote);
  w.Key("tls"), w.Bool(tls);
  w.Key("body_bytes"), w.Uint64(req.body().size());
  // Repeated headers are joined with ", " as RFC 9110 allows, so the JSON
  // object keeps one key per (lower-cased) name.
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& f : req) {
    std::string name(f.name_string().data(), f.name_string().size());
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    std::string value(f.value().data(), f.value().size());
    auto it =
        std::find_if(headers.begin(), headers.end(), [&](auto& h) { return h.first == name; });
    if (it == headers.end()) {
      headers.emplace_back(std::move(name), std::move(value));
    } else {
      it->second += ", " + value;
    }
  }
  w.Key("headers");
  w.StartObject();
  for (const auto& [k, v] : headers) w.Key(k.c_str()), str(v);
  w.EndObject();
  w.Key("cookies");
  w.StartObject();
  for (const auto& f : req) {
    if (!beast::iequals(f.name_string(), "cookie")) continue;
    std::string_view rest(f.value().data(), f.value().size());
    while (!rest.empty()) {
      auto semi = rest.find(';');
      auto part = Trim(rest.substr(0, semi));
      auto eq = part.find('=');
      if (!part.empty()) {
        str(Trim(part.substr(0, eq)));
        str(eq == std::string_view::npos ? std::string_view{} : Trim(part.substr(eq + 1)));
      }
      if (semi == std::string_view::npos) break;
      rest.remove_prefix(semi + 1);
    }
  }
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

class Server;

// Connections register with the server so shutdown can reach idle connections.
class ConnectionBase {
 public:
  virtual ~ConnectionBase() = default;
  // Called on the connection's strand at shutdown.
  virtual void Drain() = 0;
};

class Server {
 public:
  Server(asio::io_context& io, Options opts)
      : io_(io), opts_(std::move(opts)), acceptor_(io), id_(LoadIdentity()) {}

  bool Start(std::string& err);
  void Shutdown();

  const Identity& id() const { return id_; }
  bool stopping() const { return stopping_.load(); }

  void Register(const std::shared_ptr<ConnectionBase>& s, asio::any_io_executor ex) {
    std::lock_guard<std::mutex> lock(mu_);
    connections_[s.get()] = Entry{s, std::move(ex)};
  }
  size_t ConnectionCount() {
    std::lock_guard<std::mutex> lock(mu_);
    return connections_.size();
  }
  void Unregister(ConnectionBase* s) {
    std::lock_guard<std::mutex> lock(mu_);
    connections_.erase(s);
  }
  // Requests seen per path. Thread-safe.
  void Count(std::string_view path) {
    std::lock_guard<std::mutex> lock(mu_);
    ++seen_[std::string(path)];
  }
  uint64_t Seen(std::string_view path) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = seen_.find(std::string(path));
    return it == seen_.end() ? 0 : it->second;
  }

 private:
  struct Entry {
    std::weak_ptr<ConnectionBase> connection;
    asio::any_io_executor executor;
  };
  void Accept();

  std::unordered_map<std::string, uint64_t> seen_;  // guarded by mu_
  asio::io_context& io_;
  Options opts_;
  tcp::acceptor acceptor_;
  std::optional<ssl::context> tls_;
  Identity id_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::unordered_map<ConnectionBase*, Entry> connections_;
};

// One connection. Stream is beast::tcp_stream or beast::ssl_stream<tcp_stream>.
template <class Stream>
class Connection : public ConnectionBase, public std::enable_shared_from_this<Connection<Stream>> {
 public:
  Connection(Server& server, Stream stream, std::string remote, bool tls)
      : server_(server),
        stream_(std::move(stream)),
        remote_(std::move(remote)),
        tls_(tls),
        timer_(stream_.get_executor()) {}
  ~Connection() override { server_.Unregister(this); }

  void Start() {
    server_.Register(this->shared_from_this(), stream_.get_executor());
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(10));
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return self->Close();
                                self->Read();
                              });
    } else {
      Read();
    }
  }

  void Drain() override {
    draining_ = true;
    if (ws_) {
      ws_->async_close(websocket::close_code::going_away,
                       [self = this->shared_from_this()](beast::error_code) {});
    } else if (idle_) {
      // Waiting for the next request on a keep-alive connection: nothing is
      // in flight, so closing loses nothing.
      Close();
    }
  }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  void Read() {
    if (draining_) return Close();
    idle_ = true;
    req_ = {};
    parser_.emplace();
    parser_->body_limit(16 * 1024 * 1024);
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(120));
    http::async_read(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    idle_ = false;
    if (ec) return Close();
    req_ = parser_->release();
    beast::get_lowest_layer(stream_).expires_never();
    if (websocket::is_upgrade(req_)) return Upgrade();

    std::string_view target(req_.target().data(), req_.target().size());
    auto qpos = target.find('?');
    std::string_view query =
        qpos == std::string_view::npos ? std::string_view{} : target.substr(qpos + 1);
    long delay_ms = 0;
    if (auto d = QueryParam(query, "delay")) delay_ms = std::strtol(d->c_str(), nullptr, 10);
    if (delay_ms > 0) {
      timer_.expires_after(std::chrono::milliseconds(std::min(delay_ms, 600000L)));
      timer_.async_wait([self = this->shared_from_this()](beast::error_code) { self->Respond(); });
    } else {
      Respond();
    }
  }

  void Respond() {
    std::string_view target(req_.target().data(), req_.target().size());
    auto qpos = target.find('?');
    std::string_view path = target.substr(0, qpos);
    std::string_view query =
        qpos == std::string_view::npos ? std::string_view{} : target.substr(qpos + 1);

    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(req_.version());
    res->set(http::field::server, "sg-echo");
    // For response header filters: headers of the backend to replace or drop.
    res->set("X-Echo-Service", server_.id().service);
    res->set("X-Echo-Slot", server_.id().slot);
    if (path == "/healthz") {
      res->result(http::status::ok);
      res->set(http::field::content_type, "text/plain");
      res->body() = "ok";
    } else {
      unsigned code = 200;
      if (auto s = QueryParam(query, "status")) {
        long v = std::strtol(s->c_str(), nullptr, 10);
        if (v >= 100 && v <= 599) code = static_cast<unsigned>(v);
      }
      if (auto slot = QueryParam(query, "fail_slot"); slot && *slot == server_.id().slot) {
        code = 500;
      }
      res->result(code);
      res->set(http::field::content_type, "application/json");
      if (auto origin = QueryParam(query, "acao")) res->set("Access-Control-Allow-Origin", *origin);
      if (auto counted = QueryParam(query, "echo_count")) {
        res->body() = "{\"service\":\"" + server_.id().service +
                      "\",\"seen\":" + std::to_string(server_.Seen(*counted)) + "}\n";
      } else {
        server_.Count(path);
        std::string body = DescribeRequest(req_, server_.id(), remote_, tls_);
        if (auto pad = QueryParam(query, "pad")) {
          long n = std::clamp(std::strtol(pad->c_str(), nullptr, 10), 0L, 1L << 20);
          body.pop_back();  // the closing brace
          body += ",\"pad\":\"" + std::string(static_cast<size_t>(n), 'x') + "\"}";
        }
        res->body() = body + "\n";
      }
    }
    // During drain the response tells the client to go away, so it does not
    // reuse a connection that is about to close.
    res->keep_alive(req_.keep_alive() && !draining_ && !server_.stopping());
    res->prepare_payload();
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(30));
    http::async_write(stream_, *res,
                      [self = this->shared_from_this(), res](beast::error_code ec, std::size_t) {
                        if (ec || !res->keep_alive()) return self->Close();
                        self->Read();
                      });
  }

  void Upgrade() {
    ws_.emplace(std::move(stream_));
    ws_->set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_->async_accept(req_, [self = this->shared_from_this()](beast::error_code ec) {
      if (ec) return;
      self->WsRead();
    });
  }

  void WsRead() {
    ws_->async_read(buffer_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return;
      self->ws_->text(self->ws_->got_text());
      self->ws_->async_write(self->buffer_.data(), [self](beast::error_code ec2, std::size_t) {
        if (ec2) return;
        self->buffer_.consume(self->buffer_.size());
        self->WsRead();
      });
    });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ec;
    timer_.cancel();
    if (ws_) {
      beast::get_lowest_layer(*ws_).socket().shutdown(tcp::socket::shutdown_both, ec);
      beast::get_lowest_layer(*ws_).close();
    } else {
      beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ec);
      beast::get_lowest_layer(stream_).close();
    }
  }

  Server& server_;
  Stream stream_;
  std::optional<websocket::stream<Stream>> ws_;
  std::string remote_;
  bool tls_;
  asio::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::request<http::string_body> req_;
  bool idle_ = false;
  bool draining_ = false;
  bool closed_ = false;
};

bool Server::Start(std::string& err) {
  if (!opts_.tls_cert.empty()) {
    tls_.emplace(ssl::context::tls_server);
    beast::error_code ec;
    tls_->use_certificate_chain_file(opts_.tls_cert, ec);
    if (!ec) tls_->use_private_key_file(opts_.tls_key, ssl::context::pem, ec);
    if (ec) {
      err = "loading TLS certificate/key: " + ec.message();
      return false;
    }
  }
  beast::error_code ec;
  tcp::endpoint ep(asio::ip::address_v6::any(), opts_.port);
  acceptor_.open(ep.protocol(), ec);
  if (ec) {
    // No IPv6 in this namespace: fall back to IPv4 only.
    ep = tcp::endpoint(asio::ip::address_v4::any(), opts_.port);
    acceptor_.open(ep.protocol(), ec);
  } else {
    acceptor_.set_option(asio::ip::v6_only(false), ec);
  }
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    err = "listening on port " + std::to_string(opts_.port) + ": " + ec.message();
    return false;
  }
  Accept();
  return true;
}

void Server::Accept() {
  acceptor_.async_accept(asio::make_strand(io_), [this](beast::error_code ec, tcp::socket sock) {
    if (stopping_) return;
    if (!ec) {
      beast::error_code rec;
      auto rep = sock.remote_endpoint(rec);
      std::string remote;
      if (!rec) {
        auto addr = rep.address();
        if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
          addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
        }
        remote = addr.to_string() + ":" + std::to_string(rep.port());
      }
      if (tls_) {
        auto s = std::make_shared<Connection<beast::ssl_stream<beast::tcp_stream>>>(
            *this, beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(sock)), *tls_),
            remote, true);
        s->Start();
      } else {
        auto s = std::make_shared<Connection<beast::tcp_stream>>(
            *this, beast::tcp_stream(std::move(sock)), remote, false);
        s->Start();
      }
    }
    Accept();
  });
}

void Server::Shutdown() {
  stopping_ = true;
  beast::error_code ec;
  acceptor_.close(ec);
  std::vector<Entry> entries;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [_, e] : connections_) entries.push_back(e);
  }
  for (auto& e : entries) {
    asio::post(e.executor, [w = e.connection] {
      if (auto s = w.lock()) s->Drain();
    });
  }
}

int Usage(const char* argv0) {
  std::cerr << "usage: " << argv0
            << " [--port N] [--threads N] [--tls-cert FILE --tls-key FILE] [--drain-timeout MS]\n"
               "  --port defaults to $PORT, else 8080\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options opts;
  if (auto p = Env("PORT"); !p.empty())
    opts.port = static_cast<unsigned short>(std::atoi(p.c_str()));
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "missing value for " << a << "\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--port") {
      opts.port = static_cast<unsigned short>(std::atoi(next().c_str()));
    } else if (a == "--threads") {
      opts.threads = std::atoi(next().c_str());
    } else if (a == "--tls-cert") {
      opts.tls_cert = next();
    } else if (a == "--tls-key") {
      opts.tls_key = next();
    } else if (a == "--drain-timeout") {
      opts.drain_timeout = std::chrono::milliseconds(std::atol(next().c_str()));
    } else if (a == "-h" || a == "--help") {
      return Usage(argv[0]) - 2;
    } else {
      std::cerr << "unknown argument " << a << "\n";
      return Usage(argv[0]);
    }
  }
  if (opts.tls_cert.empty() != opts.tls_key.empty()) {
    std::cerr << "--tls-cert and --tls-key go together\n";
    return 2;
  }
  int threads = opts.threads > 0 ? opts.threads : std::max(2u, std::thread::hardware_concurrency());

  asio::io_context io(threads);
  Server server(io, opts);
  std::string err;
  if (!server.Start(err)) {
    std::cerr << "sg-echo: " << err << "\n";
    return 1;
  }
  std::cerr << "sg-echo: listening on port " << opts.port << (opts.tls_cert.empty() ? "" : " (TLS)")
            << "\n";

  // A single signal starts the drain; the deadline bounds it.
  asio::signal_set signals(io, SIGTERM, SIGINT);
  asio::steady_timer deadline(io);
  signals.async_wait([&](beast::error_code ec, int sig) {
    if (ec) return;
    std::cerr << "sg-echo: signal " << sig << ", draining\n";
    server.Shutdown();
    deadline.expires_after(opts.drain_timeout);
    deadline.async_wait([&](beast::error_code dec) {
      if (dec) return;
      std::cerr << "sg-echo: drain deadline reached, exiting\n";
      io.stop();
    });
  });

  // The deadline timer would keep run() alive after the last connection ends,
  // so a poll cancels it once every connection has finished.
  asio::steady_timer poll(io);
  std::function<void()> check = [&] {
    poll.expires_after(std::chrono::milliseconds(20));
    poll.async_wait([&](beast::error_code ec) {
      if (ec) return;
      if (server.stopping() && server.ConnectionCount() == 0) {
        deadline.cancel();
        return;
      }
      check();
    });
  };
  check();

  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : pool) t.join();
  std::cerr << "sg-echo: stopped\n";
  return 0;
}
