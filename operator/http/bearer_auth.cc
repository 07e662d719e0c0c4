#include "operator/http/bearer_auth.h"

#include <cctype>
#include <memory>
#include <utility>

#include "operator/common/hash.h"
#include "operator/runtime/logging.h"

namespace sg::http {
namespace {

const std::shared_ptr<spdlog::logger>& Log() {
  static const auto logger = runtime::NamedLogger("http");
  return logger;
}

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

}  // namespace

std::string BearerToken(const Request& req) {
  const std::string header = req.Header("authorization");
  static constexpr std::string_view kScheme = "bearer";
  if (header.size() <= kScheme.size() || !IsSpace(header[kScheme.size()])) return "";
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != kScheme[i]) return "";
  }
  std::size_t begin = kScheme.size();
  std::size_t end = header.size();
  while (begin < end && IsSpace(header[begin])) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(header[end - 1]))) --end;
  return header.substr(begin, end - begin);
}

Result<BearerAuth> BearerAuth::ForToken(std::string_view token) {
  if (token.empty()) return InvalidArgument("the token is empty");
  for (char c : token) {
    if (c < 0x21 || c > 0x7e) {
      // The character itself is not shown: it is part of a secret.
      return InvalidArgument(
          "the token may hold only visible ASCII characters, without spaces (it is sent in an "
          "HTTP header)");
    }
  }
  return BearerAuth(Sha256(token));
}

std::optional<Response> BearerAuth::Check(const Request& req) const {
  const std::string token = BearerToken(req);
  if (!token.empty() && ConstantTimeEquals(Sha256(token), digest_)) return std::nullopt;
  std::string challenge = std::string("Bearer realm=\"") + kBearerRealm + "\"";
  if (!token.empty()) challenge += ", error=\"invalid_token\"";
  Response r = Response::Text(401, "unauthorized\n");
  r.headers.emplace_back("WWW-Authenticate", std::move(challenge));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

Handler RequireBearer(const std::optional<BearerAuth>& auth, Handler handler) {
  if (!auth) return handler;
  return [auth = *auth, handler = std::move(handler)](const Request& req) {
    if (auto denial = auth.Check(req)) {
      Log()->info("request refused path={} remote={} reason={}", req.path, req.remote_address,
                  BearerToken(req).empty() ? "missing-token" : "token-mismatch");
      return std::move(*denial);
    }
    return handler(req);
  };
}

}  // namespace sg::http
