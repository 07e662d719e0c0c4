#include "reconcilers/haproxy/haproxy_side_files.h"

#include <set>

#include "reconcilers/haproxy/haproxy_writer.h"

namespace sg::haproxy {
namespace {

constexpr std::string_view kFileMarker = "#@file ";
constexpr std::string_view kLineMarker = "#@";

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

}  // namespace

std::string SideFileName(std::string_view stem, std::string_view extension,
                         std::string_view content) {
  std::string name(stem);
  name += '.';
  name += ShortHash(content);
  name += '.';
  name += extension;
  return name;
}

bool IsSideFileName(std::string_view name) {
  if (name.empty() || name.size() > 128 || name.front() == '.') return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string SideFileStart(std::string_view name) {
  std::string out(kFileMarker);
  out.append(name);
  out.push_back('\n');
  return out;
}

std::string SideFileLine(std::string_view line) {
  std::string out(kLineMarker);
  if (!line.empty()) {
    out.push_back(' ');
    out.append(line);
  }
  out.push_back('\n');
  return out;
}

void AppendSideFile(const SideFile& file, std::string* out) {
  out->append(SideFileStart(file.name));
  size_t start = 0;
  while (start < file.content.size()) {
    size_t end = file.content.find('\n', start);
    if (end == std::string::npos) end = file.content.size();
    out->append(SideFileLine(std::string_view(file.content).substr(start, end - start)));
    start = end + 1;
  }
}

Result<std::vector<SideFile>> SideFiles(std::string_view config) {
  std::vector<SideFile> out;
  std::set<std::string, std::less<>> names;
  bool open = false;
  size_t line_number = 0;
  size_t begin = 0;
  while (begin < config.size()) {
    size_t end = config.find('\n', begin);
    if (end == std::string_view::npos) end = config.size();
    const std::string_view line = config.substr(begin, end - begin);
    begin = end + 1;
    ++line_number;
    if (StartsWith(line, kFileMarker)) {
      const std::string_view name = line.substr(kFileMarker.size());
      if (!IsSideFileName(name) || !names.emplace(name).second) {
        return Error{ErrorCode::kInvalidArgument,
                     "haproxy.cfg:" + std::to_string(line_number) + ": side file \"" +
                         std::string(name) +
                         "\": expected a unique plain file name (letters, digits, '.', '_', '-')"};
      }
      out.push_back({std::string(name), ""});
      open = true;
      continue;
    }
    if (open && StartsWith(line, kLineMarker)) {
      std::string_view rest = line.substr(kLineMarker.size());
      if (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
      out.back().content.append(rest);
      out.back().content.push_back('\n');
      continue;
    }
    open = false;
  }
  return out;
}

}  // namespace sg::haproxy
