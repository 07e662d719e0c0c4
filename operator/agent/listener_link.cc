#include "operator/agent/listener_link.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <thread>

#include "operator/agent/listener_holder.h"

namespace sg::agent {
namespace {

// Reads the holder's one message; the descriptors arrive close-on-exec.
Result<std::vector<InheritedListener>> Receive(int conn, std::chrono::milliseconds timeout) {
  pollfd p{conn, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) {
    return Unavailable("the listener holder did not answer");
  }
  char buf[256];
  iovec iov{buf, sizeof(buf) - 1};
  constexpr size_t kMaxFds = 16;
  std::vector<char> control(CMSG_SPACE(sizeof(int) * kMaxFds));
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  const ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
  if (n <= 0) return Unavailable("the listener holder closed the connection");
  std::vector<int> fds;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const auto* data = reinterpret_cast<const int*>(CMSG_DATA(c));
    fds.insert(fds.end(), data, data + count);
  }
  auto fail = [&](std::string why) {
    for (int fd : fds) close(fd);
    return InvalidArgument("unexpected answer from the listener holder: " + why);
  };
  if (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) return fail("message truncated");
  buf[n] = '\0';
  std::string text(buf, static_cast<size_t>(n));
  const std::string prefix = std::string(kListenerProtocol) + " ";
  if (text.rfind(prefix, 0) != 0 || text.back() != '\n') return fail("\"" + text + "\"");
  std::vector<int> ports;
  std::stringstream list(text.substr(prefix.size(), text.size() - prefix.size() - 1));
  for (std::string item; std::getline(list, item, ',');) {
    char* end = nullptr;
    const long port = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || port <= 0 || port > 65535) return fail("port " + item);
    ports.push_back(static_cast<int>(port));
  }
  if (ports.size() != fds.size() || ports.empty()) {
    return fail(std::to_string(ports.size()) + " ports but " + std::to_string(fds.size()) +
                " sockets");
  }
  std::vector<InheritedListener> out;
  for (size_t i = 0; i < ports.size(); ++i) {
    // nginx needs non-blocking listeners (see listener_holder.cc); a holder
    // of another build might not have set it.
    const int flags = fcntl(fds[i], F_GETFL);
    if (flags >= 0 && !(flags & O_NONBLOCK)) fcntl(fds[i], F_SETFL, flags | O_NONBLOCK);
    out.push_back({ports[i], fds[i]});
  }
  return out;
}

}  // namespace

ListenerLink::~ListenerLink() {
  for (const auto& l : listeners_) close(l.fd);
  close(conn_);
}

std::vector<int> ListenerLink::Fds() const {
  std::vector<int> fds;
  for (const auto& l : listeners_) fds.push_back(l.fd);
  return fds;
}

Result<std::unique_ptr<ListenerLink>> ListenerLink::Attach(const std::string& socket_path,
                                                           std::chrono::milliseconds wait) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.empty() || socket_path.size() >= sizeof(addr.sun_path)) {
    return InvalidArgument("listener socket path too long: \"" + socket_path + "\"");
  }
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size());
  const auto deadline = std::chrono::steady_clock::now() + wait;
  std::string last = "not tried";
  for (;;) {
    int conn = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (conn < 0) return Internal(std::string("socket: ") + strerror(errno));
    if (connect(conn, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
      auto listeners = Receive(conn, std::chrono::seconds(5));
      if (listeners.ok()) {
        return std::unique_ptr<ListenerLink>(new ListenerLink(conn, std::move(*listeners)));
      }
      close(conn);
      // A holder that cannot bind (yet) closes the connection: retry.
      if (!listeners.error().Is(ErrorCode::kUnavailable)) return listeners.error();
      last = listeners.error().message;
    } else {
      last = socket_path + ": " + strerror(errno);
      close(conn);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Unavailable("no listener holder answered within " + std::to_string(wait.count()) +
                         " ms (" + last + ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

bool ListenerLink::WaitLost(std::chrono::milliseconds timeout) {
  pollfd p{conn_, POLLIN, 0};
  const int r = poll(&p, 1, static_cast<int>(timeout.count()));
  if (r <= 0) return false;
  // The holder never sends after its first message: readable means closed.
  char c;
  return recv(conn_, &c, 1, MSG_DONTWAIT | MSG_PEEK) <= 0 || (p.revents & (POLLHUP | POLLERR));
}

}  // namespace sg::agent
