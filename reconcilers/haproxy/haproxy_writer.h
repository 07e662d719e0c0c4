#pragma once
// The output side of the HAProxy renderer: one growing buffer, and every rule
// for writing a model string into haproxy.cfg (config words, names, sample
// fetch arguments, quoted patterns, log-format strings, regex literals,
// durations). Escaping lives here and only here, so a string can never end a
// line, start a comment, split into two arguments, expand an environment
// variable or a log-format expression, whichever part of the renderer writes
// it.
//
// The buffer also records, for every line it completes, the route on whose
// behalf the line was written, so an error `haproxy -c` reports by line number
// ("[haproxy.cfg:12]") leads back to a route without reading the text again.
// Lines are recorded as runs of consecutive lines of one route.

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <vector>

#include "reconcilers/model/line_writer.h"
#include "reconcilers/model/sanitize.h"
#include "reconcilers/model/traffic_model.h"

namespace sg::haproxy {

// HAProxy's character rules (model::CharRule). Outside quotes HAProxy splits
// on blanks, reads '#' as a comment, quotes as the start of a quoted string
// and '\' as an escape; '$' expands only inside double quotes, so it is a
// plain character there.
//
// A word: printable ASCII without whitespace, quotes, backslash or '#'.
bool WordChar(char c);
// Between double quotes ('\' escapes, '$' expands an environment variable,
// '"' ends the string): printable ASCII, space allowed, without those three.
bool QuotedChar(char c);
// A proxy, server or ACL name: letters, digits and "_.:-".
bool NameChar(char c);
// A sample fetch argument (header or cookie name): letters, digits and "_.-".
bool ArgChar(char c);

// Whether a non-empty `s` is written as it is.
bool IsSafeWord(std::string_view s);
bool IsSafeQuoted(std::string_view s);  // "" too
// Written between single quotes, where HAProxy takes every byte as it is:
// printable, no single quote, no space.
bool IsSafePattern(std::string_view s);
bool IsSafeName(std::string_view s);
bool IsSafeArg(std::string_view s);

// The engine's writer: model::LineWriter (text and line attribution) plus
// its escaping manipulators. Not thread-safe; one per render.
class Writer : public model::LineWriter<Writer> {
 public:
  using LineWriter::LineWriter;
};

using model::LineRun;
using model::RouteScope;

// Manipulators: `w << Word{host} << ' ' << Dur{timeout}`. Each replaces the
// characters it cannot write with '_' (an empty word or name becomes "_").

// A model string as one config word (hosts, paths, addresses, file names).
using Word = model::SanitizedWord<WordChar>;
// A proxy, server or ACL name.
using Name = model::SanitizedWord<NameChar>;
// A sample fetch argument: req.fhdr(<Arg>), req.cook(<Arg>).
using Arg = model::SanitizedWord<ArgChar>;
// A value between double quotes (match patterns, header values).
using Quoted = model::SanitizedQuoted<QuotedChar>;

// A model string inside a log-format argument (redirect locations, set-path):
// a config word whose '%' is doubled so it is never read as an expression.
struct Fmt {
  std::string_view v;
};
Writer& operator<<(Writer& w, Fmt x);

// A value between double quotes inside a log-format argument (the values of
// set-header and add-header): Quoted, with '%' doubled.
struct FmtQuoted {
  std::string_view v;
};
Writer& operator<<(Writer& w, FmtQuoted x);

// A literal path inside a PCRE pattern: every character other than letters,
// digits and a few safe punctuation marks is written as "." (any character),
// which needs no backslash (the config parser's escape). Looser than the
// path, but the pattern is only applied to paths already matched by the
// location's exact prefix test, where "." meets the literal character.
struct RegexLiteral {
  std::string_view v;
};
Writer& operator<<(Writer& w, RegexLiteral x);

// A duration in the largest exact unit HAProxy accepts ("5s", "1500ms", "1h").
struct Dur {
  model::Duration d;
};
Writer& operator<<(Writer& w, Dur d);

// Name{v} as a string.
std::string SafeName(std::string_view v);
// Word{v} as a string.
std::string SafeWord(std::string_view v);
// 32-bit FNV-1a of `v` as 8 lower-case hex digits: short, stable identifiers.
std::string ShortHash(std::string_view v);

}  // namespace sg::haproxy
