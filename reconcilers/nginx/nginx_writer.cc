#include "reconcilers/nginx/nginx_writer.h"

#include <cstring>
#include <utility>

namespace sg::nginx {

using model::AllChars;
using model::IsAsciiAlnum;

namespace {

bool SafeChar(char c, bool quoted) {
  if (c == ' ') return quoted;
  if (c < 0x21 || c > 0x7e) return false;
  switch (c) {
    case '"':
    case '\'':
    case '\\':
    case '$':
      return false;
    case ';':
    case '{':
    case '}':
    case '#':
      return quoted;
    default:
      return true;
  }
}

bool IsRegexMeta(char c) {
  switch (c) {
    case '.':
    case '*':
    case '+':
    case '?':
    case '(':
    case ')':
    case '[':
    case ']':
    case '^':
    case '|':
    case '{':  // a quantifier such as {2}
    case '}':
      return true;
    default:
      return false;
  }
}

}  // namespace

bool TokenChar(char c) { return SafeChar(c, false); }
bool QuotedChar(char c) { return SafeChar(c, true); }

bool IsSafeToken(std::string_view s) { return !s.empty() && AllChars(s, TokenChar); }
bool IsSafeQuoted(std::string_view s) { return AllChars(s, QuotedChar); }
bool IsSafePattern(std::string_view s) {
  return !s.empty() &&
         AllChars(s, [](char c) { return c > 0x20 && c < 0x7f && c != '"' && c != '\''; });
}

Writer& operator<<(Writer& w, QuotedPattern p) {
  w << '"';
  // nginx unescapes \\ (and \t, \n, \r) in quoted strings: doubled, every
  // backslash reaches PCRE as written.
  for (char c : p.v) {
    if (c == '\\') w << '\\';
    w << c;
  }
  return w << '"';
}

Writer& operator<<(Writer& w, Dur d) {
  long long ms = d.d.count();
  if (ms % 1000 == 0) return w << ms / 1000 << 's';
  return w << ms << "ms";
}

Writer& operator<<(Writer& w, Size s) {
  if (s.bytes != 0 && s.bytes % (1LL << 20) == 0) return w << s.bytes / (1LL << 20) << 'm';
  if (s.bytes != 0 && s.bytes % 1024 == 0) return w << s.bytes / 1024 << 'k';
  return w << s.bytes;
}

Writer& operator<<(Writer& w, Ident id) {
  for (char c : id.v) w << (IsAsciiAlnum(c) ? c : '_');
  return w;
}

Writer& operator<<(Writer& w, RegexLiteral r) {
  for (char c : r.v) {
    if (IsRegexMeta(c)) w << '\\';
    w << c;
  }
  return w;
}

Writer& operator<<(Writer& w, CookieNamePattern c) {
  for (char ch : c.v) {
    if (!QuotedChar(ch) || ch == ' ') {
      w << '_';
      continue;
    }
    w << RegexLiteral{std::string_view(&ch, 1)};
  }
  return w;
}

Writer& operator<<(Writer& w, HeaderVar h) {
  w << "$http_";
  for (char c : h.name) {
    w << (c == '-' ? '_' : static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
  }
  return w;
}

Writer& operator<<(Writer& w, ExactMapKey k) {
  // '$' and '\' are not quoted characters, so every backslash written escapes
  // a regex metacharacter, and nginx's parser passes those pairs on as they
  // are (it unescapes only \", \', \\, \t, \r and \n).
  w << "\"~^";
  for (char c : k.v) {
    if (QuotedChar(c)) {
      w << RegexLiteral{std::string_view(&c, 1)};
    } else {
      w << '_';
    }
  }
  return w << "$\"";
}

std::string SafeQuotedText(std::string_view v) {
  std::string out(v);
  for (char& c : out) {
    if (!QuotedChar(c)) c = '_';
  }
  return out;
}

std::string SafeToken(std::string_view v) { return model::SanitizedString(v, TokenChar); }

std::string IdentString(std::string_view v) {
  std::string out(v);
  for (char& c : out) {
    if (!IsAsciiAlnum(c)) c = '_';
  }
  return out;
}

bool IsVariableName(std::string_view v) {
  if (v.empty()) return false;
  for (char c : v) {
    if (!IsAsciiAlnum(c) && c != '_') return false;
  }
  return true;
}

std::string Hex(std::string_view v) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(v.size() * 2);
  for (unsigned char c : v) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

size_t NextPow2(size_t n) {
  size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

}  // namespace sg::nginx
