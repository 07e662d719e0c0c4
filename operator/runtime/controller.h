#pragma once
// Runs a Reconciler over a WorkQueue with N worker threads, as
// controller-runtime does: a key is reconciled by one worker at a time;
// an error requeues it with backoff; a terminal error is counted and
// dropped; a success forgets its backoff and, if asked, requeues it later.

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "operator/common/result.h"
#include "operator/metrics/swarmgate_metrics.h"
#include "operator/runtime/clock.h"
#include "operator/runtime/work_queue.h"

namespace sg::runtime {

struct ReconcileResult {
  // > 0: reconcile the key again after this delay (e.g. to poll tasks of a
  // service that is updating). The backoff is reset either way.
  std::chrono::milliseconds requeue_after{0};
};

// Implemented by each controller's business logic. Reconcile() is called
// from worker threads, concurrently for different keys but never for the
// same key; it must re-read the current state (level-triggered) and be
// idempotent.
class Reconciler {
 public:
  virtual ~Reconciler() = default;
  virtual Result<ReconcileResult> Reconcile(const std::string& key, const Trigger& trigger) = 0;
};

// Errors that retrying cannot fix (the input itself is wrong): counted, not
// requeued. The resource gets another chance when it changes.
bool IsTerminalError(const Error& error);

struct ControllerOptions {
  std::string name;  // the `controller` label, e.g. "route"
  int workers = 1;
  RateLimitOptions rate_limit;
  // Decides which errors are terminal; IsTerminalError when empty.
  std::function<bool(const Error&)> is_terminal;
};

class Controller {
 public:
  // `reconciler`, `clock` and `metrics` must outlive the controller.
  Controller(ControllerOptions options, Reconciler& reconciler, Clock& clock,
             metrics::SwarmgateMetrics& metrics);
  // Stops the workers if still running.
  ~Controller();

  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  const std::string& name() const { return options_.name; }
  // The queue, for watchers that enqueue keys. Thread-safe.
  WorkQueue& queue() { return queue_; }
  void Enqueue(const std::string& key, const Trigger& trigger = {}) { queue_.Add(key, trigger); }

  // Starts the workers. Call once.
  void Start();
  // Shuts the queue down and waits for in-flight reconciles to finish; keys
  // still queued are dropped (the next start resyncs). Idempotent.
  void Stop();

 private:
  void WorkerLoop();
  void Process(const WorkItem& item);

  ControllerOptions options_;
  Reconciler& reconciler_;
  Clock& clock_;
  metrics::Counter success_total_;
  metrics::Counter error_total_;
  metrics::Counter requeue_total_;
  metrics::Counter errors_total_;
  metrics::Histogram duration_;
  WorkQueue queue_;
  std::vector<std::thread> workers_;
};

}  // namespace sg::runtime
