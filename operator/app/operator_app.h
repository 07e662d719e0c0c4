#pragma once
// `swarmgate operator`: wires the Docker client, the resource store, the
// controllers, the watchers, the configuration hub, leader election and the
// HTTP endpoint together and runs until SIGTERM/SIGINT. Every replica
// watches the Swarm and serves /healthz, /readyz and /metrics; only the
// leader reconciles, writes and serves the proxies' configurations.

#include <chrono>
#include <optional>
#include <string>

#include "operator/http/bearer_auth.h"

namespace sg::app {

struct OperatorOptions {
  std::string docker_host;  // empty: DOCKER_HOST or the default socket
  std::string listen = ":9090";
  // Where proxy agents reach this operator (over the control network).
  std::string operator_url = "http://swarmgate-operator:9090";
  std::string control_network = "sg-control";
  std::string nginx_binary = "/usr/sbin/nginx";
  std::string haproxy_binary = "/usr/sbin/haproxy";
  std::string stream_module = "/usr/lib/nginx/modules/ngx_stream_module.so";
  std::chrono::milliseconds resync{30000};
  int workers = 2;
  // Leader election (operator/election/leader_elector.h). identity: "" picks
  // the host name and a random suffix. advertise_url: "" finds this task's
  // address on the control network (or uses operator_url outside Swarm).
  std::string lease_name = "swarmgate-leader";
  std::string identity;
  std::string advertise_url;
  std::chrono::milliseconds lease_duration{3000};
  std::chrono::milliseconds renew_deadline{2000};
  std::chrono::milliseconds retry_period{500};
  // When set, GET /v1/status answers only requests bearing the status token
  // (operator/app/status_routes.h); the token itself is not kept.
  std::optional<http::BearerAuth> status_auth;
};

// Returns the process exit code.
int RunOperator(const OperatorOptions& options);

}  // namespace sg::app
