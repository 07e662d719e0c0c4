#include "crds/grammar.h"

#include <arpa/inet.h>

#include <array>
#include <limits>

namespace sg::crds {
namespace {

bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsLower(c) || IsUpper(c) || IsDigit(c); }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool IsIn(char c, std::string_view set) { return set.find(c) != std::string_view::npos; }

// Printable ASCII except the characters that quote or escape in nginx and shells.
bool IsSafePrintable(char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\'' && c != '\\'; }

// Overflow-checked accumulation of a decimal prefix; returns digits consumed.
size_t ParseDigits(std::string_view text, uint64_t* value) {
  size_t i = 0;
  uint64_t v = 0;
  for (; i < text.size() && IsDigit(text[i]); ++i) {
    uint64_t d = static_cast<uint64_t>(text[i] - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) return 0;
    v = v * 10 + d;
  }
  *value = v;
  return i;
}

bool CheckDnsLabel(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  for (char c : label) {
    if (!IsLower(c) && !IsDigit(c) && c != '-') return false;
  }
  return true;
}

}  // namespace

std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  uint64_t n = 0;
  size_t digits = ParseDigits(text, &n);
  if (digits == 0) return std::nullopt;
  std::string_view unit = text.substr(digits);
  uint64_t factor = 0;
  if (unit == "ms") {
    factor = 1;
  } else if (unit == "s") {
    factor = 1000;
  } else if (unit == "m") {
    factor = 60 * 1000;
  } else if (unit == "h") {
    factor = 60 * 60 * 1000;
  } else {
    return std::nullopt;
  }
  // Keeps the result within what every consumer (int64 milliseconds, Docker
  // nanoseconds) can hold.
  constexpr uint64_t kMaxMillis = uint64_t{1} << 42;  // about 139 years
  if (n > kMaxMillis / factor) return std::nullopt;
  return std::chrono::milliseconds(static_cast<int64_t>(n * factor));
}

std::optional<uint64_t> ParseSize(std::string_view text) {
  uint64_t n = 0;
  size_t digits = ParseDigits(text, &n);
  if (digits == 0) return std::nullopt;
  std::string_view unit = text.substr(digits);
  uint64_t factor = 1;
  if (unit.empty()) {
    factor = 1;
  } else if (unit == "k" || unit == "K") {
    factor = uint64_t{1} << 10;
  } else if (unit == "m" || unit == "M") {
    factor = uint64_t{1} << 20;
  } else if (unit == "g" || unit == "G") {
    factor = uint64_t{1} << 30;
  } else {
    return std::nullopt;
  }
  constexpr uint64_t kMax = uint64_t{1} << 50;
  if (n > kMax / factor) return std::nullopt;
  return n * factor;
}

std::string CheckResourceName(std::string_view v) {
  const char* kExpected =
      "a resource name: 1-40 lowercase letters, digits and '-', starting and ending with a "
      "letter or digit";
  if (v.empty() || v.size() > 40 || v.front() == '-' || v.back() == '-') return kExpected;
  for (char c : v) {
    if (!IsLower(c) && !IsDigit(c) && c != '-') return kExpected;
  }
  return {};
}

std::string CheckHost(std::string_view v) {
  const char* kExpected =
      "a lowercase host name (RFC 1123 labels of at most 63 letters, digits and '-', at most "
      "253 characters) with at most one leading '*.' wildcard";
  if (v.empty() || v.size() > 253) return kExpected;
  std::string_view rest = v;
  if (rest.size() >= 2 && rest.substr(0, 2) == "*.") rest.remove_prefix(2);
  while (true) {
    size_t dot = rest.find('.');
    if (!CheckDnsLabel(rest.substr(0, dot))) return kExpected;
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  return {};
}

std::string CheckPath(std::string_view v) {
  const char* kExpected =
      "a URL path of at most 1024 characters starting with '/', made of letters, digits, "
      "-._~!&+,=:@/ and %XX escapes, without '.' or '..' segments";
  if (v.empty() || v.size() > 1024 || v.front() != '/') return kExpected;
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (c == '%') {
      if (i + 2 >= v.size() || !IsHex(v[i + 1]) || !IsHex(v[i + 2])) return kExpected;
      i += 2;
      continue;
    }
    if (!IsAlnum(c) && !IsIn(c, "-._~!&+,=:@/")) return kExpected;
  }
  // Dot segments would let a route escape its own context root after rewriting.
  size_t start = 0;
  while (start <= v.size()) {
    size_t end = v.find('/', start);
    if (end == std::string_view::npos) end = v.size();
    std::string_view seg = v.substr(start, end - start);
    if (seg == "." || seg == "..") return kExpected;
    start = end + 1;
  }
  return {};
}

namespace {

// A word of at most `max` characters that starts with a letter or digit and
// otherwise holds letters, digits and `others`: "" or `expected`.
std::string CheckWord(std::string_view v, size_t max, const char* others, const char* expected) {
  if (v.empty() || v.size() > max || !IsAlnum(v.front())) return expected;
  for (char c : v) {
    if (!IsAlnum(c) && !IsIn(c, others)) return expected;
  }
  return {};
}

}  // namespace

std::string CheckDockerName(std::string_view v) {
  return CheckWord(v, 63, "_.-",
                   "a Docker name: a letter or digit, then letters, digits, '_', '.' or '-' (at "
                   "most 63 characters)");
}

std::string CheckToken(std::string_view v) {
  return CheckWord(v, 128, "-_",
                   "an HTTP token (RFC 7230) of at most 128 letters, digits, '-' and '_', "
                   "starting with a letter or digit");
}

std::string CheckHeaderValue(std::string_view v) {
  const char* kExpected =
      "a header or cookie value of at most 256 letters, digits and -._~!&()*+,=:@/?%^| "
      "(no spaces, quotes, backslashes, braces, ';', '$' or '#')";
  if (v.empty() || v.size() > 256) return kExpected;
  for (char c : v) {
    if (!IsAlnum(c) && !IsIn(c, "-._~!&()*+,=:@/?%^|")) return kExpected;
  }
  return {};
}

std::string CheckRedirectUrl(std::string_view v) {
  const char* kExpected =
      "an absolute http:// or https:// URL of at most 2048 characters with a host, without "
      "whitespace, quotes, braces, ';', '$', '#' or backslashes";
  if (v.size() > 2048) return kExpected;
  std::string_view rest;
  if (v.substr(0, 7) == "http://") {
    rest = v.substr(7);
  } else if (v.substr(0, 8) == "https://") {
    rest = v.substr(8);
  } else {
    return kExpected;
  }
  if (rest.empty() || rest.front() == '/') return kExpected;
  for (char c : rest) {
    if (!IsAlnum(c) && !IsIn(c, "-._~:/?[]@!&()*+,=%")) return kExpected;
  }
  return {};
}

std::string CheckImage(std::string_view v) {
  return CheckWord(v, 255, "_.:/@-",
                   "an image reference of at most 255 characters such as swarmgate/proxy:latest "
                   "(letters, digits and _.:/@-)");
}

std::string CheckConstraint(std::string_view v) {
  const char* kExpected =
      "a placement constraint of at most 256 printable characters such as "
      "node.labels.role==ingress (an == or != comparison, no quotes or backslashes)";
  if (v.empty() || v.size() > 256) return kExpected;
  for (char c : v) {
    if (!IsSafePrintable(c)) return kExpected;
  }
  if (v.find("==") == std::string_view::npos && v.find("!=") == std::string_view::npos) {
    return kExpected;
  }
  return {};
}

std::string CheckDuration(std::string_view v, bool allow_zero) {
  auto d = ParseDuration(v);
  if (!d) return "a duration: an integer followed by ms, s, m or h (e.g. 500ms, 5s, 2m, 1h)";
  if (!allow_zero && d->count() == 0) return "a positive duration such as 500ms, 5s, 2m or 1h";
  return {};
}

std::string CheckSize(std::string_view v) {
  if (!ParseSize(v)) return "a size: an integer optionally followed by k, m or g (e.g. 512k, 10m)";
  return {};
}

std::string CheckLabelKey(std::string_view v) {
  const char* kExpected =
      "a label key of at most 253 letters, digits and -_./, starting and ending with a letter "
      "or digit";
  if (v.empty() || v.size() > 253 || !IsAlnum(v.front()) || !IsAlnum(v.back())) return kExpected;
  for (char c : v) {
    if (!IsAlnum(c) && !IsIn(c, "-_./")) return kExpected;
  }
  return {};
}

std::string CheckLabelValue(std::string_view v) {
  if (v.size() > 253) return "a label value of at most 253 characters";
  for (char c : v) {
    if (!IsSafePrintable(c))
      return "a label value of printable ASCII without quotes or backslashes";
  }
  return {};
}

std::string CheckCidr(std::string_view v) {
  static const char kExpected[] =
      "an IPv4 or IPv6 network in CIDR notation (10.0.0.0/8, 2001:db8::/32) or one address";
  size_t slash = v.find('/');
  std::string addr(v.substr(0, slash));
  std::array<unsigned char, 16> bytes{};
  int bits = 0;
  if (inet_pton(AF_INET, addr.c_str(), bytes.data()) == 1) {
    bits = 32;
  } else if (inet_pton(AF_INET6, addr.c_str(), bytes.data()) == 1) {
    bits = 128;
  } else {
    return kExpected;
  }
  int prefix = bits;
  if (slash != std::string_view::npos) {
    std::string_view len = v.substr(slash + 1);
    if (len.empty() || len.size() > 3 || (len.size() > 1 && len[0] == '0')) return kExpected;
    prefix = 0;
    for (char ch : len) {
      if (ch < '0' || ch > '9') return kExpected;
      prefix = prefix * 10 + (ch - '0');
    }
    if (prefix > bits) {
      return std::string("a prefix length of at most ") + std::to_string(bits) + " for an IPv" +
             (bits == 32 ? "4" : "6") + " network";
    }
  }
  for (int bit = prefix; bit < bits; ++bit) {
    if (bytes[static_cast<size_t>(bit / 8)] & (0x80 >> (bit % 8))) {
      return "a network address with no bits set beyond the prefix /" + std::to_string(prefix);
    }
  }
  return "";
}

}  // namespace sg::crds
