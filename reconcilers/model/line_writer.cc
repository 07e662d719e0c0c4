#include "reconcilers/model/line_writer.h"

#include <cstring>

namespace sg::model {

std::vector<std::string> RouteOfLines(const std::vector<LineRun>& runs) {
  size_t lines = 0;
  for (const LineRun& run : runs) lines += run.lines;
  std::vector<std::string> out;
  out.reserve(lines);
  for (const LineRun& run : runs) out.insert(out.end(), run.lines, std::string(run.route));
  return out;
}

void LineBuffer::CountLines(std::string_view v) {
  size_t n = 0;
  const char* p = v.data();
  const char* end = p + v.size();
  while (p != end) {
    const void* nl = std::memchr(p, '\n', static_cast<size_t>(end - p));
    if (nl == nullptr) break;
    ++n;
    p = static_cast<const char*>(nl) + 1;
  }
  if (n > 0) AddLines(n);
}

void LineBuffer::AppendBuffer(LineBuffer& other) {
  s_.append(other.s_);
  auto run = other.runs_.begin();
  if (run != other.runs_.end() && !runs_.empty() && runs_.back().route == run->route) {
    runs_.back().lines += run->lines;
    ++run;
  }
  runs_.insert(runs_.end(), run, other.runs_.end());
  other.s_.clear();
  other.runs_.clear();
}

}  // namespace sg::model
