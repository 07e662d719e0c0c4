// `swarmgate import interlock [-f STACK_FILE] [--stack NAME]`: prints the
// ServiceCluster and Route resources equivalent to the Interlock labels
// (`com.docker.lb.*`) of the Swarm's services, or of a compose/stack file.
// The conversion is operator/interlock/converter.h; this file only gathers
// the services.
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "crds/grammar.h"
#include "operator/cli/cli.h"
#include "operator/cli/exit_codes.h"
#include "operator/interlock/converter.h"
#include "operator/interlock/stack_file.h"

namespace po = boost::program_options;

namespace sg::cli {
namespace {

using interlock::ServiceInput;

Result<std::vector<ServiceInput>> ReadStackFile(const std::string& path, const std::string& stack,
                                                std::istream& in) {
  std::ostringstream buf;
  if (path == "-") {
    buf << in.rdbuf();
  } else {
    std::ifstream file(path, std::ios::binary);
    if (!file) return NotFound("cannot read " + path);
    buf << file.rdbuf();
  }
  auto services = interlock::ParseStackFile(buf.str(), stack);
  if (!services.ok()) return InvalidArgument(path + ": " + services.error().message);
  return services;
}

int RunImport(const std::vector<std::string>& args, CliContext& ctx) {
  std::string source, file, stack, default_cluster = "default";
  po::options_description desc("import: translate another ingress's configuration");
  desc.add_options()("source", po::value<std::string>(&source), "interlock")(
      "filename,f", po::value<std::string>(&file),
      "compose/stack file (or -) instead of the live Swarm's services")(
      "stack", po::value<std::string>(&stack),
      "with -f: the stack name it is deployed as (service names become STACK_service)")(
      "default-cluster", po::value<std::string>(&default_cluster),
      "ServiceCluster of services without com.docker.lb.service_cluster (default: default)");
  AddGlobalOptions(desc, ctx);
  po::positional_options_description positional;
  positional.add("source", 1);
  const char* usage =
      "swarmgate import interlock [-f STACK_FILE [--stack NAME]] [--default-cluster NAME]";
  auto parsed = ParseArgs(args, desc, &positional, usage, ctx);
  if (parsed.help) return kExitOk;
  if (!parsed.ok) return kExitUsage;
  if (source != "interlock") {
    ctx.err << "error: import needs a source; the only one is `interlock`\nUsage: " << usage
            << "\n";
    return kExitUsage;
  }
  if (std::string e = crds::CheckResourceName(default_cluster); !e.empty()) {
    ctx.err << "error: --default-cluster: expected " << e << ", got \"" << default_cluster
            << "\"\n";
    return kExitUsage;
  }
  if (!stack.empty() && file.empty()) {
    ctx.err << "error: --stack needs -f\nUsage: " << usage << "\n";
    return kExitUsage;
  }

  std::vector<ServiceInput> services;
  interlock::ConvertOptions options;
  options.default_cluster = default_cluster;
  if (!file.empty()) {
    auto read = ReadStackFile(file, stack, ctx.in);
    if (!read.ok()) {
      ctx.err << "error: " << read.error().message << "\n";
      return kExitInvalid;
    }
    services = std::move(*read);
    options.source = file == "-" ? std::string("the stack file on stdin") : "stack file " + file;
  } else {
    docker::DockerClient* docker = ctx.Docker();
    if (!docker) return ExitCodeFor(ctx.last_error);
    auto listed = docker->ListServices({});
    if (!listed.ok()) {
      ctx.err << "error: listing services: " << listed.error().message << "\n";
      return ExitCodeFor(listed.error());
    }
    // The services' networks let the import keep a cluster on a network its
    // services are on already; without them it still works, asking for more
    // `docker service update --network-add`.
    std::map<std::string, std::string> network_names;
    auto networks = docker->ListNetworks({});
    if (networks.ok()) {
      for (const auto& n : *networks) network_names[n.id] = n.name;
    } else {
      ctx.err << "note: listing networks: " << networks.error().message
              << "; the services' networks are unknown\n";
    }
    for (const auto& s : *listed) {
      ServiceInput in;
      in.name = s.name;
      in.labels = s.labels;  // Spec.Labels
      if (!s.global) in.replicas = s.replicas;
      if (networks.ok()) in.networks = interlock::NetworkNames(s.network_targets, network_names);
      services.push_back(std::move(in));
    }
    options.source = "the Swarm's services";
  }

  auto result = interlock::Convert(services, options);
  ctx.out << result.yaml;
  for (const auto& w : result.warnings) ctx.err << "note: " << w << "\n";
  ctx.err << "imported " << result.services_imported << " of " << result.services_seen
          << " services with Interlock labels into " << result.clusters << " ServiceCluster(s) and "
          << result.routes << " Route(s)\n";
  return kExitOk;
}

}  // namespace

void RegisterImportCommand() {
  RegisterCommand("import",
                  "translate Interlock labels into resources: import interlock [-f STACK_FILE]",
                  RunImport);
}

}  // namespace sg::cli
