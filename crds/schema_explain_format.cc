// FormatExplanation: kubectl explain's layout (KIND, VERSION, FIELD,
// DESCRIPTION, FIELDS) with the constraints the schemas state on lines of
// their own.
#include <algorithm>
#include <sstream>

#include "crds/schema_explain.h"

namespace sg::crds {
namespace {

constexpr size_t kWidth = 80;
constexpr size_t kLabelWidth = 10;  // "KIND:     "

// `text` wrapped at kWidth, each line indented by `indent` spaces except the
// first, which starts `first_used` columns into a line already begun.
std::string Wrap(const std::string& text, size_t indent, size_t first_used) {
  std::string out;
  size_t column = first_used;
  std::istringstream words(text);
  bool line_empty = true;
  for (std::string word; words >> word;) {
    if (!line_empty && column + 1 + word.size() > kWidth) {
      out += "\n" + std::string(indent, ' ');
      column = indent;
      line_empty = true;
    }
    if (!line_empty) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
    line_empty = false;
  }
  return out;
}

void Labelled(std::ostream& out, const std::string& label, const std::string& value) {
  std::string head = label + ":";
  head.resize(std::max(kLabelWidth, head.size() + 1), ' ');
  out << head << Wrap(value, kLabelWidth, head.size()) << "\n";
}

std::string Join(const std::vector<std::string>& values) {
  std::string out;
  for (const std::string& v : values) out += (out.empty() ? "" : ", ") + v;
  return out;
}

}  // namespace

std::string FormatExplanation(const Explanation& e) {
  std::ostringstream out;
  Labelled(out, "KIND", KindName(e.kind));
  Labelled(out, "VERSION", kApiVersion);
  out << "\n";
  if (!e.path.empty()) {
    Labelled(out, "FIELD", e.path + " <" + e.type + ">" + (e.required ? " -required-" : ""));
  }
  if (!e.values.empty()) Labelled(out, "VALUES", Join(e.values));
  if (!e.range.empty()) Labelled(out, "RANGE", e.range);
  if (!e.format.empty()) Labelled(out, "FORMAT", e.format);
  if (!e.limits.empty()) Labelled(out, "LIMITS", e.limits);
  if (e.default_value) Labelled(out, "DEFAULT", *e.default_value);
  if (!e.path.empty()) out << "\n";

  out << "DESCRIPTION:\n";
  out << "    " << Wrap(e.description.empty() ? "(none)" : e.description, 4, 4) << "\n";
  if (!e.item_description.empty()) {
    out << "\n    " << Wrap("Each item: " + e.item_description, 4, 4) << "\n";
  }

  if (!e.fields.empty()) {
    size_t name_width = 0;
    for (const FieldSummary& f : e.fields) name_width = std::max(name_width, f.name.size());
    out << "\nFIELDS:\n";
    for (size_t i = 0; i < e.fields.size(); ++i) {
      const FieldSummary& f = e.fields[i];
      if (i > 0) out << "\n";
      std::string line =
          "  " + f.name + std::string(name_width - f.name.size() + 2, ' ') + "<" + f.type + ">";
      if (f.required) line += " -required-";
      if (f.default_value) line += "  default " + *f.default_value;
      out << line << "\n";
      if (!f.summary.empty()) out << "    " << Wrap(f.summary, 4, 4) << "\n";
    }
  }
  return out.str();
}

}  // namespace sg::crds
