#pragma once
// The `swarmgate` command line: dispatches to a subcommand. Streams are
// parameters so tests can drive the CLI in-process.

#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include "operator/cli/cli_context.h"

namespace sg::cli {

using CommandFn = int (*)(const std::vector<std::string>& args, CliContext& ctx);

// Subcommands registered by other parts of the runtime (operator, proxy,
// render) in addition to the built-in resource commands.
void RegisterCommand(const std::string& name, const std::string& summary, CommandFn fn);

// Defined beside each command's implementation.
void RegisterOperatorCommand();
void RegisterRenderCommand();
void RegisterImportCommand();
void RegisterListenCommand();

int RunCli(const std::vector<std::string>& argv, std::istream& in, std::ostream& out,
           std::ostream& err);

}  // namespace sg::cli
