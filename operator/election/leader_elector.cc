#include "operator/election/leader_elector.h"

#include <thread>

#include "operator/common/labels.h"
#include "operator/common/time_format.h"
#include "operator/runtime/logging.h"

namespace sg::election {
namespace {

const std::shared_ptr<spdlog::logger>& Log() {
  static const auto logger = runtime::NamedLogger("election");
  return logger;
}

// How often leadership is re-checked between attempts: a leader whose
// attempt hangs on a stalled API still reports stepping down promptly.
constexpr std::chrono::milliseconds kWatchPeriod{100};

constexpr const char* kLeaseData = "swarmgate leader lease\n";

std::string LabelOr(const docker::Labels& labels, const char* key) {
  auto it = labels.find(key);
  return it == labels.end() ? std::string() : it->second;
}

std::int64_t ParseInt(const std::string& s) {
  try {
    std::size_t used = 0;
    const long long v = std::stoll(s, &used);
    return used == s.size() && v >= 0 ? v : 0;
  } catch (const std::exception&) {
    return 0;
  }
}

LeaseRecord ParseRecord(const docker::Labels& labels) {
  LeaseRecord r;
  r.holder = LabelOr(labels, kLabelLeaseHolder);
  r.url = LabelOr(labels, kLabelLeaseUrl);
  r.duration = std::chrono::milliseconds(ParseInt(LabelOr(labels, kLabelLeaseDuration)));
  r.renewed = LabelOr(labels, kLabelLeaseRenewed);
  r.acquired = LabelOr(labels, kLabelLeaseAcquired);
  r.transitions = ParseInt(LabelOr(labels, kLabelLeaseTransitions));
  return r;
}

// `base` keeps labels written by others (e.g. by people) untouched.
docker::Labels RecordLabels(const LeaseRecord& r, docker::Labels base) {
  base[kLabelManagedBy] = kManagedByValue;
  base[kLabelLeaseHolder] = r.holder;
  base[kLabelLeaseUrl] = r.url;
  base[kLabelLeaseDuration] = std::to_string(r.duration.count());
  base[kLabelLeaseRenewed] = r.renewed;
  base[kLabelLeaseAcquired] = r.acquired;
  base[kLabelLeaseTransitions] = std::to_string(r.transitions);
  return base;
}

}  // namespace

std::string ValidateLeaseOptions(const LeaseOptions& o) {
  if (o.identity.empty()) return "an identity is required";
  if (o.retry_period.count() <= 0) return "the retry period must be positive";
  if (o.renew_deadline <= o.retry_period) {
    return "the renew deadline must be longer than the retry period";
  }
  if (o.lease_duration <= o.renew_deadline) {
    return "the lease duration must be longer than the renew deadline";
  }
  return "";
}

LeaderElector::LeaderElector(docker::DockerClient& docker, runtime::Clock& clock,
                             LeaseOptions options, Callbacks callbacks)
    : docker_(docker),
      clock_(clock),
      options_(std::move(options)),
      callbacks_(std::move(callbacks)),
      url_(options_.url) {}

void LeaderElector::SetUrl(std::string url) {
  std::lock_guard<std::mutex> l(mu_);
  url_ = std::move(url);
}

bool LeaderElector::IsLeaderLocked(runtime::Clock::TimePoint now) const {
  return holding_ && now - renewed_at_ < options_.renew_deadline;
}

bool LeaderElector::IsLeader() const {
  std::lock_guard<std::mutex> l(mu_);
  return IsLeaderLocked(clock_.Now());
}

bool LeaderElector::ApiHealthy() const {
  std::lock_guard<std::mutex> l(mu_);
  return !attempted_ || clock_.Now() - answered_at_ < options_.lease_duration;
}

std::string LeaderElector::LeaderUrl() const {
  std::lock_guard<std::mutex> l(mu_);
  const auto now = clock_.Now();
  if (IsLeaderLocked(now)) return url_;
  if (observed_.holder.empty() || observed_.holder == options_.identity) return "";
  if (now - observed_at_ >= observed_.duration) return "";
  return observed_.url;
}

bool LeaderElector::TryAcquireOrRenew() {
  const auto now = clock_.Now();
  const std::string wall = FormatRfc3339(clock_.WallNow());
  LeaseRecord next;
  next.holder = options_.identity;
  {
    std::lock_guard<std::mutex> l(mu_);
    next.url = url_;
  }
  next.duration = options_.lease_duration;
  next.renewed = wall;

  auto got = docker_.InspectConfig(options_.lease_name);
  {
    std::lock_guard<std::mutex> l(mu_);
    attempted_ = true;
    if (got.ok() || got.error().code != ErrorCode::kUnavailable) answered_at_ = now;
  }
  if (!got.ok() && got.error().code == ErrorCode::kNotFound) {
    next.acquired = wall;
    docker::ConfigSpec spec;
    spec.name = options_.lease_name;
    spec.data = kLeaseData;
    spec.labels = RecordLabels(next, {});
    auto created = docker_.CreateConfig(spec);
    std::lock_guard<std::mutex> l(mu_);
    if (created.ok()) {
      observed_ = next;
      observed_at_ = now;
      holding_ = true;
      renewed_at_ = now;
    } else {
      Log()->info("lease not created lease={} error={}", options_.lease_name,
                  created.error().ToString());
    }
    return IsLeaderLocked(clock_.Now());
  }
  if (!got.ok()) {
    Log()->warn("lease unreadable lease={} error={}", options_.lease_name, got.error().ToString());
    return IsLeader();
  }

  const LeaseRecord current = ParseRecord(got->spec.labels);
  {
    std::lock_guard<std::mutex> l(mu_);
    if (current != observed_) {
      observed_ = current;
      observed_at_ = now;
    }
    if (current.holder != options_.identity) {
      // Another operator's write is the record: whatever this process
      // believed, it no longer holds the lease.
      holding_ = false;
      if (!current.holder.empty() && now - observed_at_ < current.duration) return false;
    }
  }
  if (current.holder == options_.identity) {
    next.acquired = current.acquired;
    next.transitions = current.transitions;
  } else {
    next.acquired = wall;
    next.transitions = current.transitions + 1;
  }
  docker::ConfigSpec spec = got->spec;
  spec.labels = RecordLabels(next, got->spec.labels);
  auto st = docker_.UpdateConfig(got->id, got->version, spec);
  std::lock_guard<std::mutex> l(mu_);
  if (st.ok()) {
    if (!holding_) {
      Log()->info("lease acquired lease={} identity={} previous={} transitions={}",
                  options_.lease_name, options_.identity,
                  current.holder.empty() ? "-" : current.holder, next.transitions);
    }
    observed_ = next;
    observed_at_ = now;
    holding_ = true;
    renewed_at_ = now;
  } else {
    // Conflict: another writer came first; the next attempt reads its record.
    Log()->info("lease not written lease={} error={}", options_.lease_name, st.error().ToString());
  }
  return IsLeaderLocked(clock_.Now());
}

Status LeaderElector::Release() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!holding_) return OkStatus();
    holding_ = false;
  }
  auto got = docker_.InspectConfig(options_.lease_name);
  if (!got.ok()) return got.error();
  LeaseRecord current = ParseRecord(got->spec.labels);
  if (current.holder != options_.identity) return OkStatus();
  current.holder.clear();
  current.renewed = FormatRfc3339(clock_.WallNow());
  docker::ConfigSpec spec = got->spec;
  spec.labels = RecordLabels(current, got->spec.labels);
  auto st = docker_.UpdateConfig(got->id, got->version, spec);
  if (st.ok())
    Log()->info("lease released lease={} identity={}", options_.lease_name, options_.identity);
  return st;
}

void LeaderElector::NotifyChange() {
  const bool leader = IsLeader();
  if (leader == reported_leader_) return;
  reported_leader_ = leader;
  if (leader) {
    Log()->info("started leading identity={} url={}", options_.identity, LeaderUrl());
    if (callbacks_.started_leading) callbacks_.started_leading();
  } else {
    Log()->warn("stopped leading identity={}", options_.identity);
    if (callbacks_.stopped_leading) callbacks_.stopped_leading();
  }
}

void LeaderElector::Run(runtime::StopSignal& stop) {
  // Attempts may block on the API; the watcher reports a lapsed renewal on
  // time regardless.
  std::mutex notify_mu;
  runtime::StopSignal watcher_stop;
  std::thread watcher([&] {
    while (!watcher_stop.WaitFor(clock_, kWatchPeriod)) {
      std::lock_guard<std::mutex> l(notify_mu);
      NotifyChange();
    }
  });
  while (!stop.IsStopped()) {
    TryAcquireOrRenew();
    {
      std::lock_guard<std::mutex> l(notify_mu);
      NotifyChange();
    }
    if (stop.WaitFor(clock_, options_.retry_period)) break;
  }
  watcher_stop.Stop();
  watcher.join();
  if (auto st = Release(); !st.ok()) {
    Log()->warn("lease not released lease={} error={}", options_.lease_name, st.error().ToString());
  }
  NotifyChange();
}

}  // namespace sg::election
