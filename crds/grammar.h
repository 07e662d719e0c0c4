#pragma once
// The strict grammars of every string a resource can carry. Anything that may
// end up in an nginx.conf is accepted only if it matches one of these, which is
// what guarantees that no accepted resource can inject nginx configuration.
//
// Each Check* function returns an empty string when the value is valid, or a
// phrase naming what was expected ("a host name ..."), ready for
// "expected <phrase>, got <value>".

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sg::crds {

// "500ms", "5s", "2m", "1h": non-negative integer + unit. nullopt if malformed
// or too large to represent.
std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text);
// "10m", "1g", "512k", "4096": bytes. nullopt if malformed or too large.
std::optional<uint64_t> ParseSize(std::string_view text);

std::string CheckResourceName(std::string_view v);
// RFC 1123 host name, lowercase, with at most one leading "*." wildcard.
std::string CheckHost(std::string_view v);
// URL path for a location or rewrite prefix.
std::string CheckPath(std::string_view v);
// Docker service / secret / network names.
std::string CheckDockerName(std::string_view v);
// Header and cookie names: RFC 7230 tokens restricted to letters, digits, '-'
// and '_' so nginx can address them as $http_* / $cookie_* variables.
std::string CheckToken(std::string_view v);
// Header and cookie values matched by canary rules.
std::string CheckHeaderValue(std::string_view v);
// Absolute http(s) URL for redirects.
std::string CheckRedirectUrl(std::string_view v);
std::string CheckImage(std::string_view v);
// Swarm placement constraint such as node.labels.role==ingress.
std::string CheckConstraint(std::string_view v);
std::string CheckDuration(std::string_view v, bool allow_zero);
std::string CheckSize(std::string_view v);
// An IPv4 or IPv6 network ("10.0.0.0/8", "2001:db8::/32") or one address,
// with no bits set beyond the prefix (nginx and HAProxy would drop them
// silently, so "10.0.0.1/8" would not mean what it seems to).
std::string CheckCidr(std::string_view v);
std::string CheckLabelKey(std::string_view v);
std::string CheckLabelValue(std::string_view v);

}  // namespace sg::crds
