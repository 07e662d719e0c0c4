#pragma once
// Reads the services of a compose/stack file as converter inputs: the labels
// Interlock reads are the service labels (`deploy.labels`, a map or a list of
// "key=value"); the container `labels` are taken as a fallback.

#include <string>
#include <string_view>
#include <vector>

#include "operator/common/result.h"
#include "operator/interlock/converter.h"

namespace sg::interlock {

// `stack`: the name the file is deployed as (`docker stack deploy -c FILE
// STACK`); service names become STACK_service. Empty: names as written.
// Replicas: deploy.replicas, 1 when absent (the compose default), unknown for
// deploy.mode global or a non-integer value such as ${REPLICAS}. With a stack
// name, each service gets the com.docker.stack.namespace label and its
// networks the names docker stack deploy gives them (STACK_net, `name:` and
// external networks as written); without one, only networks named outright
// are known.
Result<std::vector<ServiceInput>> ParseStackFile(std::string_view text, const std::string& stack);

}  // namespace sg::interlock
