#pragma once
// One function per subcommand; each parses its own flags (args exclude the
// subcommand name) and returns a process exit code (exit_codes.h).

#include <string>
#include <vector>

#include "operator/cli/cli_context.h"

namespace sg::cli {

using Args = std::vector<std::string>;

int RunValidate(const Args& args, CliContext& ctx);
int RunApply(const Args& args, CliContext& ctx);
int RunGet(const Args& args, CliContext& ctx);
int RunDescribe(const Args& args, CliContext& ctx);
int RunDelete(const Args& args, CliContext& ctx);
int RunDiff(const Args& args, CliContext& ctx);
int RunVersion(const Args& args, CliContext& ctx);
int RunExplain(const Args& args, CliContext& ctx);

}  // namespace sg::cli
