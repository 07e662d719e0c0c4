#pragma once
// A client that keeps sending GET / on one keep-alive connection (it never
// resends) and counts the answers by body, "" for a failed request: the
// proof of the agent tests that an engine replaced or reloaded under load
// fails no request. Header-only: it uses the agent's HttpClient, which the
// test binaries that include it link.
//
// Thread-safety: counts are read under the lock while the client's thread runs.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "operator/agent/http_client.h"

namespace sg::testing {

class BodyCountingClient {
 public:
  explicit BodyCountingClient(int port)
      : thread_([this, port] {
          agent::HttpClient http(
              agent::HttpEndpoint{"127.0.0.1", static_cast<std::uint16_t>(port), ""});
          while (!stop_.load()) {
            auto r = http.Do(agent::HttpCall{}, std::chrono::milliseconds(2000));
            std::lock_guard<std::mutex> lock(mu_);
            ++seen_[r.ok() && r->status == 200 ? r->body : ""];
          }
        }) {}
  ~BodyCountingClient() { Stop(); }
  BodyCountingClient(const BodyCountingClient&) = delete;
  BodyCountingClient& operator=(const BodyCountingClient&) = delete;

  int Count(const std::string& body) {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_[body];
  }
  // Until `n` answers carried `body`, for at most 20 s.
  bool WaitFor(const std::string& body, int n) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (Count(body) < n && std::chrono::steady_clock::now() < end) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return Count(body) >= n;
  }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Every body seen and how often; "" counts failed requests.
  std::map<std::string, int> Seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

 private:
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::map<std::string, int> seen_;
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace sg::testing
