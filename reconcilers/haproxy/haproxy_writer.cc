#include "reconcilers/haproxy/haproxy_writer.h"

#include <cstdint>
#include <cstring>
#include <utility>

namespace sg::haproxy {
namespace {

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Outside quotes HAProxy splits on blanks, reads '#' as a comment, quotes as
// the start of a quoted string and '\' as an escape. '$' expands only inside
// double quotes, so it is a plain character here.
bool WordChar(char c) {
  if (c < 0x21 || c > 0x7e) return false;
  return c != '"' && c != '\'' && c != '\\' && c != '#';
}

// Inside double quotes: '\' escapes, '$' expands an environment variable and
// '"' ends the string; the rest of printable ASCII is literal.
bool QuotedChar(char c) {
  if (c < 0x20 || c > 0x7e) return false;
  return c != '"' && c != '\\' && c != '$';
}

bool NameChar(char c) { return IsAlnum(c) || c == '_' || c == '.' || c == ':' || c == '-'; }
bool ArgChar(char c) { return IsAlnum(c) || c == '_' || c == '.' || c == '-'; }

template <class Pred>
bool All(std::string_view s, Pred ok) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!ok(c)) return false;
  }
  return true;
}

// Sanitised output never holds a newline (no predicate accepts control
// characters), so no line is counted here.
template <class Pred>
Writer& Sanitized(Writer& w, std::string_view v, Pred ok) {
  if (v.empty()) return w << '_';
  for (char c : v) w << (ok(c) ? c : '_');
  return w;
}

template <class Pred>
std::string SanitizedString(std::string_view v, Pred ok) {
  if (v.empty()) return "_";
  std::string out(v);
  for (char& c : out) {
    if (!ok(c)) c = '_';
  }
  return out;
}

}  // namespace

bool IsSafeWord(std::string_view s) { return All(s, WordChar); }
bool IsSafeQuoted(std::string_view s) {
  for (char c : s) {
    if (!QuotedChar(c)) return false;
  }
  return true;
}
bool IsSafeName(std::string_view s) { return All(s, NameChar); }
bool IsSafeArg(std::string_view s) { return All(s, ArgChar); }

Writer& operator<<(Writer& w, Word x) { return Sanitized(w, x.v, WordChar); }
Writer& operator<<(Writer& w, Name x) { return Sanitized(w, x.v, NameChar); }
Writer& operator<<(Writer& w, Arg x) { return Sanitized(w, x.v, ArgChar); }

Writer& operator<<(Writer& w, Quoted x) {
  w << '"';
  for (char c : x.v) w << (QuotedChar(c) ? c : '_');
  return w << '"';
}

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

// Callers match the path against the same literal first, so the pattern only
// has to have the right length: anything but plain path characters becomes
// '.', which needs no escape and matches the character it replaces.
Writer& operator<<(Writer& w, RegexLiteral x) {
  for (char c : x.v) {
    bool plain = IsAlnum(c) || c == '/' || c == '-' || c == '_' || c == '~' || c == '!' ||
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
