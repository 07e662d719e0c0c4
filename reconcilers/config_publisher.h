#pragma once
// The seam between the cluster reconciler and hot delivery: the operator's
// configuration hub implements it; tests use a fake. Thread-safe.

#include <chrono>
#include <string>
#include <vector>

namespace sg::reconcilers {

class ConfigPublisher {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~ConfigPublisher() = default;
  // Makes `text` the cluster's current configuration; returns its generation
  // (unchanged when the text is). Convergence is measured from trigger_time.
  virtual int64_t Publish(const std::string& cluster, const std::string& text,
                          const std::string& trigger, TimePoint trigger_time) = 0;
  virtual void SetToken(const std::string& cluster, const std::string& token_sha256_hex) = 0;
  // The proxy tasks expected to report (running tasks of the proxy service).
  virtual void SetExpectedProxies(const std::string& cluster, std::vector<std::string> ids) = 0;
  // The lowest generation served by every expected proxy (0: none yet).
  virtual int64_t ServedGeneration(const std::string& cluster) = 0;
  virtual int64_t CurrentGeneration(const std::string& cluster) = 0;
  // Whether what some expected proxy serves is not known yet (an operator
  // that just started and has not heard from it): statuses are then left as
  // they are stored rather than derived from ServedGeneration().
  virtual bool AwaitingProxies(const std::string& cluster) = 0;
  // Whether every expected proxy serves some configuration, also one this
  // process did not publish (an operator that just restarted or took the
  // lead, whose generations do not number it).
  virtual bool EveryProxyServes(const std::string& cluster) = 0;
  virtual void Forget(const std::string& cluster) = 0;
};

}  // namespace sg::reconcilers
