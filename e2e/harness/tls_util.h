#pragma once
// TLS helpers for e2e suites: self-signed certificates made with the openssl
// CLI, and https probes made with the openssl and curl CLIs (SNI, the
// certificate a server presents, the response behind it).
//
// Everything is synchronous and bounded in time. Thread-safe (no shared state).

#include <string>

#include "e2e/harness/harness.h"

namespace sg::e2e {

struct SelfSigned {
  std::string host;
  std::string cert;    // PEM certificate file
  std::string key;     // PEM private key file
  std::string bundle;  // certificate followed by key, one PEM (what swarmgate's secrets hold)
  std::string error;   // empty on success
  bool ok() const { return error.empty(); }
};

// A self-signed certificate for `host` (CN and subjectAltName DNS:host),
// written to `dir` as <host>.crt, <host>.key and <host>.pem. EC P-256 keys, so
// it takes milliseconds.
SelfSigned MakeSelfSigned(const std::string& dir, const std::string& host);

// Subject of the certificate the server at addr:port presents for SNI
// `server_name` ("CN = host"), or "" with the reason in *error.
std::string PresentedSubject(const std::string& addr, int port, const std::string& server_name,
                             std::string* error = nullptr,
                             Duration timeout = std::chrono::seconds(5));

// GET https://host:port/target against `addr` (curl --resolve, SNI = host,
// certificate not verified). status 0 and `error` on transport failure.
HttpResponse HttpsGet(const std::string& addr, int port, const std::string& host,
                      const std::string& target = "/", Duration timeout = std::chrono::seconds(5));

}  // namespace sg::e2e
