// sg-loadgen: HTTP load generator that counts every outcome.
//
// Built for zero-drop tests: unlike wrk it never folds a failure into a
// generic error bucket. Each request ends as exactly one of: a status code
// (2xx counted as success, every other code counted by value), a connect
// error, a reset (ECONNRESET/EPIPE), an early close (the server closed the
// connection before a complete response), a timeout, or other. Timestamps of
// the first and last failure and a per-second timeline locate an incident.
//
// Model: --concurrency connections, each a loop of request/response on its
// own strand (no shared mutable state; results are merged at the end). With
// --rate R every connection is paced open-loop at R/concurrency requests per
// second on a fixed schedule; latency is measured from the actual send.
//
// By default it is a client that never resends: a request that meets a
// keep-alive connection the server closed is a failure. With
// --resend-idempotent it resends such an idempotent request once, as
// browsers do, and reports both figures: failures as a client that never
// resends sees them (the primary "failures") and what is left after resending.
//
// Usage: sg-loadgen --url http://ADDR:PORT/path [--host H] [--concurrency C]
//          [--keepalive|--no-keepalive] (--duration 10s | --requests N)
//          [--rate R] [--timeout 2s] [--header K:V]... [--method GET]
//          [--body-size N | --body TEXT] [--no-resend | --resend-idempotent] [--json FILE|-]
// Exit: 0 when the run completed (whatever the failures), 2 on usage errors.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <sys/socket.h>

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string host;  // from the URL
  std::string port = "80";
  std::string target = "/";
  std::string host_header;
  std::string method = "GET";
  std::string body;  // --body / --body-size: sent with Content-Length on every request
  int concurrency = 10;
  bool keepalive = true;
  // --resend-idempotent: resend an idempotent request once after a reused
  // keep-alive connection closed before any response byte. Off by default
  // (--no-resend): such a request is a failure.
  bool resend_idempotent = false;
  std::chrono::milliseconds duration{0};
  long requests = 0;
  double rate = 0;
  std::chrono::milliseconds timeout{2000};
  std::vector<std::pair<std::string, std::string>> headers;
  std::string json_out;
  int threads = 0;
};

// Accepts "10s", "500ms", "2m", "1.5s" or a bare number of seconds.
std::optional<std::chrono::milliseconds> ParseDuration(const std::string& s) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || v < 0) return std::nullopt;
  std::string unit(end);
  double ms;
  if (unit.empty() || unit == "s") {
    ms = v * 1000;
  } else if (unit == "ms") {
    ms = v;
  } else if (unit == "m") {
    ms = v * 60000;
  } else {
    return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<long long>(ms));
}

enum class Outcome { kStatus, kConnect, kReset, kClosed, kTimeout, kOther };

// Per-connection results; merged after the run, so no locking.
struct Stats {
  long sent = 0;
  long ok = 0;
  std::map<unsigned, long> status;  // every status code seen
  long connect = 0, reset = 0, closed = 0, timeout = 0, other = 0;
  // Requests resent on a new connection after the server closed a reused
  // keep-alive connection before answering (RFC 9112 9.3.1); only with
  // --resend-idempotent. A resent request is a failure for a client that
  // never resends (`no_resend_failures`), whatever its resend's outcome.
  long retried = 0;
  long resent_failed = 0;  // resent, and the resend failed too
  // Requests whose first attempt failed: what a client that never resends
  // sees. Without --resend-idempotent, every failure.
  long no_resend_failures = 0;
  // Attempts that failed because a reused keep-alive connection was closed
  // (EOF or reset) before any response byte, resent or not; `stale`: of
  // those, the server's close had already arrived when the request was
  // written (a client that checks idle connections before reuse would have
  // opened a new one instead).
  long closed_on_reuse = 0, closed_on_reuse_stale = 0;
  std::map<std::string, long> other_messages;
  std::vector<uint32_t> latency_us;  // completed responses (any status)
  std::vector<long> per_sec_requests, per_sec_failures;
  double first_failure_s = -1, last_failure_s = -1;

  void Second(double t, bool failed) {
    auto i = static_cast<size_t>(std::max(0.0, t));
    if (per_sec_requests.size() <= i) {
      per_sec_requests.resize(i + 1);
      per_sec_failures.resize(i + 1);
    }
    per_sec_requests[i]++;
    if (failed) {
      per_sec_failures[i]++;
      if (first_failure_s < 0 || t < first_failure_s) first_failure_s = t;
      last_failure_s = std::max(last_failure_s, t);
    }
  }

  void Merge(const Stats& o) {
    sent += o.sent;
    ok += o.ok;
    for (auto& [k, v] : o.status) status[k] += v;
    connect += o.connect, reset += o.reset, closed += o.closed, timeout += o.timeout,
        retried += o.retried, other += o.other;
    resent_failed += o.resent_failed, no_resend_failures += o.no_resend_failures;
    closed_on_reuse += o.closed_on_reuse, closed_on_reuse_stale += o.closed_on_reuse_stale;
    for (auto& [k, v] : o.other_messages) other_messages[k] += v;
    latency_us.insert(latency_us.end(), o.latency_us.begin(), o.latency_us.end());
    if (per_sec_requests.size() < o.per_sec_requests.size()) {
      per_sec_requests.resize(o.per_sec_requests.size());
      per_sec_failures.resize(o.per_sec_requests.size());
    }
    for (size_t i = 0; i < o.per_sec_requests.size(); ++i) {
      per_sec_requests[i] += o.per_sec_requests[i];
      per_sec_failures[i] += o.per_sec_failures[i];
    }
    if (o.first_failure_s >= 0 && (first_failure_s < 0 || o.first_failure_s < first_failure_s)) {
      first_failure_s = o.first_failure_s;
    }
    last_failure_s = std::max(last_failure_s, o.last_failure_s);
  }
};

// Shared, read-mostly run state.
struct Run {
  Options opts;
  tcp::resolver::results_type endpoints;
  Clock::time_point start;
  Clock::time_point end;                 // for --duration
  std::atomic<long> remaining{0};        // for --requests
  std::chrono::nanoseconds interval{0};  // per-connection pacing, 0 = closed loop

  bool ClaimRequest() {
    if (opts.requests > 0) return remaining.fetch_sub(1) > 0;
    return Clock::now() < end;
  }
  double Since(Clock::time_point t) const {
    return std::chrono::duration<double>(t - start).count();
  }
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(asio::io_context& io, Run& run, int index)
      : run_(run), stream_(asio::make_strand(io)), timer_(stream_.get_executor()) {
    req_.method_string(run_.opts.method);
    req_.target(run_.opts.target);
    req_.version(11);
    req_.set(http::field::host, run_.opts.host_header);
    req_.set(http::field::user_agent, "sg-loadgen");
    if (!run_.opts.body.empty()) req_.set(http::field::content_type, "application/octet-stream");
    for (auto& [k, v] : run_.opts.headers) req_.set(k, v);
    req_.keep_alive(run_.opts.keepalive);
    req_.body() = run_.opts.body;
    // Content-Length on every request with a body (and on POST/PUT without).
    req_.prepare_payload();
    // Spread the connections' schedules over one interval so paced load is
    // smooth rather than bursty.
    if (run_.interval.count() > 0) {
      next_ = run_.start + run_.interval * index / std::max(1, run_.opts.concurrency);
    } else {
      next_ = run_.start;
    }
  }

  void Start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Next(); });
  }
  const Stats& stats() const { return stats_; }

 private:
  void Next() {
    if (!run_.ClaimRequest()) return Finish();
    if (run_.interval.count() > 0) {
      auto now = Clock::now();
      auto at = next_;
      next_ += run_.interval;
      // Behind schedule (slow responses): send now rather than bunching up.
      if (at > now) {
        timer_.expires_at(at);
        timer_.async_wait([self = shared_from_this()](beast::error_code) { self->Send(); });
        return;
      }
    }
    Send();
  }

  void Send() {
    if (run_.opts.requests == 0 && Clock::now() >= run_.end) return Finish();
    stats_.sent++;
    sent_at_ = Clock::now();
    retrying_ = false;
    stale_ = false;
    Transmit();
  }

  // Sends the current request, connecting first when needed. Also used to
  // resend it once after a reused keep-alive connection was closed.
  void Transmit() {
    res_.reset();
    stream_.expires_after(run_.opts.timeout);
    if (!connected_) {
      stream_.async_connect(
          run_.endpoints, [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
            if (ec)
              return self->Fail(ec == beast::error::timeout ? Outcome::kTimeout : Outcome::kConnect,
                                ec);
            self->connected_ = true;
            self->Write();
          });
      return;
    }
    Write();
  }

  void Write() {
    // On a reused connection, note whether the server's close (EOF) is
    // already waiting: the request is still written, as a client that does
    // not check its idle connections would, but the count tells the two
    // kinds of close apart.
    stale_ = false;
    if (reused_) {
      char byte;
      ssize_t n = ::recv(stream_.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      stale_ = n == 0;
    }
    http::async_write(stream_, req_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return self->Fail(self->Classify(ec), ec);
                        self->Read();
                      });
  }

  void Read() {
    res_.emplace();
    res_->body_limit(64 * 1024 * 1024);
    http::async_read(stream_, buffer_, *res_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) return self->Fail(self->Classify(ec), ec);
                       self->Done();
                     });
  }

  Outcome Classify(const beast::error_code& ec) const {
    if (ec == beast::error::timeout) return Outcome::kTimeout;
    if (ec == asio::error::connection_reset || ec == asio::error::broken_pipe)
      return Outcome::kReset;
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == http::error::partial_message) {
      return Outcome::kClosed;
    }
    return Outcome::kOther;
  }

  void Done() {
    auto now = Clock::now();
    unsigned code = res_->get().result_int();
    stats_.status[code]++;
    bool ok = code >= 200 && code < 300;
    if (ok) stats_.ok++;
    if (!ok && retrying_) stats_.resent_failed++;
    // A resent request failed its first attempt: a failure for a client
    // that never resends, also when the resend succeeded.
    bool first_attempt_failed = !ok || retrying_;
    if (first_attempt_failed) stats_.no_resend_failures++;
    stats_.latency_us.push_back(static_cast<uint32_t>(std::min<long long>(
        std::chrono::duration_cast<std::chrono::microseconds>(now - sent_at_).count(),
        UINT32_MAX)));
    stats_.Second(run_.Since(now), first_attempt_failed);
    reused_ = true;
    if (!run_.opts.keepalive || !res_->get().keep_alive()) Disconnect();
    Next();
  }

  // A server may close an idle keep-alive connection at any moment (nginx
  // does on a graceful reload); a request that crossed the close on the wire
  // was never processed. Counted in every mode.
  bool ClosedOnReuse(Outcome o) const {
    if (!reused_ || retrying_) return false;
    if (o != Outcome::kClosed && o != Outcome::kReset) return false;
    return !(res_ && res_->is_header_done());  // no answer had begun
  }

  // HTTP clients resend idempotent requests in that case (RFC 9112 section
  // 9.3.1), once, on a new connection; with --resend-idempotent so does this
  // one, and counts it. A client that never resends has failed already.
  bool RetryAfterClose(Outcome o) {
    if (!ClosedOnReuse(o)) return false;
    stats_.closed_on_reuse++;
    if (stale_) stats_.closed_on_reuse_stale++;
    if (!run_.opts.resend_idempotent) return false;
    const std::string& m = run_.opts.method;
    if (m != "GET" && m != "HEAD" && m != "OPTIONS" && m != "PUT" && m != "DELETE") return false;
    stats_.retried++;
    retrying_ = true;
    Disconnect();
    Transmit();
    return true;
  }

  void Fail(Outcome o, const beast::error_code& ec) {
    if (RetryAfterClose(o)) return;
    if (retrying_) stats_.resent_failed++;
    stats_.no_resend_failures++;
    switch (o) {
      case Outcome::kConnect:
        stats_.connect++;
        break;
      case Outcome::kReset:
        stats_.reset++;
        break;
      case Outcome::kClosed:
        stats_.closed++;
        break;
      case Outcome::kTimeout:
        stats_.timeout++;
        break;
      default:
        stats_.other++;
        stats_.other_messages[ec.message()]++;
        break;
    }
    stats_.Second(run_.Since(Clock::now()), true);
    Disconnect();
    // A refused connect fails instantly; without a pause, an unpaced run would
    // spin. Retry after a short delay instead.
    if (o == Outcome::kConnect && run_.interval.count() == 0) {
      timer_.expires_after(std::chrono::milliseconds(10));
      timer_.async_wait([self = shared_from_this()](beast::error_code) { self->Next(); });
      return;
    }
    Next();
  }

  void Disconnect() {
    reused_ = false;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
    buffer_.consume(buffer_.size());
    connected_ = false;
  }

  void Finish() {
    Disconnect();
    timer_.cancel();
  }

  Run& run_;
  beast::tcp_stream stream_;
  asio::steady_timer timer_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  std::optional<http::response_parser<http::string_body>> res_;
  Clock::time_point next_;
  Clock::time_point sent_at_;
  bool connected_ = false;
  bool reused_ = false;    // the connection already carried a full exchange
  bool retrying_ = false;  // the current request is being resent
  bool stale_ = false;     // the server's EOF was pending when the request was written
  Stats stats_;
};

double Percentile(const std::vector<uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto idx = static_cast<size_t>(std::ceil(p / 100.0 * sorted.size()));
  idx = std::min(sorted.size() - 1, idx == 0 ? 0 : idx - 1);
  return sorted[idx] / 1000.0;
}

std::string IsoNow(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

int Usage() {
  std::cerr
      << "usage: sg-loadgen --url http://ADDR:PORT/path [--host HOST] [--concurrency N]\n"
         "         [--keepalive|--no-keepalive] (--duration 10s | --requests N) [--rate R]\n"
         "         [--timeout 2s] [--header K:V]... [--method M] [--body-size N | --body TEXT]\n"
         "         [--no-resend (default) | --resend-idempotent] [--threads N] [--json FILE|-]\n";
  return 2;
}

bool ParseUrl(const std::string& url, Options& o) {
  const std::string scheme = "http://";
  if (url.rfind("https://", 0) == 0) {
    std::cerr << "sg-loadgen: https is not supported; point it at an http listener\n";
    return false;
  }
  if (url.rfind(scheme, 0) != 0) return false;
  std::string rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  o.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (!hostport.empty() && hostport[0] == '[') {
    auto close = hostport.find(']');
    if (close == std::string::npos) return false;
    o.host = hostport.substr(1, close - 1);
    if (close + 1 < hostport.size() && hostport[close + 1] == ':')
      o.port = hostport.substr(close + 2);
  } else {
    auto colon = hostport.rfind(':');
    o.host = hostport.substr(0, colon);
    if (colon != std::string::npos) o.port = hostport.substr(colon + 1);
  }
  if (o.host_header.empty()) o.host_header = hostport;
  return !o.host.empty();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::string url;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "sg-loadgen: missing value for " << a << "\n";
        std::exit(Usage());
      }
      return argv[++i];
    };
    if (a == "--url") {
      url = next();
    } else if (a == "--host") {
      o.host_header = next();
    } else if (a == "--concurrency" || a == "-c") {
      o.concurrency = std::atoi(next().c_str());
    } else if (a == "--keepalive") {
      o.keepalive = true;
    } else if (a == "--no-keepalive") {
      o.keepalive = false;
    } else if (a == "--no-resend" || a == "--no-retry") {
      o.resend_idempotent = false;
    } else if (a == "--resend-idempotent") {
      o.resend_idempotent = true;
    } else if (a == "--duration" || a == "-d") {
      auto d = ParseDuration(next());
      if (!d) return Usage();
      o.duration = *d;
    } else if (a == "--requests" || a == "-n") {
      o.requests = std::atol(next().c_str());
    } else if (a == "--rate") {
      o.rate = std::atof(next().c_str());
    } else if (a == "--timeout") {
      auto d = ParseDuration(next());
      if (!d) return Usage();
      o.timeout = *d;
    } else if (a == "--header" || a == "-H") {
      std::string h = next();
      auto colon = h.find(':');
      if (colon == std::string::npos) return Usage();
      std::string v = h.substr(colon + 1);
      v.erase(0, v.find_first_not_of(' '));
      o.headers.emplace_back(h.substr(0, colon), v);
    } else if (a == "--method") {
      o.method = next();
    } else if (a == "--body") {
      o.body = next();
    } else if (a == "--body-size") {
      long n = std::atol(next().c_str());
      if (n < 0 || n > 64L * 1024 * 1024) return Usage();
      // A fixed printable pattern, so a captured body is readable.
      static const char kPattern[] = "0123456789abcdefghijklmnopqrstuvwxyz\n";
      o.body.resize(static_cast<size_t>(n));
      for (long k = 0; k < n; ++k) o.body[k] = kPattern[k % (sizeof(kPattern) - 1)];
    } else if (a == "--threads") {
      o.threads = std::atoi(next().c_str());
    } else if (a == "--json") {
      o.json_out = next();
    } else if (a == "-h" || a == "--help") {
      Usage();
      return 0;
    } else {
      std::cerr << "sg-loadgen: unknown argument " << a << "\n";
      return Usage();
    }
  }
  if (url.empty() || !ParseUrl(url, o) || o.concurrency < 1 ||
      (o.duration.count() == 0 && o.requests <= 0) || (o.duration.count() > 0 && o.requests > 0)) {
    return Usage();
  }
  if (o.rate > 0 && o.requests > 0) {
    // Paced runs end at a time; derive it from the count.
    o.duration = std::chrono::milliseconds(static_cast<long long>(o.requests / o.rate * 1000));
  }

  int threads =
      o.threads > 0 ? o.threads : std::clamp<int>(std::thread::hardware_concurrency(), 1, 4);
  asio::io_context io(threads);
  Run run;
  run.opts = o;
  beast::error_code ec;
  tcp::resolver resolver(io);
  run.endpoints = resolver.resolve(o.host, o.port, ec);
  if (ec) {
    std::cerr << "sg-loadgen: resolving " << o.host << ": " << ec.message() << "\n";
    return 2;
  }
  if (o.rate > 0) {
    run.interval = std::chrono::nanoseconds(static_cast<long long>(1e9 * o.concurrency / o.rate));
  }
  run.remaining = o.requests;
  auto wall_start = std::chrono::system_clock::now();
  run.start = Clock::now();
  run.end = run.start + o.duration;

  std::vector<std::shared_ptr<Connection>> conns;
  for (int i = 0; i < o.concurrency; ++i) {
    conns.push_back(std::make_shared<Connection>(io, run, i));
    conns.back()->Start();
  }
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : pool) t.join();
  double elapsed = run.Since(Clock::now());

  Stats total;
  for (auto& c : conns) total.Merge(c->stats());
  std::sort(total.latency_us.begin(), total.latency_us.end());
  long non2xx = 0;
  for (auto& [code, n] : total.status) {
    if (code < 200 || code >= 300) non2xx += n;
  }
  long errors = total.connect + total.reset + total.closed + total.timeout + total.other;
  // Every request counted once, by its final outcome (after a resend).
  long failures_after_resend = non2xx + errors;
  // The primary figure: requests whose first attempt failed. Without
  // --resend-idempotent the two are equal.
  long failures = total.no_resend_failures;
  double mean = 0;
  for (auto v : total.latency_us) mean += v;
  if (!total.latency_us.empty()) mean /= total.latency_us.size() * 1000.0;

  // Human summary.
  const char* resend_mode = o.resend_idempotent ? "idempotent-once" : "never";
  std::fprintf(stderr, "sg-loadgen: %s %s (Host: %s) c=%d %s body %zu B, resend %s, %.2fs\n",
               o.method.c_str(), url.c_str(), o.host_header.c_str(), o.concurrency,
               o.keepalive ? "keepalive" : "no-keepalive", o.body.size(), resend_mode, elapsed);
  std::fprintf(stderr,
               "  requests %ld  2xx %ld  failures %ld (a client that never resends)  (%.1f "
               "req/s)\n",
               total.sent, total.ok, failures, elapsed > 0 ? total.sent / elapsed : 0.0);
  for (auto& [code, n] : total.status) std::fprintf(stderr, "  status %u: %ld\n", code, n);
  std::fprintf(stderr, "  errors: connect %ld  reset %ld  closed %ld  timeout %ld  other %ld\n",
               total.connect, total.reset, total.closed, total.timeout, total.other);
  std::fprintf(stderr,
               "  closed on a reused keep-alive connection before any response byte: %ld "
               "(server's close already pending when written: %ld)\n",
               total.closed_on_reuse, total.closed_on_reuse_stale);
  if (o.resend_idempotent) {
    std::fprintf(stderr,
                 "  resent once after such a close: %ld (of which failed again: %ld); failures "
                 "after resending: %ld\n",
                 total.retried, total.resent_failed, failures_after_resend);
  }
  for (auto& [m, n] : total.other_messages)
    std::fprintf(stderr, "    other \"%s\": %ld\n", m.c_str(), n);
  if (failures) {
    std::fprintf(stderr, "  first failure at %.3fs, last at %.3fs\n", total.first_failure_s,
                 total.last_failure_s);
  }
  std::fprintf(stderr, "  latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f  mean %.2f\n",
               Percentile(total.latency_us, 50), Percentile(total.latency_us, 90),
               Percentile(total.latency_us, 99),
               total.latency_us.empty() ? 0.0 : total.latency_us.back() / 1000.0, mean);

  if (!o.json_out.empty()) {
    rapidjson::StringBuffer buf;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("url"), w.String(url.c_str());
    w.Key("host"), w.String(o.host_header.c_str());
    w.Key("method"), w.String(o.method.c_str());
    w.Key("concurrency"), w.Int(o.concurrency);
    w.Key("keepalive"), w.Bool(o.keepalive);
    w.Key("body_bytes"), w.Uint64(o.body.size());
    w.Key("resend"), w.String(resend_mode);
    w.Key("rate"), w.Double(o.rate);
    w.Key("started"), w.String(IsoNow(wall_start).c_str());
    w.Key("elapsed_s"), w.Double(elapsed);
    w.Key("requests"), w.Int64(total.sent);
    w.Key("ok"), w.Int64(total.ok);
    // failures == failures_no_resend: the primary figure, what a client
    // that never resends sees. failures_after_resend: left after resending
    // (equal without --resend-idempotent).
    w.Key("failures"), w.Int64(failures);
    w.Key("failures_no_resend"), w.Int64(failures);
    w.Key("failures_after_resend"), w.Int64(failures_after_resend);
    w.Key("resent"), w.Int64(total.retried);
    w.Key("resent_failed"), w.Int64(total.resent_failed);
    w.Key("closed_on_reuse"), w.Int64(total.closed_on_reuse);
    w.Key("closed_on_reuse_stale"), w.Int64(total.closed_on_reuse_stale);
    w.Key("rps"), w.Double(elapsed > 0 ? total.sent / elapsed : 0.0);
    w.Key("status");
    w.StartObject();
    for (auto& [code, n] : total.status) w.Key(std::to_string(code).c_str()), w.Int64(n);
    w.EndObject();
    w.Key("errors");
    w.StartObject();
    w.Key("connect"), w.Int64(total.connect);
    w.Key("reset"), w.Int64(total.reset);
    w.Key("closed"), w.Int64(total.closed);
    w.Key("retried"), w.Int64(total.retried);
    w.Key("timeout"), w.Int64(total.timeout);
    w.Key("other"), w.Int64(total.other);
    w.EndObject();
    w.Key("other_messages");
    w.StartObject();
    for (auto& [m, n] : total.other_messages) w.Key(m.c_str()), w.Int64(n);
    w.EndObject();
    w.Key("first_failure_s");
    total.first_failure_s < 0 ? w.Null() : w.Double(total.first_failure_s);
    w.Key("last_failure_s");
    total.last_failure_s < 0 ? w.Null() : w.Double(total.last_failure_s);
    w.Key("latency_ms");
    w.StartObject();
    w.Key("p50"), w.Double(Percentile(total.latency_us, 50));
    w.Key("p90"), w.Double(Percentile(total.latency_us, 90));
    w.Key("p99"), w.Double(Percentile(total.latency_us, 99));
    w.Key("max"), w.Double(total.latency_us.empty() ? 0.0 : total.latency_us.back() / 1000.0);
    w.Key("mean"), w.Double(mean);
    w.EndObject();
    w.Key("timeline");
    w.StartArray();
    for (size_t i = 0; i < total.per_sec_requests.size(); ++i) {
      w.StartObject();
      w.Key("t"), w.Uint64(i);
      w.Key("requests"), w.Int64(total.per_sec_requests[i]);
      w.Key("failures"), w.Int64(total.per_sec_failures[i]);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    if (o.json_out == "-") {
      std::cout << buf.GetString() << "\n";
    } else {
      std::ofstream f(o.json_out);
      f << buf.GetString() << "\n";
      if (!f) {
        std::cerr << "sg-loadgen: writing " << o.json_out << " failed\n";
        return 1;
      }
    }
  }
  return 0;
}
