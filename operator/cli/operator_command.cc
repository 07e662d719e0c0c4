// `swarmgate operator`: flags -> OperatorOptions.
#include <cstdlib>

#include <spdlog/spdlog.h>

#include "crds/grammar.h"
#include "operator/app/operator_app.h"
#include "operator/cli/cli.h"
#include "operator/cli/commands.h"
#include "operator/cli/exit_codes.h"
#include "operator/common/token_file.h"
#include "operator/http/bearer_auth.h"

namespace po = boost::program_options;

namespace sg::cli {
namespace {

// The status token file's variable, for a stack file that adds the secret
// without repeating the service's command (compose files replace a command
// when merged, but merge environments).
constexpr const char* kStatusTokenFileEnv = "SWARMGATE_STATUS_TOKEN_FILE";

// The status token, read once at start: a bad file stops the operator here,
// before it serves anything, rather than leaving the status API open or shut
// to everyone.
Result<http::BearerAuth> ReadStatusAuth(const std::string& path) {
  auto token = ReadTokenFile(path);
  if (!token.ok()) return token.error();
  auto auth = http::BearerAuth::ForToken(*token);
  if (!auth.ok()) return InvalidArgument("token file " + path + ": " + auth.error().message);
  return auth;
}

int RunOperatorCommand(const Args& args, CliContext& ctx) {
  app::OperatorOptions options;
  std::string resync = "30s";
  std::string lease_duration = "3s", renew_deadline = "2s", retry_period = "500ms";
  std::string status_token_file;
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
      "workers", po::value<int>(&options.workers), "workers per controller (default 2)")(
      "lease-name", po::value<std::string>(&options.lease_name),
      "Docker config holding the leader lease (default swarmgate-leader)")(
      "identity", po::value<std::string>(&options.identity),
      "this replica's name in the lease (default: host name and a random suffix)")(
      "advertise-url", po::value<std::string>(&options.advertise_url),
      "URL agents use to reach this replica while it leads (default: its task's address on "
      "the control network)")("lease-duration", po::value<std::string>(&lease_duration),
                              "a follower takes a lease not renewed for this long (default 3s)")(
      "renew-deadline", po::value<std::string>(&renew_deadline),
      "the leader steps down when it could not renew for this long (default 2s)")(
      "retry-period", po::value<std::string>(&retry_period),
      "between two attempts to acquire or renew the lease (default 500ms)")(
      "status-token-file", po::value<std::string>(&status_token_file),
      "file holding the token GET /v1/status requires as `Authorization: Bearer TOKEN` "
      "(e.g. a Docker secret under /run/secrets; env SWARMGATE_STATUS_TOKEN_FILE); default: "
      "no token, the status API is open");
  AddGlobalOptions(desc, ctx);
  auto parsed =
      ParseArgs(args, desc, nullptr,
                "swarmgate operator [--docker-host URL] [--listen ADDR] [--log-level L]", ctx);
  if (parsed.help) return kExitOk;
  if (!parsed.ok) return kExitUsage;
  struct NamedDuration {
    const char* flag;
    const std::string* text;
    std::chrono::milliseconds* out;
  };
  for (const NamedDuration& d :
       {NamedDuration{"--resync", &resync, &options.resync},
        NamedDuration{"--lease-duration", &lease_duration, &options.lease_duration},
        NamedDuration{"--renew-deadline", &renew_deadline, &options.renew_deadline},
        NamedDuration{"--retry-period", &retry_period, &options.retry_period}}) {
    auto parsed_duration = crds::ParseDuration(*d.text);
    if (!parsed_duration) {
      ctx.err << "error: " << d.flag << ": expected a duration like 2s or 500ms, got \"" << *d.text
              << "\"\n";
      return kExitUsage;
    }
    *d.out = *parsed_duration;
  }
  // The flag, else the variable (an empty one is no file).
  std::string token_source;
  if (parsed.vm.count("status-token-file") != 0) {
    token_source = "--status-token-file";
  } else if (const char* env = std::getenv(kStatusTokenFileEnv); env != nullptr && *env != '\0') {
    token_source = kStatusTokenFileEnv;
    status_token_file = env;
  }
  if (!token_source.empty()) {
    auto auth = ReadStatusAuth(status_token_file);
    if (!auth.ok()) {
      ctx.err << "error: " << token_source << ": " << auth.error().message << "\n";
      return kExitInvalid;
    }
    options.status_auth = std::move(*auth);
  }
  if (ctx.log_level == "warn") spdlog::set_level(spdlog::level::info);
  options.docker_host = ctx.docker_host;
  return app::RunOperator(options);
}

}  // namespace

void RegisterOperatorCommand() {
  RegisterCommand("operator", "run the reconcile loop: operator [--listen :9090]",
                  RunOperatorCommand);
}

}  // namespace sg::cli
