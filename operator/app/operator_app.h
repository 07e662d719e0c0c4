#pragma once
// `swarmgate operator`: wires the Docker client, the resource store, the
// controllers, the watchers, the configuration hub and the HTTP endpoint
// together and runs until SIGTERM/SIGINT.

#include <chrono>
#include <string>

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
};

// Returns the process exit code.
int RunOperator(const OperatorOptions& options);

}  // namespace sg::app
