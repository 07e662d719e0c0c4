#include "e2e/harness/loadgen_runner.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <regex>
#include <sstream>

#include <rapidjson/document.h>

#include "e2e/harness/harness.h"

namespace sg::e2e {

namespace {

long Int(const rapidjson::Value& v, const char* key, long fallback) {
  if (!v.IsObject() || !v.HasMember(key) || !v[key].IsInt64()) return fallback;
  return v[key].GetInt64();
}

long Match(const std::string& text, const std::regex& re, long fallback) {
  std::smatch m;
  if (!std::regex_search(text, m, re)) return fallback;
  return std::stol(m[1].str());
}

}  // namespace

void LoadReport::Add(const LoadReport& o) {
  requests = std::max(requests, 0L) + o.requests;
  ok = std::max(ok, 0L) + o.ok;
  connect = std::max(connect, 0L) + o.connect;
  failures = std::max(failures, 0L) + o.failures;
  failures_after_resend = std::max(failures_after_resend, 0L) + o.failures_after_resend;
  resent += o.resent;
  closed_on_reuse += o.closed_on_reuse;
  closed_on_reuse_stale += o.closed_on_reuse_stale;
  first_failure_s = last_failure_s = -1;
}

std::string LoadReport::Summary() const {
  std::ostringstream s;
  s << "requests=" << requests << " failures_no_resend=" << failures << " resent=" << resent
    << " failures_after_resend=" << failures_after_resend << " closed_on_reuse=" << closed_on_reuse
    << " (close already pending " << closed_on_reuse_stale << ")";
  if (first_failure_s >= 0) {
    s << std::fixed << std::setprecision(2) << " failures_between=" << first_failure_s << "s.."
      << last_failure_s << "s";
  }
  return s.str();
}

LoadReport RunLoadgen(const std::string& loadgen, const std::string& args) {
  using namespace std::chrono_literals;
  LoadReport rep;
  std::string json = "/tmp/" + UniqueName("sge2e-loadgen") + ".json";
  auto r = Sh(ShellQuote(loadgen) + " " + args + " --json " + ShellQuote(json), 120s);
  std::ifstream in(json);
  std::stringstream ss;
  ss << in.rdbuf();
  rep.raw = ss.str() + "\n" + r.err;
  std::remove(json.c_str());
  rapidjson::Document d;
  d.Parse(ss.str().c_str());
  if (!r.ok() || d.HasParseError() || !d.IsObject()) return rep;
  rep.requests = d["requests"].GetInt64();
  rep.ok = d["ok"].GetInt64();
  rep.failures = d["failures"].GetInt64();
  rep.failures_after_resend = Int(d, "failures_after_resend", rep.failures);
  rep.resent = Int(d, "resent", 0);
  rep.closed_on_reuse = Int(d, "closed_on_reuse", 0);
  rep.closed_on_reuse_stale = Int(d, "closed_on_reuse_stale", 0);
  rep.connect = d["errors"]["connect"].GetInt64();
  if (d.HasMember("first_failure_s") && d["first_failure_s"].IsNumber()) {
    rep.first_failure_s = d["first_failure_s"].GetDouble();
    rep.last_failure_s = d["last_failure_s"].GetDouble();
  }
  return rep;
}

std::string WrkReport::Summary() const {
  std::ostringstream s;
  s << "requests=" << requests << " socket_errors: connect " << connect << ", read " << read
    << ", write " << write << ", timeout " << timeout << " non2xx3xx=" << non_2xx_3xx;
  return s.str();
}

std::string WrkPath() {
  for (const char* p : {"/usr/bin/wrk", "/usr/local/bin/wrk"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return "";
}

WrkReport RunWrk(const WrkOptions& o) {
  WrkReport rep;
  std::string wrk = WrkPath();
  if (wrk.empty()) {
    rep.raw = "wrk is not installed (Debian package wrk)";
    return rep;
  }
  // The request and the pacing, as a wrk script.
  std::ostringstream lua;
  lua << "wrk.method = \"" << o.method << "\"\n";
  if (o.body_bytes > 0) {
    // wrk adds Content-Length for a body.
    lua << "wrk.body = string.rep(\"x\", " << o.body_bytes << ")\n"
        << "wrk.headers[\"Content-Type\"] = \"application/octet-stream\"\n";
  }
  if (o.delay_ms > 0) lua << "function delay() return " << o.delay_ms << " end\n";
  std::string script = "/tmp/" + UniqueName("sge2e-wrk") + ".lua";
  {
    std::ofstream f(script);
    f << lua.str();
  }
  std::string cmd = ShellQuote(wrk) + " -t" + std::to_string(o.threads) + " -c" +
                    std::to_string(o.connections) + " -d" + std::to_string(o.seconds) + "s" +
                    " --timeout " + std::to_string(o.timeout_s) + "s -s " + ShellQuote(script);
  if (!o.host.empty()) cmd += " -H " + ShellQuote("Host: " + o.host);
  cmd += " " + ShellQuote(o.url);
  auto r = Sh(cmd, std::chrono::seconds(o.seconds + 60));
  std::remove(script.c_str());
  rep.raw = r.out + r.err;
  static const std::regex kRequests(R"((\d+) requests in )");
  static const std::regex kConnect(R"(Socket errors: connect (\d+))");
  static const std::regex kRead(R"(Socket errors: connect \d+, read (\d+))");
  static const std::regex kWrite(R"(Socket errors: connect \d+, read \d+, write (\d+))");
  static const std::regex kTimeout(R"(Socket errors: .*timeout (\d+))");
  static const std::regex kNon2xx(R"(Non-2xx or 3xx responses: (\d+))");
  static const std::regex kRps(R"(Requests/sec:\s+([0-9.]+))");
  if (!r.ok()) return rep;
  rep.requests = Match(rep.raw, kRequests, -1);
  // wrk prints the socket error line and the non-2xx line only when nonzero.
  rep.connect = Match(rep.raw, kConnect, 0);
  rep.read = Match(rep.raw, kRead, 0);
  rep.write = Match(rep.raw, kWrite, 0);
  rep.timeout = Match(rep.raw, kTimeout, 0);
  rep.non_2xx_3xx = Match(rep.raw, kNon2xx, 0);
  std::smatch m;
  if (std::regex_search(rep.raw, m, kRps)) rep.rps = std::stod(m[1].str());
  return rep;
}

}  // namespace sg::e2e
