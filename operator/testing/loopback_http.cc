#include "operator/testing/loopback_http.h"

#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace sg::testing {

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

CurlResponse Curl(const std::string& args) {
  std::string cmd = "curl -sk --max-time 5 -D - -o - -w '\n%{http_code}' " + args + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  CurlResponse r;
  if (p == nullptr) return r;
  std::string out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof(buf), p)) > 0;) out.append(buf, n);
  pclose(p);
  size_t nl = out.rfind('\n');
  if (nl == std::string::npos) return r;
  r.status = std::atoi(out.c_str() + nl + 1);
  out.resize(nl);
  size_t split = out.find("\r\n\r\n");
  if (split != std::string::npos) {
    r.headers = out.substr(0, split);
    r.body = out.substr(split + 4);
  }
  return r;
}

std::string HeaderValue(const std::string& headers, const std::string& name) {
  std::istringstream in(headers);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.size() > name.size() && strncasecmp(line.c_str(), name.c_str(), name.size()) == 0 &&
        line[name.size()] == ':') {
      return line.substr(name.size() + 2);
    }
  }
  return "";
}

}  // namespace sg::testing
