// The listening-socket handoff with real sockets: a holder in a thread, links
// attaching over a unix socket in a temporary directory, TCP on loopback.

#include "operator/agent/listener_holder.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <thread>

#include <gtest/gtest.h>

#include "operator/agent/listener_link.h"

namespace sg::agent {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

template <class Pred>
bool Eventually(Pred pred) {
  const auto end = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

// 0 on success, else errno of connect().
int ConnectError(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  int err = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 ? 0 : errno;
  close(fd);
  return err;
}

ino_t Inode(int fd) {
  struct stat st {};
  fstat(fd, &st);
  return st.st_ino;
}

class ListenerHolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sg-listen-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    path_ = (dir_ / "sock").string();
  }
  void TearDown() override {
    StopHolder();
    fs::remove_all(dir_);
  }
  void StartHolder(std::vector<int> ports = {0, 0}) {
    ListenerHolderOptions o;
    o.socket_path = path_;
    o.ports = std::move(ports);
    o.bind_address = "127.0.0.1";
    holder_ = std::make_unique<ListenerHolder>(o);
    ASSERT_TRUE(holder_->Open().ok());
    thread_ = std::thread([this] { run_status_ = holder_->Run(); });
  }
  void StopHolder() {
    if (!holder_) return;
    holder_->Stop();
    thread_.join();
    holder_.reset();
  }
  std::unique_ptr<ListenerLink> Attach() {
    auto link = ListenerLink::Attach(path_, 5s);
    EXPECT_TRUE(link.ok()) << link.error().message;
    return link.ok() ? std::move(*link) : nullptr;
  }

  fs::path dir_;
  std::string path_;
  std::unique_ptr<ListenerHolder> holder_;
  std::thread thread_;
  Status run_status_;
};

TEST_F(ListenerHolderTest, BindsOnlyWhileAProxyIsAttached) {
  StartHolder();
  EXPECT_TRUE(holder_->HeldPorts().empty());
  auto a = Attach();
  ASSERT_TRUE(a);
  ASSERT_EQ(a->listeners().size(), 2u);
  const int http = a->listeners()[0].port;
  EXPECT_GT(http, 0);
  EXPECT_NE(http, a->listeners()[1].port);
  EXPECT_EQ(holder_->HeldPorts(), (std::vector<int>{http, a->listeners()[1].port}));
  EXPECT_TRUE(Eventually([&] { return holder_->Attached() == 1; }));
  EXPECT_EQ(ConnectError(http), 0);
  // nginx workers race to accept: a blocking listener would park the losers
  // inside accept() with their other connections unserved.
  for (const auto& l : a->listeners()) {
    EXPECT_TRUE(fcntl(l.fd, F_GETFL) & O_NONBLOCK) << "port " << l.port;
  }

  a.reset();  // the proxy exits
  EXPECT_TRUE(Eventually([&] { return holder_->HeldPorts().empty(); }))
      << "attached=" << holder_->Attached();
  EXPECT_EQ(ConnectError(http), ECONNREFUSED);
}

TEST_F(ListenerHolderTest, EveryProxyOfTheNodeGetsTheSameSocket) {
  StartHolder();
  auto a = Attach();
  auto b = Attach();
  ASSERT_TRUE(a && b);
  ASSERT_EQ(b->listeners().size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(a->listeners()[i].port, b->listeners()[i].port);
    // One kernel socket (one accept queue), two descriptors.
    EXPECT_EQ(Inode(a->listeners()[i].fd), Inode(b->listeners()[i].fd));
    EXPECT_NE(a->listeners()[i].fd, b->listeners()[i].fd);
  }
  EXPECT_TRUE(Eventually([&] { return holder_->Attached() == 2; }));
}

TEST_F(ListenerHolderTest, ReplacementKeepsThePortOpenThroughout) {
  StartHolder({0});
  auto old_proxy = Attach();
  ASSERT_TRUE(old_proxy);
  const int port = old_proxy->listeners()[0].port;
  auto new_proxy = Attach();  // start-first: the new task attaches first
  ASSERT_TRUE(new_proxy);
  old_proxy.reset();
  EXPECT_TRUE(Eventually([&] { return holder_->Attached() == 1; }));
  EXPECT_EQ(holder_->HeldPorts(), std::vector<int>{port});
  EXPECT_EQ(ConnectError(port), 0);
  // The connection waits in the shared queue for whoever accepts.
  int accepted = accept(new_proxy->listeners()[0].fd, nullptr, nullptr);
  EXPECT_GE(accepted, 0) << strerror(errno);
  if (accepted >= 0) close(accepted);
}

TEST_F(ListenerHolderTest, LinkNoticesTheHolderGoingAway) {
  StartHolder({0});
  auto link = Attach();
  ASSERT_TRUE(link);
  EXPECT_FALSE(link->WaitLost(50ms));
  StopHolder();
  EXPECT_TRUE(link->WaitLost(5s));
}

TEST_F(ListenerHolderTest, AttachWaitsForAHolderThatStartsLater) {
  std::thread late([this] {
    std::this_thread::sleep_for(300ms);
    StartHolder({0});
  });
  auto link = ListenerLink::Attach(path_, 10s);
  late.join();
  ASSERT_TRUE(link.ok()) << link.error().message;
  EXPECT_EQ((*link)->listeners().size(), 1u);
}

TEST_F(ListenerHolderTest, AttachFailsClearlyWithoutAHolder) {
  auto link = ListenerLink::Attach(path_, 200ms);
  ASSERT_FALSE(link.ok());
  EXPECT_TRUE(link.error().Is(ErrorCode::kUnavailable));
  EXPECT_NE(link.error().message.find("no listener holder answered within 200 ms"),
            std::string::npos)
      << link.error().message;
}

TEST_F(ListenerHolderTest, AttachRejectsAnotherProtocol) {
  int server = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(bind(server, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(server, 1), 0);
  std::thread peer([server] {
    int c = accept(server, nullptr, nullptr);
    const char hello[] = "HELLO 80\n";
    (void)!write(c, hello, sizeof(hello) - 1);
    std::this_thread::sleep_for(200ms);
    close(c);
  });
  auto link = ListenerLink::Attach(path_, 1s);
  peer.join();
  close(server);
  ASSERT_FALSE(link.ok());
  EXPECT_TRUE(link.error().Is(ErrorCode::kInvalidArgument)) << link.error().message;
  EXPECT_NE(link.error().message.find("HELLO 80"), std::string::npos) << link.error().message;
}

TEST(ListenerHolderOptionsTest, RejectsAnOverlongSocketPath) {
  ListenerHolderOptions o;
  o.socket_path = std::string(200, 'x');
  o.ports = {0};
  ListenerHolder holder(o);
  Status st = holder.Open();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("socket path must be"), std::string::npos);
}

}  // namespace
}  // namespace sg::agent
