#pragma once
// Field paths (spec.backends[1].port) and where each field sits in its file.

#include <map>
#include <string>
#include <string_view>

namespace sg::crds {

struct Mark {
  int line = 0;    // 1-based, 0 = unknown
  int column = 0;  // 1-based
};

// Joins a field path with a member name; names that are not plain
// identifiers are written as ["..."] so the path stays unambiguous.
std::string ChildPath(const std::string& parent, std::string_view key);
std::string IndexPath(const std::string& parent, size_t index);

// Position of every node of one document, keyed by field path. Scalars map to
// their value, mappings and sequences to their key, so a diagnostic about a
// block names the line that introduces it.
class SourceMap {
 public:
  void Set(const std::string& path, Mark mark) { marks_[path] = mark; }
  // The mark of `path`, or of its nearest ancestor that has one: a missing
  // field is reported on the line of the mapping that lacks it.
  Mark Find(std::string path) const;
  bool empty() const { return marks_.empty(); }

 private:
  std::map<std::string, Mark> marks_;
};

// The parent of a field path ("" for a top-level field).
std::string ParentPath(const std::string& path);

}  // namespace sg::crds
