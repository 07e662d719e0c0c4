#include "operator/metrics/registry.h"

#include <stdexcept>

#include <fmt/format.h>
#include <prometheus/text_serializer.h>

namespace sg::metrics {

std::string Registry::Serialize() const {
  return prometheus::TextSerializer().Serialize(Collect());
}

Histogram::Snapshot Histogram::Snap() const {
  // One Collect reads every bucket, the sum and the count under the
  // histogram's lock, so the view is consistent.
  const prometheus::ClientMetric::Histogram h = native_->Collect().histogram;
  Snapshot s;
  s.count = h.sample_count;
  s.sum = h.sample_sum;
  for (const auto& b : h.bucket) {
    s.cumulative.push_back(b.cumulative_count);
    if (&b != &h.bucket.back()) s.upper_bounds.push_back(b.upper_bound);  // the last is +Inf
  }
  return s;
}

const std::vector<double>& DefaultLatencyBuckets() {
  static const std::vector<double> kBuckets = {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
  return kBuckets;
}

prometheus::Labels LabelsFor(const std::string& family_name,
                             const std::vector<std::string>& label_names,
                             const std::vector<std::string>& values) {
  if (values.size() != label_names.size()) {
    throw std::invalid_argument(fmt::format("metric {}: {} label values for {} labels", family_name,
                                            values.size(), label_names.size()));
  }
  prometheus::Labels labels;
  for (std::size_t i = 0; i < values.size(); ++i) labels.emplace(label_names[i], values[i]);
  return labels;
}

Family<Counter> AddCounter(prometheus::Registry& registry, const std::string& name,
                           const std::string& help, std::vector<std::string> label_names) {
  return Family<Counter>(prometheus::BuildCounter().Name(name).Help(help).Register(registry),
                         std::move(label_names));
}

Family<Gauge> AddGauge(prometheus::Registry& registry, const std::string& name,
                       const std::string& help, std::vector<std::string> label_names) {
  return Family<Gauge>(prometheus::BuildGauge().Name(name).Help(help).Register(registry),
                       std::move(label_names));
}

Family<Histogram> AddHistogram(prometheus::Registry& registry, const std::string& name,
                               const std::string& help, std::vector<std::string> label_names,
                               std::vector<double> buckets) {
  // prometheus-cpp checks the buckets only when a series is created: check
  // them at declaration, where a mistake is a programming error.
  prometheus::Histogram probe(buckets);
  (void)probe;
  return Family<Histogram>(prometheus::BuildHistogram().Name(name).Help(help).Register(registry),
                           std::move(label_names), std::move(buckets));
}

}  // namespace sg::metrics
