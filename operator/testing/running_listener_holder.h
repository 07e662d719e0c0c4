#pragma once
// The listener holder as the agent tests run it: one loopback port the
// kernel picks, the holder's socket in a fresh scratch directory (which the
// tests also use for their proxies' prefixes), served on its own thread.
// On destruction the holder is stopped and joined and the directory
// removed, also when the test fails half-way. Header-only like
// body_counting_client.h: it uses the agent's library, which the test
// binaries that include it link.

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "operator/agent/listener_holder.h"
#include "operator/agent/listener_link.h"
#include "operator/common/result.h"

namespace sg::testing {

class RunningListenerHolder {
 public:
  // The directory is <temp>/<name>-<pid>, emptied first.
  explicit RunningListenerHolder(const std::string& name)
      : dir_(std::filesystem::temp_directory_path() / (name + "-" + std::to_string(getpid()))),
        holder_(Options(dir_)) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~RunningListenerHolder() {
    holder_.Stop();
    if (thread_.joinable()) thread_.join();
    std::filesystem::remove_all(dir_);
  }
  RunningListenerHolder(const RunningListenerHolder&) = delete;
  RunningListenerHolder& operator=(const RunningListenerHolder&) = delete;

  // Opens the holder's socket and serves it on a thread of its own.
  Status Start() {
    Status opened = holder_.Open();
    if (!opened.ok()) return opened;
    thread_ = std::thread([this] { (void)holder_.Run(); });
    return OkStatus();
  }

  // A proxy task's link to the holder.
  Result<std::unique_ptr<agent::ListenerLink>> Attach() {
    return agent::ListenerLink::Attach(SocketPath(dir_), std::chrono::seconds(5));
  }

  const std::filesystem::path& dir() const { return dir_; }

 private:
  static std::string SocketPath(const std::filesystem::path& dir) {
    return (dir / "sock").string();
  }
  static agent::ListenerHolderOptions Options(const std::filesystem::path& dir) {
    agent::ListenerHolderOptions o;
    o.socket_path = SocketPath(dir);
    o.ports = {0};
    o.bind_address = "127.0.0.1";
    // Stopped at once, and closing the port as soon as no proxy is
    // attached: the tests that use it replace proxies, not holders.
    o.linger = std::chrono::milliseconds(0);
    o.detach_grace = std::chrono::milliseconds(0);
    return o;
  }

  std::filesystem::path dir_;
  agent::ListenerHolder holder_;
  std::thread thread_;
};

}  // namespace sg::testing
