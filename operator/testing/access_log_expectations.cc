#include "operator/testing/access_log_expectations.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <chrono>
#include <regex>
#include <sstream>
#include <thread>

namespace sg::testing {
namespace {

using namespace std::chrono_literals;

// Every string a request below carries that must never be logged.
constexpr const char* kSecretMark = "secret-";

// Combined: client - - [time] "method path protocol" status bytes "referer"
// "user agent" ms "upstream address" "upstream status" "route" "request id"
// "host". Quoted fields may hold escapes (nginx \xHH, HAProxy \").
const std::regex& CombinedLine() {
  static const std::regex re(
      R"re(^(\S+) - - \[([^\]]+)\] "(\S+) (\S*) (\S+)" (-?\d+) (\d+) "((?:[^"\\]|\\.)*)" )re"
      R"re("((?:[^"\\]|\\.)*)" (\d+) "([^"]*)" "([^"]*)" "((?:[^"\\]|\\.)*)" )re"
      R"re("((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"$)re");
  return re;
}

const std::vector<std::string>& CombinedFields() {
  static const std::vector<std::string> names = {"remote_addr",   "time",
                                                 "method",        "path",
                                                 "protocol",      "status",
                                                 "bytes",         "referer",
                                                 "user_agent",    "request_time_ms",
                                                 "upstream_addr", "upstream_status",
                                                 "route",         "request_id",
                                                 "host"};
  return names;
}

bool IsNumberField(const std::string& name) {
  return name == "status" || name == "bytes" || name == "request_time_ms";
}

std::vector<AccessLogLine> Parse(model::AccessLogFormat format, const std::string& output,
                                 bool report) {
  std::vector<AccessLogLine> out;
  std::istringstream in(output);
  std::string line;
  static const std::regex looks_combined(R"(^\S+ - - \[)");
  while (std::getline(in, line)) {
    AccessLogLine parsed{line, {}};
    if (format == model::AccessLogFormat::kJson) {
      if (line.empty() || line[0] != '{') continue;
      rapidjson::Document d;
      d.Parse(line.c_str(), line.size());
      if (d.HasParseError() || !d.IsObject()) {
        if (report) ADD_FAILURE() << "not a JSON object: " << line;
        continue;
      }
      for (const auto& m : d.GetObject()) {
        const std::string name(m.name.GetString(), m.name.GetStringLength());
        if (m.value.IsString()) {
          if (IsNumberField(name) && report) ADD_FAILURE() << name << " is not a number: " << line;
          parsed.fields[name] = std::string(m.value.GetString(), m.value.GetStringLength());
        } else if (m.value.IsInt64()) {
          if (!IsNumberField(name) && report) ADD_FAILURE() << name << " is not a string: " << line;
          parsed.fields[name] = std::to_string(m.value.GetInt64());
        } else if (report) {
          ADD_FAILURE() << name << " is neither a string nor an integer: " << line;
        }
      }
    } else {
      if (!std::regex_search(line, looks_combined)) continue;
      std::smatch m;
      if (!std::regex_match(line, m, CombinedLine())) {
        if (report) ADD_FAILURE() << "not a combined line with swarmgate's fields: " << line;
        continue;
      }
      for (size_t i = 0; i < CombinedFields().size(); ++i) {
        parsed.fields[CombinedFields()[i]] = m[i + 1].str();
      }
    }
    out.push_back(std::move(parsed));
  }
  return out;
}

const AccessLogLine* LineFor(const std::vector<AccessLogLine>& lines, const std::string& path) {
  for (const AccessLogLine& l : lines) {
    auto it = l.fields.find("path");
    if (it != l.fields.end() && it->second == path) return &l;
  }
  return nullptr;
}

void ExpectFields(const AccessLogLine& line, const std::map<std::string, std::string>& want) {
  SCOPED_TRACE(line.text);
  for (const std::string& name : AccessLogFields()) {
    auto it = line.fields.find(name);
    ASSERT_NE(it, line.fields.end()) << "no field " << name;
    EXPECT_FALSE(it->second.empty()) << name << " is empty";
  }
  EXPECT_EQ(line.fields.size(), AccessLogFields().size()) << "unexpected fields";
  for (const auto& [name, value] : want) EXPECT_EQ(line.fields.at(name), value) << name;
  EXPECT_GT(std::stoll(line.fields.at("bytes")), 0);
  EXPECT_GE(std::stoll(line.fields.at("request_time_ms")), 0);
  EXPECT_EQ(line.fields.at("remote_addr"), "127.0.0.1");
}

}  // namespace

const std::vector<std::string>& AccessLogFields() {
  static const std::vector<std::string> names = {"time",
                                                 "remote_addr",
                                                 "host",
                                                 "method",
                                                 "path",
                                                 "protocol",
                                                 "status",
                                                 "bytes",
                                                 "request_time_ms",
                                                 "upstream_addr",
                                                 "upstream_status",
                                                 "route",
                                                 "request_id",
                                                 "referer",
                                                 "user_agent"};
  return names;
}

std::vector<AccessLogLine> ParseAccessLog(model::AccessLogFormat format,
                                          const std::string& output) {
  return Parse(format, output, true);
}

void ExpectAccessLog(model::AccessLogFormat format, const GetFn& get,
                     const std::function<std::string()>& output, const std::string& v1) {
  const bool json = format == model::AccessLogFormat::kJson;
  // Quotes, a backslash, a tab and a UTF-8 letter: JSON must still parse.
  const std::string agent = "agent \"quoted\" \\ back\tend \xc3\xa9";
  CurlResponse api = get("shop.example.com", "/api/x?token=secret-query-value",
                         "-H 'Authorization: Bearer secret-auth-value' "
                         "-b 'session=secret-cookie-value' "
                         "-e 'https://ref.example.com/page?ref=secret-referer-value' "
                         "-H 'X-Request-Id: trace-42' -A '" +
                             agent + "'");
  EXPECT_EQ(api.status, 200) << api.headers;
  EXPECT_EQ(get("unknown.example.com", "/nothing?token=secret-query-value",
                "-H 'Authorization: Basic c2VjcmV0LXVzZXI6c2VjcmV0LXBhc3M='")
                .status,
            404);
  EXPECT_EQ(get("shop.example.com", "/none", "").status, 503);

  // The engine writes the line once the response is sent: soon after the
  // client has it, not necessarily before.
  std::vector<AccessLogLine> lines;
  for (int i = 0; i < 100; ++i) {
    lines = Parse(format, output(), false);
    if (LineFor(lines, "/api/x") && LineFor(lines, "/nothing") && LineFor(lines, "/none")) break;
    std::this_thread::sleep_for(50ms);
  }
  const std::string text = output();
  lines = ParseAccessLog(format, text);
  const AccessLogLine* routed = LineFor(lines, "/api/x");
  const AccessLogLine* unknown = LineFor(lines, "/nothing");
  const AccessLogLine* none = LineFor(lines, "/none");
  ASSERT_TRUE(routed && unknown && none) << "access log lines missing from:\n" << text;

  std::map<std::string, std::string> want_routed = {{"host", "shop.example.com"},
                                                    {"method", "GET"},
                                                    {"protocol", "HTTP/1.1"},
                                                    {"status", "200"},
                                                    {"upstream_addr", v1},
                                                    {"upstream_status", "200"},
                                                    {"route", "api"},
                                                    {"request_id", "trace-42"},
                                                    {"referer", "https://ref.example.com/page"}};
  // The escapes of the combined format differ by engine; JSON has one meaning.
  if (json) want_routed["user_agent"] = agent;
  ExpectFields(*routed, want_routed);
  ExpectFields(*unknown, {{"host", "unknown.example.com"},
                          {"status", "404"},
                          {"upstream_addr", "-"},
                          {"upstream_status", "-"},
                          {"route", "-"},
                          {"referer", "-"}});
  ExpectFields(*none, {{"host", "shop.example.com"},
                       {"status", "503"},
                       {"upstream_addr", "-"},
                       {"upstream_status", "-"},
                       {"route", "none"}});
  EXPECT_NE(routed->fields.at("request_id"), unknown->fields.at("request_id"));

  EXPECT_EQ(text.find(kSecretMark), std::string::npos)
      << "a credential or query string reached the proxy's output:\n"
      << text;
  EXPECT_EQ(text.find("c2VjcmV0"), std::string::npos) << text;  // the Basic credentials
}

}  // namespace sg::testing
