#pragma once
// The access log both engines must write for a cluster that asks for one
// (model::Settings::access_log), checked with real traffic through a proxy
// serving SharedRoutingModel (routing_expectations.h), so each engine's
// traffic test proves the same things: the fields, their values, valid JSON
// whatever the client sends, and no credential or query string in the log.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "operator/testing/routing_expectations.h"
#include "reconcilers/model/traffic_model.h"

namespace sg::testing {

// One access log line, split into its fields (the names of the json format;
// numbers as their text). Absent fields are not in the map.
struct AccessLogLine {
  std::string text;
  std::map<std::string, std::string> fields;
};

// The access log lines of `format` in `output` (a proxy's standard output and
// error): JSON objects, or combined lines. A line that looks like one but
// does not parse is reported as a test failure.
std::vector<AccessLogLine> ParseAccessLog(model::AccessLogFormat format, const std::string& output);

// The field names every line carries, in the json format's order.
const std::vector<std::string>& AccessLogFields();

// Sends requests through `get` that carry credentials (an Authorization
// header, a cookie, a token in the query string and in the Referer) and
// characters that need escaping, waits (at most 5 s) for their lines in
// `output()`, and checks each line's fields: "/api/x" of route "api" to
// `v1` (200), an unknown host (404, no route, no upstream) and "/none" (503
// without endpoints). No secret may appear anywhere in the output.
void ExpectAccessLog(model::AccessLogFormat format, const GetFn& get,
                     const std::function<std::string()>& output, const std::string& v1);

}  // namespace sg::testing
