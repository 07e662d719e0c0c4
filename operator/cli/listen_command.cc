// `swarmgate listen`: flag parsing and signals around the listener holder of
// operator/agent/listener_holder.h (the process of a cluster's listener
// service in host publish mode).

#include <spdlog/spdlog.h>

#include "operator/agent/listener_holder.h"
#include "operator/cli/cli.h"
#include "operator/cli/cli_context.h"
#include "operator/cli/exit_codes.h"
#include "operator/cli/shutdown_signals.h"
#include "operator/runtime/logging.h"

namespace po = boost::program_options;

namespace sg::cli {
namespace {

constexpr const char* kUsage = "swarmgate listen --socket PATH --port N [--port N...]";

int RunListen(const std::vector<std::string>& args, CliContext& ctx) {
  agent::ListenerHolderOptions options;
  po::options_description desc("listen flags");
  desc.add_options()("socket", po::value(&options.socket_path),
                     "unix socket the node's proxies attach to")(
      "port", po::value(&options.ports)->composing(), "TCP port to hold (repeat for each)")(
      "address", po::value(&options.bind_address), "IPv4 address to bind (default 0.0.0.0)")(
      "backlog", po::value(&options.backlog), "listen backlog (default 4096)");
  AddGlobalOptions(desc, ctx);
  ParsedArgs parsed = ParseArgs(args, desc, nullptr, kUsage, ctx);
  if (parsed.help) return kExitOk;
  if (!parsed.ok) return kExitUsage;
  if (parsed.vm.count("log-level") == 0) spdlog::set_level(spdlog::level::info);
  if (options.socket_path.empty() || options.ports.empty()) {
    ctx.err << "error: --socket and at least one --port are required\nUsage: " << kUsage << "\n";
    return kExitUsage;
  }
  for (int p : options.ports) {
    if (p < 1 || p > 65535) {
      ctx.err << "error: --port: expected 1-65535, got " << p << "\n";
      return kExitUsage;
    }
  }

  agent::ListenerHolder holder(options);
  if (auto st = holder.Open(); !st.ok()) {
    ctx.err << "error: " << st.error().message << "\n";
    return kExitInvalid;
  }
  // On a signal the holder stops: it closes its copies of the sockets and
  // the command exits.
  Status st;
  {
    ShutdownSignals signals([&](const char* signal_name) {
      runtime::NamedLogger("listener")->info("stopping signal={}", signal_name);
      holder.Stop();
    });
    st = holder.Run();
  }
  if (!st.ok()) {
    ctx.err << "error: " << st.error().message << "\n";
    return kExitInvalid;
  }
  return kExitOk;
}

}  // namespace

void RegisterListenCommand() {
  RegisterCommand("listen", "hold a cluster's host ports on this node and hand them to its proxies",
                  RunListen);
}

}  // namespace sg::cli
