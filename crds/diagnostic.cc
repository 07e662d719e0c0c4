#include "crds/diagnostic.h"

#include <algorithm>
#include <cstdio>
#include <map>

namespace sg::crds {

std::string Diagnostic::ToString() const {
  std::string out = file.empty() ? "<input>" : file;
  if (line > 0) {
    out += ":" + std::to_string(line);
    if (column > 0) out += ":" + std::to_string(column);
  }
  out += ": ";
  if (!path.empty()) out += path + ": ";
  out += message;
  return out;
}

bool AppendShortEscape(std::string& out, char c) {
  switch (c) {
    case '"':
      out += "\\\"";
      return true;
    case '\\':
      out += "\\\\";
      return true;
    case '\n':
      out += "\\n";
      return true;
    case '\r':
      out += "\\r";
      return true;
    case '\t':
      out += "\\t";
      return true;
    default:
      return false;
  }
}

std::string Quote(std::string_view value, size_t max_chars) {
  std::string out = "\"";
  size_t shown = 0;
  for (unsigned char c : value) {
    if (shown == max_chars) {
      out += "...\" (" + std::to_string(value.size()) + " bytes)";
      return out;
    }
    ++shown;
    if (AppendShortEscape(out, static_cast<char>(c))) continue;
    if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

void SortDiagnostics(std::vector<Diagnostic>* diagnostics) {
  // Files keep the order in which they were given; only positions are sorted.
  std::map<std::string, size_t> file_rank;
  for (const Diagnostic& d : *diagnostics) file_rank.emplace(d.file, file_rank.size());
  std::stable_sort(diagnostics->begin(), diagnostics->end(),
                   [&](const Diagnostic& a, const Diagnostic& b) {
                     if (a.file != b.file) return file_rank[a.file] < file_rank[b.file];
                     if (a.line != b.line) return a.line < b.line;
                     return a.column < b.column;
                   });
}

}  // namespace sg::crds
