#pragma once
// Text output helpers of the CLI: tables, ages, YAML/JSON printing, diffs.

#include <chrono>
#include <string>
#include <vector>

#include <rapidjson/document.h>

namespace sg::cli {

// Left-aligned columns separated by three spaces, like kubectl.
class Table {
 public:
  explicit Table(std::vector<std::string> header) : rows_{std::move(header)} {}
  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string Render() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// "45s", "12m", "5h", "3d" from an RFC 3339 timestamp; "<unknown>" if unparsable.
std::string FormatAge(const std::string& rfc3339, std::chrono::system_clock::time_point now);
// Seconds since the epoch of an RFC 3339 timestamp with optional fraction and Z/offset.
bool ParseRfc3339(const std::string& s, std::chrono::system_clock::time_point* out);

std::string PrettyJson(const rapidjson::Value& value);
std::string CompactJson(const rapidjson::Value& value);
std::string ToYaml(const rapidjson::Value& value);

// Line diff of two texts: lines prefixed with "  ", "- " or "+ ".
std::vector<std::string> DiffLines(const std::string& before, const std::string& after);

}  // namespace sg::cli
