#include "operator/cli/cli.h"

#include <iostream>

#include <spdlog/spdlog.h>

#include "operator/cli/commands.h"
#include "operator/cli/exit_codes.h"

namespace sg::cli {
namespace {

struct Command {
  std::string summary;
  CommandFn fn;
};

std::map<std::string, Command>& Registry() {
  static std::map<std::string, Command> commands = {
      {"apply", {"create or update resources from files: apply -f FILE|DIR|-", RunApply}},
      {"get",
       {"list resources: get servicecluster|route [NAME] [-o table|wide|yaml|json]", RunGet}},
      {"describe", {"show one resource with its conditions: describe KIND NAME", RunDescribe}},
      {"delete", {"delete resources: delete (-f FILE | KIND NAME)", RunDelete}},
      {"diff", {"show what apply would change: diff -f FILE", RunDiff}},
      {"explain", {"what a resource field means, offline: explain KIND[.FIELD...]", RunExplain}},
      {"validate", {"check files offline: validate -f FILE|DIR|-", RunValidate}},
      {"version", {"print the version", RunVersion}},
  };
  return commands;
}

void PrintUsage(std::ostream& out) {
  out << "swarmgate: declarative layer-7 ingress for Docker Swarm\n\n"
         "Usage: swarmgate COMMAND [ARGS] [--docker-host URL]\n\nCommands:\n";
  for (const auto& [name, cmd] : Registry()) {
    out << "  " << name << std::string(name.size() < 10 ? 10 - name.size() : 1, ' ') << cmd.summary
        << "\n";
  }
  out << "\nRun 'swarmgate COMMAND --help' for a command's flags.\n"
         "Exit codes: 0 ok, 1 invalid input or rejected, 2 usage, 3 Docker unreachable.\n";
}

}  // namespace

void RegisterCommand(const std::string& name, const std::string& summary, CommandFn fn) {
  Registry()[name] = Command{summary, fn};
}

int RunCli(const std::vector<std::string>& raw_argv, std::istream& in, std::ostream& out,
           std::ostream& err) {
  // Global flags may come before the command (`swarmgate --docker-host X get
  // route`); move them after it, where every command parses them.
  std::vector<std::string> argv, globals;
  size_t i = 0;
  if (!raw_argv.empty()) argv.push_back(raw_argv[i++]);
  for (; i < raw_argv.size(); ++i) {
    const std::string& a = raw_argv[i];
    if ((a == "--docker-host" || a == "--log-level") && i + 1 < raw_argv.size()) {
      globals.push_back(a);
      globals.push_back(raw_argv[++i]);
    } else if (a.rfind("--docker-host=", 0) == 0 || a.rfind("--log-level=", 0) == 0) {
      globals.push_back(a);
    } else {
      break;
    }
  }
  for (; i < raw_argv.size(); ++i) argv.push_back(raw_argv[i]);
  argv.insert(argv.end(), globals.begin(), globals.end());
  if (argv.size() < 2) {
    PrintUsage(err);
    return kExitUsage;
  }
  const std::string& name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    PrintUsage(out);
    return kExitOk;
  }
  if (name == "--version") {
    CliContext ctx{in, out, err};
    return RunVersion({}, ctx);
  }
  auto it = Registry().find(name);
  if (it == Registry().end()) {
    err << "error: unknown command \"" << name << "\"\n\n";
    PrintUsage(err);
    return kExitUsage;
  }
  CliContext ctx{in, out, err};
  std::vector<std::string> args(argv.begin() + 2, argv.end());
  // Log level is a global flag; commands parse it, but logging must be quiet
  // (warnings only) before that so CLI output stays clean.
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--log-level") ctx.log_level = args[i + 1];
  }
  for (const auto& a : args) {
    if (a.rfind("--log-level=", 0) == 0) ctx.log_level = a.substr(12);
  }
  spdlog::set_level(spdlog::level::from_str(ctx.log_level));
  try {
    return it->second.fn(args, ctx);
  } catch (const std::exception& e) {
    // Never a stack trace: report and fail.
    err << "error: " << e.what() << "\n";
    return kExitInvalid;
  }
}

}  // namespace sg::cli
