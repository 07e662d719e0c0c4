// The agent end to end with the real nginx: a ConfigHub on a loopback
// HttpServer, the agent in a thread, nginx listening on a free loopback port.

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "operator/agent/config_source.h"
#include "operator/agent/http_client.h"
#include "operator/agent/nginx_process.h"
#include "operator/agent/proxy_agent.h"
#include "operator/delivery/config_hub.h"
#include "operator/metrics/swarmgate_metrics.h"

namespace sg::agent {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr const char* kNginx = "/usr/sbin/nginx";
constexpr auto kDeadline = 20s;

template <class Pred>
bool Eventually(Pred pred) {
  const auto end = std::chrono::steady_clock::now() + kDeadline;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

std::uint16_t FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

std::string Config(std::uint16_t port, const std::string& body) {
  return "worker_processes 1;\n"
         "pid nginx.pid;\n"
         "error_log stderr;\n"
         "daemon off;\n"
         "events { worker_connections 64; }\n"
         "http {\n"
         "  access_log off;\n"
         "  server {\n"
         "    listen 127.0.0.1:" +
         std::to_string(port) +
         ";\n"
         "    location / { return 200 \"" +
         body +
         "\"; }\n"
         "  }\n"
         "}\n";
}

// The body nginx answers on `port`, or "" if it does not answer.
std::string Fetch(std::uint16_t port) {
  HttpClient client(HttpEndpoint{"127.0.0.1", port, ""});
  auto r = client.Do(HttpCall{}, 2000ms);
  return r.ok() && r->status == 200 ? r->body : "";
}

pid_t PidFromFile(const std::string& path) {
  std::ifstream f(path);
  pid_t pid = 0;
  f >> pid;
  return pid;
}

TEST(ProxyAgentNginxTest, DeliversReloadsRejectsAndDrains) {
  if (access(kNginx, X_OK) != 0) GTEST_SKIP() << kNginx << " not installed";

  std::string templ = (fs::temp_directory_path() / "sg-agent-nginx-XXXXXX").string();
  ASSERT_NE(mkdtemp(templ.data()), nullptr);
  const std::string dir = templ;
  const std::string prefix = dir + "/prefix";

  runtime::RealClock clock;
  metrics::Registry registry;
  metrics::SwarmgateMetrics metrics(registry);
  delivery::ConfigHub hub(clock, metrics);
  http::ServerOptions server_options;
  server_options.listen = "127.0.0.1:0";
  http::HttpServer server(server_options);
  hub.RegisterRoutes(server);
  ASSERT_TRUE(server.Start().ok());
  hub.SetToken("web", delivery::Sha256Hex("secret-token"));
  hub.SetExpectedProxies("web", {"proxy-1"});

  HttpConfigSource source(HttpEndpoint{"127.0.0.1", server.port(), ""}, "web", "proxy-1",
                          "secret-token");
  ExecNginxProcess nginx(kNginx, prefix);
  ProxyAgentOptions options;
  options.prefix = prefix;
  options.poll_timeout = 5s;
  options.drain_timeout = 5s;
  options.fetch_backoff = {50ms, 200ms, 2.0, 0.0};
  ProxyAgent agent(source, nginx, clock, options);
  int exit_code = -1;
  std::thread agent_thread([&] { exit_code = agent.Run(); });

  const std::uint16_t port = FreePort();
  const std::string pid_file = prefix + "/nginx.pid";

  // Generation 1: nginx starts only now and serves it.
  hub.Publish("web", Config(port, "gen1"), "route", clock.Now());
  EXPECT_TRUE(Eventually([&] { return Fetch(port) == "gen1"; }));
  EXPECT_TRUE(Eventually([&] { return hub.ServedGeneration("web") == 1; }));
  const pid_t master = PidFromFile(pid_file);
  ASSERT_GT(master, 0);
  EXPECT_EQ(master, nginx.Pid());
  EXPECT_EQ(metrics.convergence_seconds.WithLabels({"web", "route"}).Snap().count, 1u);

  // Generation 2: a graceful reload, same master.
  hub.Publish("web", Config(port, "gen2"), "service", clock.Now());
  EXPECT_TRUE(Eventually([&] { return Fetch(port) == "gen2"; }));
  EXPECT_TRUE(Eventually([&] { return hub.ServedGeneration("web") == 2; }));
  EXPECT_EQ(PidFromFile(pid_file), master);

  // Generation 3 does not pass nginx -t: reported, and gen2 keeps serving.
  hub.Publish("web", Config(port, "gen3") + "bogus_directive on;\n", "route", clock.Now());
  EXPECT_TRUE(Eventually([&] {
    auto states = hub.ProxyStates("web");
    return states.size() == 1 && states[0].failed_generation == 3;
  }));
  const auto states = hub.ProxyStates("web");
  ASSERT_EQ(states.size(), 1u);
  EXPECT_FALSE(states[0].last_ok);
  EXPECT_NE(states[0].last_error.find("bogus_directive"), std::string::npos)
      << states[0].last_error;
  EXPECT_EQ(states[0].generation, 2);
  EXPECT_EQ(metrics.proxy_reloads_total.WithLabels({"web", "failure"}).Value(), 1);
  EXPECT_EQ(metrics.proxy_reloads_total.WithLabels({"web", "success"}).Value(), 2);
  EXPECT_EQ(Fetch(port), "gen2");
  EXPECT_EQ(PidFromFile(pid_file), master);

  // Stop: nginx drains and is gone.
  agent.Shutdown();
  agent_thread.join();
  EXPECT_EQ(exit_code, 0);
  EXPECT_EQ(kill(master, 0), -1);
  EXPECT_EQ(errno, ESRCH);
  EXPECT_EQ(Fetch(port), "");

  server.Stop();
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace sg::agent
