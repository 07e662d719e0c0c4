#pragma once
// Leader election among operator replicas (DESIGN.md section 3): one lease
// kept in the labels of a Docker config and written with the config's
// version as compare-and-swap, so two writers can never both succeed.
//
// The record is holder, URL, lease duration, renew and acquire times, and a
// transition count. Expiry is judged on the observer's own monotonic clock,
// never on the writer's wall time: a follower remembers when it last saw the
// record change, and may take the lease once it has not changed for the
// holder's lease duration (the approach of Kubernetes' client-go). Clock
// skew between managers therefore does not matter; only clock rates do.
//
// The holder renews every retry period. It counts as leader only while its
// last successful renewal is younger than the renew deadline, which is
// shorter than the lease duration, so it stops acting before any follower
// may take over. IsLeader() checks that deadline on every call: a leader
// whose Docker API stalls stops reconciling when the deadline passes, not at
// its next loop turn.
//
// Thread-safety: Run() is called by one thread; every other method may be
// called from any thread. Callbacks run on Run()'s thread, never under the
// elector's lock.

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "operator/docker/docker_client.h"
#include "operator/runtime/backoff.h"
#include "operator/runtime/clock.h"

namespace sg::election {

inline constexpr const char* kDefaultLeaseName = "swarmgate-leader";

struct LeaseOptions {
  std::string lease_name = kDefaultLeaseName;
  std::string identity;  // unique per process (required)
  std::string url;       // where agents reach this process while it leads (see SetUrl)
  // A follower takes a lease whose record has not changed for this long.
  std::chrono::milliseconds lease_duration{3000};
  // The leader steps down when it could not renew for this long.
  std::chrono::milliseconds renew_deadline{2000};
  // Between two attempts to acquire or renew.
  std::chrono::milliseconds retry_period{500};
};

// Checks the relation the election's safety rests on; "" when valid,
// otherwise what is wrong, worded for a command-line error.
std::string ValidateLeaseOptions(const LeaseOptions& options);

struct LeaseRecord {
  std::string holder;
  std::string url;
  std::chrono::milliseconds duration{0};
  std::string renewed;   // RFC 3339, informational
  std::string acquired;  // RFC 3339, informational
  std::int64_t transitions = 0;

  bool operator==(const LeaseRecord& o) const {
    return holder == o.holder && url == o.url && duration == o.duration && renewed == o.renewed &&
           acquired == o.acquired && transitions == o.transitions;
  }
  bool operator!=(const LeaseRecord& o) const { return !(*this == o); }
};

class LeaderElector {
 public:
  struct Callbacks {
    std::function<void()> started_leading;
    std::function<void()> stopped_leading;
  };

  // `docker` (unfenced: the elector writes the lease itself) and `clock`
  // must outlive the elector.
  LeaderElector(docker::DockerClient& docker, runtime::Clock& clock, LeaseOptions options,
                Callbacks callbacks = {});

  // Until `stop`: acquire or renew every retry period, firing the callbacks
  // on each change of leadership. On stop, a leader releases the lease so a
  // follower takes over at its next attempt instead of after expiry.
  void Run(runtime::StopSignal& stop);

  // One attempt, as Run() makes them (for tests). Returns IsLeader() after it.
  bool TryAcquireOrRenew();
  // Gives the lease up if this process holds it (holder ""), and stops
  // leading at once.
  Status Release();

  // Replaces options().url, e.g. once the HTTP port is known; written into
  // the lease from the next renewal on.
  void SetUrl(std::string url);

  // The Docker API answered one of the last attempts within the lease
  // duration: false from about then on when it stalls or refuses (a paused
  // or lost manager), which /readyz reports. True before the first attempt.
  bool ApiHealthy() const;

  // Holds the lease, renewed within the renew deadline.
  bool IsLeader() const;
  // The URL agents should use now: this process's own while it leads; the
  // holder's while its lease is live; "" when no live holder is known.
  std::string LeaderUrl() const;
  const LeaseOptions& options() const { return options_; }

 private:
  // Fires the callback for a change of IsLeader() since the last call.
  void NotifyChange();
  bool IsLeaderLocked(runtime::Clock::TimePoint now) const;

  docker::DockerClient& docker_;
  runtime::Clock& clock_;
  const LeaseOptions options_;
  const Callbacks callbacks_;

  mutable std::mutex mu_;
  std::string url_;                          // guarded by mu_
  LeaseRecord observed_;                     // guarded by mu_
  runtime::Clock::TimePoint observed_at_{};  // guarded by mu_; when observed_ last changed
  bool holding_ = false;                     // guarded by mu_; our write is the record
  runtime::Clock::TimePoint renewed_at_{};   // guarded by mu_; last successful write
  runtime::Clock::TimePoint answered_at_{};  // guarded by mu_; last attempt the API answered
  bool attempted_ = false;                   // guarded by mu_
  bool reported_leader_ = false;             // Run()'s thread only
};

}  // namespace sg::election
