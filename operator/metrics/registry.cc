#include "operator/metrics/registry.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace sg::metrics {
namespace {

void AtomicAdd(std::atomic<double>& a, double v) {
  double cur = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
  }
}

bool ValidMetricName(const std::string& n) {
  if (n.empty()) return false;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) return false;
  }
  return true;
}

bool ValidLabelName(const std::string& n) {
  return ValidMetricName(n) && n.find(':') == std::string::npos && n.rfind("__", 0) != 0;
}

const char* TypeName(MetricType t) {
  switch (t) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// Appends `{a="x",b="y"[,le="..."]}`; nothing when there are no labels.
void AppendLabels(std::string& out, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, const char* le = nullptr) {
  if (names.empty() && le == nullptr) return;
  out += '{';
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i];
    out += "=\"";
    out += EscapeLabelValue(values[i]);
    out += '"';
  }
  if (le != nullptr) {
    if (!names.empty()) out += ',';
    out += "le=\"";
    out += le;
    out += '"';
  }
  out += '}';
}

void AppendLine(std::string& out, const std::string& name, const char* suffix,
                const std::vector<std::string>& names, const std::vector<std::string>& values,
                const std::string& value, const char* le = nullptr) {
  out += name;
  out += suffix;
  AppendLabels(out, names, values, le);
  out += ' ';
  out += value;
  out += '\n';
}

}  // namespace

void Counter::Inc(double v) {
  if (v < 0 || std::isnan(v)) return;
  AtomicAdd(value_, v);
}

void Gauge::Add(double v) { AtomicAdd(value_, v); }

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)), counts_(upper_bounds_.size() + 1, 0) {
  if (!std::is_sorted(upper_bounds_.begin(), upper_bounds_.end()) ||
      std::adjacent_find(upper_bounds_.begin(), upper_bounds_.end()) != upper_bounds_.end()) {
    throw std::invalid_argument("histogram buckets must be strictly increasing");
  }
}

void Histogram::Observe(double v) {
  // First bucket whose upper bound is >= v (buckets are "less or equal").
  const auto idx = static_cast<std::size_t>(
      std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), v) - upper_bounds_.begin());
  std::lock_guard<std::mutex> l(mu_);
  ++counts_[idx];
  sum_ += v;
}

Histogram::Snapshot Histogram::Snap() const {
  Snapshot s;
  s.upper_bounds = upper_bounds_;
  std::lock_guard<std::mutex> l(mu_);
  s.cumulative.reserve(counts_.size());
  std::uint64_t acc = 0;
  for (auto c : counts_) {
    acc += c;
    s.cumulative.push_back(acc);
  }
  s.count = acc;
  s.sum = sum_;
  return s;
}

const std::vector<double>& DefaultLatencyBuckets() {
  static const std::vector<double> kBuckets = {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
  return kBuckets;
}

FamilyBase::FamilyBase(std::string name, std::string help, MetricType type,
                       std::vector<std::string> label_names)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(label_names)) {}

void FamilyBase::CheckArity(const std::vector<std::string>& values) const {
  if (values.size() != label_names_.size()) {
    throw std::invalid_argument(fmt::format("metric {}: {} label values for {} labels", name_,
                                            values.size(), label_names_.size()));
  }
}

void AppendHeader(std::string& out, const FamilyBase& family) {
  out += "# HELP ";
  out += family.name();
  out += ' ';
  out += EscapeHelp(family.help());
  out += "\n# TYPE ";
  out += family.name();
  out += ' ';
  out += TypeName(family.type());
  out += '\n';
}

void AppendSamples(std::string& out, const std::string& name,
                   const std::vector<std::string>& label_names,
                   const std::vector<std::string>& label_values, const Counter& c) {
  AppendLine(out, name, "", label_names, label_values, FormatValue(c.Value()));
}

void AppendSamples(std::string& out, const std::string& name,
                   const std::vector<std::string>& label_names,
                   const std::vector<std::string>& label_values, const Gauge& g) {
  AppendLine(out, name, "", label_names, label_values, FormatValue(g.Value()));
}

void AppendSamples(std::string& out, const std::string& name,
                   const std::vector<std::string>& label_names,
                   const std::vector<std::string>& label_values, const Histogram& h) {
  const auto s = h.Snap();
  for (std::size_t i = 0; i < s.upper_bounds.size(); ++i) {
    const std::string le = FormatValue(s.upper_bounds[i]);
    AppendLine(out, name, "_bucket", label_names, label_values, std::to_string(s.cumulative[i]),
               le.c_str());
  }
  AppendLine(out, name, "_bucket", label_names, label_values, std::to_string(s.count), "+Inf");
  AppendLine(out, name, "_sum", label_names, label_values, FormatValue(s.sum));
  AppendLine(out, name, "_count", label_names, label_values, std::to_string(s.count));
}

template <class M>
Family<M>& Registry::Add(const std::string& name, const std::string& help, MetricType type,
                         std::vector<std::string> label_names, std::vector<double> buckets) {
  if (!ValidMetricName(name)) throw std::invalid_argument("invalid metric name: " + name);
  for (const auto& l : label_names) {
    if (!ValidLabelName(l) || (type == MetricType::kHistogram && l == "le")) {
      throw std::invalid_argument(fmt::format("metric {}: invalid label name {}", name, l));
    }
  }
  std::lock_guard<std::mutex> g(mu_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    auto* existing = dynamic_cast<Family<M>*>(it->second.get());
    if (existing == nullptr || existing->type() != type || existing->label_names() != label_names ||
        existing->buckets() != buckets) {
      throw std::invalid_argument("metric registered twice with a different shape: " + name);
    }
    return *existing;
  }
  auto family =
      std::make_unique<Family<M>>(name, help, type, std::move(label_names), std::move(buckets));
  auto& ref = *family;
  families_.emplace(name, std::move(family));
  return ref;
}

Family<Counter>& Registry::AddCounter(const std::string& name, const std::string& help,
                                      std::vector<std::string> label_names) {
  return Add<Counter>(name, help, MetricType::kCounter, std::move(label_names), {});
}

Family<Gauge>& Registry::AddGauge(const std::string& name, const std::string& help,
                                  std::vector<std::string> label_names) {
  return Add<Gauge>(name, help, MetricType::kGauge, std::move(label_names), {});
}

Family<Histogram>& Registry::AddHistogram(const std::string& name, const std::string& help,
                                          std::vector<std::string> label_names,
                                          std::vector<double> buckets) {
  // Validate the buckets before registering anything.
  Histogram probe(buckets);
  (void)probe;
  return Add<Histogram>(name, help, MetricType::kHistogram, std::move(label_names),
                        std::move(buckets));
}

std::string Registry::Serialize() const {
  std::string out;
  std::lock_guard<std::mutex> g(mu_);
  for (const auto& [name, family] : families_) family->Serialize(out);
  return out;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Shortest representation that reads back to the same double ("1", "0.25").
  return fmt::format("{}", v);
}

std::string EscapeLabelValue(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string EscapeHelp(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace sg::metrics
