#include "crds/regex_check.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <vector>

namespace sg::crds {
namespace {

// What a group held, for the repetition check.
struct Group {
  bool unbounded_inside = false;  // some *, + or {n,} within it
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Whether the quantifier at `p[i]` is unbounded (*, +, {n,}); `len` gets its length.
bool UnboundedQuantifier(std::string_view p, size_t i, size_t* len) {
  *len = 0;
  if (i >= p.size()) return false;
  if (p[i] == '*' || p[i] == '+') {
    *len = 1;
    return true;
  }
  if (p[i] == '?') {
    *len = 1;
    return false;
  }
  if (p[i] != '{') return false;
  size_t j = i + 1;
  while (j < p.size() && IsDigit(p[j])) ++j;
  if (j == i + 1) return false;  // "{" not followed by a count: a literal
  if (j < p.size() && p[j] == '}') {
    *len = j - i + 1;
    return false;
  }
  if (j >= p.size() || p[j] != ',') return false;
  size_t k = j + 1;
  while (k < p.size() && IsDigit(p[k])) ++k;
  if (k >= p.size() || p[k] != '}') return false;
  *len = k - i + 1;
  return k == j + 1;  // "{n,}": no upper bound
}

// Nested unbounded repetition and backreferences: the constructs whose
// matching time can grow exponentially with the input.
std::string CheckBacktracking(std::string_view p) {
  std::vector<Group> groups;
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\') {
      if (i + 1 < p.size()) {
        char n = p[i + 1];
        if ((IsDigit(n) && n != '0') || n == 'k' || n == 'g') {
          return "a regular expression without backreferences (\\" + std::string(1, n) +
                 " at offset " + std::to_string(i) + ")";
        }
      }
      ++i;
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      continue;
    }
    if (c == '[') {
      in_class = true;
      if (i + 1 < p.size() && p[i + 1] == ']') ++i;  // "[]...]": ']' first is literal
      continue;
    }
    if (c == '(') {
      if (p.substr(i, 4) == "(?P=") {
        return "a regular expression without backreferences ((?P= at offset " + std::to_string(i) +
               ")";
      }
      groups.push_back({});
      continue;
    }
    size_t len = 0;
    if (c == ')') {
      if (groups.empty()) continue;  // PCRE2 reports it
      Group g = groups.back();
      groups.pop_back();
      bool unbounded = UnboundedQuantifier(p, i + 1, &len);
      if (unbounded && g.unbounded_inside) {
        return "a regular expression without nested unbounded repetition (the group closed at "
               "offset " +
               std::to_string(i) + " repeats a repetition, which can take exponential time)";
      }
      if (!groups.empty() && (g.unbounded_inside || unbounded))
        groups.back().unbounded_inside = true;
      i += len;
      continue;
    }
    if (UnboundedQuantifier(p, i, &len) && !groups.empty()) groups.back().unbounded_inside = true;
    if (len > 0) i += len - 1;
  }
  return "";
}

}  // namespace

std::string CheckRegex(std::string_view pattern) {
  int code = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* re = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), 0,
                                 &code, &offset, nullptr);
  if (re == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(code, message, sizeof message);
    return "a regular expression PCRE2 compiles: " +
           std::string(reinterpret_cast<const char*>(message)) + " at offset " +
           std::to_string(offset);
  }
  pcre2_code_free(re);
  return CheckBacktracking(pattern);
}

}  // namespace sg::crds
