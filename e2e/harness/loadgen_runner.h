#pragma once
// Runs load generators as subprocesses on the test host (like every other
// client of the suites, they reach the proxies on the nodes' bridge
// addresses) and reads what they counted:
// - sg-loadgen, the project's own, through its JSON report;
// - wrk (the Debian package), an outside client, through its summary.

#include <string>

namespace sg::e2e {

// What one sg-loadgen run counted (see docs/loadgen.md).
struct LoadReport {
  long requests = -1, ok = -1, connect = -1;
  // The primary figure: failures as a client that never resends sees them.
  long failures = -1;
  // With --resend-idempotent: requests resent once after a reused keep-alive
  // connection closed before any response byte, and the failures left after
  // resending (without it, resent is 0 and the two failure counts are equal).
  long resent = 0, failures_after_resend = -1;
  // Attempts that met a reused keep-alive connection the server had closed
  // (resent or not), and of those the ones whose close was already pending
  // when the request was written.
  long closed_on_reuse = 0, closed_on_reuse_stale = 0;
  // Seconds from the run's start to its first and last failure; -1 without
  // (and for a sum of slices, whose offsets do not add up).
  double first_failure_s = -1, last_failure_s = -1;
  std::string raw;  // the JSON report and stderr, for assertion messages
  bool parsed() const { return requests >= 0; }
  // Adds another run's counts (a slice of a longer load); both parsed.
  void Add(const LoadReport& o);
  // "requests=N failures_no_resend=N resent=N failures_after_resend=N ..."
  std::string Summary() const;
};

// `args` is shell text (--url, --host, --rate, --duration ...); `loadgen` the
// binary's path. Bounded by the run's own --duration/--requests plus 60 s.
LoadReport RunLoadgen(const std::string& loadgen, const std::string& args);

// wrk's summary. wrk never resends: every error is one a client that never
// resends would see. Its "read" socket errors count connections the server
// closed, also idle ones on which no request was waiting, so they bound the
// failed requests from above (sg-loadgen counts requests).
struct WrkReport {
  long requests = -1;  // completed responses ("N requests in ...")
  long connect = 0, read = 0, write = 0, timeout = 0;
  long non_2xx_3xx = 0;
  double rps = 0;
  std::string raw;  // wrk's output and stderr
  bool ran() const { return requests >= 0; }
  long socket_errors() const { return connect + read + write + timeout; }
  // "requests=N socket_errors: connect N, read N, write N, timeout N non2xx3xx=N"
  std::string Summary() const;
};

struct WrkOptions {
  std::string url;   // http://ADDR:PORT/path
  std::string host;  // Host header ("" = the URL's)
  int connections = 8;
  int threads = 2;
  int seconds = 10;
  // Paced with wrk's delay() hook: each connection waits this long after
  // every response (0 = as fast as responses come back).
  int delay_ms = 0;
  std::string method = "GET";
  long body_bytes = 0;  // > 0: a body of this size with Content-Length (POST)
  int timeout_s = 2;
};

// The wrk binary (/usr/bin/wrk), or "" when it is not installed.
std::string WrkPath();

// Runs wrk with a small Lua script (method, body, pacing); not ran() when
// wrk is missing or printed no summary (raw says why).
WrkReport RunWrk(const WrkOptions& options);

}  // namespace sg::e2e
