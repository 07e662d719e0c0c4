#pragma once
// What every subcommand shares: streams, global flags and the Docker
// connection (opened lazily, only by commands that need a cluster).

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "crds/kind.h"
#include "operator/common/result.h"
#include "operator/docker/docker_client.h"

namespace sg::cli {

struct CliContext {
  CliContext(std::istream& i, std::ostream& o, std::ostream& e) : in(i), out(o), err(e) {}

  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  std::string docker_host;  // --docker-host; empty = DOCKER_HOST or the default socket
  std::string log_level = "warn";

  // Connects (once) and checks the API version. On failure prints a one-line
  // error naming the endpoint and returns nullptr; the caller exits with
  // ExitCodeFor(last_error).
  docker::DockerClient* Docker();
  Error last_error;

 private:
  std::unique_ptr<docker::DockerClient> docker_;
};

// Adds --docker-host, --log-level and --help to a subcommand's options.
void AddGlobalOptions(boost::program_options::options_description& desc, CliContext& ctx);

// Parses args (without the subcommand) into vm. Returns false after printing
// the usage error; `help` is set when --help was given (usage printed to out).
struct ParsedArgs {
  boost::program_options::variables_map vm;
  bool ok = false;
  bool help = false;
};
ParsedArgs ParseArgs(const std::vector<std::string>& args,
                     const boost::program_options::options_description& desc,
                     const boost::program_options::positional_options_description* positional,
                     const std::string& usage, CliContext& ctx);

// The KIND [NAME] positionals of get/describe/delete: kind parsed, count
// checked (min..max). Prints the usage error and returns nullopt when wrong.
std::optional<crds::Kind> ParseKindArgs(const std::vector<std::string>& positional, size_t min,
                                        size_t max, const std::string& usage, CliContext& ctx);

// Unavailable -> 3, everything else -> 1.
int ExitCodeFor(const Error& error);

}  // namespace sg::cli
