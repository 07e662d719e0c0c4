#pragma once
// The buffer every engine's renderer writes its configuration into: one
// growing string, plus the route on whose behalf each completed line was
// written, so a checker's "line N" (nginx's "nginx.conf:12", HAProxy's
// "[haproxy.cfg:12]") leads back to a route without reading the text again.
// Lines are recorded as runs of consecutive lines of one route.
//
// Appending is plain string appends (no streams, no regexes): 10,000 routes
// render in well under 100 ms. Escaping is the engines' business: each
// engine's writer derives from LineWriter and adds its own manipulators.
//
// Not thread-safe; one per render. The route views must outlive the writer
// (they point into the model being rendered).

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <vector>

namespace sg::model {

// `lines` consecutive lines written for `route` ("" for shared lines).
struct LineRun {
  std::string_view route;
  size_t lines = 0;
};

// The route of each line, from runs: element i is the route of line i+1.
std::vector<std::string> RouteOfLines(const std::vector<LineRun>& runs);

class LineBuffer {
 public:
  explicit LineBuffer(size_t reserve) { s_.reserve(reserve); }

  // The route of the lines completed from now on; "" for shared lines.
  void SetRoute(std::string_view route) { route_ = route; }
  std::string_view route() const { return route_; }

  std::string TakeText() { return std::move(s_); }
  // The routes of the lines written so far, one line per '\n', in order.
  std::vector<LineRun> TakeLineRuns() { return std::move(runs_); }

  void Reserve(size_t more) { s_.reserve(s_.size() + more); }
  size_t size() const { return s_.size(); }
  bool empty() const { return s_.empty(); }

 protected:
  void Put(std::string_view v) {
    s_.append(v);
    CountLines(v);
  }
  void Put(char c) {
    s_.push_back(c);
    if (c == '\n') AddLines(1);
  }
  void Put(long long n) {
    fmt::format_int f(n);
    s_.append(f.data(), f.size());
  }
  // Text without a newline, appended without counting lines.
  std::string& raw() { return s_; }
  // Appends `other`'s text and line runs; `other` is left empty.
  void AppendBuffer(LineBuffer& other);

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

// The stream operators, returning the engine's own writer so that its
// manipulators chain: `w << "server " << Word{address} << '\n'`.
template <class Self>
class LineWriter : public LineBuffer {
 public:
  using LineBuffer::LineBuffer;

  Self& operator<<(std::string_view v) {
    Put(v);
    return self();
  }
  Self& operator<<(char c) {
    Put(c);
    return self();
  }
  Self& operator<<(long long n) {
    Put(n);
    return self();
  }
  Self& operator<<(int n) { return *this << static_cast<long long>(n); }
  // Appends `other`'s text and line runs; `other` is left empty.
  Self& Append(Self&& other) {
    AppendBuffer(other);
    return self();
  }

 private:
  Self& self() { return static_cast<Self&>(*this); }
};

// Attributes the lines written in a scope to `route`, then restores the
// previous route. Not thread-safe, like the writer it scopes.
class RouteScope {
 public:
  RouteScope(LineBuffer& w, std::string_view route) : w_(w), previous_(w.route()) {
    w.SetRoute(route);
  }
  ~RouteScope() { w_.SetRoute(previous_); }
  RouteScope(const RouteScope&) = delete;
  RouteScope& operator=(const RouteScope&) = delete;

 private:
  LineBuffer& w_;
  std::string_view previous_;
};

}  // namespace sg::model
