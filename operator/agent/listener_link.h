#pragma once
// The proxy side of the listening-socket handoff (see listener_holder.h):
// attaches to the node's holder, receives the listening sockets nginx is to
// inherit, and tells when the holder goes away (its sockets then no longer
// receive connections, so the proxy must restart to attach again).
//
// Ownership: the link owns the received descriptors (close-on-exec; nginx
// gets duplicates) and the connection; both close when it is destroyed.
// Thread-safety: const methods and WaitLost() may run on any one thread
// besides the owner's; Close() is thread-safe.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "operator/common/result.h"

namespace sg::agent {

struct InheritedListener {
  int port = 0;
  int fd = -1;
};

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

 private:
  ListenerLink(int conn, std::vector<InheritedListener> listeners)
      : conn_(conn), listeners_(std::move(listeners)) {}

  int conn_;
  std::vector<InheritedListener> listeners_;
};

}  // namespace sg::agent
