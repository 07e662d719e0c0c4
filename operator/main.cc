// swarmgate: one binary for the CLI, the operator and the proxy agent.
#include <iostream>
#include <string>
#include <vector>

#include "operator/agent/proxy_command.h"
#include "operator/cli/cli.h"

int main(int argc, char** argv) {
  sg::cli::RegisterOperatorCommand();
  sg::cli::RegisterProxyCommand();
  sg::cli::RegisterRenderCommand();
  sg::cli::RegisterImportCommand();
  sg::cli::RegisterListenCommand();
  std::vector<std::string> args(argv, argv + argc);
  return sg::cli::RunCli(args, std::cin, std::cout, std::cerr);
}
