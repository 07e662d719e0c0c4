#include "crds/source_map.h"

#include "crds/diagnostic.h"

namespace sg::crds {
namespace {

bool IsPlainKey(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string ChildPath(const std::string& parent, std::string_view key) {
  if (!IsPlainKey(key)) return parent + "[" + Quote(key) + "]";
  if (parent.empty()) return std::string(key);
  return parent + "." + std::string(key);
}

std::string IndexPath(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

std::string ParentPath(const std::string& path) {
  if (path.empty()) return path;
  if (path.back() == ']') {
    // Skip a quoted key, which may itself contain brackets or dots.
    size_t open;
    if (path.size() >= 2 && path[path.size() - 2] == '"') {
      size_t q = path.size() - 2;
      do {
        q = path.rfind('"', q - 1);
      } while (q != std::string::npos && q > 0 && path[q - 1] == '\\');
      open = (q == std::string::npos || q == 0) ? std::string::npos : q - 1;
    } else {
      open = path.rfind('[');
    }
    return open == std::string::npos ? std::string() : path.substr(0, open);
  }
  size_t cut = path.find_last_of(".]");
  if (cut == std::string::npos) return std::string();
  if (path[cut] == ']') return path.substr(0, cut + 1);
  return path.substr(0, cut);
}

Mark SourceMap::Find(std::string path) const {
  while (true) {
    auto it = marks_.find(path);
    if (it != marks_.end()) return it->second;
    if (path.empty()) return Mark{};
    path = ParentPath(path);
  }
}

}  // namespace sg::crds
