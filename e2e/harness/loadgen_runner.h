#pragma once
// Runs the project's load generator (sg-loadgen) as a subprocess and reads
// its JSON report, for tests that assert on counted outcomes.

#include <string>

namespace sg::e2e {

struct LoadReport {
  long requests = -1, ok = -1, failures = -1, connect = -1;
  std::string raw;  // the JSON report and stderr, for assertion messages
  bool parsed() const { return requests >= 0; }
};

// `args` is shell text (--url, --host, --rate, --duration ...); `loadgen` the
// binary's path. Bounded by the run's own --duration/--requests plus 60 s.
LoadReport RunLoadgen(const std::string& loadgen, const std::string& args);

}  // namespace sg::e2e
