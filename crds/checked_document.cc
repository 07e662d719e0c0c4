#include "crds/checked_document.h"

namespace sg::crds {

void CheckedDocument::Report(const std::string& path, const std::string& message) {
  Mark mark = parsed.positions.Find(path);
  diagnostics.push_back(Diagnostic{parsed.file, mark.line, mark.column, path, message});
  failed.Add(path);
}

std::string CheckedDocument::Where(const std::string& path) const {
  Mark mark = parsed.positions.Find(path);
  if (mark.line == 0) return parsed.file;
  return parsed.file + ":" + std::to_string(mark.line);
}

}  // namespace sg::crds
