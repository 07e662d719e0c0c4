#include "operator/agent/listener_holder.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "operator/runtime/logging.h"

namespace sg::agent {
namespace {

const std::shared_ptr<spdlog::logger>& Log() {
  static const auto logger = runtime::NamedLogger("listener");
  return logger;
}

std::string Errno(const char* what) { return std::string(what) + ": " + strerror(errno); }

int BoundPort(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof(addr);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  return ntohs(addr.sin_port);
}

}  // namespace

ListenerHolder::ListenerHolder(ListenerHolderOptions options) : options_(std::move(options)) {}

ListenerHolder::~ListenerHolder() {
  CloseListeners();
  if (unix_fd_ >= 0) {
    close(unix_fd_);
    unlink(options_.socket_path.c_str());
  }
  for (int fd : wake_) {
    if (fd >= 0) close(fd);
  }
}

Status ListenerHolder::Open() {
  if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) return Internal(Errno("pipe"));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (options_.socket_path.empty() || options_.socket_path.size() >= sizeof(addr.sun_path)) {
    return InvalidArgument("socket path must be 1-" + std::to_string(sizeof(addr.sun_path) - 1) +
                           " characters: \"" + options_.socket_path + "\"");
  }
  std::memcpy(addr.sun_path, options_.socket_path.c_str(), options_.socket_path.size());
  unix_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (unix_fd_ < 0) return Internal(Errno("socket"));
  // A file left by a holder that died: nothing can be listening on it (one
  // holder per node and volume), so it is replaced.
  unlink(options_.socket_path.c_str());
  if (bind(unix_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return Unavailable(Errno(("bind " + options_.socket_path).c_str()));
  }
  chmod(options_.socket_path.c_str(), 0600);
  if (listen(unix_fd_, 64) != 0) return Internal(Errno("listen"));
  Log()->info("holding ports={} socket={}", fmt::join(options_.ports, ","), options_.socket_path);
  return OkStatus();
}

Status ListenerHolder::BindAll() {
  std::vector<int> fds, ports;
  for (int port : options_.ports) {
    // Non-blocking, as nginx's own listeners are: several workers are woken
    // for one connection, and a worker whose accept() lost the race on a
    // blocking socket would hang in accept() with its other clients waiting.
    // The flag belongs to the open socket, so every proxy's copy shares it.
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return Internal(Errno("socket"));
    fds.push_back(fd);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, options_.bind_address.c_str(), &addr.sin_addr) != 1) {
      for (int f : fds) close(f);
      return InvalidArgument("bind address \"" + options_.bind_address + "\" is not IPv4");
    }
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        listen(fd, options_.backlog) != 0) {
      Error e = Unavailable(Errno(("bind port " + std::to_string(port)).c_str()));
      for (int f : fds) close(f);
      return e;
    }
    ports.push_back(BoundPort(fd));
  }
  std::lock_guard<std::mutex> lock(mu_);
  listeners_ = std::move(fds);
  ports_ = std::move(ports);
  Log()->info("listening ports={}", fmt::join(ports_, ","));
  return OkStatus();
}

void ListenerHolder::CloseListeners() {
  std::lock_guard<std::mutex> lock(mu_);
  for (int fd : listeners_) close(fd);
  if (!listeners_.empty()) Log()->info("no proxy attached: ports closed");
  listeners_.clear();
  ports_.clear();
}

std::vector<int> ListenerHolder::HeldPorts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ports_;
}

Status ListenerHolder::Hand(int client) {
  std::vector<int> fds, ports;
  {
    std::lock_guard<std::mutex> lock(mu_);
    fds = listeners_;
    ports = ports_;
  }
  std::string text = std::string(kListenerProtocol) + " ";
  for (size_t i = 0; i < ports.size(); ++i) text += (i ? "," : "") + std::to_string(ports[i]);
  text += "\n";
  iovec iov{text.data(), text.size()};
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
  std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  if (sendmsg(client, &msg, MSG_NOSIGNAL) != static_cast<ssize_t>(text.size())) {
    return Unavailable(Errno("sendmsg"));
  }
  return OkStatus();
}

Status ListenerHolder::Run() {
  if (unix_fd_ < 0) return Internal("Open() was not called");
  std::vector<int> clients;
  for (;;) {
    std::vector<pollfd> fds{{wake_[0], POLLIN, 0}, {unix_fd_, POLLIN, 0}};
    for (int c : clients) fds.push_back({c, POLLIN, 0});
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return Internal(Errno("poll"));
    }
    if (fds[0].revents) break;
    // Clients never send: readable means closed (or a protocol violation,
    // treated the same way).
    std::vector<int> still;
    for (size_t i = 2; i < fds.size(); ++i) {
      if (fds[i].revents == 0) {
        still.push_back(fds[i].fd);
      } else {
        close(fds[i].fd);
      }
    }
    if (still.size() != clients.size()) Log()->info("proxy detached attached={}", still.size());
    clients.swap(still);
    if (fds[1].revents & POLLIN) {
      int c = accept4(unix_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) {
        // Sockets still held (even with no proxy left this round) are handed
        // on as they are: a replacement keeps the same accept queue.
        Status st = HeldPorts().empty() ? BindAll() : OkStatus();
        if (st.ok()) st = Hand(c);
        if (st.ok()) {
          clients.push_back(c);
          Log()->info("proxy attached attached={}", clients.size());
        } else {
          // The proxy retries; e.g. a port still taken by an old process.
          Log()->warn("cannot hand the sockets to a proxy: {}", st.error().message);
          close(c);
        }
      }
    }
    attached_ = static_cast<int>(clients.size());
    if (clients.empty()) CloseListeners();
  }
  for (int c : clients) close(c);
  attached_ = 0;
  CloseListeners();
  return OkStatus();
}

void ListenerHolder::Stop() {
  if (wake_[1] >= 0) {
    const char b = 1;
    (void)!write(wake_[1], &b, 1);
  }
}

}  // namespace sg::agent
