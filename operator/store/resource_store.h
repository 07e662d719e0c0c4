#pragma once
// Resources stored in the Swarm itself as Docker configs (DESIGN.md §2).
//
// Each resource version is a config named sg.<kind>.<name>.<generation>
// holding the canonical JSON of the resource. Config names are unique in a
// Swarm, so two concurrent applies of generation N+1 race safely: Docker
// refuses the second create with 409 and that apply reports a conflict.
// Status lives in the swarmgate.io/status label of the current generation and
// is updated with the config's version index (compare-and-swap).
//
// Thread-safety: safe to share between threads if the client is; the only
// state is a cache of immutable config data behind a mutex.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "crds/kind.h"
#include "operator/common/labels.h"
#include "operator/common/result.h"
#include "operator/docker/docker_client.h"

namespace sg::store {

// The labels of resource configs (operator/common/labels.h), under the names
// this namespace has always used.
using sg::kLabelCreated;
using sg::kLabelGeneration;
using sg::kLabelKind;
using sg::kLabelName;
using sg::kLabelStatus;

struct StoredResource {
  crds::Kind kind = crds::Kind::kRoute;
  std::string name;
  int64_t generation = 0;
  std::string config_id;
  uint64_t version = 0;     // the config's version index, for status CAS
  std::string created_at;   // first generation's creation time (RFC 3339)
  std::string updated_at;   // this generation's creation time
  std::string data;         // canonical JSON as applied
  std::string status_json;  // empty when no status was written yet
};

enum class ApplyOutcome { kCreated, kConfigured, kUnchanged };
const char* ApplyOutcomeName(ApplyOutcome outcome);  // created|configured|unchanged

struct ApplyResult {
  ApplyOutcome outcome = ApplyOutcome::kUnchanged;
  int64_t generation = 0;
};

// Docker config name for one generation: sg.<kind>.<name>.<generation>.
std::string ConfigName(crds::Kind kind, const std::string& name, int64_t generation);

class ResourceStore {
 public:
  explicit ResourceStore(docker::DockerClient& client) : client_(client) {}

  // Creates generation 1, or N+1 when the data differs from generation N,
  // then removes older generations. Unchanged data writes nothing. With
  // dry_run nothing is written and the outcome says what would happen.
  Result<ApplyResult> Apply(crds::Kind kind, const std::string& name,
                            const std::string& canonical_json, bool dry_run = false);

  // The current (highest) generation; NotFound when the resource is absent.
  Result<StoredResource> Get(crds::Kind kind, const std::string& name);
  // Current generations of every resource of `kind` (all kinds when nullopt), sorted by name.
  Result<std::vector<StoredResource>> List(std::optional<crds::Kind> kind);

  // Removes every generation; NotFound when nothing was stored.
  Status Delete(crds::Kind kind, const std::string& name);

  // Writes the status label of generation `generation`. Retries on a stale
  // config version (another writer updated labels in between) a bounded
  // number of times; returns Conflict when the resource moved to another
  // generation (the caller re-reads and reconciles again) and NotFound when
  // it was deleted.
  Status WriteStatus(crds::Kind kind, const std::string& name, int64_t generation,
                     const std::string& status_json);
  // WriteStatus() of `listed`'s generation, unless `listed` (as List() or
  // Get() returned it) already carries `status_json`: then no Docker call.
  // A status written by someone else since the listing is corrected on the
  // next pass.
  Status WriteStatusIfChanged(const StoredResource& listed, const std::string& status_json);

 private:
  Result<std::vector<StoredResource>> ListGenerations(crds::Kind kind, const std::string& name);

  // Docker omits config data from list answers; the data of a config id
  // never changes (configs are immutable but for labels), so it is read
  // once per id and kept. Bounded by the live configs (pruned on full lists).
  Status FillData(StoredResource* r);

  docker::DockerClient& client_;
  std::mutex data_mu_;
  std::map<std::string, std::string> data_by_id_;
};

}  // namespace sg::store
