#pragma once
// `swarmgate listen`: holds a cluster's host-mode listening sockets on one
// node, so proxy tasks can be replaced start-first without a moment in which
// nothing listens on the node's ports.
//
// Swarm never places two tasks that publish the same host-mode port on one
// node, so a proxy that published its own ports could only be replaced
// stop-first: about a second of refused connections per node on every proxy
// update. Instead a small, rarely changed service (global over the proxies'
// nodes) publishes the ports; its holder binds them and hands the listening
// sockets to each proxy task on the node over a unix socket in a volume both
// mount (SCM_RIGHTS). Every nginx on the node then accepts from the same
// kernel socket and accept queue: a new proxy task accepts before the old
// one stops, the old one closes only its own descriptor, and no connection
// is refused or lost.
//
// Protocol (one direction): on connect the holder sends one message,
// "SGLISTEN1 <port>[,<port>...]\n", with one descriptor per port in the same
// order. The proxy keeps the connection open while it runs: its end of the
// connection counts it as attached.
//
// Binding is lazy: the holder listens only while at least one proxy is
// attached, so a node without a proxy refuses connections (a load balancer's
// health check sees the node down) instead of queueing them unanswered.
//
// Threads: Run() serves on the caller's thread; Stop() and Attached() are
// thread-safe.

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "operator/common/result.h"

namespace sg::agent {

inline constexpr const char* kListenerProtocol = "SGLISTEN1";

struct ListenerHolderOptions {
  std::string socket_path;  // unix socket the proxies connect to
  std::vector<int> ports;   // TCP ports to hold; 0 = any free port (tests)
  std::string bind_address = "0.0.0.0";
  int backlog = 4096;  // capped by net.core.somaxconn
};

class ListenerHolder {
 public:
  explicit ListenerHolder(ListenerHolderOptions options);
  ~ListenerHolder();

  ListenerHolder(const ListenerHolder&) = delete;
  ListenerHolder& operator=(const ListenerHolder&) = delete;

  // Creates the unix socket (replacing a stale file). Call before Run().
  Status Open();
  // Serves until Stop(); closes every socket before it returns.
  Status Run();
  void Stop();

  // Proxies attached now.
  int Attached() const { return attached_.load(); }
  // Ports of the sockets currently held (the chosen ones for port 0); empty
  // while none is attached.
  std::vector<int> HeldPorts() const;

 private:
  Status BindAll();
  void CloseListeners();
  Status Hand(int client);

  const ListenerHolderOptions options_;
  int unix_fd_ = -1;
  int wake_[2] = {-1, -1};  // Stop() writes to wake_[1]
  std::atomic<int> attached_{0};
  mutable std::mutex mu_;  // guards listeners_ for HeldPorts()
  std::vector<int> listeners_;
  std::vector<int> ports_;
};

}  // namespace sg::agent
