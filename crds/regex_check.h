#pragma once
// Regular expressions of route matches (path, header and query values of
// type RegularExpression): compiled with PCRE2, the library nginx and HAProxy
// both match with, so a pattern accepted here compiles in either engine; and
// refused when it can take exponential time on a crafted request (nested
// unbounded repetition such as (a+)+, and backreferences), since the proxy
// evaluates it on every request of the host. Thread-safe: pure functions.

#include <string>
#include <string_view>

namespace sg::crds {

// Empty when `pattern` may be used; otherwise what was expected, naming the
// position of the problem ("a regular expression PCRE2 compiles: missing
// closing parenthesis at offset 4").
std::string CheckRegex(std::string_view pattern);

}  // namespace sg::crds
