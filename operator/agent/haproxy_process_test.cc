// ExecHaproxyProcess with the real HAProxy: master-worker start on a socket
// held by the listener holder, reloads that take (a new worker) or fail (the
// old one keeps serving), `haproxy -c` messages, soft stop. A keep-alive
// client that never resends runs through the reloads and must see no
// failure. The `show proc` parser is tested on HAProxy 2.6's own output.

#include "operator/agent/haproxy_process.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "operator/agent/http_client.h"
#include "operator/testing/body_counting_client.h"
#include "operator/testing/running_listener_holder.h"

namespace sg::agent {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr const char* kHaproxy = "/usr/sbin/haproxy";

TEST(ParseShowProcTest, ReadsMasterWorkersAndOldWorkers) {
  const std::string text =
      "#<PID>          <type>          <reloads>       <uptime>        <version>      \n"
      "16737           master          2 [failed: 1]   0d00h00m05s     2.6.12-1+deb12u4\n"
      "# workers\n"
      "16801           worker          0               0d00h00m01s     2.6.12-1+deb12u4\n"
      "# old workers\n"
      "16771           worker          1               0d00h00m05s     2.6.12-1+deb12u4\n"
      "# programs\n"
      "\n";
  auto p = ParseShowProc(text);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->master, 16737);
  EXPECT_EQ(p->failed_reloads, 1);
  EXPECT_EQ(p->workers, std::vector<pid_t>{16801});
  EXPECT_EQ(p->old_workers, std::vector<pid_t>{16771});
  EXPECT_FALSE(ParseShowProc("Unknown command\n").has_value());
}

void WriteConfig(const fs::path& prefix, const std::string& body, const std::string& extra = "") {
  fs::create_directories(prefix);
  std::ofstream(prefix / "haproxy.cfg")
      << "global\n"
         "  nbthread 1\n"
         "defaults\n"
         "  mode http\n"
         "  timeout connect 5s\n"
         "  timeout client 30s\n"
         "  timeout server 30s\n"
         "  timeout http-keep-alive 30s\n"
         "  option idle-close-on-response\n"
         "frontend http\n"
         "  bind \"${SG_HTTP_BIND}\"\n"
      << extra << "  http-request return status 200 content-type text/plain string \"" << body
      << "\"\n";
}

TEST(ExecHaproxyProcessTest, ReloadsOnAHeldSocketWithoutAFailedRequest) {
  if (access(kHaproxy, X_OK) != 0) GTEST_SKIP() << kHaproxy << " not installed";
  testing::RunningListenerHolder holder("sg-haproxy");
  ASSERT_TRUE(holder.Start().ok());
  auto link = holder.Attach();
  ASSERT_TRUE(link.ok()) << link.error().message;
  const int port = (*link)->listeners()[0].port;

  const fs::path prefix = holder.dir() / "proxy";
  WriteConfig(prefix, "v1");
  ExecHaproxyProcess haproxy(kHaproxy, prefix.string(), {port, port + 1});
  std::vector<std::pair<int, int>> inherited;
  for (size_t i = 0; i < (*link)->Fds().size(); ++i) {
    inherited.emplace_back((*link)->Fds()[i], (*link)->listeners()[i].port);
  }
  haproxy.SetInheritedSockets(inherited);
  EXPECT_EQ(haproxy.BindVariables()["SG_HTTP_BIND"], "fd@3");
  EXPECT_EQ(haproxy.BindVariables()["SG_HTTPS_BIND"], "ipv4@:" + std::to_string(port + 1));
  ASSERT_TRUE(haproxy.Test((prefix / "haproxy.cfg").string()).ok());
  Status started = haproxy.Start();
  ASSERT_TRUE(started.ok()) << started.error().message;
  ASSERT_TRUE(haproxy.Alive());

  // One keep-alive connection, never resending: every failure counts.
  testing::BodyCountingClient client(port);
  auto count = [&](const std::string& body) { return client.Count(body); };
  auto wait_for = [&](const std::string& body, int n) { return client.WaitFor(body, n); };
  EXPECT_TRUE(wait_for("v1", 50));

  // Reloads that take: each answer after it comes from the new worker.
  for (int i = 2; i <= 4; ++i) {
    const std::string body = "v" + std::to_string(i);
    WriteConfig(prefix, body);
    Status reloaded = haproxy.Reload();
    EXPECT_TRUE(reloaded.ok()) << reloaded.error().message;
    EXPECT_TRUE(wait_for(body, 50)) << body;
  }

  // A configuration HAProxy rejects: -c names the line, and a reload that
  // is forced anyway fails while the old worker keeps serving.
  WriteConfig(prefix, "bad", "  no-such-directive here\n");
  Status tested = haproxy.Test((prefix / "haproxy.cfg").string());
  ASSERT_FALSE(tested.ok());
  EXPECT_EQ(tested.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(tested.error().message.find("haproxy.cfg:12"), std::string::npos)
      << tested.error().message;
  Status bad = haproxy.Reload();
  EXPECT_FALSE(bad.ok());
  const int v4_before = count("v4");
  EXPECT_TRUE(wait_for("v4", v4_before + 50));
  EXPECT_TRUE(haproxy.Alive());
  // The agent reloads without testing first and relies on that: the next
  // good configuration still loads after a refused one.
  WriteConfig(prefix, "v5");
  Status recovered = haproxy.Reload();
  EXPECT_TRUE(recovered.ok()) << recovered.error().message;
  EXPECT_TRUE(wait_for("v5", 50));

  client.Stop();
  haproxy.Stop(5000ms);
  EXPECT_FALSE(haproxy.Alive());

  auto seen = client.Seen();
  EXPECT_EQ(seen[""], 0) << "v1=" << seen["v1"] << " v2=" << seen["v2"] << " v3=" << seen["v3"]
                         << " v4=" << seen["v4"] << " v5=" << seen["v5"] << " bad=" << seen["bad"];
  EXPECT_EQ(seen["bad"], 0);
}

}  // namespace
}  // namespace sg::agent

namespace sg::agent {
namespace {

std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(ExecHaproxyProcessTest, InstallFilesWritesMapsKeepsNamedOnesAndRemovesStaleOnes) {
  char templ[] = "/tmp/sg-haproxy-files-XXXXXX";
  ASSERT_NE(mkdtemp(templ), nullptr);
  const std::filesystem::path dir = templ;
  ExecHaproxyProcess haproxy(kHaproxy, dir.string(), {});
  const std::string running = "global\n#@file sg-hosts.1.map\n#@ a.example.com s1\n";
  const std::string next = "global\n#@file sg-hosts.2.map\n#@ b.example.com s1\n";
  ASSERT_TRUE(haproxy.InstallFiles(running, {}).ok());
  EXPECT_EQ(ReadAll(dir / "sg-hosts.1.map"), "a.example.com s1\n");
  std::ofstream(dir / "sg-paths.0.map") << "stale\n";
  std::ofstream(dir / "haproxy.cfg") << running;

  Status st = haproxy.InstallFiles(next, {&running});
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(ReadAll(dir / "sg-hosts.2.map"), "b.example.com s1\n");
  EXPECT_TRUE(std::filesystem::exists(dir / "sg-hosts.1.map"));  // the running one's
  EXPECT_FALSE(std::filesystem::exists(dir / "sg-paths.0.map"));
  EXPECT_TRUE(std::filesystem::exists(dir / "haproxy.cfg"));  // not a side file

  ASSERT_TRUE(haproxy.InstallFiles(next, {}).ok());
  EXPECT_FALSE(std::filesystem::exists(dir / "sg-hosts.1.map"));

  // A name that would leave the directory is refused, and nothing is written.
  st = haproxy.InstallFiles("#@file ../sg-x.map\n#@ x\n", {&next});
  EXPECT_FALSE(st.ok());
  EXPECT_FALSE(std::filesystem::exists(dir.parent_path() / "sg-x.map"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sg::agent
