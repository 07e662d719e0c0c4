#pragma once
// Helpers shared by the store and CLI tests: a DockerClient decorator whose
// methods tests override to interleave calls deterministically, and the
// environment of the integration tests (SG_TEST_DOCKER_HOST, unique names).

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "operator/docker/docker_client.h"

namespace sg::testing {

// Forwards every call to `inner`. Tests subclass it and override the calls
// they want to observe, delay or perturb (e.g. a stale ListConfigs, or a
// concurrent label update between a read and a write).
class ForwardingDockerClient : public docker::DockerClient {
 public:
  explicit ForwardingDockerClient(docker::DockerClient& inner) : inner_(inner) {}

  Result<docker::VersionInfo> Version() override { return inner_.Version(); }
  Result<docker::SwarmInfo> InspectSwarm() override { return inner_.InspectSwarm(); }

  Result<std::vector<docker::Config>> ListConfigs(const docker::Filters& f) override {
    return inner_.ListConfigs(f);
  }
  Result<docker::Config> InspectConfig(const std::string& id_or_name) override {
    return inner_.InspectConfig(id_or_name);
  }
  Result<std::string> CreateConfig(const docker::ConfigSpec& spec) override {
    return inner_.CreateConfig(spec);
  }
  Status UpdateConfig(const std::string& id, uint64_t version,
                      const docker::ConfigSpec& spec) override {
    return inner_.UpdateConfig(id, version, spec);
  }
  Status RemoveConfig(const std::string& id_or_name) override {
    return inner_.RemoveConfig(id_or_name);
  }

  Result<std::vector<docker::Secret>> ListSecrets(const docker::Filters& f) override {
    return inner_.ListSecrets(f);
  }
  Result<docker::Secret> InspectSecret(const std::string& id_or_name) override {
    return inner_.InspectSecret(id_or_name);
  }
  Result<std::string> CreateSecret(const docker::SecretSpec& spec) override {
    return inner_.CreateSecret(spec);
  }
  Status RemoveSecret(const std::string& id_or_name) override {
    return inner_.RemoveSecret(id_or_name);
  }

  Result<std::vector<docker::Service>> ListServices(const docker::Filters& f) override {
    return inner_.ListServices(f);
  }
  Result<docker::Service> InspectService(const std::string& id_or_name) override {
    return inner_.InspectService(id_or_name);
  }
  Result<std::string> CreateService(const std::string& spec_json) override {
    return inner_.CreateService(spec_json);
  }
  Status UpdateService(const std::string& id, uint64_t version,
                       const std::string& spec_json) override {
    return inner_.UpdateService(id, version, spec_json);
  }
  Status RemoveService(const std::string& id_or_name) override {
    return inner_.RemoveService(id_or_name);
  }

  Result<std::vector<docker::Task>> ListTasks(const docker::Filters& f) override {
    return inner_.ListTasks(f);
  }

  Result<std::vector<docker::Network>> ListNetworks(const docker::Filters& f) override {
    return inner_.ListNetworks(f);
  }
  Result<docker::Network> InspectNetwork(const std::string& id_or_name) override {
    return inner_.InspectNetwork(id_or_name);
  }
  Result<std::string> CreateNetwork(const docker::NetworkSpec& spec) override {
    return inner_.CreateNetwork(spec);
  }
  Status RemoveNetwork(const std::string& id_or_name) override {
    return inner_.RemoveNetwork(id_or_name);
  }

  Result<std::vector<docker::Node>> ListNodes(const docker::Filters& f) override {
    return inner_.ListNodes(f);
  }
  Status UpdateNode(const std::string& id, uint64_t version,
                    const std::string& spec_json) override {
    return inner_.UpdateNode(id, version, spec_json);
  }

  Status StreamEvents(const docker::EventOptions& options,
                      const std::function<bool(const docker::Event&)>& on_event,
                      const std::atomic<bool>& cancel) override {
    return inner_.StreamEvents(options, on_event, cancel);
  }

 protected:
  docker::DockerClient& inner_;
};

// Holds each participant until all have arrived, so that concurrent applies
// all read the same generation before any of them writes.
class ReadBarrier {
 public:
  explicit ReadBarrier(int parties) : parties_(parties) {}
  // False when the others did not arrive within 60 s (the test then fails).
  bool ArriveAndWait() {
    std::unique_lock<std::mutex> lock(mu_);
    ++arrived_;
    cv_.notify_all();
    return cv_.wait_for(lock, std::chrono::seconds(60), [&] { return arrived_ >= parties_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int parties_;
  int arrived_ = 0;
};

// Waits at `barrier` after its first ListConfigs (one client per thread).
class BarrierClient : public ForwardingDockerClient {
 public:
  BarrierClient(docker::DockerClient& inner, ReadBarrier& barrier)
      : ForwardingDockerClient(inner), barrier_(barrier) {}
  std::atomic<bool> barrier_timed_out{false};

  Result<std::vector<docker::Config>> ListConfigs(const docker::Filters& f) override {
    auto out = inner_.ListConfigs(f);
    if (!waited_) {
      waited_ = true;
      if (!barrier_.ArriveAndWait()) barrier_timed_out = true;
    }
    return out;
  }

 private:
  ReadBarrier& barrier_;
  bool waited_ = false;
};

// Another writer updates the labels (adds example.com/touched-by) right
// before each of the next `interference` UpdateConfig calls, which then carry
// a stale version.
class ConcurrentLabelWriter : public ForwardingDockerClient {
 public:
  using ForwardingDockerClient::ForwardingDockerClient;
  std::atomic<int> interference{1};
  std::atomic<int> update_calls{0};

  Status UpdateConfig(const std::string& id, uint64_t version,
                      const docker::ConfigSpec& spec) override {
    ++update_calls;
    if (interference > 0) {
      --interference;
      auto fresh = inner_.InspectConfig(id);
      if (!fresh.ok()) return fresh.error();
      docker::ConfigSpec other = fresh->spec;
      other.labels["example.com/touched-by"] = "w" + std::to_string(update_calls.load());
      Status st = inner_.UpdateConfig(id, fresh->version, other);
      if (!st.ok()) return st;
    }
    return inner_.UpdateConfig(id, version, spec);
  }
};

// Counts the config writes made through it.
class CountingClient : public ForwardingDockerClient {
 public:
  using ForwardingDockerClient::ForwardingDockerClient;
  std::atomic<int> creates{0}, updates{0}, removes{0};
  int writes() const { return creates + updates + removes; }

  Result<std::string> CreateConfig(const docker::ConfigSpec& spec) override {
    ++creates;
    return inner_.CreateConfig(spec);
  }
  Status UpdateConfig(const std::string& id, uint64_t version,
                      const docker::ConfigSpec& spec) override {
    ++updates;
    return inner_.UpdateConfig(id, version, spec);
  }
  Status RemoveConfig(const std::string& id_or_name) override {
    ++removes;
    return inner_.RemoveConfig(id_or_name);
  }
};

// The Swarm manager the integration tests use; empty when unset.
inline std::string TestDockerHost() {
  const char* v = std::getenv("SG_TEST_DOCKER_HOST");
  return v ? v : "";
}

inline constexpr const char* kNoDockerHostMessage =
    "SG_TEST_DOCKER_HOST is not set: set SG_TEST_DOCKER_HOST to a Swarm manager endpoint "
    "(e.g. unix:///path/to/docker.sock) or run scripts/test.sh";

// A name prefix unique to this process and call: lowercase letters and
// digits ending in '-', valid in resource names ([a-z0-9-], at most 40
// characters) and Docker config names. `tag` must be lowercase too.
inline std::string UniquePrefix(const std::string& tag) {
  static int counter = 0;
  auto base36 = [](unsigned long long v) {
    const char* digits = "0123456789abcdefghijklmnopqrstuvwxyz";
    std::string s;
    do {
      s.insert(s.begin(), digits[v % 36]);
      v /= 36;
    } while (v != 0);
    return s;
  };
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  return tag + base36(static_cast<unsigned long long>(::getpid())) +
         base36(static_cast<unsigned long long>(ms) % (36ULL * 36 * 36 * 36 * 36)) +
         base36(static_cast<unsigned long long>(++counter)) + "-";
}

}  // namespace sg::testing
