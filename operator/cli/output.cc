#include "operator/cli/output.h"

#include <algorithm>
#include <ctime>
#include <sstream>

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <yaml-cpp/yaml.h>

namespace sg::cli {

std::string Table::Render() const {
  std::vector<size_t> widths;
  for (const auto& row : rows_) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 3, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

bool ParseRfc3339(const std::string& s, std::chrono::system_clock::time_point* out) {
  std::tm tm{};
  int consumed = 0;
  if (sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
             &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return false;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  time_t t = timegm(&tm);
  size_t i = static_cast<size_t>(consumed);
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && isdigit(static_cast<unsigned char>(s[i]))) ++i;
  }
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int hh = 0, mm = 0;
    if (sscanf(s.c_str() + i + 1, "%2d:%2d", &hh, &mm) == 2) {
      int offset = (hh * 3600 + mm * 60) * (s[i] == '+' ? 1 : -1);
      t -= offset;
    }
  }
  *out = std::chrono::system_clock::from_time_t(t);
  return true;
}

std::string FormatAge(const std::string& rfc3339, std::chrono::system_clock::time_point now) {
  std::chrono::system_clock::time_point t;
  if (!ParseRfc3339(rfc3339, &t)) return "<unknown>";
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(now - t).count();
  if (secs < 0) secs = 0;
  if (secs < 120) return std::to_string(secs) + "s";
  if (secs < 2 * 3600) return std::to_string(secs / 60) + "m";
  if (secs < 2 * 86400) return std::to_string(secs / 3600) + "h";
  return std::to_string(secs / 86400) + "d";
}

std::string PrettyJson(const rapidjson::Value& value) {
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  w.SetIndent(' ', 2);
  value.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

std::string CompactJson(const rapidjson::Value& value) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  value.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

namespace {

void EmitYaml(YAML::Emitter& e, const rapidjson::Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      e << YAML::Null;
      break;
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      e << v.GetBool();
      break;
    case rapidjson::kNumberType:
      if (v.IsInt64()) {
        e << v.GetInt64();
      } else if (v.IsUint64()) {
        e << v.GetUint64();
      } else {
        e << v.GetDouble();
      }
      break;
    case rapidjson::kStringType: {
      std::string s(v.GetString(), v.GetStringLength());
      // Strings that would read back as another type stay quoted.
      YAML::Node probe;
      bool needs_quotes = s.empty();
      try {
        probe = YAML::Load(s);
        needs_quotes =
            needs_quotes || !probe.IsScalar() || probe.Tag() != "?" || probe.as<std::string>() != s;
        if (!needs_quotes) {
          int i;
          double d;
          bool b;
          needs_quotes = YAML::convert<int>::decode(probe, i) ||
                         YAML::convert<double>::decode(probe, d) ||
                         YAML::convert<bool>::decode(probe, b) || s == "null" || s == "~";
        }
      } catch (const YAML::Exception&) {
        needs_quotes = true;
      }
      if (needs_quotes) e << YAML::DoubleQuoted;
      e << s;
      break;
    }
    case rapidjson::kArrayType:
      e << YAML::BeginSeq;
      for (const auto& item : v.GetArray()) EmitYaml(e, item);
      e << YAML::EndSeq;
      break;
    case rapidjson::kObjectType:
      e << YAML::BeginMap;
      for (const auto& m : v.GetObject()) {
        e << YAML::Key << std::string(m.name.GetString(), m.name.GetStringLength()) << YAML::Value;
        EmitYaml(e, m.value);
      }
      e << YAML::EndMap;
      break;
  }
}

std::vector<std::string> SplitLines(const std::string& s) {
  std::vector<std::string> lines;
  std::istringstream in(s);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

}  // namespace

std::string ToYaml(const rapidjson::Value& value) {
  YAML::Emitter e;
  e.SetIndent(2);
  EmitYaml(e, value);
  return std::string(e.c_str()) + "\n";
}

std::vector<std::string> DiffLines(const std::string& before, const std::string& after) {
  auto a = SplitLines(before);
  auto b = SplitLines(after);
  // Longest common subsequence; inputs are resource specs (hundreds of lines).
  std::vector<std::vector<int>> lcs(a.size() + 1, std::vector<int>(b.size() + 1, 0));
  for (size_t i = a.size(); i-- > 0;) {
    for (size_t j = b.size(); j-- > 0;) {
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  std::vector<std::string> out;
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (i < a.size() && j < b.size() && a[i] == b[j]) {
      out.push_back("  " + a[i++]);
      ++j;
    } else if (j < b.size() && (i == a.size() || lcs[i][j + 1] >= lcs[i + 1][j])) {
      out.push_back("+ " + b[j++]);
    } else {
      out.push_back("- " + a[i++]);
    }
  }
  return out;
}

}  // namespace sg::cli
