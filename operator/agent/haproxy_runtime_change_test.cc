// Endpoint changes through HAProxy's runtime API, with the real HAProxy: a
// backend's servers are replaced, added and reweighted while a keep-alive
// client that never resends runs, with no reload (the worker stays the
// same) and no failed request; a change the runtime API cannot make is left
// to a reload.

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "operator/agent/haproxy_process.h"
#include "operator/testing/body_counting_client.h"
#include "operator/testing/loopback_http.h"
#include "operator/testing/sample_traffic_models.h"
#include "reconcilers/haproxy/haproxy_renderer.h"
#include "reconcilers/haproxy/haproxy_server_changes.h"

namespace sg::agent {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr const char* kHaproxy = "/usr/sbin/haproxy";
constexpr char kCheck[] = "check inter 2s fall 1 rise 1 observe layer4 error-limit 1";

// A proxy on `port` in front of backend `web`, and two stand-in backends on
// `a` and `b` that answer "a" and "b".
std::string Config(int port, int a, int b, const std::string& servers,
                   const std::string& extra = "") {
  return "global\n"
         "    nbthread 1\n"
         "    stats socket unix@haproxy.sock mode 600 level admin expose-fd listeners\n"
         "defaults\n"
         "    mode http\n"
         "    timeout connect 5s\n"
         "    timeout client 30s\n"
         "    timeout server 30s\n"
         "    option idle-close-on-response\n"
         "frontend http\n"
         "    bind 127.0.0.1:" +
         std::to_string(port) +
         "\n"
         "    default_backend web\n" +
         extra +
         "frontend stand-in-a\n"
         "    bind 127.0.0.1:" +
         std::to_string(a) +
         "\n"
         "    http-request return status 200 content-type text/plain string a\n"
         "frontend stand-in-b\n"
         "    bind 127.0.0.1:" +
         std::to_string(b) +
         "\n"
         "    http-request return status 200 content-type text/plain string b\n"
         "backend web\n"
         "    option httpchk GET /\n" +
         servers;
}

std::string Server(int port, const std::string& weight = "") {
  const std::string addr = "127.0.0.1:" + std::to_string(port);
  return "    server " + addr + " " + addr + (weight.empty() ? "" : " weight " + weight) + " " +
         kCheck + "\n";
}

std::vector<pid_t> Workers(const ExecHaproxyProcess& haproxy) {
  auto text = HaproxyCliCommand(haproxy.MasterSocket(), "show proc", 2s);
  if (!text.ok()) return {};
  auto proc = ParseShowProc(*text);
  return proc ? proc->workers : std::vector<pid_t>{};
}

// A prefix directory for HAProxy and three free ports: the proxy's and two
// stand-in backends'.
class HaproxyRuntimeChangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kHaproxy, X_OK) != 0) GTEST_SKIP() << kHaproxy << " not installed";
    fs::remove_all(prefix);
    fs::create_directories(prefix);
  }
  void TearDown() override {
    haproxy_.reset();
    fs::remove_all(prefix);
  }

  const fs::path prefix =
      fs::temp_directory_path() / ("sg-haproxy-runtime-" + std::to_string(getpid()));
  const int port = testing::FreeLoopbackPort();
  const int a = testing::FreeLoopbackPort();
  const int b = testing::FreeLoopbackPort();
  std::optional<ExecHaproxyProcess> haproxy_;  // stopped by its destructor

  // The renderer's configuration of plain routes (name, stand-in port) on
  // `port`, two spare backends of each kind; the routes named in
  // `websockets` are websocket routes. The stand-in tasks answer from the
  // same HAProxy, after the side files.
  std::string Rendered(const std::vector<std::pair<std::string, int>>& routes,
                       const std::set<std::string>& websockets = {}) const {
    model::TrafficModel m;
    m.settings.http_port = port;
    m.settings.status_port = status_port;
    m.settings.worker_processes = 1;
    for (const auto& [name, task] : routes) {
      m.upstreams.push_back(samples::Up(name, {"127.0.0.1:" + std::to_string(task)}));
      model::Location l = samples::Loc(name, "/", {{name, 1, false}});
      l.websocket = websockets.count(name) > 0;
      m.servers.push_back(samples::Srv({name + ".example.com"}, {l}));
    }
    haproxy::RenderOptions options;
    options.log = false;
    options.metrics_port = 0;
    options.spare_backends = 2;
    const std::string stand_ins = Config(port, a, b, "");
    return haproxy::RenderHaproxyConfig(samples::Resolved(m), options) +
           stand_ins.substr(stand_ins.find("frontend stand-in-a"));
  }
  const int status_port = testing::FreeLoopbackPort();
};

TEST_F(HaproxyRuntimeChangeTest, ReplacesServersWithoutAReloadOrAFailedRequest) {
  const std::string only_a = Config(port, a, b, Server(a));
  std::ofstream(prefix / "haproxy.cfg") << only_a;
  ExecHaproxyProcess haproxy(kHaproxy, prefix.string(), {port, testing::FreeLoopbackPort()});
  Status started = haproxy.Start();
  ASSERT_TRUE(started.ok()) << started.error().message;
  const auto workers = Workers(haproxy);
  ASSERT_EQ(workers.size(), 1u);

  testing::BodyCountingClient client(port);
  ASSERT_TRUE(client.WaitFor("a", 50));

  // The task behind `a` is replaced by one behind `b`.
  const std::string only_b = Config(port, a, b, Server(b));
  auto applied = haproxy.ApplyInPlace(only_a, only_b);
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_TRUE(*applied);
  const int a_after_change = client.Count("a");
  EXPECT_TRUE(client.WaitFor("b", 50));
  // At most the request in flight when `a` left may still have been answered by it.
  EXPECT_LE(client.Count("a"), a_after_change + 1);

  // Both, weighted 1:3, then `a` alone again.
  const std::string weighted = Config(port, a, b, Server(b, "3") + Server(a));
  applied = haproxy.ApplyInPlace(only_b, weighted);
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_TRUE(*applied);
  auto state = HaproxyCliCommand(haproxy.RuntimeSocket(), "show servers state web", 2s);
  ASSERT_TRUE(state.ok());
  const auto servers = haproxy::ParseServersState(*state);
  ASSERT_EQ(servers.count("web"), 1u) << *state;
  EXPECT_EQ(servers.at("web").at("127.0.0.1:" + std::to_string(b)).weight, 3) << *state;
  EXPECT_EQ(servers.at("web").at("127.0.0.1:" + std::to_string(a)).weight, 1) << *state;
  EXPECT_TRUE(client.WaitFor("a", a_after_change + 20));

  applied = haproxy.ApplyInPlace(weighted, only_a);
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_TRUE(*applied);
  const int b_after_change = client.Count("b");
  EXPECT_TRUE(client.WaitFor("a", client.Count("a") + 50));
  EXPECT_LE(client.Count("b"), b_after_change + 1);

  // No reload happened: the same worker serves.
  EXPECT_EQ(Workers(haproxy), workers);

  // A change outside the servers is left to a reload, and nothing changes.
  const std::string header =
      Config(port, a, b, Server(a), "    http-response set-header X-Test 1\n");
  applied = haproxy.ApplyInPlace(only_a, header);
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_FALSE(*applied);

  client.Stop();
  haproxy.Stop(5000ms);
  auto seen = client.Seen();
  EXPECT_EQ(seen[""], 0) << "a=" << seen["a"] << " b=" << seen["b"];
}

// Many routes to one service share its tasks' health checks: the first
// backend checks, the others track it. A new task cannot be tracked at run
// time (HAProxy refuses to track a dynamic server), so the tracking backend
// gets the task with its own check, and a tracked task that leaves cannot be
// deleted: it stays in maintenance.
TEST_F(HaproxyRuntimeChangeTest, ServersThatTrackAnotherAreReplacedToo) {
  auto shared = [&](int task) {
    const std::string addr = "127.0.0.1:" + std::to_string(task);
    return Config(port, a, b,
                  Server(task) + "backend tracking\n    option httpchk GET /\n    server " + addr +
                      " " + addr + " track web/" + addr + " pool-max-conn 32\n",
                  "    use_backend tracking if { path_beg /t }\n");
  };
  std::ofstream(prefix / "haproxy.cfg") << shared(a);
  ExecHaproxyProcess haproxy(kHaproxy, prefix.string(), {port, testing::FreeLoopbackPort()});
  Status started = haproxy.Start();
  ASSERT_TRUE(started.ok()) << started.error().message;
  const auto workers = Workers(haproxy);
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/t";
  EXPECT_EQ(testing::Curl(url).body, "a");

  auto applied = haproxy.ApplyInPlace(shared(a), shared(b));
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_TRUE(*applied);
  auto state = HaproxyCliCommand(haproxy.RuntimeSocket(), "show servers state", 2s);
  ASSERT_TRUE(state.ok());
  const auto servers = haproxy::ParseServersState(*state);
  const std::string old_addr = "127.0.0.1:" + std::to_string(a);
  const std::string new_addr = "127.0.0.1:" + std::to_string(b);
  for (const char* backend : {"web", "tracking"}) {
    ASSERT_EQ(servers.count(backend), 1u) << *state;
    ASSERT_EQ(servers.at(backend).count(new_addr), 1u) << *state;
    EXPECT_EQ(servers.at(backend).at(new_addr).admin & 0x01, 0) << *state;
    if (servers.at(backend).count(old_addr)) {
      EXPECT_NE(servers.at(backend).at(old_addr).admin & 0x01, 0) << *state;
    }
  }
  for (int i = 0; i < 5; ++i) EXPECT_EQ(testing::Curl(url).body, "b") << i;
  EXPECT_EQ(Workers(haproxy), workers);

  haproxy.Stop(5000ms);
}

// A route added through the runtime API: the renderer's configuration with
// spare backends, a new route's map entries and servers set at run time, the
// same worker serving it; removed the same way; and one that cannot come
// back without a reload is reloaded, after which routes are added at run
// time again.
TEST_F(HaproxyRuntimeChangeTest, RoutesComeAndGoWithoutAReload) {
  auto rendered = [&](const std::vector<std::pair<std::string, int>>& routes) {
    return Rendered(routes);
  };
  auto get = [&](const std::string& host) {
    return testing::Curl("-H 'Host: " + host + "' http://127.0.0.1:" + std::to_string(port) + "/");
  };
  // Polls until `host` answers `body` (health checks of new servers start
  // at run time), for at most 5 s; the last answer.
  auto answer_of = [&](const std::string& host, const std::string& body) {
    testing::CurlResponse r;
    for (int i = 0; i < 50; ++i) {
      r = get(host);
      if (r.body == body) break;
      std::this_thread::sleep_for(100ms);
    }
    return std::to_string(r.status) + " " + r.body;
  };
  auto install = [&](const std::string& text) {
    std::ofstream(prefix / "haproxy.cfg") << text;
    return haproxy_->InstallFiles(text, {});
  };

  const std::string docs = rendered({{"docs", a}});
  haproxy_.emplace(kHaproxy, prefix.string(),
                   ExecHaproxyProcess::Ports{port, testing::FreeLoopbackPort()});
  ASSERT_TRUE(install(docs).ok());
  Status started = haproxy_->Start();
  ASSERT_TRUE(started.ok()) << started.error().message;
  const auto workers = Workers(*haproxy_);
  EXPECT_EQ(answer_of("docs.example.com", "a"), "200 a");
  EXPECT_EQ(get("wiki.example.com").status, 404);

  const std::string with_wiki = rendered({{"docs", a}, {"wiki", b}});
  ASSERT_TRUE(install(with_wiki).ok());
  auto applied = haproxy_->ApplyInPlace(docs, with_wiki);
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  ASSERT_TRUE(*applied);
  EXPECT_EQ(answer_of("wiki.example.com", "b"), "200 b");
  EXPECT_EQ(answer_of("docs.example.com", "a"), "200 a");

  // A second one, while HAProxy knows the maps by their first names.
  const std::string with_blog = rendered({{"blog", b}, {"docs", a}, {"wiki", b}});
  ASSERT_TRUE(install(with_blog).ok());
  applied = haproxy_->ApplyInPlace(with_wiki, with_blog);
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  ASSERT_TRUE(*applied);
  EXPECT_EQ(answer_of("blog.example.com", "b"), "200 b");

  // Removed: unknown again.
  ASSERT_TRUE(install(with_wiki).ok());
  applied = haproxy_->ApplyInPlace(with_blog, with_wiki);
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  ASSERT_TRUE(*applied);
  EXPECT_EQ(get("blog.example.com").status, 404);
  EXPECT_EQ(answer_of("wiki.example.com", "b"), "200 b");
  EXPECT_EQ(Workers(*haproxy_), workers) << "no reload so far";

  // Back again: HAProxy still holds its old backend, so this is a reload,
  // after which new routes go through the runtime API again.
  applied = haproxy_->ApplyInPlace(with_wiki, with_blog);
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_FALSE(*applied);
  ASSERT_TRUE(install(with_blog).ok());
  Status reloaded = haproxy_->Reload();
  ASSERT_TRUE(reloaded.ok()) << reloaded.error().message;
  EXPECT_EQ(answer_of("blog.example.com", "b"), "200 b");
  const std::string with_news = rendered({{"blog", b}, {"docs", a}, {"news", a}, {"wiki", b}});
  ASSERT_TRUE(install(with_news).ok());
  applied = haproxy_->ApplyInPlace(with_blog, with_news);
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_TRUE(*applied);
  EXPECT_EQ(answer_of("news.example.com", "a"), "200 a");

  // The stand-ins keep health-check connections open; nothing to drain.
  haproxy_->Stop(500ms);
}

// Websocket routes are entries of a pattern list. A new one is a reload (its
// backend keeps tunnels open for an hour, which no spare does), but one that
// goes leaves the list at run time (`del acl`, checked with `show acl`).
TEST_F(HaproxyRuntimeChangeTest, WebsocketRoutesLeaveTheirListAtRunTime) {
  const std::string two = Rendered({{"chat", a}, {"talk", b}}, {"chat", "talk"});
  const std::string one = Rendered({{"chat", a}}, {"chat"});
  std::ofstream(prefix / "haproxy.cfg") << two;
  haproxy_.emplace(kHaproxy, prefix.string(),
                   ExecHaproxyProcess::Ports{port, testing::FreeLoopbackPort()});
  ASSERT_TRUE(haproxy_->InstallFiles(two, {}).ok());
  Status started = haproxy_->Start();
  ASSERT_TRUE(started.ok()) << started.error().message;
  const std::string talk = "-H 'Host: talk.example.com' http://127.0.0.1:" + std::to_string(port);
  std::string body;
  for (int i = 0; i < 50 && body != "b"; ++i) {
    if (i > 0) std::this_thread::sleep_for(100ms);
    body = testing::Curl(talk + "/").body;
  }
  ASSERT_EQ(body, "b");

  EXPECT_FALSE(*haproxy_->ApplyInPlace(one, two)) << "a new websocket route is a reload";
  ASSERT_TRUE(haproxy_->InstallFiles(one, {}).ok());
  auto applied = haproxy_->ApplyInPlace(two, one);
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_TRUE(*applied);
  const auto files = haproxy::LoadedNames(two).files;
  auto listed =
      HaproxyCliCommand(haproxy_->RuntimeSocket(), "show acl " + files.at("sg-websocket.lst"), 2s);
  ASSERT_TRUE(listed.ok());
  const auto entries = haproxy::ParseShowMap(*listed);
  EXPECT_EQ(entries.count("chat"), 1u) << *listed;
  EXPECT_EQ(entries.count("talk"), 0u) << *listed;
  EXPECT_EQ(testing::Curl(talk + "/").status, 404);
  haproxy_->Stop(500ms);
}

}  // namespace
}  // namespace sg::agent
