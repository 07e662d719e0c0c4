#pragma once
// The operator's metrics live on prometheus-cpp's core registry and are
// written in the text exposition format 0.0.4 by prometheus::TextSerializer
// (the operator serves them from its own HTTP server, not prometheus-cpp's
// exposer). On top of prometheus-cpp this header adds a thin typed layer:
// label values are given by position, in the order of the label names the
// family was declared with, so a writer cannot misspell a label name and
// every series of a family has the same labels.
//
// Exposition follows prometheus-cpp: a family appears with its first series
// (a family without labels gets its one series when declared, so it is
// there from the first scrape), families come in registration order by type,
// and label values are escaped. HELP texts are written as given: keep them
// on one line, without backslashes.
//
// Ownership: the Registry owns every family and series. Family, Counter,
// Gauge and Histogram below are small handles (copy them freely) that stay
// valid as long as the Registry, except that a series' handles dangle once
// that series is Remove()d.
//
// Thread-safety: everything here may be used from any thread at once.
// prometheus::Registry and prometheus::Family lock internally (Family::Add,
// which WithLabels calls, finds or creates a series under the family's
// mutex), counter and gauge updates are atomic, and a histogram's Observe
// takes that histogram's own lock. WithLabels costs a lock and a map lookup
// (and, for histograms, building a bucket vector that is dropped when the
// series exists): hot paths look a series up once and keep the handle.

#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/labels.h>
#include <prometheus/registry.h>

namespace sg::metrics {

// prometheus-cpp's registry, plus the text the /metrics route serves, so
// tests and the route read it the same way.
class Registry : public prometheus::Registry {
 public:
  // Every family with at least one series, in text format 0.0.4.
  std::string Serialize() const;
};

// One counter series: a value that only goes up.
class Counter {
 public:
  using Native = prometheus::Counter;
  explicit Counter(Native& native) : native_(&native) {}
  // Negative and NaN increments are ignored: a counter never decreases, and
  // prometheus-cpp would keep a NaN forever.
  void Inc(double v = 1.0) const {
    if (v >= 0) native_->Increment(v);
  }
  double Value() const { return native_->Value(); }

 private:
  Native* native_;
};

// One gauge series: a value that goes up and down.
class Gauge {
 public:
  using Native = prometheus::Gauge;
  explicit Gauge(Native& native) : native_(&native) {}
  void Set(double v) const { native_->Set(v); }
  void Inc(double v = 1.0) const { native_->Increment(v); }
  void Dec(double v = 1.0) const { native_->Decrement(v); }
  double Value() const { return native_->Value(); }

 private:
  Native* native_;
};

// One histogram series: observations counted into cumulative buckets.
class Histogram {
 public:
  using Native = prometheus::Histogram;
  struct Snapshot {
    std::vector<double> upper_bounds;       // without +Inf
    std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf
    std::uint64_t count = 0;
    double sum = 0;
  };

  explicit Histogram(Native& native) : native_(&native) {}
  void Observe(double v) const { native_->Observe(v); }
  // A consistent view: count equals the +Inf bucket.
  Snapshot Snap() const;

 private:
  Native* native_;
};

// .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10 (seconds), as the Prometheus clients.
const std::vector<double>& DefaultLatencyBuckets();

// prometheus::Labels for `values` given in `label_names` order. Throws
// std::invalid_argument when the counts differ.
prometheus::Labels LabelsFor(const std::string& family_name,
                             const std::vector<std::string>& label_names,
                             const std::vector<std::string>& values);

// A prometheus-cpp family of M (Counter, Gauge or Histogram) with its label
// names and, for histograms, its buckets.
template <class M>
class Family {
  static_assert(std::is_same_v<M, Counter> || std::is_same_v<M, Gauge> ||
                std::is_same_v<M, Histogram>);

 public:
  using Native = prometheus::Family<typename M::Native>;

  Family(Native& native, std::vector<std::string> label_names, std::vector<double> buckets = {})
      : native_(&native), label_names_(std::move(label_names)), buckets_(std::move(buckets)) {
    if (label_names_.empty()) WithLabels({});
  }

  // The series for these label values, created on first use. Throws
  // std::invalid_argument on a wrong number of values.
  M WithLabels(const std::vector<std::string>& values) const {
    return M(Add(LabelsFor(native_->GetName(), label_names_, values)));
  }

  // Drops a series (e.g. those of a deleted cluster); its handles dangle.
  // Returns whether it existed.
  bool Remove(const std::vector<std::string>& values) const {
    const prometheus::Labels labels = LabelsFor(native_->GetName(), label_names_, values);
    if (!native_->Has(labels)) return false;
    // prometheus-cpp removes by pointer; Add returns the existing series (or,
    // if another thread removed it meanwhile, a new one that goes at once).
    native_->Remove(&Add(labels));
    return true;
  }

  const std::string& name() const { return native_->GetName(); }
  const std::vector<std::string>& label_names() const { return label_names_; }
  const std::vector<double>& buckets() const { return buckets_; }
  Native& native() const { return *native_; }

 private:
  typename M::Native& Add(const prometheus::Labels& labels) const {
    if constexpr (std::is_same_v<M, Histogram>) {
      return native_->Add(labels, buckets_);
    } else {
      return native_->Add(labels);
    }
  }

  Native* native_;
  std::vector<std::string> label_names_;
  std::vector<double> buckets_;  // histograms only
};

// Declare a family on `registry` with prometheus::BuildCounter/BuildGauge/
// BuildHistogram, or return the family already declared under that name.
// Invalid names, and a name declared with another type, throw (as
// prometheus-cpp does). Histogram buckets must be strictly increasing,
// without +Inf.
Family<Counter> AddCounter(prometheus::Registry& registry, const std::string& name,
                           const std::string& help, std::vector<std::string> label_names = {});
Family<Gauge> AddGauge(prometheus::Registry& registry, const std::string& name,
                       const std::string& help, std::vector<std::string> label_names = {});
Family<Histogram> AddHistogram(prometheus::Registry& registry, const std::string& name,
                               const std::string& help, std::vector<std::string> label_names = {},
                               std::vector<double> buckets = DefaultLatencyBuckets());

}  // namespace sg::metrics
