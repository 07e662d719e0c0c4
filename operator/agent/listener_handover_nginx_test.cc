// The point of the listener holder, proven with the real nginx: two nginx
// masters (the old and the new proxy task of a node) serve one held socket,
// the old one drains and exits, a reload follows, and a client that keeps
// connecting throughout is never refused.

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <thread>

#include <gtest/gtest.h>

#include "operator/agent/http_client.h"
#include "operator/agent/nginx_process.h"
#include "operator/testing/body_counting_client.h"
#include "operator/testing/running_listener_holder.h"

namespace sg::agent {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr const char* kNginx = "/usr/sbin/nginx";

void WriteConfig(const fs::path& prefix, int port, const std::string& body) {
  fs::create_directories(prefix / "logs");
  std::ofstream(prefix / "nginx.conf")
      << "worker_processes 2;\npid nginx.pid;\nerror_log stderr;\ndaemon off;\n"
         "events { worker_connections 256; }\n"
         "http {\n  access_log off;\n  server {\n    listen 127.0.0.1:"
      << port << ";\n    location / { return 200 \"" << body << "\"; }\n  }\n}\n";
}

TEST(ListenerHandoverNginxTest, NoConnectionIsRefusedWhileProxiesAreReplaced) {
  if (access(kNginx, X_OK) != 0) GTEST_SKIP() << kNginx << " not installed";
  testing::RunningListenerHolder holder("sg-handover");
  ASSERT_TRUE(holder.Start().ok());
  const fs::path dir = holder.dir();

  auto old_link = holder.Attach();
  ASSERT_TRUE(old_link.ok()) << old_link.error().message;
  const int port = (*old_link)->listeners()[0].port;
  WriteConfig(dir / "old", port, "old");
  WriteConfig(dir / "new", port, "new");
  auto old_nginx = std::make_unique<ExecNginxProcess>(kNginx, (dir / "old").string());
  old_nginx->SetInheritedSockets((*old_link)->Fds());
  ASSERT_TRUE(old_nginx->Start().ok());

  testing::BodyCountingClient client(port);
  auto count = [&](const std::string& body) { return client.Count(body); };
  auto wait_for = [&](const std::string& body, int n) { return client.WaitFor(body, n); };
  EXPECT_TRUE(wait_for("old", 50));

  // The new task attaches and starts before the old one stops.
  auto new_link = holder.Attach();
  ASSERT_TRUE(new_link.ok()) << new_link.error().message;
  ExecNginxProcess new_nginx(kNginx, (dir / "new").string());
  new_nginx.SetInheritedSockets((*new_link)->Fds());
  ASSERT_TRUE(new_nginx.Start().ok());
  old_nginx->Stop(5000ms);
  old_nginx.reset();
  old_link->reset();
  const int new_before = count("new");
  EXPECT_TRUE(wait_for("new", new_before + 200));
  // A reload keeps the inherited socket.
  WriteConfig(dir / "new", port, "reloaded");
  ASSERT_TRUE(new_nginx.Reload().ok());
  EXPECT_TRUE(wait_for("reloaded", 200));
  client.Stop();
  new_nginx.Stop(5000ms);

  auto seen = client.Seen();
  EXPECT_EQ(seen[""], 0) << "old=" << seen["old"] << " new=" << seen["new"]
                         << " reloaded=" << seen["reloaded"];
  EXPECT_GT(seen["old"], 0);
  EXPECT_GT(seen["new"], 0);
}

}  // namespace
}  // namespace sg::agent
