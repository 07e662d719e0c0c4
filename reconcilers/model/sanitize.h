#pragma once
// How a model string is neutralised on its way into a configuration file,
// whatever the engine: a character rule says which characters the engine's
// syntax takes as they are in a given place (a word, a quoted value), and
// every other character is written as '_'. The engines' writers
// (nginx_writer.h, haproxy_writer.h) define their rules and name the
// manipulators built on them; each engine's checker reports a model string
// that a rule would change.
//
// Thread-safety: pure functions and plain values.

#include <string>
#include <string_view>

namespace sg::model {

// Whether the engine writes `c` as it is in a given place.
using CharRule = bool (*)(char c);

// ASCII letters and digits.
bool IsAsciiAlnum(char c);

// Whether every character of `s` passes `ok` (true for "").
bool AllChars(std::string_view s, CharRule ok);

// `v` with every character `ok` refuses replaced by '_'; "_" for "" (an empty
// word would shift the words after it).
std::string SanitizedString(std::string_view v, CharRule ok);

// Manipulators for the engines' writers (model::LineWriter):
// `w << SanitizedWord<WordChar>(host)`. A rule must refuse '\n', so that a
// sanitised string never ends a line.

// A model string as one word: SanitizedString(v, Ok).
template <CharRule Ok>
struct SanitizedWord {
  explicit SanitizedWord(std::string_view value) : v(value) {}
  std::string_view v;
};

// A model string between double quotes, every character `Ok` refuses as '_'.
template <CharRule Ok>
struct SanitizedQuoted {
  explicit SanitizedQuoted(std::string_view value) : v(value) {}
  std::string_view v;
};

template <class Writer, CharRule Ok>
Writer& operator<<(Writer& w, SanitizedWord<Ok> x) {
  if (x.v.empty()) return w << '_';
  for (char c : x.v) w << (Ok(c) ? c : '_');
  return w;
}

template <class Writer, CharRule Ok>
Writer& operator<<(Writer& w, SanitizedQuoted<Ok> x) {
  w << '"';
  for (char c : x.v) w << (Ok(c) ? c : '_');
  return w << '"';
}

}  // namespace sg::model
