#include "operator/agent/listener_link.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace sg::agent {
namespace {

using Clock = std::chrono::steady_clock;

// How long a holder that accepted the connection may take to answer.
constexpr std::chrono::seconds kAnswerWait{5};

std::string Ports(const std::vector<InheritedListener>& listeners) {
  std::string out;
  for (const auto& l : listeners) out += (out.empty() ? "" : ",") + std::to_string(l.port);
  return out;
}

// The sockets a holder answers with, made non-blocking: nginx needs
// non-blocking listeners (see listener_holder.cc), and a holder of another
// build might not have set it. Unavailable when the holder closed the
// connection (it cannot bind yet: retry).
Result<std::vector<InheritedListener>> Receive(int conn) {
  auto message = ReadMessage(conn, kAnswerWait);
  if (!message.ok()) return Unavailable("the listener holder did not answer");
  if (message->closed) return Unavailable("the listener holder closed the connection");
  auto listeners = ParseListeners(std::move(*message));
  if (!listeners.ok()) {
    return InvalidArgument("unexpected answer from the listener holder: " +
                           listeners.error().message);
  }
  for (const auto& l : *listeners) {
    const int flags = fcntl(l.fd, F_GETFL);
    if (flags >= 0 && !(flags & O_NONBLOCK)) fcntl(l.fd, F_SETFL, flags | O_NONBLOCK);
  }
  return listeners;
}

// A connected socket to `path`, or why not.
Result<int> Connect(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return InvalidArgument("listener socket path too long: \"" + path + "\"");
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  const int conn = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (conn < 0) return Internal(std::string("socket: ") + strerror(errno));
  if (connect(conn, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const Error e = Unavailable(path + ": " + strerror(errno));
    close(conn);
    return e;
  }
  return conn;
}

}  // namespace

ListenerLink::~ListenerLink() {
  CloseAll(listeners_);
  close(conn_);
}

std::vector<int> ListenerLink::Fds() const {
  std::vector<int> fds;
  for (const auto& l : listeners_) fds.push_back(l.fd);
  return fds;
}

Result<std::unique_ptr<ListenerLink>> ListenerLink::Attach(const std::string& socket_path,
                                                           std::chrono::milliseconds wait) {
  const auto deadline = Clock::now() + wait;
  std::string last = "not tried";
  for (;;) {
    auto conn = Connect(socket_path);
    if (!conn.ok() && conn.error().Is(ErrorCode::kInvalidArgument)) return conn.error();
    if (conn.ok()) {
      auto listeners = Receive(*conn);
      if (listeners.ok()) {
        return std::unique_ptr<ListenerLink>(
            new ListenerLink(socket_path, *conn, std::move(*listeners)));
      }
      close(*conn);
      // A holder that cannot bind (yet) closes the connection: retry.
      if (!listeners.error().Is(ErrorCode::kUnavailable)) return listeners.error();
      last = listeners.error().message;
    } else {
      last = conn.error().message;
    }
    if (Clock::now() >= deadline) {
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

Status ListenerLink::Reattach(std::chrono::milliseconds wait, const std::atomic<bool>* cancel) {
  const auto deadline = Clock::now() + wait;
  std::string last = "not tried";
  for (;;) {
    if (cancel && cancel->load()) return Unavailable("re-attaching was cancelled");
    auto conn = Connect(socket_path_);
    if (!conn.ok() && conn.error().Is(ErrorCode::kInvalidArgument)) return conn.error();
    if (conn.ok()) {
      // Offered before the holder answers: one that cannot bind a port
      // waits for an offer before it answers.
      (void)SendListeners(*conn, listeners_);
      auto theirs = Receive(*conn);
      if (theirs.ok()) {
        bool same = theirs->size() == listeners_.size();
        bool same_ports = same;
        for (size_t i = 0; same && i < listeners_.size(); ++i) {
          same_ports = same_ports && (*theirs)[i].port == listeners_[i].port;
          same = same_ports && SocketInode((*theirs)[i].fd) == SocketInode(listeners_[i].fd);
        }
        const std::string their_ports = Ports(*theirs);
        CloseAll(*theirs);
        if (same) {
          close(conn_);
          conn_ = *conn;
          return OkStatus();
        }
        close(*conn);
        return Conflict(same_ports ? "the listener holder bound ports " + their_ports +
                                         " anew instead of taking this proxy's sockets"
                                   : "the listener holder holds ports " + their_ports +
                                         ", this proxy has " + Ports(listeners_));
      }
      close(*conn);
      if (!theirs.error().Is(ErrorCode::kUnavailable)) return theirs.error();
      last = theirs.error().message;
    } else {
      last = conn.error().message;
    }
    if (Clock::now() >= deadline) {
      return Unavailable("no listener holder took this proxy back within " +
                         std::to_string(wait.count()) + " ms (" + last + ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace sg::agent
