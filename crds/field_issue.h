#pragma once
// A problem with one field of a document, before it is given a file position.

#include <string>
#include <vector>

namespace sg::crds {

struct FieldIssue {
  std::string path;  // field path of the offending (or missing) field
  std::string message;
};

// Field paths that already have an error, so later checks do not pile more
// errors onto the same field.
class FailedPaths {
 public:
  void Add(const std::string& path) { paths_.push_back(path); }
  // `path` itself or one of its ancestors failed: its value cannot be trusted.
  bool Covers(const std::string& path) const;
  // Covers(path), or something inside `path` failed: a check that looks at
  // the whole subtree should stay quiet.
  bool Touches(const std::string& path) const;

 private:
  std::vector<std::string> paths_;
};

}  // namespace sg::crds
