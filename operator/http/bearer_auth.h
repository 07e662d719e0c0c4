#pragma once
// Bearer-token authentication (RFC 6750) of the operator's HTTP routes that
// list what the Swarm serves: the status API. The proxy agents' endpoint has
// its own per-cluster tokens (delivery/config_hub.h) and shares only
// BearerToken() and the digest comparison with this.
//
// Only the token's SHA-256 is kept, and digests are compared in constant
// time (sg::ConstantTimeEquals), so neither a memory dump nor response
// times give the token away.
//
// Thread-safety: a BearerAuth is immutable after construction; Check() may
// run on any number of threads at once.

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "operator/common/result.h"
#include "operator/http/http_server.h"

namespace sg::http {

// The realm of the WWW-Authenticate challenge.
inline constexpr const char* kBearerRealm = "swarmgate";

// The credentials of an `Authorization: Bearer <token>` header (scheme name
// in any case, spaces around the token removed); "" when the header is
// absent, empty or of another scheme.
std::string BearerToken(const Request& req);

class BearerAuth {
 public:
  // An authenticator requiring `token`. InvalidArgument when the token is
  // empty or holds anything but visible ASCII (0x21-0x7e): no client could
  // send such a token in a header, so every request would be refused.
  static Result<BearerAuth> ForToken(std::string_view token);

  // nullopt when `req` carries the token; otherwise the answer: 401 with
  // `WWW-Authenticate: Bearer realm="swarmgate"` (and
  // `error="invalid_token"` when a different token was sent).
  std::optional<Response> Check(const Request& req) const;

 private:
  explicit BearerAuth(std::string digest) : digest_(std::move(digest)) {}

  std::string digest_;  // raw SHA-256 of the token
};

// `handler` behind `auth`: a request without the token gets Check()'s 401,
// logged with its path, remote address and reason (never a token), and
// does not reach `handler`. Without `auth`, `handler` itself.
Handler RequireBearer(const std::optional<BearerAuth>& auth, Handler handler);

}  // namespace sg::http
