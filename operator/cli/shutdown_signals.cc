#include "operator/cli/shutdown_signals.h"

#include <pthread.h>

#include <cstring>
#include <utility>

namespace sg::cli {

ShutdownSignals::ShutdownSignals(std::function<void(const char*)> on_signal) {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGTERM);
  sigaddset(&signals_, SIGQUIT);
  sigaddset(&signals_, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals_, &previous_);
  waiter_ = std::thread([this, on_signal = std::move(on_signal)] {
    const timespec tick{0, 200 * 1000 * 1000};
    while (!done_.load()) {
      const int sig = sigtimedwait(&signals_, nullptr, &tick);
      if (sig < 0) continue;  // timeout or EINTR
      on_signal(strsignal(sig));
      return;
    }
  });
}

ShutdownSignals::~ShutdownSignals() {
  done_ = true;
  waiter_.join();
  pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
}

}  // namespace sg::cli
