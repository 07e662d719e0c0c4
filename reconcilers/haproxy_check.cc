#include "reconcilers/haproxy_check.h"

#include <chrono>
#include <cstring>
#include <sstream>
#include <utility>
#include <vector>

#include "reconcilers/haproxy/haproxy_renderer.h"
#include "reconcilers/haproxy/haproxy_side_files.h"

namespace sg::haproxy {
namespace {

bool IsSummary(std::string_view msg) {
  return msg.find("Error(s) found in configuration file") != std::string_view::npos ||
         msg.find("Fatal errors found in configuration") != std::string_view::npos;
}

// -c binds nothing: any address names the listeners.
sg::ConfigCheckCommand HaproxyCheck(std::string haproxy) {
  sg::ConfigCheckCommand check;
  check.scratch_prefix = "sg-haproxy";
  check.config_file = "haproxy.cfg";
  check.side_files = [](const std::string& config) -> Result<std::map<std::string, std::string>> {
    auto files = SideFiles(config);
    if (!files.ok()) return files.error();
    std::map<std::string, std::string> out;
    for (SideFile& f : *files) out[f.name] = std::move(f.content);
    return out;
  };
  check.argv = [haproxy = std::move(haproxy)](const std::string& d) {
    return std::vector<std::string>{haproxy, "-c", "-C", d, "-f", d + "/haproxy.cfg"};
  };
  check.process.timeout = std::chrono::seconds(60);
  check.process.environment = {std::string(kHttpBindEnv) + "=ipv4@127.0.0.1:80",
                               std::string(kHttpsBindEnv) + "=ipv4@127.0.0.1:443"};
  check.clean_output = CleanHaproxyOutput;
  check.name = "haproxy -c";
  return check;
}

}  // namespace

ExecHaproxyValidator::ExecHaproxyValidator(std::string haproxy_binary, std::string temp_root)
    : ExecConfigValidator(HaproxyCheck(std::move(haproxy_binary)), std::move(temp_root)) {}

std::string CleanHaproxyOutput(std::string_view output, std::string_view dir) {
  std::string out(output);
  if (!dir.empty()) {
    const std::string prefix = std::string(dir) + "/";
    for (size_t pos = 0; (pos = out.find(prefix, pos)) != std::string::npos;) {
      out.erase(pos, prefix.size());
    }
  }
  std::vector<std::string> kept, summaries;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    bool alert = line.rfind("[ALERT]", 0) == 0;
    bool warning = line.rfind("[WARNING]", 0) == 0;
    if (!alert && !warning) continue;  // [NOTICE], "Configuration file is valid", blanks
    std::string level = alert ? "[ALERT]" : "[WARNING]";
    // "[ALERT]    (123) : config : msg" -> "[ALERT] msg".
    std::string msg = line.substr(level.size());
    size_t start = msg.find_first_not_of(' ');
    msg = start == std::string::npos ? "" : msg.substr(start);
    if (msg.rfind("(", 0) == 0) {
      size_t close = msg.find(") : ");
      if (close != std::string::npos) msg = msg.substr(close + 4);
    }
    for (const char* section : {"config : ", "parsing : "}) {
      if (msg.rfind(section, 0) == 0) msg = msg.substr(std::strlen(section));
    }
    // "parsing [f:2] : parsing [f:2] : x" -> "parsing [f:2] : x".
    size_t first = msg.find(" : ");
    if (first != std::string::npos && msg.rfind("parsing [", 0) == 0 &&
        msg.compare(first + 3, first, msg, 0, first) == 0) {
      msg = msg.substr(first + 3);
    }
    while (!msg.empty() && msg.back() == ' ') msg.pop_back();
    if (msg.empty()) continue;
    (IsSummary(msg) ? summaries : kept).push_back(level + " " + msg);
  }
  if (kept.empty()) kept = std::move(summaries);
  std::string cleaned;
  for (const std::string& k : kept) {
    if (!cleaned.empty()) cleaned += "; ";
    cleaned += k;
  }
  return cleaned;
}

int HaproxyErrorLine(std::string_view message) {
  static constexpr std::string_view kFile = "haproxy.cfg:";
  for (size_t pos = message.find(kFile); pos != std::string_view::npos;
       pos = message.find(kFile, pos + 1)) {
    size_t i = pos + kFile.size();
    int line = 0;
    while (i < message.size() && message[i] >= '0' && message[i] <= '9' && line < 100000000) {
      line = line * 10 + (message[i++] - '0');
    }
    if (line > 0 && i < message.size() && message[i] == ']') return line;
  }
  return 0;
}

}  // namespace sg::haproxy
