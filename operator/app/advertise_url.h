#pragma once
// Where proxy agents reach this operator directly, for the leader lease: the
// address of this process's own task on the control network. A follower
// sends agents there, so it must be an address, not the service's name
// (which resolves to every replica).

#include <string>

#include "operator/common/result.h"
#include "operator/docker/docker_client.h"

namespace sg::app {

// "http://ADDR:PORT" for the running task whose container id starts with
// `hostname` (Swarm names a task's container host after its id), on
// `control_network`. NotFound when no such task is listed (the operator runs
// outside Swarm, or its task is not listed yet).
Result<std::string> AdvertiseUrlOfTask(docker::DockerClient& docker, const std::string& hostname,
                                       const std::string& control_network, int port);

}  // namespace sg::app
