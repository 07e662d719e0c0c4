#include "e2e/harness/tls_util.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace sg::e2e {

using namespace std::chrono_literals;

SelfSigned MakeSelfSigned(const std::string& dir, const std::string& host) {
  SelfSigned s;
  s.host = host;
  s.cert = dir + "/" + host + ".crt";
  s.key = dir + "/" + host + ".key";
  s.bundle = dir + "/" + host + ".pem";
  auto r =
      Sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2"
         " -subj " +
             ShellQuote("/CN=" + host) + " -addext " + ShellQuote("subjectAltName=DNS:" + host) +
             " -keyout " + ShellQuote(s.key) + " -out " + ShellQuote(s.cert) + " && cat " +
             ShellQuote(s.cert) + " " + ShellQuote(s.key) + " > " + ShellQuote(s.bundle),
         30s);
  if (!r.ok()) s.error = "openssl req for " + host + ": " + r.Describe();
  return s;
}

std::string PresentedSubject(const std::string& addr, int port, const std::string& server_name,
                             std::string* error, Duration timeout) {
  long secs = std::max<long>(1, static_cast<long>(timeout.count() / 1000));
  auto r = Sh("timeout " + std::to_string(secs) + " openssl s_client -servername " +
                  ShellQuote(server_name) + " -connect " +
                  ShellQuote(addr + ":" + std::to_string(port)) +
                  " </dev/null 2>/dev/null | openssl x509 -noout -subject -nameopt RFC2253",
              timeout + 5s);
  std::string out = TrimRight(r.out);
  const std::string prefix = "subject=";
  if (!r.ok() || out.rfind(prefix, 0) != 0) {
    if (error)
      *error = "no certificate presented for SNI " + server_name + " (" + r.Describe() + ")";
    return "";
  }
  if (error) error->clear();
  return out.substr(prefix.size());
}

HttpResponse HttpsGet(const std::string& addr, int port, const std::string& host,
                      const std::string& target, Duration timeout) {
  HttpResponse resp;
  std::string secs = std::to_string(std::max<double>(0.5, timeout.count() / 1000.0));
  std::string hp = host + ":" + std::to_string(port);
  auto r = Sh("curl -sS -k -i --max-time " + secs + " --resolve " + ShellQuote(hp + ":" + addr) +
                  " " + ShellQuote("https://" + hp + target),
              timeout + 5s);
  if (!r.ok()) {
    resp.error = "curl https://" + hp + target + " via " + addr + ": " + r.Describe();
    return resp;
  }
  const std::string& out = r.out;
  size_t end = out.find("\r\n\r\n");
  std::string head = out.substr(0, end);
  resp.body = end == std::string::npos ? "" : out.substr(end + 4);
  size_t line_end = head.find("\r\n");
  std::string status_line = head.substr(0, line_end);
  size_t sp = status_line.find(' ');
  if (sp == std::string::npos) {
    resp.error = "unparsable response: " + out.substr(0, 200);
    return resp;
  }
  resp.status = std::atoi(status_line.c_str() + sp + 1);
  size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t e = head.find("\r\n", pos);
    if (e == std::string::npos) e = head.size();
    std::string line = head.substr(pos, e - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      size_t v = line.find_first_not_of(' ', colon + 1);
      resp.headers[name] = v == std::string::npos ? "" : line.substr(v);
    }
    pos = e + 2;
  }
  return resp;
}

}  // namespace sg::e2e
