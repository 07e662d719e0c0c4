#pragma once
// Host ports two ServiceClusters cannot share. In publish mode host a
// cluster's listener runs on the host network and binds its ports in each
// node's own namespace, so Swarm no longer keeps two clusters' listeners
// off one node's port; the second one on a node finds the port in use and
// fails (operator/agent/listener_holder.h). This check rejects the clashes
// that are certain before anything runs: two host-mode clusters sharing a
// port on the same nodes, because one of them runs on every node or both
// name the same constraints. Clusters whose constraints differ may still
// meet on a node; that is left to the listener's error.
//
// Thread-safe: pure functions.

#include <optional>
#include <string>

#include "crds/types.h"

namespace sg::crds {

struct HostPortClash {
  std::string path;     // the field of `cluster`: spec.proxy.ports.http or .https
  std::string message;  // "expected ..., got ..."
};

// Why `cluster` cannot hold its ports beside `other`, or nullopt.
// `other_where` ("file:line", may be empty) is named in the message.
std::optional<HostPortClash> FindHostPortClash(const ServiceCluster& cluster,
                                               const ServiceCluster& other,
                                               const std::string& other_where = "");

}  // namespace sg::crds
