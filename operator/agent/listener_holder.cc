#include "operator/agent/listener_holder.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

#include <spdlog/spdlog.h>

#include "operator/runtime/logging.h"

namespace sg::agent {

using Clock = std::chrono::steady_clock;

namespace {

const std::shared_ptr<spdlog::logger>& Log() {
  static const auto logger = runtime::NamedLogger("listener");
  return logger;
}

std::string Errno(const std::string& what) { return what + ": " + strerror(errno); }

int BoundPort(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof(addr);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  return ntohs(addr.sin_port);
}

bool UnixAddress(const std::string& path, sockaddr_un* addr) {
  *addr = {};
  addr->sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr->sun_path)) return false;
  std::memcpy(addr->sun_path, path.c_str(), path.size());
  return true;
}

// A name beside the socket path, unique among the holders sharing the
// volume (their process ids may be equal: each runs in its own container).
std::string TemporaryPath(const std::string& path) {
  std::random_device random;
  return fmt::format("{}.new-{:08x}", path, random());
}

}  // namespace

struct ListenerHolder::Client {
  int fd = -1;
  bool attached = false;               // has the sockets
  bool successor = false;              // a holder that adopted them (not a proxy)
  bool gone = false;                   // to be closed
  Clock::time_point offer_deadline{};  // while not attached
};

ListenerHolder::ListenerHolder(ListenerHolderOptions options)
    : options_(std::move(options)), fds_(options_.ports.size(), -1), ports_(options_.ports) {}

ListenerHolder::~ListenerHolder() {
  CloseListeners(nullptr);
  if (predecessor_ >= 0) close(predecessor_);
  // A successor that renamed its socket over the path keeps it.
  if (PathIsOurs()) unlink(options_.socket_path.c_str());
  if (unix_fd_ >= 0) close(unix_fd_);
  for (int fd : wake_) {
    if (fd >= 0) close(fd);
  }
}

Status ListenerHolder::Open() {
  if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) return Internal(Errno("pipe"));
  const std::string temporary = TemporaryPath(options_.socket_path);
  sockaddr_un addr{};
  if (!UnixAddress(temporary, &addr)) {
    // The temporary name is the longer one.
    return InvalidArgument("socket path must be 1-" +
                           std::to_string(sizeof(addr.sun_path) - 1 -
                                          (temporary.size() - options_.socket_path.size())) +
                           " characters: \"" + options_.socket_path + "\"");
  }
  TakeOver();
  unix_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (unix_fd_ < 0) return Internal(Errno("socket"));
  if (bind(unix_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return Unavailable(Errno("bind " + temporary));
  }
  chmod(temporary.c_str(), 0600);
  if (listen(unix_fd_, 64) != 0) {
    const Error e = Internal(Errno("listen"));
    unlink(temporary.c_str());
    return e;
  }
  // Atomic: a proxy connecting now reaches the older holder or this one, and
  // a file left by a holder that died is replaced.
  if (rename(temporary.c_str(), options_.socket_path.c_str()) != 0) {
    const Error e = Unavailable(Errno("rename to " + options_.socket_path));
    unlink(temporary.c_str());
    return e;
  }
  struct stat st {};
  if (stat(options_.socket_path.c_str(), &st) == 0) {
    own_dev_ = st.st_dev;
    own_ino_ = st.st_ino;
  }
  Log()->info("holding ports={} socket={} adopted_ports={}", fmt::join(options_.ports, ","),
              options_.socket_path, fmt::join(adopted_, ","));
  return OkStatus();
}

void ListenerHolder::TakeOver() {
  sockaddr_un addr{};
  if (!UnixAddress(options_.socket_path, &addr)) return;
  const int conn = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (conn < 0) return;
  if (connect(conn, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    // ENOENT: the first holder on this node (or volume); ECONNREFUSED: a
    // file left by one that died.
    const std::string why = strerror(errno);
    Log()->info("no older holder answered socket={} reason=\"{}\"", options_.socket_path, why);
    close(conn);
    return;
  }
  auto message = ReadMessage(conn, options_.takeover_wait);
  if (!message.ok() || message->closed) {
    Log()->warn("the older holder did not hand its sockets reason=\"{}\"",
                message.ok() ? "connection closed" : message.error().message);
    close(conn);
    return;
  }
  auto offered = ParseListeners(std::move(*message));
  if (!offered.ok()) {
    Log()->warn("unexpected answer from the older holder error=\"{}\"", offered.error().message);
    close(conn);
    return;
  }
  Adopt(std::move(*offered), "older holder");
  adopted_ = HeldPorts();
  // The older holder may stop once the path is ours; a holder of an older
  // version closes the connection instead, which changes nothing here.
  (void)SendLine(conn, kTakeoverMessage);
  predecessor_ = conn;
  Log()->info("took over from the older holder adopted_ports={}", fmt::join(adopted_, ","));
}

void ListenerHolder::Adopt(std::vector<InheritedListener> offered, const char* from) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& l : offered) {
    size_t i = 0;
    while (i < fds_.size() && !(options_.ports[i] == l.port && fds_[i] < 0)) ++i;
    if (i == fds_.size()) {
      // Not wanted (the ports changed), or held already.
      close(l.fd);
      continue;
    }
    const std::string why = WhyNotListeningHere(l.fd, l.port);
    if (!why.empty()) {
      Log()->warn("not adopting a socket port={} from=\"{}\" reason=\"{}\"", l.port, from, why);
      close(l.fd);
      continue;
    }
    fds_[i] = l.fd;
    ports_[i] = l.port;
    Log()->info("adopted a listening socket port={} from=\"{}\"", l.port, from);
  }
}

Status ListenerHolder::BindMissing(std::vector<int>* in_use) {
  for (size_t i = 0; i < options_.ports.size(); ++i) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (fds_[i] >= 0) continue;
    }
    const int port = options_.ports[i];
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, options_.bind_address.c_str(), &addr.sin_addr) != 1) {
      return InvalidArgument("bind address \"" + options_.bind_address + "\" is not IPv4");
    }
    // Non-blocking, as nginx's own listeners are: several workers are woken
    // for one connection, and a worker whose accept() lost the race on a
    // blocking socket would hang in accept() with its other clients waiting.
    // The flag belongs to the open socket, so every proxy's copy shares it.
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return Internal(Errno("socket"));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      const int err = errno;
      close(fd);
      if (err == EADDRINUSE) {
        in_use->push_back(port);
        continue;
      }
      errno = err;
      return Unavailable(Errno("cannot listen on " + options_.bind_address + ":" +
                               std::to_string(port) + ": bind"));
    }
    if (listen(fd, options_.backlog) != 0) {
      const Error e = Unavailable(Errno("listen on port " + std::to_string(port)));
      close(fd);
      return e;
    }
    std::lock_guard<std::mutex> lock(mu_);
    fds_[i] = fd;
    ports_[i] = BoundPort(fd);
    Log()->info("listening port={}", ports_[i]);
  }
  return OkStatus();
}

bool ListenerHolder::AllHeld() const {
  std::lock_guard<std::mutex> lock(mu_);
  return std::all_of(fds_.begin(), fds_.end(), [](int fd) { return fd >= 0; });
}

bool ListenerHolder::AnyHeld() const {
  std::lock_guard<std::mutex> lock(mu_);
  return std::any_of(fds_.begin(), fds_.end(), [](int fd) { return fd >= 0; });
}

void ListenerHolder::CloseListeners(const char* why) {
  std::lock_guard<std::mutex> lock(mu_);
  bool any = false;
  for (size_t i = 0; i < fds_.size(); ++i) {
    if (fds_[i] >= 0) {
      close(fds_[i]);
      any = true;
    }
    fds_[i] = -1;
    ports_[i] = options_.ports[i];
  }
  if (any && why) Log()->info("ports closed reason=\"{}\"", why);
}

std::vector<int> ListenerHolder::HeldPorts() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<int> out;
  for (size_t i = 0; i < fds_.size(); ++i) {
    if (fds_[i] >= 0) out.push_back(ports_[i]);
  }
  return out;
}

std::vector<InheritedListener> ListenerHolder::Held() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<InheritedListener> out;
  for (size_t i = 0; i < fds_.size(); ++i) {
    if (fds_[i] >= 0) out.push_back({ports_[i], fds_[i]});
  }
  return out;
}

bool ListenerHolder::PathIsOurs() const {
  struct stat st {};
  return own_ino_ != 0 && stat(options_.socket_path.c_str(), &st) == 0 && st.st_dev == own_dev_ &&
         st.st_ino == own_ino_;
}

Status ListenerHolder::Serve(Client& client, Clock::time_point now) {
  if (client.attached) return OkStatus();
  if (!AllHeld()) {
    std::vector<int> in_use;
    if (Status st = BindMissing(&in_use); !st.ok()) return st;
    if (!in_use.empty()) {
      // Still open elsewhere: in the proxies when this holder replaced one
      // that exited (they offer them as they re-attach), or in another
      // process.
      if (in_use_since_ == Clock::time_point{}) {
        in_use_since_ = now;
        Log()->warn("port in use, waiting for a proxy to offer its socket ports={} wait_ms={}",
                    fmt::join(in_use, ","), options_.in_use_limit.count());
      }
      in_use_ports_ = std::move(in_use);
      return OkStatus();
    }
  }
  in_use_since_ = {};
  if (Status sent = SendListeners(client.fd, Held()); !sent.ok()) {
    client.gone = true;  // the proxy went away meanwhile
    return OkStatus();
  }
  client.attached = true;
  return OkStatus();
}

bool ListenerHolder::Receive(Client& client, Clock::time_point now, Status* fatal) {
  auto message = ReadMessage(client.fd, std::chrono::milliseconds(0));
  if (!message.ok() || message->closed) return false;
  if (message->text == std::string(kTakeoverMessage) + "\n") {
    for (int fd : message->fds) close(fd);
    client.successor = true;
    successor_seen_ = true;
    Log()->info("a successor adopted the sockets");
    return true;
  }
  if (message->text.rfind(kListenerProtocol, 0) == 0) {
    auto offered = ParseListeners(std::move(*message));
    if (!offered.ok()) {
      Log()->warn("unexpected offer from a proxy error=\"{}\"", offered.error().message);
      return false;
    }
    Adopt(std::move(*offered), "proxy");
    *fatal = Serve(client, now);
    return !client.gone;
  }
  for (int fd : message->fds) close(fd);
  Log()->warn("unexpected message from a client message=\"{}\"", message->text);
  return false;
}

Status ListenerHolder::Run() {
  if (unix_fd_ < 0) return Internal("Open() was not called");
  std::vector<Client> clients;
  bool stopping = false;
  Clock::time_point stop_deadline{};
  // When the sockets close unless a proxy attaches; kNever while a proxy is
  // attached or none is held. Sockets adopted in Open() wait like any others.
  constexpr Clock::time_point kNever = Clock::time_point::max();
  Clock::time_point grace_deadline = kNever;
  if (AnyHeld()) grace_deadline = Clock::now() + options_.detach_grace;
  Status result = OkStatus();
  for (;;) {
    Clock::time_point now = Clock::now();
    Clock::time_point next = kNever;
    auto wake_at = [&](Clock::time_point t) { next = std::min(next, t); };
    for (const auto& c : clients) {
      if (!c.attached) wake_at(c.offer_deadline);
    }
    wake_at(grace_deadline);
    // While stopping, the path is checked for a successor every 100 ms.
    if (stopping) wake_at(std::min(stop_deadline, now + std::chrono::milliseconds(100)));
    if (in_use_since_ != Clock::time_point{}) wake_at(in_use_since_ + options_.in_use_limit);
    int timeout = -1;
    if (next != kNever) {
      timeout = static_cast<int>(
          std::max<int64_t>(0, std::chrono::ceil<std::chrono::milliseconds>(next - now).count()));
    }

    std::vector<pollfd> fds{
        {wake_[0], POLLIN, 0}, {unix_fd_, POLLIN, 0}, {predecessor_, POLLIN, 0}};
    for (const auto& c : clients) fds.push_back({c.fd, POLLIN, 0});
    if (poll(fds.data(), fds.size(), timeout) < 0) {
      if (errno == EINTR) continue;
      result = Internal(Errno("poll"));
      break;
    }
    now = Clock::now();

    if (fds[0].revents) {
      char drain[16];
      while (read(wake_[0], drain, sizeof(drain)) > 0) {
      }
      if (options_.linger.count() <= 0) break;
      if (!stopping) {
        stopping = true;
        stop_deadline = now + options_.linger;
        Log()->info("stopping: serving until a successor takes over linger_ms={}",
                    options_.linger.count());
      }
    }
    if (predecessor_ >= 0 && fds[2].revents) {
      // The older holder sends nothing after its sockets: it exited.
      close(predecessor_);
      predecessor_ = -1;
      Log()->info("the older holder exited");
    }
    for (size_t i = 0; i < clients.size(); ++i) {
      if (fds[3 + i].revents == 0) continue;
      Status fatal = OkStatus();
      if (!Receive(clients[i], now, &fatal)) clients[i].gone = true;
      if (!fatal.ok()) result = fatal;
    }
    if (!result.ok()) break;
    if (fds[1].revents & POLLIN) {
      const int c = accept4(unix_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) {
        clients.push_back(Client{c, false, false, false, now + options_.offer_wait});
        result = Serve(clients.back(), now);
        if (!result.ok()) break;
      }
    }

    // Sockets adopted from one proxy's offer serve every proxy waiting.
    for (auto& c : clients) {
      if (c.attached || c.gone || !AllHeld()) continue;
      result = Serve(c, now);
      if (!result.ok()) break;
    }
    if (!result.ok()) break;

    int attached = 0;
    std::vector<Client> still;
    for (auto& c : clients) {
      if (!c.attached && !c.gone && now >= c.offer_deadline) {
        // It retries; meanwhile another proxy may offer the sockets.
        Log()->warn("sending a proxy away to retry: ports in use ports={}",
                    fmt::join(in_use_ports_, ","));
        c.gone = true;
      }
      if (c.gone) {
        close(c.fd);
        if (c.attached && !c.successor) Log()->info("proxy detached");
        continue;
      }
      if (c.attached && !c.successor) ++attached;
      still.push_back(c);
    }
    if (attached != attached_.load()) Log()->info("attached={}", attached);
    clients.swap(still);
    attached_ = attached;

    if (AllHeld()) in_use_since_ = {};
    if (in_use_since_ != Clock::time_point{} && now - in_use_since_ >= options_.in_use_limit) {
      result = Unavailable(fmt::format(
          "cannot listen on port {}: in use by another process on this node (another "
          "ServiceCluster publishing the same port on this node, or a host service) for {} ms",
          fmt::join(in_use_ports_, ","), options_.in_use_limit.count()));
      Log()->error("{}", result.error().message);
      break;
    }

    // Lazy binding with a grace: a successor's connection does not count,
    // its own copies keep the kernel sockets open.
    if (attached > 0 || !AnyHeld()) {
      grace_deadline = kNever;
    } else if (grace_deadline == kNever) {
      grace_deadline = now + options_.detach_grace;
      if (options_.detach_grace.count() > 0) {
        Log()->info("no proxy attached: closing the ports unless one attaches within grace_ms={}",
                    options_.detach_grace.count());
      }
    }
    if (now >= grace_deadline) {
      CloseListeners("no proxy attached");
      grace_deadline = kNever;
    }

    if (stopping) {
      if (successor_seen_ && !PathIsOurs()) {
        Log()->info("a successor took over: exiting");
        break;
      }
      if (attached == 0 && !AnyHeld()) {
        Log()->info("stopping with no socket to hand over: exiting");
        break;
      }
      if (now >= stop_deadline) {
        Log()->info("no successor took over within the linger: exiting linger_ms={}",
                    options_.linger.count());
        break;
      }
    }
  }
  for (const auto& c : clients) close(c.fd);
  // Proxies connecting from now on are refused at once and retry, instead
  // of waiting in the backlog of a holder that no longer answers.
  close(unix_fd_);
  unix_fd_ = -1;
  attached_ = 0;
  CloseListeners(result.ok() ? "stopped" : "failed");
  return result;
}

void ListenerHolder::Stop() {
  if (wake_[1] >= 0) {
    const char b = 1;
    (void)!write(wake_[1], &b, 1);
  }
}

}  // namespace sg::agent
