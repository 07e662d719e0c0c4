#include "operator/cli/cli_context.h"

#include <iostream>

#include "operator/cli/exit_codes.h"
#include "operator/docker/engine_client.h"

namespace po = boost::program_options;

namespace sg::cli {

docker::DockerClient* CliContext::Docker() {
  if (docker_) return docker_.get();
  auto client = docker::EngineClient::ConnectFromFlag(docker_host);
  if (!client.ok()) {
    last_error = client.error();
    err << "error: " << client.error().message << "\n";
    return nullptr;
  }
  docker_ = std::move(client).value();
  return docker_.get();
}

void AddGlobalOptions(po::options_description& desc, CliContext& ctx) {
  desc.add_options()("help,h", "show this help")(
      "docker-host", po::value<std::string>(&ctx.docker_host),
      "Docker endpoint (unix://PATH, tcp://HOST:PORT); default $DOCKER_HOST, else "
      "unix:///var/run/docker.sock")("log-level", po::value<std::string>(&ctx.log_level),
                                     "trace|debug|info|warn|error (default warn)");
}

ParsedArgs ParseArgs(const std::vector<std::string>& args, const po::options_description& desc,
                     const po::positional_options_description* positional, const std::string& usage,
                     CliContext& ctx) {
  ParsedArgs parsed;
  try {
    po::command_line_parser parser(args);
    parser.options(desc);
    if (positional) {
      parser.positional(*positional);
    } else {
      parser.positional(po::positional_options_description());
    }
    po::store(parser.run(), parsed.vm);
    if (parsed.vm.count("help")) {
      ctx.out << "Usage: " << usage << "\n\n" << desc << "\n";
      parsed.help = true;
      return parsed;
    }
    po::notify(parsed.vm);
  } catch (const po::error& e) {
    ctx.err << "error: " << e.what() << "\nUsage: " << usage << "\n(see --help)\n";
    return parsed;
  }
  parsed.ok = true;
  return parsed;
}

std::optional<crds::Kind> ParseKindArgs(const std::vector<std::string>& positional, size_t min,
                                        size_t max, const std::string& usage, CliContext& ctx) {
  if (positional.size() < min || positional.size() > max) {
    ctx.err << "error: expected KIND "
            << (max == 1   ? ""
                : min == 2 ? "NAME"
                           : "[NAME]")
            << "\nUsage: " << usage << "\n";
    return std::nullopt;
  }
  auto kind = crds::ParseKind(positional[0]);
  if (!kind) {
    ctx.err << "error: unknown kind \"" << positional[0]
            << "\": expected servicecluster or route\n";
  }
  return kind;
}

int ExitCodeFor(const Error& error) {
  return error.Is(ErrorCode::kUnavailable) ? kExitUnreachable : kExitInvalid;
}

}  // namespace sg::cli
