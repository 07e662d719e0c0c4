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

#include "reconcilers/model/traffic_model.h"

namespace sg::haproxy {

// `lines` consecutive lines written for `route` ("" for shared lines).
struct LineRun {
  std::string_view route;
  size_t lines = 0;
};

// A word HAProxy reads as one argument: printable ASCII without whitespace,
// quotes, backslash or '#'.
bool IsSafeWord(std::string_view s);
// A value the renderer puts between double quotes: printable ASCII (space
// allowed) without quotes, backslash or '$'.
bool IsSafeQuoted(std::string_view s);
// A proxy, server or ACL name: letters, digits and "_.:-".
bool IsSafeName(std::string_view s);
// A sample fetch argument (header or cookie name): letters, digits and "_.-".
bool IsSafeArg(std::string_view s);

// Appends text to one reserved string, like the nginx writer: no streams and
// no regexes, so 10,000 routes render in well under 100 ms. Line attribution
// counts the newlines of each appended piece and extends the current run.
//
// Not thread-safe; one per render. The route views must outlive the writer
// (they point into the model being rendered).
class Writer {
 public:
  explicit Writer(size_t reserve);

  Writer& operator<<(std::string_view v) {
    s_.append(v);
    CountLines(v);
    return *this;
  }
  Writer& operator<<(char c) {
    s_.push_back(c);
    if (c == '\n') AddLines(1);
    return *this;
  }
  Writer& operator<<(long long n) {
    fmt::format_int f(n);
    s_.append(f.data(), f.size());
    return *this;
  }
  Writer& operator<<(int n) { return *this << static_cast<long long>(n); }

  // Appends `other`'s text and line runs; `other` is left empty.
  Writer& Append(Writer&& other);

  // The route of the lines completed from now on; "" for shared lines.
  void SetRoute(std::string_view route) { route_ = route; }
  std::string_view route() const { return route_; }

  std::string TakeText() { return std::move(s_); }
  std::vector<LineRun> TakeLineRuns() { return std::move(runs_); }

  void Reserve(size_t more) { s_.reserve(s_.size() + more); }
  size_t size() const { return s_.size(); }
  bool empty() const { return s_.empty(); }

 private:
  void CountLines(std::string_view v);
  void AddLines(size_t n) {
    if (!runs_.empty() && runs_.back().route == route_) {
      runs_.back().lines += n;
    } else {
      runs_.push_back({route_, n});
    }
  }

  std::string s_;
  std::vector<LineRun> runs_;
  std::string_view route_;
};

// Attributes the lines written in a scope to `route`, then restores the
// previous route. Not thread-safe, like the writer it scopes.
class RouteScope {
 public:
  RouteScope(Writer& w, std::string_view route) : w_(w), previous_(w.route()) { w.SetRoute(route); }
  ~RouteScope() { w_.SetRoute(previous_); }
  RouteScope(const RouteScope&) = delete;
  RouteScope& operator=(const RouteScope&) = delete;

 private:
  Writer& w_;
  std::string_view previous_;
};

// Manipulators: `w << Word{host} << ' ' << Dur{timeout}`. Each replaces the
// characters it cannot write with '_' (an empty word or name becomes "_").

// A model string as one config word (hosts, paths, addresses, file names).
struct Word {
  std::string_view v;
};
Writer& operator<<(Writer& w, Word x);

// A proxy, server or ACL name.
struct Name {
  std::string_view v;
};
Writer& operator<<(Writer& w, Name x);

// A sample fetch argument: req.fhdr(<Arg>), req.cook(<Arg>).
struct Arg {
  std::string_view v;
};
Writer& operator<<(Writer& w, Arg x);

// A value between double quotes (match patterns, header values).
struct Quoted {
  std::string_view v;
};
Writer& operator<<(Writer& w, Quoted x);

// A model string inside a log-format argument (redirect locations, set-path):
// a config word whose '%' is doubled so it is never read as an expression.
struct Fmt {
  std::string_view v;
};
Writer& operator<<(Writer& w, Fmt x);

// A literal path inside a PCRE pattern: metacharacters as one-character
// classes ("[.]"), which need no backslash (the config parser's escape).
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
