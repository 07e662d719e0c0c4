#include "operator/common/nginx_output.h"

#include <sstream>

namespace sg {

std::string CleanNginxOutput(std::string_view output, std::string_view prefix_dir) {
  std::string out(output);
  if (!prefix_dir.empty()) {
    const std::string prefix = std::string(prefix_dir) + "/";
    for (size_t pos = 0; (pos = out.find(prefix, pos)) != std::string::npos;) {
      out.erase(pos, prefix.size());
    }
  }
  std::string cleaned;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.find("test failed") != std::string::npos ||
        line.find("syntax is ok") != std::string::npos) {
      continue;
    }
    if (line.rfind("nginx: ", 0) == 0) line.erase(0, 7);
    // With `error_log stderr` (or -e stderr) the lines carry the log prefix:
    // "2026/01/02 03:04:05 [emerg] 123#123: msg" -> "[emerg] msg".
    if (line.size() > 20 && line[4] == '/' && line[7] == '/' && line[19] == ' ') {
      const size_t level_end = line.find("] ", 20);
      const size_t msg = level_end == std::string::npos ? level_end : line.find(": ", level_end);
      if (msg != std::string::npos) line = line.substr(20, level_end - 19) + line.substr(msg + 1);
    }
    if (!cleaned.empty()) cleaned += "; ";
    cleaned += line;
  }
  return cleaned;
}

}  // namespace sg
