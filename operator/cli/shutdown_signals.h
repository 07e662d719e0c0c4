#pragma once
// SIGTERM, SIGINT and SIGQUIT for a long-running command, taken by one
// waiter thread with sigtimedwait. The constructor blocks them in the calling
// thread, so create it before starting any other thread (threads inherit the
// mask; child processes must reset it before exec). The first signal calls
// `on_signal` with the signal's name, once, on the waiter thread. The
// destructor stops the waiter and restores the previous mask.

#include <signal.h>

#include <atomic>
#include <functional>
#include <thread>

namespace sg::cli {

class ShutdownSignals {
 public:
  explicit ShutdownSignals(std::function<void(const char* signal_name)> on_signal);
  ~ShutdownSignals();

  ShutdownSignals(const ShutdownSignals&) = delete;
  ShutdownSignals& operator=(const ShutdownSignals&) = delete;

 private:
  sigset_t signals_;
  sigset_t previous_;
  std::atomic<bool> done_{false};
  std::thread waiter_;
};

}  // namespace sg::cli
