#include "e2e/harness/loadgen_runner.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include <rapidjson/document.h>

#include "e2e/harness/harness.h"

namespace sg::e2e {

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
  rep.connect = d["errors"]["connect"].GetInt64();
  return rep;
}

}  // namespace sg::e2e
