#include "operator/runtime/controller.h"

#include <exception>

#include "operator/runtime/logging.h"

namespace sg::runtime {
namespace {

WorkQueueOptions QueueOptions(const ControllerOptions& o, metrics::Gauge depth) {
  WorkQueueOptions q;
  q.rate_limit = o.rate_limit;
  q.on_depth_change = [depth](std::size_t n) { depth.Set(static_cast<double>(n)); };
  return q;
}

}  // namespace

bool IsTerminalError(const Error& error) { return error.Is(ErrorCode::kInvalidArgument); }

Controller::Controller(ControllerOptions options, Reconciler& reconciler, Clock& clock,
                       metrics::SwarmgateMetrics& metrics)
    : options_(std::move(options)),
      reconciler_(reconciler),
      clock_(clock),
      success_total_(metrics.reconcile_total.WithLabels({options_.name, "success"})),
      error_total_(metrics.reconcile_total.WithLabels({options_.name, "error"})),
      requeue_total_(metrics.reconcile_total.WithLabels({options_.name, "requeue"})),
      errors_total_(metrics.reconcile_errors_total.WithLabels({options_.name})),
      duration_(metrics.reconcile_duration_seconds.WithLabels({options_.name})),
      queue_(clock, QueueOptions(options_, metrics.workqueue_depth.WithLabels({options_.name}))) {
  if (!options_.is_terminal) options_.is_terminal = IsTerminalError;
  if (options_.workers < 1) options_.workers = 1;
}

Controller::~Controller() { Stop(); }

void Controller::Start() {
  workers_.reserve(static_cast<std::size_t>(options_.workers));
  for (int i = 0; i < options_.workers; ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
}

void Controller::Stop() {
  queue_.ShutDown();
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
  workers_.clear();
}

void Controller::WorkerLoop() {
  while (auto item = queue_.Get()) {
    Process(*item);
    queue_.Done(item->key);
  }
}

void Controller::Process(const WorkItem& item) {
  static const auto log = NamedLogger("controller");
  const auto start = clock_.Now();
  std::optional<Result<ReconcileResult>> result;
  try {
    result.emplace(reconciler_.Reconcile(item.key, item.trigger));
  } catch (const std::exception& e) {
    // A throwing reconciler is a bug; retrying with backoff keeps the loop
    // alive and the error visible.
    result.emplace(Internal(std::string("reconcile threw: ") + e.what()));
  }
  const double seconds = std::chrono::duration<double>(clock_.Now() - start).count();
  duration_.Observe(seconds);
  log->debug("{}: {} reconciled in {:.3f}s trigger={} ok={}", options_.name, item.key, seconds,
             item.trigger.name, result->ok());

  if (result->ok()) {
    queue_.Forget(item.key);
    const auto after = (*result)->requeue_after;
    if (after > std::chrono::milliseconds::zero()) {
      requeue_total_.Inc();
      queue_.AddAfter(item.key, after);
    } else {
      success_total_.Inc();
    }
    return;
  }

  const Error& err = result->error();
  error_total_.Inc();
  errors_total_.Inc();
  if (options_.is_terminal(err)) {
    queue_.Forget(item.key);
    log->warn("{}: {} failed, not retrying: {}", options_.name, item.key, err.ToString());
    return;
  }
  // Keep the trigger: the change it stands for has not converged yet.
  const auto delay = queue_.AddRateLimited(item.key, item.trigger);
  log->info("{}: {} failed, retry in {}ms: {}", options_.name, item.key,
            std::chrono::duration_cast<std::chrono::milliseconds>(delay).count(), err.ToString());
}

}  // namespace sg::runtime
