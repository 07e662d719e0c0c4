#pragma once
// The output side of the nginx renderer: one growing buffer, and every rule for
// writing a model string into nginx.conf (words, quoted values, variable-name
// fragments, regex literals, durations, sizes). Escaping lives here and only
// here, so a string can never close a directive or block, start a comment or
// expand a variable, whichever part of the renderer writes it.
//
// The buffer also records, for every line it completes, the route on whose
// behalf the line was written, so an error nginx reports by line number leads
// back to a route without reading the text again. Lines are recorded as runs
// of consecutive lines of one route: a few entries per route instead of one
// per line.

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <vector>

#include "reconcilers/model/line_writer.h"
#include "reconcilers/model/sanitize.h"
#include "reconcilers/model/traffic_model.h"

namespace sg::nginx {

// nginx's character rules (model::CharRule).
//
// In a token nginx reads as one word: printable ASCII without whitespace,
// quotes, backslash, ';', '{', '}', '$' or '#'.
bool TokenChar(char c);
// Between double quotes: printable ASCII, space allowed, without quotes,
// backslash or '$'.
bool QuotedChar(char c);

// Whether a non-empty `s` is written as it is.
bool IsSafeToken(std::string_view s);
bool IsSafeQuoted(std::string_view s);  // "" too
// A regular expression written by QuotedPattern: printable, no quotes.
bool IsSafePattern(std::string_view s);

// The engine's writer: model::LineWriter (text and line attribution) plus
// its escaping manipulators. Not thread-safe; one per render.
class Writer : public model::LineWriter<Writer> {
 public:
  using LineWriter::LineWriter;
};

using model::LineRun;
using model::RouteScope;

// Manipulators: `w << Tok(host) << ' ' << Dur{timeout}`.

// A model string as one nginx word; unsafe characters become '_' (an empty
// string "_").
using Tok = model::SanitizedWord<TokenChar>;
// A model string between double quotes; unsafe characters become '_'.
using Quoted = model::SanitizedQuoted<QuotedChar>;

// A duration in the largest exact unit nginx accepts ("5s", "1500ms").
struct Dur {
  model::Duration d;
};
Writer& operator<<(Writer& w, Dur d);

// A size with nginx's k/m suffixes when exact.
struct Size {
  long long bytes;
};
Writer& operator<<(Writer& w, Size s);

// A variable-name fragment for a route or cookie name: ASCII letters and digits
// kept, everything else '_'. Route names are [a-z0-9-], for which this is
// one-to-one.
struct Ident {
  std::string_view v;
};
Writer& operator<<(Writer& w, Ident id);

// A literal path inside a PCRE pattern, its metacharacters escaped.
struct RegexLiteral {
  std::string_view v;
};
Writer& operator<<(Writer& w, RegexLiteral r);

// A cookie name inside the quoted regex that extracts it from the Cookie
// header: regex metacharacters escaped, characters unsafe in quotes as '_'.
struct CookieNamePattern {
  std::string_view v;
};
Writer& operator<<(Writer& w, CookieNamePattern c);

// The $http_ variable of a request header: lower case, '-' as '_'.
struct HeaderVar {
  std::string_view name;
};
Writer& operator<<(Writer& w, HeaderVar h);

// A map key that matches `v` exactly, case included. nginx compares plain
// string keys case-insensitively, so the key is a case-sensitive regex,
// anchored at both ends ("~^v$"), quoted, with every regex metacharacter
// escaped; characters unsafe in quotes become '_'. A regex key is never read
// as a map keyword either.
struct ExactMapKey {
  std::string_view v;
};
Writer& operator<<(Writer& w, ExactMapKey k);

// A regular expression between double quotes, its backslashes kept.
struct QuotedPattern {
  std::string_view v;
};
Writer& operator<<(Writer& w, QuotedPattern p);

// The inside of Quoted(v), without its quotes, for a quoted string that
// holds more than `v`; "" stays "".
std::string SafeQuotedText(std::string_view v);
// Tok(v) as a string, for values that are kept (e.g. as map values).
std::string SafeToken(std::string_view v);
// Ident{v} as a string.
std::string IdentString(std::string_view v);
// Whether nginx can spell `v` as part of a variable name ($cookie_NAME).
bool IsVariableName(std::string_view v);
// Lower-case hex of every byte.
std::string Hex(std::string_view v);
size_t NextPow2(size_t n);

}  // namespace sg::nginx
