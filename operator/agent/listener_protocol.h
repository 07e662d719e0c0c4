#pragma once
// The messages of the listening-socket handoff (listener_holder.h), shared by
// the holder, its successor and the proxies' links.
//
// Every message is one line sent in one sendmsg(), optionally with
// descriptors (SCM_RIGHTS):
//   holder -> client   "SGLISTEN1 <port>[,<port>...]\n" + one descriptor per
//                      port, in the same order: the listening sockets. Sent
//                      once, on connect.
//   proxy -> holder    the same message, an offer: a proxy re-attaching after
//                      its holder went away hands its sockets to the new
//                      holder, which adopts those it cannot bind (they are
//                      still open in the proxy, so the port is in use).
//   successor -> old   "SGTAKEOVER1\n": a starting holder received the old
//                      holder's sockets and is about to take the socket path.
// A holder of an older version never reads what clients send (readable means
// closed to it), so it drops a client that offers; the client then sees its
// link closed.
//
// Thread-safety: free functions on descriptors the caller owns.

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "operator/common/result.h"

namespace sg::agent {

inline constexpr const char* kListenerProtocol = "SGLISTEN1";
inline constexpr const char* kTakeoverMessage = "SGTAKEOVER1";

struct InheritedListener {
  int port = 0;
  int fd = -1;
};

// One message as read: its text and the descriptors that came with it
// (close-on-exec, owned by the caller). `closed`: the peer closed the
// connection instead.
struct ListenerMessage {
  bool closed = false;
  std::string text;
  std::vector<int> fds;
};

// Sends "SGLISTEN1 <ports>\n" with the descriptors. Unavailable when the
// peer is gone.
Status SendListeners(int conn, const std::vector<InheritedListener>& listeners);
// Sends one line without descriptors ("\n" is appended).
Status SendLine(int conn, const std::string& line);

// Waits up to `timeout` for one message. Unavailable on timeout or a read
// error; a closed connection is a message with `closed` set.
Result<ListenerMessage> ReadMessage(int conn, std::chrono::milliseconds timeout);

// The sockets of a "SGLISTEN1" message. On InvalidArgument (another message,
// ports that do not match the descriptors) the descriptors are closed.
Result<std::vector<InheritedListener>> ParseListeners(ListenerMessage message);

// Closes every descriptor of `listeners`.
void CloseAll(const std::vector<InheritedListener>& listeners);

// The socket's inode: equal for two descriptors of one kernel socket.
ino_t SocketInode(int fd);

// Whether `fd` is a listening TCP socket on `port` in this process's network
// namespace: only such a socket receives the connections of this node's
// port. A socket received from a holder or proxy in another namespace (a
// container of an older version that published the port through Docker)
// would accept nothing once that container is gone. "" when it is, else why
// not.
std::string WhyNotListeningHere(int fd, int port);

}  // namespace sg::agent
