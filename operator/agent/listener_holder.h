#pragma once
// `swarmgate listen`: holds a cluster's listening sockets on one node, so
// proxy tasks can be replaced start-first without a moment in which nothing
// listens on the node's ports.
//
// Swarm never places two tasks that publish the same host-mode port on one
// node, so a proxy that published its own ports could only be replaced
// stop-first: about a second of refused connections per node on every proxy
// update. Instead a small, rarely changed service (global over the proxies'
// nodes, on the host network) binds the ports in the node's network
// namespace; its holder hands the listening sockets to each proxy task on
// the node over a unix socket in a volume both mount (SCM_RIGHTS). Every
// nginx on the node then accepts from the same kernel socket and accept
// queue: a new proxy task accepts before the old one stops, the old one
// closes only its own descriptor, and no connection is refused or lost.
//
// The holder itself is replaced the same way (Swarm replaces every task of
// a node that was down, and the listener service's own updates). Because the
// sockets live in the node's namespace, not in a container's, they outlive
// any one process that has a descriptor of them:
//   - a starting holder first connects to the socket path as a client. If an
//     older holder answers, the new one adopts its sockets (no bind: no
//     moment without a listener, no EADDRINUSE), tells it so
//     (kTakeoverMessage), and only then replaces the path with its own
//     socket (rename(), so a proxy always finds a holder there);
//   - a holder asked to stop lingers: it serves until a successor took the
//     path after adopting its sockets, or until `linger` passed;
//   - a proxy whose holder went away re-attaches to the one at the path and
//     offers it its sockets: a holder started after the old one exited
//     cannot bind ports the proxies still hold open, and adopts them.
// Protocol: listener_protocol.h.
//
// Binding is lazy: the holder listens only while at least one proxy is
// attached, and for `detach_grace` after the last one detached, so that a
// replacement proxy starting a few seconds later finds connections queued.
// A node that lost its proxy for good refuses connections after the grace
// (a load balancer's health check sees the node down) instead of queueing
// them unanswered.
//
// Threads: Open() and Run() on the caller's thread; Stop(), Attached() and
// HeldPorts() are thread-safe.

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "operator/agent/listener_protocol.h"
#include "operator/common/result.h"

namespace sg::agent {

struct ListenerHolderOptions {
  std::string socket_path;  // unix socket the proxies connect to
  std::vector<int> ports;   // TCP ports to hold; 0 = any free port (tests)
  std::string bind_address = "0.0.0.0";
  int backlog = 4096;  // capped by net.core.somaxconn
  // How long the sockets stay open after the last proxy detached.
  std::chrono::milliseconds detach_grace{10000};
  // How long Stop() waits for a successor to take over. Below the task's
  // stop grace period, or Docker kills the holder first.
  std::chrono::milliseconds linger{8000};
  // How long Open() waits for an older holder's sockets.
  std::chrono::milliseconds takeover_wait{2000};
  // How long a proxy that connects while a port cannot be bound (in use) has
  // to offer its sockets before it is sent away to retry.
  std::chrono::milliseconds offer_wait{1000};
  // A port that stays in use by something else this long ends Run() with an
  // error: another process holds it (another cluster, a host service).
  std::chrono::milliseconds in_use_limit{15000};
};

class ListenerHolder {
 public:
  explicit ListenerHolder(ListenerHolderOptions options);
  ~ListenerHolder();

  ListenerHolder(const ListenerHolder&) = delete;
  ListenerHolder& operator=(const ListenerHolder&) = delete;

  // Takes the sockets of an older holder answering at the socket path, if
  // there is one, then puts this holder's socket at the path. Call before
  // Run().
  Status Open();
  // Serves until Stop() (and the linger) or a fatal error: a port that
  // cannot be bound (in use for longer than in_use_limit, or any other bind
  // error). Closes every socket of its own before it returns.
  Status Run();
  // Asks Run() to return: at once with a zero linger, else once a successor
  // took over, no proxy is attached and no socket held (nothing to hand
  // over), or the linger passed. Thread-safe, idempotent.
  void Stop();

  // Proxies attached now.
  int Attached() const { return attached_.load(); }
  // Ports of the sockets currently held, in the order of the options (the
  // chosen ones for port 0); empty while none is.
  std::vector<int> HeldPorts() const;
  // Ports Open() adopted from an older holder.
  const std::vector<int>& AdoptedPorts() const { return adopted_; }

 private:
  struct Client;

  // Open(): the older holder's sockets, when one answers.
  void TakeOver();
  // Binds the ports not held. `in_use` gets those another socket holds
  // (EADDRINUSE); any other failure is returned.
  Status BindMissing(std::vector<int>* in_use);
  bool AllHeld() const;
  bool AnyHeld() const;
  // Adopts the offered sockets of ports not held yet; closes the others.
  void Adopt(std::vector<InheritedListener> offered, const char* from);
  void CloseListeners(const char* why);
  std::vector<InheritedListener> Held() const;
  // Whether the socket path is still this holder's socket.
  bool PathIsOurs() const;
  // Hands the sockets to a waiting client when all are held; returns a fatal
  // error only.
  Status Serve(Client& client, std::chrono::steady_clock::time_point now);
  // A message from a client: an offer, a successor's takeover, or its end.
  // False when the client is gone.
  bool Receive(Client& client, std::chrono::steady_clock::time_point now, Status* fatal);

  const ListenerHolderOptions options_;
  int unix_fd_ = -1;
  int predecessor_ = -1;  // connection to the older holder, open until it exits
  dev_t own_dev_ = 0;     // the socket file this holder put at the path
  ino_t own_ino_ = 0;
  int wake_[2] = {-1, -1};    // Stop() writes to wake_[1]
  std::vector<int> adopted_;  // written by Open() only
  std::atomic<int> attached_{0};
  bool successor_seen_ = false;  // Run()'s thread only
  // The first failed bind of a port in use, while one is; Run()'s thread.
  std::chrono::steady_clock::time_point in_use_since_{};
  std::vector<int> in_use_ports_;  // what the last bind found in use; Run()'s thread
  mutable std::mutex mu_;          // guards fds_ and ports_ for HeldPorts()
  std::vector<int> fds_;           // by index of options_.ports; -1 while not held
  std::vector<int> ports_;         // the bound ports, by the same index
};

}  // namespace sg::agent
