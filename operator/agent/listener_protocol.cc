#include "operator/agent/listener_protocol.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace sg::agent {
namespace {

constexpr size_t kMaxFds = 16;

Status SendWithFds(int conn, const std::string& text, const std::vector<int>& fds) {
  iovec iov{const_cast<char*>(text.data()), text.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control;
  if (!fds.empty()) {
    control.resize(CMSG_SPACE(sizeof(int) * fds.size()));
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  }
  if (sendmsg(conn, &msg, MSG_NOSIGNAL) != static_cast<ssize_t>(text.size())) {
    return Unavailable(std::string("sendmsg: ") + strerror(errno));
  }
  return OkStatus();
}

}  // namespace

Status SendListeners(int conn, const std::vector<InheritedListener>& listeners) {
  std::string text = std::string(kListenerProtocol) + " ";
  std::vector<int> fds;
  for (size_t i = 0; i < listeners.size(); ++i) {
    text += (i ? "," : "") + std::to_string(listeners[i].port);
    fds.push_back(listeners[i].fd);
  }
  return SendWithFds(conn, text + "\n", fds);
}

Status SendLine(int conn, const std::string& line) { return SendWithFds(conn, line + "\n", {}); }

Result<ListenerMessage> ReadMessage(int conn, std::chrono::milliseconds timeout) {
  pollfd p{conn, POLLIN, 0};
  int ready;
  do {
    ready = poll(&p, 1, static_cast<int>(timeout.count()));
  } while (ready < 0 && errno == EINTR);
  if (ready <= 0) return Unavailable("no answer within " + std::to_string(timeout.count()) + " ms");
  char buf[256];
  iovec iov{buf, sizeof(buf) - 1};
  std::vector<char> control(CMSG_SPACE(sizeof(int) * kMaxFds));
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  const ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  ListenerMessage out;
  if (n == 0 || (n < 0 && errno == ECONNRESET)) {
    out.closed = true;
    return out;
  }
  if (n < 0) return Unavailable(std::string("recvmsg: ") + strerror(errno));
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const auto* data = reinterpret_cast<const int*>(CMSG_DATA(c));
    out.fds.insert(out.fds.end(), data, data + count);
  }
  out.text.assign(buf, static_cast<size_t>(n));
  if (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) {
    for (int fd : out.fds) close(fd);
    out.fds.clear();
    out.text = "(message truncated) " + out.text;
  }
  return out;
}

Result<std::vector<InheritedListener>> ParseListeners(ListenerMessage message) {
  auto fail = [&](std::string why) {
    for (int fd : message.fds) close(fd);
    return InvalidArgument(std::move(why));
  };
  const std::string& text = message.text;
  const std::string prefix = std::string(kListenerProtocol) + " ";
  if (message.closed) return fail("connection closed");
  if (text.rfind(prefix, 0) != 0 || text.back() != '\n') return fail("\"" + text + "\"");
  std::vector<int> ports;
  std::stringstream list(text.substr(prefix.size(), text.size() - prefix.size() - 1));
  for (std::string item; std::getline(list, item, ',');) {
    char* end = nullptr;
    const long port = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || port <= 0 || port > 65535) return fail("port " + item);
    ports.push_back(static_cast<int>(port));
  }
  if (ports.size() != message.fds.size() || ports.empty()) {
    return fail(std::to_string(ports.size()) + " ports but " + std::to_string(message.fds.size()) +
                " sockets");
  }
  std::vector<InheritedListener> out;
  for (size_t i = 0; i < ports.size(); ++i) out.push_back({ports[i], message.fds[i]});
  return out;
}

void CloseAll(const std::vector<InheritedListener>& listeners) {
  for (const auto& l : listeners) close(l.fd);
}

ino_t SocketInode(int fd) {
  struct stat st {};
  return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

std::string WhyNotListeningHere(int fd, int port) {
  int listening = 0;
  socklen_t len = sizeof(listening);
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) {
    return "not a listening socket";
  }
  sockaddr_in addr{};
  len = sizeof(addr);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      addr.sin_family != AF_INET) {
    return "not an IPv4 socket";
  }
  if (ntohs(addr.sin_port) != port) return "bound to port " + std::to_string(ntohs(addr.sin_port));
  // /proc/self/net/tcp lists the TCP sockets of this process's network
  // namespace, with their inodes (the tenth column) and states (0A: listen).
  const std::string inode = std::to_string(SocketInode(fd));
  std::ifstream tcp("/proc/self/net/tcp");
  if (!tcp) return "cannot read /proc/self/net/tcp";
  std::string line;
  std::getline(tcp, line);  // header
  while (std::getline(tcp, line)) {
    std::istringstream fields(line);
    std::string f[10];
    for (auto& field : f) fields >> field;
    if (f[9] == inode) return f[3] == "0A" ? "" : "not listening in this network namespace";
  }
  return "not in this network namespace";
}

}  // namespace sg::agent
