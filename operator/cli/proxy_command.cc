// `swarmgate proxy`: flag parsing and process plumbing (signals) around the
// proxy agent of operator/agent/. The agent itself knows nothing of the CLI.

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <thread>

#include <spdlog/spdlog.h>

#include "crds/grammar.h"
#include "operator/agent/config_source.h"
#include "operator/agent/haproxy_process.h"
#include "operator/agent/listener_link.h"
#include "operator/agent/nginx_process.h"
#include "operator/agent/proxy_agent.h"
#include "operator/agent/proxy_command.h"
#include "operator/agent/proxy_presence.h"
#include "operator/cli/cli.h"
#include "operator/cli/cli_context.h"
#include "operator/cli/exit_codes.h"
#include "operator/cli/shutdown_signals.h"
#include "operator/common/token_file.h"
#include "operator/runtime/logging.h"

namespace po = boost::program_options;

namespace sg::cli {
namespace {

constexpr const char* kUsage =
    "swarmgate proxy (--operator-url URL --cluster NAME | --config-file FILE) [flags]";

std::string Env(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

std::string Hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "proxy";
  return buf;
}

int RunProxy(const std::vector<std::string>& args, CliContext& ctx) {
  std::string operator_url = Env("SG_OPERATOR_URL", "");
  std::string cluster = Env("SG_CLUSTER", "");
  std::string token_file = Env("SG_TOKEN_FILE", "/run/secrets/sg-token");
  std::string proxy_id = Env("SG_PROXY_ID", Hostname());
  std::string engine = Env("SG_ENGINE", "nginx");
  std::string nginx = "/usr/sbin/nginx";
  std::string haproxy = "/usr/sbin/haproxy";
  int http_port = std::atoi(Env("SG_HTTP_PORT", "80").c_str());
  int https_port = std::atoi(Env("SG_HTTPS_PORT", "443").c_str());
  std::string prefix = "/var/lib/swarmgate";
  std::string poll_timeout = "30s";
  std::string drain_timeout = "25s";
  std::string consolidate_after = "10s";
  std::string config_file;
  std::string listener_socket = Env("SG_LISTENER_SOCKET", "");
  std::string listener_wait = "60s";
  std::string listener_reattach = "15s";
  std::string stop_linger = Env("SG_STOP_LINGER", "8s");

  po::options_description desc("proxy flags");
  desc.add_options()("operator-url", po::value(&operator_url),
                     "operator endpoint, http://HOST:PORT (env SG_OPERATOR_URL)")(
      "cluster", po::value(&cluster), "ServiceCluster this proxy serves (env SG_CLUSTER)")(
      "token-file", po::value(&token_file),
      "file holding the cluster's agent token (env SG_TOKEN_FILE; default /run/secrets/sg-token)")(
      "proxy-id", po::value(&proxy_id),
      "id reported to the operator, the task's (env SG_PROXY_ID; default the hostname)")(
      "engine", po::value(&engine), "nginx or haproxy (env SG_ENGINE; default nginx)")(
      "nginx", po::value(&nginx), "nginx binary (default /usr/sbin/nginx)")(
      "haproxy", po::value(&haproxy), "haproxy binary (default /usr/sbin/haproxy)")(
      "http-port", po::value(&http_port),
      "the cluster's HTTP port, for HAProxy's bind address (env SG_HTTP_PORT; default 80)")(
      "https-port", po::value(&https_port),
      "the cluster's HTTPS port, for HAProxy's bind address (env SG_HTTPS_PORT; default 443)")(
      "prefix", po::value(&prefix),
      "the engine's directory; the config is written to PREFIX/nginx.conf or PREFIX/haproxy.cfg "
      "(default /var/lib/swarmgate)")("poll-timeout", po::value(&poll_timeout),
                                      "long-poll window, 1s to 60s (default 30s)")(
      "drain-timeout", po::value(&drain_timeout),
      "how long nginx may finish in-flight requests on shutdown (default 25s)")(
      "consolidate-after", po::value(&consolidate_after),
      "HAProxy: reload once no change came for this long after routes were added or removed at "
      "run time, giving them their own backends (default 10s)")(
      "config-file", po::value(&config_file),
      "serve this file instead of asking the operator (rolling delivery)")(
      "listener-socket", po::value(&listener_socket),
      "take the listening sockets from the node's `swarmgate listen` at this unix socket (env "
      "SG_LISTENER_SOCKET)")("listener-wait", po::value(&listener_wait),
                             "how long to wait for that holder at start (default 60s)")(
      "listener-reattach", po::value(&listener_reattach),
      "when that holder goes away, how long to try attaching to the one replacing it before "
      "exiting (default 15s)")(
      "stop-linger", po::value(&stop_linger),
      "with a listener: on shutdown, how long to keep serving until another proxy on the node "
      "serves, before draining; keep it below the stop grace period (env SG_STOP_LINGER; "
      "default 8s)");
  AddGlobalOptions(desc, ctx);
  ParsedArgs parsed = ParseArgs(args, desc, nullptr, kUsage, ctx);
  if (parsed.help) return kExitOk;
  if (!parsed.ok) return kExitUsage;
  // A long-running agent logs its progress unless told otherwise.
  if (parsed.vm.count("log-level") == 0) spdlog::set_level(spdlog::level::info);

  auto usage_error = [&](const std::string& msg) {
    ctx.err << "error: " << msg << "\nUsage: " << kUsage << "\n(see --help)\n";
    return kExitUsage;
  };
  if (engine != "nginx" && engine != "haproxy") {
    return usage_error("--engine: expected nginx or haproxy, got \"" + engine + "\"");
  }
  for (int port : {http_port, https_port}) {
    if (port < 1 || port > 65535) {
      return usage_error("--http-port/--https-port: expected a port from 1 to 65535, got " +
                         std::to_string(port));
    }
  }
  const auto poll = crds::ParseDuration(poll_timeout);
  if (!poll || *poll < std::chrono::seconds(1) || *poll > std::chrono::seconds(60)) {
    return usage_error("--poll-timeout: expected a duration from 1s to 60s, got \"" + poll_timeout +
                       "\"");
  }
  const auto drain = crds::ParseDuration(drain_timeout);
  if (!drain) {
    return usage_error("--drain-timeout: expected a duration such as 25s, got \"" + drain_timeout +
                       "\"");
  }

  const auto linger = crds::ParseDuration(stop_linger);
  if (!linger) {
    return usage_error("--stop-linger: expected a duration such as 6s, got \"" + stop_linger +
                       "\"");
  }

  const auto consolidate = crds::ParseDuration(consolidate_after);
  if (!consolidate || *consolidate < std::chrono::seconds(1)) {
    return usage_error("--consolidate-after: expected a duration of at least 1s, got \"" +
                       consolidate_after + "\"");
  }

  agent::ProxyAgentOptions options;
  std::error_code ec;
  options.prefix = std::filesystem::absolute(prefix, ec).lexically_normal().string();
  while (options.prefix.size() > 1 && options.prefix.back() == '/') options.prefix.pop_back();
  options.poll_timeout = std::chrono::duration_cast<std::chrono::seconds>(*poll);
  options.drain_timeout = *drain;
  options.consolidate_after = std::chrono::duration_cast<std::chrono::milliseconds>(*consolidate);

  runtime::RealClock clock;
  std::unique_ptr<agent::ConfigSource> source;
  if (!config_file.empty()) {
    source = std::make_unique<agent::StaticFileSource>(config_file, clock);
  } else {
    if (operator_url.empty()) return usage_error("--operator-url (or SG_OPERATOR_URL) is required");
    if (cluster.empty()) return usage_error("--cluster (or SG_CLUSTER) is required");
    auto endpoint = agent::ParseHttpUrl(operator_url);
    if (!endpoint.ok()) return usage_error(endpoint.error().message);
    auto token = ReadTokenFile(token_file);
    if (!token.ok()) {
      ctx.err << "error: " << token.error().message << "\n";
      return kExitInvalid;
    }
    source = std::make_unique<agent::HttpConfigSource>(*endpoint, cluster, proxy_id, *token);
  }
  agent::ExecNginxProcess nginx_process(nginx, options.prefix);
  agent::ExecHaproxyProcess haproxy_process(haproxy, options.prefix, {http_port, https_port});
  agent::EngineProcess& process =
      engine == "haproxy" ? static_cast<agent::EngineProcess&>(haproxy_process) : nginx_process;
  // Host publish mode: nginx serves the node's ports through sockets held by
  // the cluster's listener service, shared with the task this one replaces.
  std::unique_ptr<agent::ListenerLink> link;
  const auto reattach_wait = crds::ParseDuration(listener_reattach);
  if (!reattach_wait) {
    return usage_error("--listener-reattach: expected a duration such as 15s, got \"" +
                       listener_reattach + "\"");
  }
  if (!listener_socket.empty()) {
    const auto wait = crds::ParseDuration(listener_wait);
    if (!wait) {
      return usage_error("--listener-wait: expected a duration such as 120s, got \"" +
                         listener_wait + "\"");
    }
    auto attached = agent::ListenerLink::Attach(listener_socket, *wait);
    if (!attached.ok()) {
      ctx.err << "error: " << attached.error().message << "\n";
      return kExitUnreachable;
    }
    link = std::move(*attached);
    std::string ports;
    for (const auto& l : link->listeners())
      ports += (ports.empty() ? "" : ",") + std::to_string(l.port);
    runtime::NamedLogger("agent")->info("listening sockets received ports={} socket={}", ports,
                                        listener_socket);
    nginx_process.SetInheritedSockets(link->Fds());
    std::vector<std::pair<int, int>> fd_and_port;
    for (size_t i = 0; i < link->Fds().size() && i < link->listeners().size(); ++i) {
      fd_and_port.emplace_back(link->Fds()[i], link->listeners()[i].port);
    }
    haproxy_process.SetInheritedSockets(std::move(fd_and_port));
  }
  agent::ProxyAgent proxy_agent(*source, process, clock, options);
  // With a listener, the proxies of the node tell one another that they
  // serve (proxy_presence.h): a stopping one lingers for a successor.
  std::unique_ptr<agent::ProxyPresence> presence;
  if (link) {
    presence = std::make_unique<agent::ProxyPresence>(
        std::filesystem::path(listener_socket).parent_path().string(), proxy_id);
  }
  const auto linger_ms = std::chrono::duration_cast<std::chrono::milliseconds>(*linger);
  constexpr std::chrono::milliseconds kPresenceFresh{3000};

  // Blocked from here on, before any other thread starts (nginx children
  // reset the mask before exec).
  std::atomic<bool> done{false};  // ends the link watch and the presence beat
  ShutdownSignals signals([&](const char* signal_name) {
    const auto log = runtime::NamedLogger("agent");
    log->info("shutdown requested signal={} drain_timeout_ms={}", signal_name,
              options.drain_timeout.count());
    if (presence) {
      presence->Withdraw();
      if (linger_ms.count() > 0 && presence->OthersServing(kPresenceFresh) == 0) {
        log->info("serving until another proxy on this node does linger_ms={}", linger_ms.count());
        const bool other = presence->AwaitOther(linger_ms, kPresenceFresh, &done);
        log->info("stopping: {}", other ? "another proxy on this node serves"
                                        : "no other proxy on this node serves yet");
      }
    }
    proxy_agent.Shutdown();
  });
  // Announces this proxy once its engine serves, and keeps the announcement
  // fresh, until the shutdown withdraws it.
  std::thread presence_beat;
  if (presence) {
    presence_beat = std::thread([&] {
      bool announced = false;
      auto last = std::chrono::steady_clock::now();
      while (!done.load()) {
        const auto now = std::chrono::steady_clock::now();
        if (proxy_agent.ServedGeneration() > 0 &&
            (!announced || now - last >= std::chrono::seconds(1))) {
          Status st = presence->Announce();
          if (!announced && !st.ok()) {
            runtime::NamedLogger("agent")->warn("cannot announce this proxy error=\"{}\"",
                                                st.error().message);
          }
          announced = true;
          last = now;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
  }
  // The holder went away: replaced (its task was, or the listener service
  // was updated) or dead. The sockets are the node's, still open here, so
  // nginx keeps serving; the proxy re-attaches to the holder now at the
  // path when it holds the same sockets (it took them over from the old
  // holder, or from this proxy's offer). When it holds others (the ports
  // changed), or none answers in time, exiting lets Swarm restart the task,
  // which attaches afresh.
  std::atomic<bool> lost{false};
  std::thread link_watch;
  if (link) {
    link_watch = std::thread([&] {
      const auto log = runtime::NamedLogger("agent");
      while (!done.load()) {
        if (!link->WaitLost(std::chrono::milliseconds(200))) continue;
        log->warn("listener holder went away, re-attaching socket={} wait_ms={}", listener_socket,
                  reattach_wait->count());
        Status st = link->Reattach(*reattach_wait, &done);
        if (done.load()) return;
        if (st.ok()) {
          log->info("re-attached to the listener holder socket={}", listener_socket);
          continue;
        }
        log->error(
            "cannot re-attach to the listener holder, exiting so the task restarts and attaches "
            "again error=\"{}\"",
            st.error().message);
        lost = true;
        proxy_agent.Shutdown();
        return;
      }
    });
  }
  const int rc = proxy_agent.Run();
  done = true;
  if (link_watch.joinable()) link_watch.join();
  if (presence_beat.joinable()) presence_beat.join();
  if (presence) presence->Withdraw();
  return lost ? kExitInvalid : rc;
}

}  // namespace

void RegisterProxyCommand() {
  RegisterCommand(
      "proxy", "run the in-proxy agent: supervise nginx or HAProxy and serve the operator's config",
      RunProxy);
}

}  // namespace sg::cli
