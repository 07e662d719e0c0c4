#pragma once
// The Docker labels swarmgate writes and reads, in one place: a label that
// the store, the reconcilers and the CLI spell differently is a label that
// silently stops matching.
//
// On resource configs (sg.<kind>.<name>.<generation>), see
// operator/store/resource_store.h:
//   swarmgate.io/kind, name, generation, status, created
// On objects owned by a ServiceCluster (proxy and listener services,
// networks, token secrets, rolling configs), see reconcilers/:
//   swarmgate.io/owner ("cluster/<name>"), managed-by ("swarmgate"),
//   spec-hash, token-sha256, image

#include <string>
#include <string_view>

namespace sg {

// ---- Resource configs.
// Storage name of the kind ("route", "cluster").
inline constexpr const char* kLabelKind = "swarmgate.io/kind";
// Resource name.
inline constexpr const char* kLabelName = "swarmgate.io/name";
// Generation held by the config (decimal).
inline constexpr const char* kLabelGeneration = "swarmgate.io/generation";
// Status JSON of the current generation.
inline constexpr const char* kLabelStatus = "swarmgate.io/status";
// When generation 1 was created; carried to later generations so AGE
// survives changes (older generation configs are deleted).
inline constexpr const char* kLabelCreated = "swarmgate.io/created";

// ---- Objects owned by a ServiceCluster.
// OwnerValue(cluster): which cluster the object belongs to.
inline constexpr const char* kLabelOwner = "swarmgate.io/owner";
// kManagedByValue on every object swarmgate creates.
inline constexpr const char* kLabelManagedBy = "swarmgate.io/managed-by";
inline constexpr const char* kManagedByValue = "swarmgate";
// Hash of the desired service spec, to detect drift without diffing Docker's
// defaulted copy.
inline constexpr const char* kLabelSpecHash = "swarmgate.io/spec-hash";
// SHA-256 (hex) of a cluster's agent token, on its token secret.
inline constexpr const char* kLabelTokenHash = "swarmgate.io/token-sha256";
// The proxy image a listener service was built for.
inline constexpr const char* kLabelImage = "swarmgate.io/image";

// ---- The leader lease (one config, operator/election/leader_elector.h).
// Identity of the operator holding the lease; "" after a release.
inline constexpr const char* kLabelLeaseHolder = "swarmgate.io/lease-holder";
// Where proxy agents reach the holder (http://ADDR:PORT).
inline constexpr const char* kLabelLeaseUrl = "swarmgate.io/lease-url";
// The holder's lease duration in milliseconds: how long a follower waits
// after the record last changed before it may take the lease.
inline constexpr const char* kLabelLeaseDuration = "swarmgate.io/lease-duration-ms";
// Wall time of the last renewal and of the acquisition (RFC 3339), for people.
inline constexpr const char* kLabelLeaseRenewed = "swarmgate.io/lease-renewed";
inline constexpr const char* kLabelLeaseAcquired = "swarmgate.io/lease-acquired";
// How many times the lease changed hands.
inline constexpr const char* kLabelLeaseTransitions = "swarmgate.io/lease-transitions";

// The kLabelOwner value of `cluster`'s objects: "cluster/<name>".
inline std::string OwnerValue(std::string_view cluster) {
  return "cluster/" + std::string(cluster);
}

}  // namespace sg
