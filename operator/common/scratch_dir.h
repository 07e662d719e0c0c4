#pragma once
// A private scratch directory for an engine's check (`nginx -t`,
// `haproxy -c`): the configuration and the files it names are written into
// it, and it is removed with everything in it when the object goes.
//
// Thread-safety: each object is used by one thread; different objects never
// share a directory (mkdtemp).

#include <map>
#include <string>

#include "operator/common/result.h"

namespace sg {

class ScratchDir {
 public:
  // Under `root` ($TMPDIR or /tmp when empty), named <prefix>-XXXXXX.
  static Result<ScratchDir> Create(const std::string& root, const std::string& prefix);
  ScratchDir(ScratchDir&& o) noexcept;
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ScratchDir& operator=(ScratchDir&&) = delete;
  ~ScratchDir();

  const std::string& path() const { return path_; }

  // Writes `content` to `relative` inside the directory, creating its parent
  // directories. InvalidArgument for a path that is absolute or climbs out
  // ("..").
  Status Write(const std::string& relative, const std::string& content) const;
  // Write() of every (relative path, content) pair; stops at the first error.
  Status WriteAll(const std::map<std::string, std::string>& files) const;

 private:
  explicit ScratchDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// Whether `path` is relative and stays below its base (no "..").
bool IsRelativeInside(const std::string& path);

// Writes a whole file, creating its parent directories.
Status WriteFileCreatingDirs(const std::string& path, const std::string& content);

}  // namespace sg
