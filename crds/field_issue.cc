#include "crds/field_issue.h"

namespace sg::crds {
namespace {

// Whether `ancestor` is `path` or one of its ancestors.
bool IsSelfOrAncestor(const std::string& ancestor, const std::string& path) {
  if (ancestor.empty()) return true;
  if (path.compare(0, ancestor.size(), ancestor) != 0) return false;
  if (path.size() == ancestor.size()) return true;
  char next = path[ancestor.size()];
  return next == '.' || next == '[';
}

}  // namespace

bool FailedPaths::Covers(const std::string& path) const {
  for (const std::string& p : paths_) {
    if (IsSelfOrAncestor(p, path)) return true;
  }
  return false;
}

bool FailedPaths::Touches(const std::string& path) const {
  for (const std::string& p : paths_) {
    if (IsSelfOrAncestor(p, path) || IsSelfOrAncestor(path, p)) return true;
  }
  return false;
}

}  // namespace sg::crds
