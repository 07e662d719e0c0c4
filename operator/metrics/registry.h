#pragma once
// A small Prometheus metrics registry: counters, gauges and histograms in
// labeled families, serialized in the text exposition format 0.0.4.
//
// Deviation from DESIGN.md section 7: prometheus-cpp is not packaged in
// Debian bookworm, and every dependency must be a Debian package, so the
// operator carries this registry instead. It covers what the operator
// exports (no summaries, no exemplars, no protobuf format); the exposition
// text is what Prometheus scrapes either way.
//
// Ownership and thread-safety: the Registry owns its families, a family owns
// its children. Registration and child lookup take a mutex (per registry and
// per family); updating a child is lock-free for counters and gauges and
// takes a short per-histogram lock for histograms, so hot paths should look
// a child up once (WithLabels) and keep the reference. References stay valid
// for the registry's lifetime unless that label set is Remove()d.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

namespace sg::metrics {

enum class MetricType { kCounter, kGauge, kHistogram };

// A value that only goes up.
class Counter {
 public:
  // Negative increments are ignored: a counter never decreases.
  void Inc(double v = 1.0);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// A value that goes up and down.
class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v);
  void Inc(double v = 1.0) { Add(v); }
  void Dec(double v = 1.0) { Add(-v); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Observations counted into cumulative buckets, with their sum and count.
class Histogram {
 public:
  struct Snapshot {
    std::vector<double> upper_bounds;       // without +Inf
    std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf
    std::uint64_t count = 0;
    double sum = 0;
  };

  // `upper_bounds` must be sorted ascending, without +Inf.
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double v);
  // A consistent view: count equals the +Inf bucket.
  Snapshot Snap() const;

 private:
  const std::vector<double> upper_bounds_;
  mutable std::mutex mu_;
  std::vector<std::uint64_t> counts_;  // per bucket, not cumulative; last is +Inf
  double sum_ = 0;
};

// .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10 (seconds), as the Prometheus clients.
const std::vector<double>& DefaultLatencyBuckets();

// The part of a family the registry serializes.
class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, MetricType type,
             std::vector<std::string> label_names);
  virtual ~FamilyBase() = default;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // Appends HELP, TYPE and every sample, children in label-value order.
  virtual void Serialize(std::string& out) const = 0;

 protected:
  void CheckArity(const std::vector<std::string>& values) const;

 private:
  const std::string name_;
  const std::string help_;
  const MetricType type_;
  const std::vector<std::string> label_names_;
};

// Writers of one child's samples; defined in registry.cc.
void AppendSamples(std::string& out, const std::string& name,
                   const std::vector<std::string>& label_names,
                   const std::vector<std::string>& label_values, const Counter& c);
void AppendSamples(std::string& out, const std::string& name,
                   const std::vector<std::string>& label_names,
                   const std::vector<std::string>& label_values, const Gauge& g);
void AppendSamples(std::string& out, const std::string& name,
                   const std::vector<std::string>& label_names,
                   const std::vector<std::string>& label_values, const Histogram& h);

template <class M>
class Family final : public FamilyBase {
  static_assert(std::is_same_v<M, Counter> || std::is_same_v<M, Gauge> ||
                std::is_same_v<M, Histogram>);

 public:
  Family(std::string name, std::string help, MetricType type, std::vector<std::string> label_names,
         std::vector<double> buckets = {})
      : FamilyBase(std::move(name), std::move(help), type, std::move(label_names)),
        buckets_(std::move(buckets)) {
    // A family without labels has exactly one child: show it from the start.
    if (label_names_empty()) WithLabels({});
  }

  // The child for these label values (in label-name order), created on first
  // use. Throws std::invalid_argument on a wrong number of values.
  M& WithLabels(const std::vector<std::string>& values) {
    CheckArity(values);
    std::lock_guard<std::mutex> l(mu_);
    auto& slot = children_[values];
    if (!slot) {
      if constexpr (std::is_same_v<M, Histogram>) {
        slot = std::make_unique<M>(buckets_);
      } else {
        slot = std::make_unique<M>();
      }
    }
    return *slot;
  }

  // Drops a child (e.g. the series of a deleted cluster). References to it
  // obtained earlier become dangling. Returns whether it existed.
  bool Remove(const std::vector<std::string>& values) {
    std::lock_guard<std::mutex> l(mu_);
    return children_.erase(values) > 0;
  }

  const std::vector<double>& buckets() const { return buckets_; }

  void Serialize(std::string& out) const override;

 private:
  bool label_names_empty() const { return label_names().empty(); }

  const std::vector<double> buckets_;  // histograms only
  mutable std::mutex mu_;              // guards the map, not the children's values
  std::map<std::vector<std::string>, std::unique_ptr<M>> children_;
};

// Appends "# HELP" and "# TYPE" lines; defined in registry.cc.
void AppendHeader(std::string& out, const FamilyBase& family);

template <class M>
void Family<M>::Serialize(std::string& out) const {
  AppendHeader(out, *this);
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& [values, child] : children_) {
    AppendSamples(out, name(), label_names(), values, *child);
  }
}

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registers a family, or returns the one registered under that name if it
  // has the same type, labels and buckets. Invalid names, reserved labels and
  // conflicting re-registrations are programming errors: std::invalid_argument.
  Family<Counter>& AddCounter(const std::string& name, const std::string& help,
                              std::vector<std::string> label_names = {});
  Family<Gauge>& AddGauge(const std::string& name, const std::string& help,
                          std::vector<std::string> label_names = {});
  Family<Histogram>& AddHistogram(const std::string& name, const std::string& help,
                                  std::vector<std::string> label_names = {},
                                  std::vector<double> buckets = DefaultLatencyBuckets());

  // The whole registry in text format 0.0.4, families sorted by name.
  std::string Serialize() const;

 private:
  template <class M>
  Family<M>& Add(const std::string& name, const std::string& help, MetricType type,
                 std::vector<std::string> label_names, std::vector<double> buckets);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<FamilyBase>> families_;
};

// Text-format building blocks, exposed for tests and other writers.
std::string FormatValue(double v);                   // "1", "0.25", "+Inf", "NaN"
std::string EscapeLabelValue(const std::string& v);  // \\, \", \n
std::string EscapeHelp(const std::string& v);        // \\, \n

}  // namespace sg::metrics
