#pragma once
// The proxy side of the listening-socket handoff (see listener_holder.h):
// attaches to the node's holder, receives the listening sockets nginx is to
// inherit, tells when the holder goes away, and re-attaches to the holder
// that replaced it. The sockets live in the node's network namespace, so
// they keep receiving connections while the proxy has them, whichever
// holder it is attached to; attaching only tells a holder that a proxy
// serves its sockets (and gives a restarted holder the sockets back).
//
// Ownership: the link owns the received descriptors (close-on-exec; nginx
// gets duplicates) and the connection; both close when it is destroyed.
// Thread-safety: listeners() and Fds() may run on any thread (the sockets
// never change); WaitLost() and Reattach() on one thread besides the
// owner's, one at a time.

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "operator/agent/listener_protocol.h"
#include "operator/common/result.h"

namespace sg::agent {

class ListenerLink {
 public:
  ~ListenerLink();
  ListenerLink(const ListenerLink&) = delete;
  ListenerLink& operator=(const ListenerLink&) = delete;

  // Connects to the holder at `socket_path`, retrying every 100 ms for up to
  // `wait` (the holder's task may start after the proxy's); Unavailable
  // when it never answers, InvalidArgument when it answers something else.
  static Result<std::unique_ptr<ListenerLink>> Attach(const std::string& socket_path,
                                                      std::chrono::milliseconds wait);

  const std::vector<InheritedListener>& listeners() const { return listeners_; }
  std::vector<int> Fds() const;

  // Blocks up to `timeout`; true once the holder has closed the link.
  bool WaitLost(std::chrono::milliseconds timeout);

  // After WaitLost(): connects to the holder now at the socket path, offers
  // it this link's sockets (a holder started after the old one exited
  // cannot bind the ports these keep open, and adopts them), and keeps the
  // new connection when that holder hands back the same kernel sockets.
  // Retries every 100 ms for up to `wait`, or until `cancel` is set:
  // Unavailable when no holder answered. Conflict when the holder holds
  // other sockets (other ports, or bound anew): nginx cannot take new
  // sockets while it runs, so the proxy must restart to attach.
  Status Reattach(std::chrono::milliseconds wait, const std::atomic<bool>* cancel = nullptr);

 private:
  ListenerLink(std::string socket_path, int conn, std::vector<InheritedListener> listeners)
      : socket_path_(std::move(socket_path)), conn_(conn), listeners_(std::move(listeners)) {}

  const std::string socket_path_;
  int conn_;
  const std::vector<InheritedListener> listeners_;
};

}  // namespace sg::agent
