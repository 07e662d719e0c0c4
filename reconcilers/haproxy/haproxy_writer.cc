#include "reconcilers/haproxy/haproxy_writer.h"

#include <cstdint>
#include <cstring>
#include <utility>

namespace sg::haproxy {

using model::AllChars;
using model::IsAsciiAlnum;
using model::SanitizedString;

bool WordChar(char c) {
  if (c < 0x21 || c > 0x7e) return false;
  return c != '"' && c != '\'' && c != '\\' && c != '#';
}

bool QuotedChar(char c) {
  if (c < 0x20 || c > 0x7e) return false;
  return c != '"' && c != '\\' && c != '$';
}

bool NameChar(char c) { return IsAsciiAlnum(c) || c == '_' || c == '.' || c == ':' || c == '-'; }
bool ArgChar(char c) { return IsAsciiAlnum(c) || c == '_' || c == '.' || c == '-'; }

bool IsSafeWord(std::string_view s) { return !s.empty() && AllChars(s, WordChar); }
bool IsSafeQuoted(std::string_view s) { return AllChars(s, QuotedChar); }
bool IsSafePattern(std::string_view s) {
  return !s.empty() && AllChars(s, [](char c) { return c > 0x20 && c < 0x7f && c != '\''; });
}
bool IsSafeName(std::string_view s) { return !s.empty() && AllChars(s, NameChar); }
bool IsSafeArg(std::string_view s) { return !s.empty() && AllChars(s, ArgChar); }

Writer& operator<<(Writer& w, Fmt x) {
  if (x.v.empty()) return w << '_';
  for (char c : x.v) {
    if (c == '%') {
      w << "%%";
    } else {
      w << (WordChar(c) ? c : '_');
    }
  }
  return w;
}

Writer& operator<<(Writer& w, FmtQuoted x) {
  w << '"';
  for (char c : x.v) {
    if (c == '%') {
      w << "%%";
    } else {
      w << (QuotedChar(c) ? c : '_');
    }
  }
  return w << '"';
}

// Callers match the path against the same literal first, so the pattern only
// has to have the right length: anything but plain path characters becomes
// '.', which needs no escape and matches the character it replaces.
Writer& operator<<(Writer& w, RegexLiteral x) {
  for (char c : x.v) {
    bool plain = IsAsciiAlnum(c) || c == '/' || c == '-' || c == '_' || c == '~' || c == '!' ||
                 c == '&' || c == ',' || c == '=' || c == ':' || c == '@' || c == '%';
    w << (plain ? c : '.');
  }
  return w;
}

Writer& operator<<(Writer& w, Dur d) {
  long long ms = d.d.count();
  if (ms <= 0) return w << "0s";
  if (ms % 3600000 == 0) return w << ms / 3600000 << 'h';
  if (ms % 60000 == 0) return w << ms / 60000 << 'm';
  if (ms % 1000 == 0) return w << ms / 1000 << 's';
  return w << ms << "ms";
}

std::string SafeName(std::string_view v) { return SanitizedString(v, NameChar); }
std::string SafeWord(std::string_view v) { return SanitizedString(v, WordChar); }

std::string ShortHash(std::string_view v) {
  uint32_t h = 2166136261u;
  for (unsigned char c : v) {
    h ^= c;
    h *= 16777619u;
  }
  return fmt::format("{:08x}", h);
}

}  // namespace sg::haproxy
