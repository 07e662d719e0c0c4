// The listening-socket handoff with real sockets: holders in threads, links
// attaching over a unix socket in a temporary directory, TCP on loopback.
// Waits are bounded polls (Eventually, WaitDone), never fixed sleeps.

#include "operator/agent/listener_holder.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
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
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

template <class Pred>
bool Eventually(Pred pred, std::chrono::milliseconds limit = 10s) {
  const auto end = Clock::now() + limit;
  while (Clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

// 0 on success, else errno of connect().
int ConnectError(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = Loopback(port);
  int err = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 ? 0 : errno;
  close(fd);
  return err;
}

// A loopback port nothing listens on now.
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = Loopback(0);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0) << strerror(errno);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

ino_t Inode(int fd) {
  struct stat st {};
  fstat(fd, &st);
  return st.st_ino;
}

ino_t PathInode(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

// Accepts and closes connections on a listening socket, as nginx would.
class Acceptor {
 public:
  explicit Acceptor(int fd)
      : thread_([this, fd] {
          while (!stop_.load()) {
            pollfd p{fd, POLLIN, 0};
            if (poll(&p, 1, 10) <= 0) continue;
            int c = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
            if (c >= 0) close(c);
          }
        }) {}
  ~Acceptor() {
    stop_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Connects to a port again and again, counting the outcomes.
class Traffic {
 public:
  explicit Traffic(int port)
      : thread_([this, port] {
          while (!stop_.load()) {
            const int err = ConnectError(port);
            (err == 0 ? ok_ : err == ECONNREFUSED ? refused_ : other_)++;
            std::this_thread::sleep_for(1ms);
          }
        }) {}
  ~Traffic() { Stop(); }
  void Stop() {
    if (stop_.exchange(true)) return;
    thread_.join();
  }
  // Waits for `n` more successful connections.
  bool WaitForMore(int n) {
    const int target = ok_.load() + n;
    return Eventually([&] { return ok_.load() >= target; });
  }
  int ok() const { return ok_.load(); }
  int refused() const { return refused_.load(); }
  int other() const { return other_.load(); }

 private:
  std::atomic<int> ok_{0}, refused_{0}, other_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A holder served on its own thread.
class Holder {
 public:
  explicit Holder(ListenerHolderOptions options) : holder_(std::move(options)) {}
  ~Holder() {
    holder_.Stop();
    if (thread_.joinable()) thread_.join();
  }
  Status Start() {
    Status opened = holder_.Open();
    if (!opened.ok()) return opened;
    thread_ = std::thread([this] {
      status_ = holder_.Run();
      done_ = true;
    });
    return OkStatus();
  }
  void Stop() { holder_.Stop(); }
  // Waits up to `limit` for Run() to return.
  bool WaitDone(std::chrono::milliseconds limit) {
    return Eventually([&] { return done_.load(); }, limit);
  }
  // Run()'s result, once WaitDone().
  const Status& status() const { return status_; }
  ListenerHolder* operator->() { return &holder_; }

 private:
  ListenerHolder holder_;
  std::thread thread_;
  std::atomic<bool> done_{false};
  Status status_;
};

class ListenerHolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sg-listen-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "sock").string();
  }
  void TearDown() override {
    holder_.reset();
    fs::remove_all(dir_);
  }
  // Stopped at once and closing the ports with the last proxy unless a test
  // asks otherwise.
  ListenerHolderOptions Options(std::vector<int> ports) {
    ListenerHolderOptions o;
    o.socket_path = path_;
    o.ports = std::move(ports);
    o.bind_address = "127.0.0.1";
    o.linger = 0ms;
    o.detach_grace = 0ms;
    return o;
  }
  std::unique_ptr<Holder> Started(ListenerHolderOptions o) {
    auto h = std::make_unique<Holder>(std::move(o));
    Status st = h->Start();
    EXPECT_TRUE(st.ok()) << st.error().message;
    return h;
  }
  std::unique_ptr<ListenerLink> Attach() {
    auto link = ListenerLink::Attach(path_, 5s);
    EXPECT_TRUE(link.ok()) << link.error().message;
    return link.ok() ? std::move(*link) : nullptr;
  }

  fs::path dir_;
  std::string path_;
  std::unique_ptr<Holder> holder_;
};

TEST_F(ListenerHolderTest, BindsOnlyWhileAProxyIsAttached) {
  holder_ = Started(Options({0, 0}));
  auto& h = *holder_;
  EXPECT_TRUE(h->HeldPorts().empty());
  auto a = Attach();
  ASSERT_TRUE(a);
  ASSERT_EQ(a->listeners().size(), 2u);
  const int http = a->listeners()[0].port;
  EXPECT_GT(http, 0);
  EXPECT_NE(http, a->listeners()[1].port);
  EXPECT_EQ(h->HeldPorts(), (std::vector<int>{http, a->listeners()[1].port}));
  EXPECT_TRUE(Eventually([&] { return h->Attached() == 1; }));
  EXPECT_EQ(ConnectError(http), 0);
  // nginx workers race to accept: a blocking listener would park the losers
  // inside accept() with their other connections unserved.
  for (const auto& l : a->listeners()) {
    EXPECT_TRUE(fcntl(l.fd, F_GETFL) & O_NONBLOCK) << "port " << l.port;
  }

  a.reset();  // the proxy exits
  EXPECT_TRUE(Eventually([&] { return h->HeldPorts().empty(); })) << "attached=" << h->Attached();
  EXPECT_EQ(ConnectError(http), ECONNREFUSED);
}

TEST_F(ListenerHolderTest, EveryProxyOfTheNodeGetsTheSameSocket) {
  holder_ = Started(Options({0, 0}));
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
  EXPECT_TRUE(Eventually([&] { return (*holder_)->Attached() == 2; }));
}

TEST_F(ListenerHolderTest, ReplacementKeepsThePortOpenThroughout) {
  holder_ = Started(Options({0}));
  auto old_proxy = Attach();
  ASSERT_TRUE(old_proxy);
  const int port = old_proxy->listeners()[0].port;
  auto new_proxy = Attach();  // start-first: the new task attaches first
  ASSERT_TRUE(new_proxy);
  old_proxy.reset();
  EXPECT_TRUE(Eventually([&] { return (*holder_)->Attached() == 1; }));
  EXPECT_EQ((*holder_)->HeldPorts(), std::vector<int>{port});
  EXPECT_EQ(ConnectError(port), 0);
  // The connection waits in the shared queue for whoever accepts.
  int accepted = accept(new_proxy->listeners()[0].fd, nullptr, nullptr);
  EXPECT_GE(accepted, 0) << strerror(errno);
  if (accepted >= 0) close(accepted);
}

TEST_F(ListenerHolderTest, DetachGraceKeepsThePortOpenForAReplacementThenClosesIt) {
  const int port = FreePort();
  auto o = Options({port});
  o.detach_grace = 500ms;
  holder_ = Started(o);
  auto& h = *holder_;
  auto old_proxy = Attach();
  ASSERT_TRUE(old_proxy);
  const ino_t socket = Inode(old_proxy->listeners()[0].fd);
  old_proxy.reset();  // stop-first, or a task lost with its node
  EXPECT_TRUE(Eventually([&] { return h->Attached() == 0; }));

  // Within the grace a client is queued, not refused, and the replacement
  // gets the same socket with the connection waiting in it.
  EXPECT_EQ(ConnectError(port), 0);
  EXPECT_EQ(h->HeldPorts(), std::vector<int>{port});
  auto new_proxy = Attach();
  ASSERT_TRUE(new_proxy);
  EXPECT_EQ(Inode(new_proxy->listeners()[0].fd), socket);
  pollfd p{new_proxy->listeners()[0].fd, POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 5000), 1);
  int accepted = accept(new_proxy->listeners()[0].fd, nullptr, nullptr);
  EXPECT_GE(accepted, 0) << strerror(errno);
  if (accepted >= 0) close(accepted);

  // A node that lost its proxy for good refuses once the grace is over.
  new_proxy.reset();
  EXPECT_TRUE(Eventually([&] { return h->HeldPorts().empty(); }));
  EXPECT_EQ(ConnectError(port), ECONNREFUSED);
}

TEST_F(ListenerHolderTest, SuccessorAdoptsTheSocketsAndNothingIsRefused) {
  const int port = FreePort();
  auto o = Options({port});
  o.linger = 5s;
  auto old_holder = Started(o);
  auto proxy = Attach();
  ASSERT_TRUE(proxy);
  auto acceptor = std::make_unique<Acceptor>(proxy->listeners()[0].fd);
  Traffic traffic(port);
  ASSERT_TRUE(traffic.WaitForMore(20));
  const ino_t old_path = PathInode(path_);

  // The node's new listener task starts beside the old one.
  o.detach_grace = 5s;
  o.linger = 0ms;
  auto successor = Started(o);
  EXPECT_EQ((*successor)->AdoptedPorts(), std::vector<int>{port});
  EXPECT_EQ((*successor)->HeldPorts(), std::vector<int>{port});
  EXPECT_NE(PathInode(path_), old_path) << "the successor took the path";
  ASSERT_TRUE(traffic.WaitForMore(20));
  // A proxy starting now gets the successor's copy of the same socket.
  auto new_proxy = Attach();
  ASSERT_TRUE(new_proxy);
  EXPECT_EQ(Inode(new_proxy->listeners()[0].fd), Inode(proxy->listeners()[0].fd));

  // Asked to stop, the old holder leaves as soon as it sees the successor
  // at the path, well before its linger.
  const auto stop_at = Clock::now();
  old_holder->Stop();
  ASSERT_TRUE(old_holder->WaitDone(4s));
  EXPECT_TRUE(old_holder->status().ok());
  EXPECT_LT(Clock::now() - stop_at, 4s);
  old_holder.reset();
  EXPECT_TRUE(fs::exists(path_)) << "the old holder must not remove its successor's socket";

  // Its proxy re-attaches to the successor instead of restarting.
  EXPECT_TRUE(proxy->WaitLost(5s));
  Status back = proxy->Reattach(5s);
  EXPECT_TRUE(back.ok()) << back.error().message;
  EXPECT_TRUE(Eventually([&] { return (*successor)->Attached() == 2; }));
  ASSERT_TRUE(traffic.WaitForMore(20));
  traffic.Stop();
  acceptor.reset();
  EXPECT_EQ(traffic.refused(), 0) << "ok=" << traffic.ok() << " other=" << traffic.other();
  EXPECT_EQ(traffic.other(), 0);
}

TEST_F(ListenerHolderTest, SuccessorTakesOnlyThePortsItWants) {
  const int kept = FreePort(), dropped = FreePort(), added = FreePort();
  auto old_holder = Started(Options({kept, dropped}));
  auto proxy = Attach();
  ASSERT_TRUE(proxy);
  auto o = Options({kept, added});
  o.detach_grace = 5s;
  auto successor = Started(o);
  EXPECT_EQ((*successor)->AdoptedPorts(), std::vector<int>{kept});
  // The new port is bound when a proxy attaches (lazily, as ever).
  auto new_proxy = Attach();
  ASSERT_TRUE(new_proxy);
  ASSERT_EQ(new_proxy->listeners().size(), 2u);
  EXPECT_EQ(new_proxy->listeners()[0].port, kept);
  EXPECT_EQ(new_proxy->listeners()[1].port, added);
  EXPECT_EQ(Inode(new_proxy->listeners()[0].fd), Inode(proxy->listeners()[0].fd));
  EXPECT_EQ(ConnectError(added), 0);
  // The old proxy has other ports: it must restart.
  old_holder.reset();
  EXPECT_TRUE(proxy->WaitLost(5s));
  Status back = proxy->Reattach(5s);
  ASSERT_FALSE(back.ok());
  EXPECT_TRUE(back.error().Is(ErrorCode::kConflict)) << back.error().message;
  EXPECT_NE(back.error().message.find("holds ports " + std::to_string(kept) + "," +
                                      std::to_string(added) + ", this proxy has " +
                                      std::to_string(kept) + "," + std::to_string(dropped)),
            std::string::npos)
      << back.error().message;
  // Once that proxy is gone, and the successor closed the copy the proxy
  // offered it, nothing holds the dropped port.
  proxy.reset();
  EXPECT_TRUE(Eventually([&] { return ConnectError(dropped) == ECONNREFUSED; }));
}

TEST_F(ListenerHolderTest, StoppingHolderLingersUntilTheDeadlineWithoutSuccessor) {
  auto o = Options({0});
  o.linger = 400ms;
  auto h = Started(o);
  auto proxy = Attach();
  ASSERT_TRUE(proxy);
  const auto stop_at = Clock::now();
  h->Stop();
  // It keeps serving while it lingers.
  auto late = Attach();
  EXPECT_TRUE(late);
  ASSERT_TRUE(h->WaitDone(5s));
  EXPECT_GE(Clock::now() - stop_at, 400ms);
  EXPECT_TRUE(h->status().ok());
  EXPECT_TRUE(proxy->WaitLost(5s));
}

TEST_F(ListenerHolderTest, RestartedHolderAdoptsTheSocketsItsProxiesOffer) {
  const int port = FreePort();
  auto first = Started(Options({port}));
  auto proxy = Attach();
  ASSERT_TRUE(proxy);
  auto acceptor = std::make_unique<Acceptor>(proxy->listeners()[0].fd);
  Traffic traffic(port);
  ASSERT_TRUE(traffic.WaitForMore(20));

  // The holder dies without a successor; the proxy's copy keeps the port.
  first.reset();
  EXPECT_TRUE(proxy->WaitLost(5s));
  ASSERT_TRUE(traffic.WaitForMore(20));

  // Its replacement cannot bind the port, and takes the proxy's socket.
  auto second = Started(Options({port}));
  EXPECT_TRUE((*second)->AdoptedPorts().empty());
  Status back = proxy->Reattach(5s);
  EXPECT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ((*second)->HeldPorts(), std::vector<int>{port});
  EXPECT_TRUE(Eventually([&] { return (*second)->Attached() == 1; }));
  // A new proxy gets that same socket.
  auto new_proxy = Attach();
  ASSERT_TRUE(new_proxy);
  EXPECT_EQ(Inode(new_proxy->listeners()[0].fd), Inode(proxy->listeners()[0].fd));
  ASSERT_TRUE(traffic.WaitForMore(20));
  traffic.Stop();
  acceptor.reset();
  EXPECT_EQ(traffic.refused(), 0) << "ok=" << traffic.ok();
}

TEST_F(ListenerHolderTest, ReattachGivesUpWhenNoHolderAnswers) {
  auto h = Started(Options({0}));
  auto proxy = Attach();
  ASSERT_TRUE(proxy);
  h.reset();
  EXPECT_TRUE(proxy->WaitLost(5s));
  Status back = proxy->Reattach(300ms);
  ASSERT_FALSE(back.ok());
  EXPECT_TRUE(back.error().Is(ErrorCode::kUnavailable)) << back.error().message;
  EXPECT_NE(back.error().message.find("within 300 ms"), std::string::npos) << back.error().message;
}

TEST_F(ListenerHolderTest, PortInUseIsAClearError) {
  const int port = FreePort();
  // Another process listens on the port (another cluster, a host service).
  int other = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = Loopback(port);
  ASSERT_EQ(bind(other, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(other, 1), 0);
  auto o = Options({port});
  o.in_use_limit = 0ms;
  auto h = Started(o);
  auto link = ListenerLink::Attach(path_, 300ms);
  EXPECT_FALSE(link.ok());
  ASSERT_TRUE(h->WaitDone(5s));
  ASSERT_FALSE(h->status().ok());
  const std::string& message = h->status().error().message;
  EXPECT_NE(message.find("cannot listen on port " + std::to_string(port) + ": in use"),
            std::string::npos)
      << message;
  close(other);
}

TEST_F(ListenerHolderTest, StaleSocketFileIsReplaced) {
  // A holder that died left its socket file: nothing answers on it.
  int dead = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(bind(dead, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  close(dead);
  holder_ = Started(Options({0}));
  EXPECT_TRUE((*holder_)->AdoptedPorts().empty());
  EXPECT_TRUE(Attach());
}

TEST_F(ListenerHolderTest, LinkNoticesTheHolderGoingAway) {
  holder_ = Started(Options({0}));
  auto link = Attach();
  ASSERT_TRUE(link);
  EXPECT_FALSE(link->WaitLost(50ms));
  holder_.reset();
  EXPECT_TRUE(link->WaitLost(5s));
}

TEST_F(ListenerHolderTest, AttachWaitsForAHolderThatStartsLater) {
  std::thread late([this] {
    std::this_thread::sleep_for(300ms);  // the point of the test: a late holder
    holder_ = Started(Options({0}));
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
    char b;
    (void)!read(c, &b, 1);  // until the link closes
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

TEST(ListenerProtocolTest, OnlySocketsOfThisNetworkNamespaceListenHere) {
  const int port = FreePort();
  int here = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = Loopback(port);
  ASSERT_EQ(bind(here, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(WhyNotListeningHere(here, port), "not a listening socket");
  ASSERT_EQ(listen(here, 1), 0);
  EXPECT_EQ(WhyNotListeningHere(here, port), "");
  EXPECT_EQ(WhyNotListeningHere(here, port + 1), "bound to port " + std::to_string(port));
  close(here);

  // A socket from another network namespace (a container publishing the
  // port through Docker), made by a child in a namespace of its own.
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(pair[0]);
    if (unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0) _exit(2);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in any{};
    any.sin_family = AF_INET;
    any.sin_port = htons(static_cast<uint16_t>(port));
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&any), sizeof(any)) != 0 ||
        listen(fd, 1) != 0) {
      _exit(3);
    }
    _exit(SendListeners(pair[1], {{port, fd}}).ok() ? 0 : 4);
  }
  close(pair[1]);
  int status = 0;
  waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    close(pair[0]);
    GTEST_SKIP() << "cannot make a network namespace here (exit " << WEXITSTATUS(status) << ")";
  }
  auto message = ReadMessage(pair[0], 5000ms);
  close(pair[0]);
  ASSERT_TRUE(message.ok());
  auto elsewhere = ParseListeners(std::move(*message));
  ASSERT_TRUE(elsewhere.ok()) << elsewhere.error().message;
  EXPECT_EQ(WhyNotListeningHere((*elsewhere)[0].fd, port), "not in this network namespace");
  CloseAll(*elsewhere);
}

}  // namespace
}  // namespace sg::agent
