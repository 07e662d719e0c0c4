#include "reconcilers/model/sanitize.h"

namespace sg::model {

bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool AllChars(std::string_view s, CharRule ok) {
  for (char c : s) {
    if (!ok(c)) return false;
  }
  return true;
}

std::string SanitizedString(std::string_view v, CharRule ok) {
  if (v.empty()) return "_";
  std::string out(v);
  for (char& c : out) {
    if (!ok(c)) c = '_';
  }
  return out;
}

}  // namespace sg::model
