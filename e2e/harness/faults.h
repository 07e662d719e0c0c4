// Faults injected into the e2e cluster: a node cut off the network, a paused
// or killed dockerd, a killed task container.
//
// Every call runs `e2e/cluster fault ...`, the implementation the benchmarks
// (e2e/bench/bench.py) use too. The script records a fault in the state dir
// before applying it, so `e2e/cluster fault undo-all` and `e2e/cluster down`
// undo whatever a crashed or killed test left behind; in-process, ScopedFault
// undoes its fault when it goes out of scope, also after a failed ASSERT.
//
//   auto cut = sg::e2e::ScopedFault::Apply(sg::e2e::FaultKind::kPartition, 3);
//   ASSERT_TRUE(cut.ok()) << cut.error().ToString();
//   ... node 3 is unreachable ...
//   ASSERT_TRUE(cut->Undo().ok());            // or leave it to the destructor
//
// Undoing returns at once for partitions and paused daemons (the caller waits
// for the node to be Ready again); RestartDaemon waits until the node is back
// in the swarm.
//
// Thread-safety: Faults is immutable and safe to share between threads (the
// script serialises fault commands with a lock in the state dir); a
// ScopedFault belongs to one thread.
#pragma once

#include <string>
#include <vector>

#include "e2e/harness/harness.h"
#include "operator/common/result.h"

namespace sg::e2e {

enum class FaultKind {
  kPartition,    // undone by Heal
  kPauseDaemon,  // undone by ResumeDaemon
  kKillDaemon,   // undone by RestartDaemon
};

// "partition", "pause-daemon", "kill-daemon": the script's names, which are
// also the lines List() returns ("partition 3").
const char* FaultName(FaultKind kind);

struct KilledTask {
  int node = 0;
  std::string container;  // full container id
  std::string task;       // <service>.<slot>.<task id>
};

// Errors: kInvalidArgument for an unknown node or a malformed request,
// kNotFound when KillTask finds no running task, kUnavailable when the
// script did not finish in time, kInternal for a fault that failed.
class Faults {
 public:
  // The repository's e2e/cluster, acting on the cluster that SG_E2E_STATE
  // (and SG_E2E_SLOT) name, as Cluster::Load reads it.
  Faults();

  Status Partition(int node) const;
  Status Heal(int node) const;
  Status PauseDaemon(int node) const;
  Status ResumeDaemon(int node) const;
  Status KillDaemon(int node) const;
  Status RestartDaemon(int node) const;
  // Kills one running task container of `service`, on `node` or (0) on
  // whichever node runs one. Swarm replaces the task.
  Result<KilledTask> KillTask(const std::string& service, int node = 0) const;

  Status Apply(FaultKind kind, int node) const;
  Status Undo(FaultKind kind, int node) const;

  // Faults in effect, "<name> <node>" each.
  Result<std::vector<std::string>> List() const;
  // Undoes every fault in effect, restarting killed daemons.
  Status UndoAll() const;

 private:
  Result<std::string> Run(const std::string& args, Duration timeout) const;

  std::string script_;
};

// One fault for the life of the object. Apply() fails without leaving the
// fault in effect: a fault the script recorded before it failed is undone.
class ScopedFault {
 public:
  ScopedFault() = default;
  static Result<ScopedFault> Apply(FaultKind kind, int node);
  ~ScopedFault();  // undoes; an error is printed, not thrown
  ScopedFault(ScopedFault&& o) noexcept;
  ScopedFault& operator=(ScopedFault&& o) noexcept;
  ScopedFault(const ScopedFault&) = delete;
  ScopedFault& operator=(const ScopedFault&) = delete;

  // Undoes it now; the destructor then has nothing to do. Once undone,
  // further calls succeed without running the script.
  Status Undo();
  bool active() const { return node_ != 0; }
  FaultKind kind() const { return kind_; }
  int node() const { return node_; }

 private:
  ScopedFault(FaultKind kind, int node) : kind_(kind), node_(node) {}

  FaultKind kind_ = FaultKind::kPartition;
  int node_ = 0;  // 0: nothing to undo
};

}  // namespace sg::e2e
