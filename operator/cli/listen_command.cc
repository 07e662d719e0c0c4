// `swarmgate listen`: flag parsing and signals around the listener holder of
// operator/agent/listener_holder.h (the process of a cluster's listener
// service in host publish mode).

#include <spdlog/spdlog.h>

#include "crds/grammar.h"
#include "operator/agent/listener_holder.h"
#include "operator/cli/cli.h"
#include "operator/cli/cli_context.h"
#include "operator/cli/exit_codes.h"
#include "operator/cli/shutdown_signals.h"
#include "operator/runtime/logging.h"

namespace po = boost::program_options;

namespace sg::cli {
namespace {

constexpr const char* kUsage =
    "swarmgate listen --socket PATH --port N [--port N...] [--linger 8s] [--detach-grace 10s]";

int RunListen(const std::vector<std::string>& args, CliContext& ctx) {
  agent::ListenerHolderOptions options;
  // The listener service's stop grace period (15 s,
  // reconcilers/proxy_service_spec.h) must exceed the default linger.
  std::string linger = "8s";
  std::string detach_grace = "10s";
  po::options_description desc("listen flags");
  desc.add_options()("socket", po::value(&options.socket_path),
                     "unix socket the node's proxies attach to")(
      "port", po::value(&options.ports)->composing(), "TCP port to hold (repeat for each)")(
      "address", po::value(&options.bind_address), "IPv4 address to bind (default 0.0.0.0)")(
      "backlog", po::value(&options.backlog), "listen backlog (default 4096)")(
      "linger", po::value(&linger),
      "on SIGTERM, serve until a successor took the sockets over, at most this long; keep it "
      "below the task's stop grace period (default 8s)")(
      "detach-grace", po::value(&detach_grace),
      "keep the ports open this long after the last proxy detached (default 10s)");
  AddGlobalOptions(desc, ctx);
  ParsedArgs parsed = ParseArgs(args, desc, nullptr, kUsage, ctx);
  if (parsed.help) return kExitOk;
  if (!parsed.ok) return kExitUsage;
  if (parsed.vm.count("log-level") == 0) spdlog::set_level(spdlog::level::info);
  if (options.socket_path.empty() || options.ports.empty()) {
    ctx.err << "error: --socket and at least one --port are required\nUsage: " << kUsage << "\n";
    return kExitUsage;
  }
  const auto linger_ms = crds::ParseDuration(linger);
  const auto grace_ms = crds::ParseDuration(detach_grace);
  if (!linger_ms || !grace_ms) {
    ctx.err << "error: --linger/--detach-grace: expected a duration such as 8s, got \""
            << (linger_ms ? detach_grace : linger) << "\"\n";
    return kExitUsage;
  }
  options.linger = *linger_ms;
  options.detach_grace = *grace_ms;
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
  // On a signal the holder stops once a successor took over (or the linger
  // passed): it closes its copies of the sockets and the command exits. A
  // port it cannot bind ends it with an error, so that the task fails
  // visibly and Swarm restarts it.
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
