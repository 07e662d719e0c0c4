#pragma once
// Which proxies serve a node's listening sockets, told through files in the
// listener's volume (listener_holder.h), so that a proxy asked to stop keeps
// serving until another proxy on its node does.
//
// Swarm replaces a proxy task start-first on an update, but not always: the
// tasks of a node whose daemon was down for a while are shut down and
// started anew at the same time, and the new task takes seconds (network
// attachment, the operator's configuration) before it accepts. Connections
// that reach the node meanwhile wait in the shared accept queue, and a
// request on a connection the stopping proxy closed waits with them: a
// client with a 2 s timeout gave up (measured: 4 s without a proxy on a
// node resumed after a minute's pause). A stopping proxy therefore lingers
// until a successor announces that it serves, or until its linger ends.
//
// Each serving proxy keeps a file "serving.<id>" in the directory and
// touches it every second; a file not touched for `fresh` belongs to a
// proxy that died without withdrawing it and does not count. The holder
// plays no part: a proxy of any version can be attached to a holder of any
// version, and a holder of an older one would drop a proxy that sent it
// anything.
//
// Thread-safety: every method may be called from any thread.

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>

#include "operator/common/result.h"

namespace sg::agent {

class ProxyPresence {
 public:
  // `dir`: the listener volume's directory; `id`: this proxy's (its task's),
  // made safe for a file name.
  ProxyPresence(std::string dir, const std::string& id);

  // Creates this proxy's file or touches it. Does nothing after Withdraw().
  Status Announce();
  // Removes this proxy's file for good: a stopping proxy is no successor.
  void Withdraw();
  // Proxies other than this one whose file was touched within `fresh`.
  int OthersServing(std::chrono::milliseconds fresh) const;
  // Polls OthersServing every 100 ms until it is one or more (true), or
  // `linger` passed or `cancel` was set (false).
  bool AwaitOther(std::chrono::milliseconds linger, std::chrono::milliseconds fresh,
                  const std::atomic<bool>* cancel = nullptr) const;

  const std::string& path() const { return path_; }

 private:
  const std::string dir_;
  const std::string path_;  // dir_/serving.<id>
  std::mutex mu_;           // orders Announce() and Withdraw()
  bool withdrawn_ = false;  // guarded by mu_
};

}  // namespace sg::agent
