#pragma once
// Which configuration changes HAProxy can take at run time, without a
// reload: a pure comparison of the running configuration's text with the
// next one.
//
// Endpoint changes are the most frequent change an ingress sees (every task
// started, stopped or rolled), and each would otherwise cost a reload. The
// renderer names each server after its address and writes one `server` line
// per endpoint, so an endpoint change shows up as added and removed server
// lines in a backend, and a weight change as a changed `weight` parameter.
// Comments inside sections are ignored: they change nothing HAProxy does.
// Those are applied through the runtime API (`add server`, `del server`,
// `set server ... weight`) and checked against `show servers state`. So are
// plain routes that come and go (PlanRuntimeChanges below: map entries, and
// a new route's servers in a spare backend). Anything else (a changed
// timeout, a front-end rule, a server parameter a dynamic server cannot
// take, such as `cookie`) needs a reload, and the planners say so by
// returning nothing. A server that tracks another one's health (`track`) is
// added with the tracked server's own check keywords instead: HAProxy 2.6
// cannot track a server added at run time.
//
// Pure functions; thread-safe.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "reconcilers/haproxy/haproxy_map_changes.h"

namespace sg::haproxy {

struct ServerLine {
  std::string backend;
  std::string name;
  std::string params;  // what follows the name: address and keywords
};

struct ServerWeight {
  std::string backend;
  std::string name;
  int weight = 1;
};

struct ServerChanges {
  std::vector<ServerLine> added;
  std::vector<ServerLine> removed;  // params as they were
  std::vector<ServerWeight> reweighted;

  bool empty() const { return added.empty() && removed.empty() && reweighted.empty(); }
  // The backends whose servers change, sorted and unique.
  std::vector<std::string> Backends() const;
};

// The server changes that turn `from` into `to`, or nothing when the two
// differ in anything else (PlanRuntimeChanges with only server changes).
std::optional<ServerChanges> PlanServerChanges(std::string_view from, std::string_view to);

// What the running HAProxy calls things where that differs from the text it
// runs. Maps are known by the names of the text it last loaded (a name
// carries a hash of the content, which runtime edits change), and backends
// of routes added at run time by the spare backend serving them
// (RenderOptions::spare_backends). Reset by every start and reload.
struct RuntimeNames {
  std::map<std::string, std::string> files;     // kind ("sg-hosts.map") -> loaded name
  std::map<std::string, std::string> backends;  // backend of the text -> spare serving it
  // Backends gone from the text but still loaded (nothing routes to them);
  // one coming back needs a reload, which knows what it holds.
  std::set<std::string> retired;
};

// The names of a text as HAProxy loads it: its own files, no aliases.
RuntimeNames LoadedNames(std::string_view loaded_text);

struct RuntimeChanges {
  ServerChanges servers;                     // backends as HAProxy names them
  std::vector<MapEdit> maps;                 // files as HAProxy names them
  std::map<std::string, std::string> taken;  // new backend -> the spare serving it
  std::vector<std::string> retired;          // backends the text no longer has

  bool empty() const { return servers.empty() && maps.empty() && taken.empty() && retired.empty(); }
  // The names once these changes are made.
  void ApplyTo(RuntimeNames* names) const;
};

// The runtime changes that turn `from` (the text HAProxy runs, as `names`
// say it knows it) into `to`, or nothing when the two differ in anything the
// runtime API cannot change. Beside server changes these are: entries of the
// routing maps and lists; a backend removed (it stays loaded, unreachable);
// and a new backend that has the settings of a free spare backend, whose
// servers then go into that spare. Everything else (the front-end's rules, a
// backend's settings, a new backend of another shape, or no free spare) is a
// reload. A server whose health moves between its own check and another's
// (`track`), with the same check settings, is left as it is.
std::optional<RuntimeChanges> PlanRuntimeChanges(std::string_view from, std::string_view to,
                                                 const RuntimeNames& names);
// The same for an HAProxy that loaded `from` itself (LoadedNames(from)),
// reading `from`'s side files once.
std::optional<RuntimeChanges> PlanRuntimeChanges(std::string_view from, std::string_view to);

// One server as `show servers state` reports it.
struct ServerState {
  int operational = 0;  // srv_op_state: 0 stopped, 1 starting, 2 running, 3 stopping
  int admin = 0;        // srv_admin_state bits; 0x01 forced maintenance
  int weight = 0;       // srv_uweight
};
// backend -> server name -> state
using ServersState = std::map<std::string, std::map<std::string, ServerState>>;
// Parses `show servers state [backend]`.
ServersState ParseServersState(std::string_view text);

// The runtime API commands for `changes`, in order, given the servers the
// worker has now. A removed server goes to maintenance first (no new
// requests; requests in flight finish) and is then deleted; an added one is
// registered, its health check enabled when it has one, and made ready. A
// server that could not be deleted while it still had connections is still
// there, in maintenance: when it is added again it is brought back instead.
std::vector<std::string> ServerChangeCommands(const ServerChanges& changes,
                                              const ServersState& current = {});

// Whether an answer of the runtime API to one of those commands means
// success. `del server` of a server that still has connections fails, which
// is fine: it stays in maintenance and receives nothing.
bool ServerCommandSucceeded(std::string_view command, std::string_view answer);

// Empty when `state` shows `changes` applied: every added server present and
// out of maintenance, every removed one gone or in maintenance, every new
// weight in place. Otherwise what differs.
std::string CheckServerChanges(const ServerChanges& changes, const ServersState& state);

}  // namespace sg::haproxy
