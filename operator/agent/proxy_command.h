#pragma once
// Registration of `swarmgate proxy` with the CLI. Declared here, beside the
// agent it runs; defined in operator/cli/proxy_command.cc (part of
// sg_runtime, which links the agent), so the agent library does not depend
// on the CLI.

namespace sg::cli {

// Adds the `proxy` subcommand; main() calls it once before RunCli().
void RegisterProxyCommand();

}  // namespace sg::cli
