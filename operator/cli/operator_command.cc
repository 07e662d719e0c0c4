// `swarmgate operator`: flags -> OperatorOptions.
#include <spdlog/spdlog.h>

#include "crds/grammar.h"
#include "operator/app/operator_app.h"
#include "operator/cli/cli.h"
#include "operator/cli/commands.h"
#include "operator/cli/exit_codes.h"

namespace po = boost::program_options;

namespace sg::cli {
namespace {

int RunOperatorCommand(const Args& args, CliContext& ctx) {
  app::OperatorOptions options;
  std::string resync = "30s";
  po::options_description desc("operator: run the reconcile loop");
  desc.add_options()("listen", po::value<std::string>(&options.listen),
                     "HTTP address for /metrics, /healthz, /readyz, the status API and the "
                     "proxies' config endpoint (default :9090)")(
      "operator-url", po::value<std::string>(&options.operator_url),
      "URL proxy agents use to reach this operator over the control network (default "
      "http://swarmgate-operator:9090)")(
      "control-network", po::value<std::string>(&options.control_network),
      "overlay network shared by the operator and every proxy (default sg-control)")(
      "nginx", po::value<std::string>(&options.nginx_binary),
      "nginx binary used for `nginx -t` (default /usr/sbin/nginx)")(
      "haproxy", po::value<std::string>(&options.haproxy_binary),
      "haproxy binary used for `haproxy -c` (default /usr/sbin/haproxy)")(
      "stream-module", po::value<std::string>(&options.stream_module),
      "path of ngx_stream_module.so in the proxy image")("resync", po::value<std::string>(&resync),
                                                         "full resync period (default 30s)")(
      "workers", po::value<int>(&options.workers), "workers per controller (default 2)");
  AddGlobalOptions(desc, ctx);
  auto parsed =
      ParseArgs(args, desc, nullptr,
                "swarmgate operator [--docker-host URL] [--listen ADDR] [--log-level L]", ctx);
  if (parsed.help) return kExitOk;
  if (!parsed.ok) return kExitUsage;
  auto period = crds::ParseDuration(resync);
  if (!period) {
    ctx.err << "error: --resync: expected a duration like 30s, got \"" << resync << "\"\n";
    return kExitUsage;
  }
  if (ctx.log_level == "warn") spdlog::set_level(spdlog::level::info);
  options.resync = *period;
  options.docker_host = ctx.docker_host;
  return app::RunOperator(options);
}

}  // namespace

void RegisterOperatorCommand() {
  RegisterCommand("operator", "run the reconcile loop: operator [--listen :9090]",
                  RunOperatorCommand);
}

}  // namespace sg::cli
