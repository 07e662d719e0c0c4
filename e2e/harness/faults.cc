#include "e2e/harness/faults.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <utility>

namespace sg::e2e {

using namespace std::chrono_literals;

namespace {

// Above the script's own bounds: its lock wait (set below), and for a
// restart, stopping the old daemon's leftovers (10 s), dockerd answering
// (20 s) and rejoining the swarm (SG_E2E_RESTART_DEADLINE, 45 s).
constexpr Duration kQuickTimeout = 90s;
constexpr Duration kRestartTimeout = 180s;
constexpr Duration kUndoAllTimeout = 600s;
constexpr const char* kLockWait = "60";

Error ScriptError(const std::string& what, const ShResult& r) {
  std::string msg = what + ": " + r.Describe();
  if (r.timed_out) return Unavailable(msg);
  // The script's exit codes: 2 a wrong request, 3 nothing to act on.
  if (r.exit_code == 2) return InvalidArgument(msg);
  if (r.exit_code == 3) return NotFound(msg);
  return Internal(msg);
}

}  // namespace

const char* FaultName(FaultKind kind) {
  switch (kind) {
    case FaultKind::kPartition:
      return "partition";
    case FaultKind::kPauseDaemon:
      return "pause-daemon";
    case FaultKind::kKillDaemon:
      return "kill-daemon";
  }
  return "unknown";
}

Faults::Faults() : script_(SourceDir() + "/e2e/cluster") {}

Result<std::string> Faults::Run(const std::string& args, Duration timeout) const {
  auto r = Sh(std::string("SG_E2E_FAULT_LOCK_WAIT=") + kLockWait + " " + ShellQuote(script_) +
                  " fault " + args,
              timeout);
  if (!r.ok()) return ScriptError("e2e/cluster fault " + args, r);
  return r.out;
}

namespace {
Status ToStatus(const Result<std::string>& r) {
  if (!r.ok()) return r.error();
  return OkStatus();
}
}  // namespace

Status Faults::Partition(int node) const {
  return ToStatus(Run("partition " + std::to_string(node), kQuickTimeout));
}
Status Faults::Heal(int node) const {
  return ToStatus(Run("heal " + std::to_string(node), kQuickTimeout));
}
Status Faults::PauseDaemon(int node) const {
  return ToStatus(Run("pause-daemon " + std::to_string(node), kQuickTimeout));
}
Status Faults::ResumeDaemon(int node) const {
  return ToStatus(Run("resume-daemon " + std::to_string(node), kQuickTimeout));
}
Status Faults::KillDaemon(int node) const {
  return ToStatus(Run("kill-daemon " + std::to_string(node), kQuickTimeout));
}
Status Faults::RestartDaemon(int node) const {
  return ToStatus(Run("restart-daemon " + std::to_string(node), kRestartTimeout));
}

Result<KilledTask> Faults::KillTask(const std::string& service, int node) const {
  std::string args = "kill-task " + ShellQuote(service);
  if (node != 0) args += " --node " + std::to_string(node);
  auto out = Run(args, kQuickTimeout);
  if (!out.ok()) return out.error();
  // One line: node=N container=ID task=NAME
  KilledTask k;
  std::istringstream in(*out);
  std::string field;
  while (in >> field) {
    auto eq = field.find('=');
    if (eq == std::string::npos) continue;
    std::string key = field.substr(0, eq), value = field.substr(eq + 1);
    if (key == "node") k.node = std::atoi(value.c_str());
    if (key == "container") k.container = value;
    if (key == "task") k.task = value;
  }
  if (k.node == 0 || k.container.empty()) {
    return Internal("e2e/cluster fault " + args + ": unexpected output: " + TrimRight(*out));
  }
  return k;
}

Status Faults::Apply(FaultKind kind, int node) const {
  switch (kind) {
    case FaultKind::kPartition:
      return Partition(node);
    case FaultKind::kPauseDaemon:
      return PauseDaemon(node);
    case FaultKind::kKillDaemon:
      return KillDaemon(node);
  }
  return InvalidArgument("unknown fault kind");
}

Status Faults::Undo(FaultKind kind, int node) const {
  switch (kind) {
    case FaultKind::kPartition:
      return Heal(node);
    case FaultKind::kPauseDaemon:
      return ResumeDaemon(node);
    case FaultKind::kKillDaemon:
      return RestartDaemon(node);
  }
  return InvalidArgument("unknown fault kind");
}

Result<std::vector<std::string>> Faults::List() const {
  auto out = Run("list", kQuickTimeout);
  if (!out.ok()) return out.error();
  return Lines(*out);
}

Status Faults::UndoAll() const { return ToStatus(Run("undo-all", kUndoAllTimeout)); }

// ------------------------------------------------------------------ ScopedFault

Result<ScopedFault> ScopedFault::Apply(FaultKind kind, int node) {
  Faults faults;
  auto st = faults.Apply(kind, node);
  if (st.ok()) return ScopedFault(kind, node);
  // The script records a fault before applying it, so a failure may have
  // left it half applied; the record says whether it needs undoing.
  auto list = faults.List();
  std::string record = std::string(FaultName(kind)) + " " + std::to_string(node);
  if (!list.ok() || std::find(list->begin(), list->end(), record) != list->end()) {
    auto undo = faults.Undo(kind, node);
    if (!undo.ok())
      std::cerr << "ScopedFault: undoing " << record << ": " << undo.error().ToString() << "\n";
  }
  return st.error();
}

ScopedFault::ScopedFault(ScopedFault&& o) noexcept
    : kind_(o.kind_), node_(std::exchange(o.node_, 0)) {}

ScopedFault& ScopedFault::operator=(ScopedFault&& o) noexcept {
  if (this != &o) {
    auto st = Undo();
    if (!st.ok()) std::cerr << "ScopedFault: " << st.error().ToString() << "\n";
    kind_ = o.kind_;
    node_ = std::exchange(o.node_, 0);
  }
  return *this;
}

ScopedFault::~ScopedFault() {
  auto st = Undo();
  if (!st.ok()) std::cerr << "ScopedFault: " << st.error().ToString() << "\n";
}

Status ScopedFault::Undo() {
  if (node_ == 0) return OkStatus();
  // Done once, whatever the outcome: a failed undo stays recorded for
  // undo-all and `e2e/cluster down`, and retrying it here would only repeat
  // the error.
  int node = std::exchange(node_, 0);
  return Faults().Undo(kind_, node);
}

}  // namespace sg::e2e
