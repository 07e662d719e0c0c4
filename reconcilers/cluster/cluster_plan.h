#pragma once
// Plan: the second step of a cluster pass. A pure function from a snapshot
// to what the cluster should be: the builder's inputs and its traffic model
// with every route's outcome, the objects the cluster must own, and what the
// watchers must know (which services and routes the cluster depends on).
// Reads no clock, no Docker and no files, so it is tested table-driven with
// hand-written snapshots.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "crds/types.h"
#include "reconcilers/cluster/cluster_snapshot.h"
#include "reconcilers/model/model_builder.h"
#include "reconcilers/proxy_service_spec.h"

namespace sg::reconcilers {

struct PlanOptions {
  std::string certs_dir = "/run/secrets";  // where proxies find mounted secrets
};

// The objects a cluster owns, as the plan wants them. Ids the Swarm has not
// assigned yet (a network still to be created) are filled in by apply.
struct DesiredObjects {
  std::string network_name;
  bool hot = true;           // hot delivery: control network and agent token
  std::string token_secret;  // hot only
  bool listener = false;     // host publish mode: the listener service holds the ports
  // The cluster as the proxy service is built from it (a one-time stop-first
  // migration may override its update order).
  crds::ServiceCluster proxy_cluster;
};

struct ClusterPlan {
  std::string name;
  crds::ServiceCluster cluster;  // as applied
  int64_t generation = 0;
  std::string created_at;  // of the cluster's first generation
  DesiredObjects desired;
  // Nodes Swarm reports lost (reconcilers/lost_nodes.h): their tasks are
  // left out of the endpoints, and their proxies are not waited for.
  std::set<std::string> lost_nodes;
  // The builder's inputs, one per route of the cluster that decodes, and
  // what building them gave (before any engine rejected a route).
  std::vector<RouteInput> route_inputs;
  // The cluster's defaultBackend service resolved (when it names one).
  ResolvedBackend default_backend;
  // Why that service cannot serve (the cluster's Degraded message); empty
  // when it can or the cluster names none.
  std::string default_backend_problem;
  BuildResult built;
  // Routes whose update policy requires a health check that a backend lacks.
  std::map<std::string, std::string> degraded;
  std::set<std::string> used_services;
  std::set<std::string> route_names;
};

// `snapshot.cluster` must be set and decode as a ServiceCluster.
ClusterPlan PlanCluster(const ClusterSnapshot& snapshot, const PlanOptions& options);

// A digest of everything the traffic model is built from (the cluster's
// generation, and per route its generation, age, resolved endpoints and
// secret state). Equal fingerprints build equal models, so a pass compares
// them before building or rendering anything.
std::string ModelInputFingerprint(const ClusterPlan& plan);

// The builder options the plan used; the check step rebuilds with routes
// excluded on top of them.
BuildOptions PlanBuildOptions(const PlanOptions& options, const ClusterPlan& plan);

// The TLS secrets the proxy service must mount: those of `names` that exist.
std::vector<SecretRef> TlsSecretsToMount(const ClusterSnapshot& snapshot,
                                         const std::vector<std::string>& names);

// The health-check message of a backend that an update policy needs.
std::string MissingHealthcheckMessage(const std::string& service, int port);

}  // namespace sg::reconcilers
