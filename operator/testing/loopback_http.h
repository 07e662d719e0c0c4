#pragma once
// Test helpers for traffic through a real engine on loopback: a free port,
// and requests made with curl (which keeps the tests free of an HTTP and TLS
// client of their own).

#include <string>

namespace sg::testing {

// A loopback TCP port that was free a moment ago.
int FreeLoopbackPort();

struct CurlResponse {
  int status = 0;  // 0: no answer
  std::string headers;
  std::string body;
};

// Runs `curl -sk --max-time 5 ARGS` (ARGS as shell words).
CurlResponse Curl(const std::string& args);

// The value of header `name` (case-insensitive) in `headers`; "" if absent.
std::string HeaderValue(const std::string& headers, const std::string& name);

}  // namespace sg::testing
