#include "operator/common/scratch_dir.h"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <utility>

namespace sg {

namespace fs = std::filesystem;

Result<ScratchDir> ScratchDir::Create(const std::string& root, const std::string& prefix) {
  std::string base = root;
  if (base.empty()) {
    const char* env = std::getenv("TMPDIR");
    base = env != nullptr && *env != '\0' ? env : "/tmp";
  }
  std::string templ = base + "/" + prefix + "-XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) {
    return Internal("mkdtemp in " + base + ": " + strerror(errno));
  }
  return ScratchDir(templ);
}

ScratchDir::ScratchDir(ScratchDir&& o) noexcept : path_(std::exchange(o.path_, std::string())) {}

ScratchDir::~ScratchDir() {
  if (path_.empty()) return;
  std::error_code ec;
  fs::remove_all(path_, ec);
}

Status ScratchDir::Write(const std::string& relative, const std::string& content) const {
  if (!IsRelativeInside(relative)) {
    return InvalidArgument("file \"" + relative + "\" is not a relative path inside " + path_);
  }
  return WriteFileCreatingDirs(path_ + "/" + relative, content);
}

Status ScratchDir::WriteAll(const std::map<std::string, std::string>& files) const {
  for (const auto& [name, content] : files) {
    if (Status st = Write(name, content); !st.ok()) return st;
  }
  return OkStatus();
}

bool IsRelativeInside(const std::string& path) {
  if (path.empty() || path[0] == '/') return false;
  for (const auto& part : fs::path(path)) {
    if (part == "..") return false;
  }
  return true;
}

Status WriteFileCreatingDirs(const std::string& path, const std::string& content) {
  const fs::path p(path);
  std::error_code ec;
  fs::create_directories(p.parent_path(), ec);
  if (ec) return Internal("mkdir " + p.parent_path().string() + ": " + ec.message());
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(content.data(), static_cast<std::streamsize>(content.size()));
  f.close();
  if (!f) return Internal("cannot write " + path);
  return OkStatus();
}

}  // namespace sg
