#pragma once
// A problem found in user input, located precisely enough to fix it.

#include <string>
#include <string_view>
#include <vector>

namespace sg::crds {

struct Diagnostic {
  std::string file;
  int line = 0;      // 1-based; 0 when the input has no positions (stored JSON)
  int column = 0;    // 1-based
  std::string path;  // field path such as spec.backends[1].port; empty for the whole document
  std::string message;

  // FILE:LINE:COL: PATH: MESSAGE (parts without a value are left out).
  std::string ToString() const;
};

// Renders a value for a message: quoted, control and non-ASCII bytes escaped,
// long values cut so that a hostile 5000-character input stays readable.
std::string Quote(std::string_view value, size_t max_chars = 60);

// Appends the two-character escape of `c` if it has one in both C and YAML
// double-quoted strings (\" \\ \n \r \t) and returns true; false leaves
// `out` unchanged.
bool AppendShortEscape(std::string& out, char c);

// Orders diagnostics by line and column within each file; files and ties keep
// their discovery order.
void SortDiagnostics(std::vector<Diagnostic>* diagnostics);

}  // namespace sg::crds
