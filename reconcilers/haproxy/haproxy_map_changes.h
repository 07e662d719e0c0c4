#pragma once
// Changes of the routing maps and pattern lists (haproxy_side_files.h) that
// HAProxy takes at run time: `add map`, `set map`, `del map`, `add acl`,
// `del acl`, verified with `show map` and `show acl`.
//
// HAProxy addresses a map by the name it was loaded under, and a side file's
// name carries a hash of its content, so the running HAProxy knows each map
// by the name in the text it last loaded: edits are planned between two
// texts by kind ("sg-hosts.map": the name without its hash) and sent under
// the loaded name.
//
// The order of the edits keeps every request on a complete route: the
// front-end looks up host, then context root, then backend, so additions go
// from the end of that chain to its start (pattern lists, backends, context
// roots, hosts) and removals the other way round. A request sees the old
// route or the new one, never a host without its paths.
//
// Pure functions; thread-safe.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reconcilers/haproxy/haproxy_side_files.h"

namespace sg::haproxy {

struct MapEdit {
  enum class Op { kAdd, kSet, kDel };
  Op op = Op::kAdd;
  bool list = false;  // a pattern list (`acl`): no value
  std::string file;   // the name HAProxy loaded it under
  std::string key;
  std::string value;  // maps only; for kDel the value it had
};

// "sg-hosts.1a2b3c4d.map" -> "sg-hosts.map"; a name without a hash part is
// its own kind.
std::string SideFileKind(std::string_view name);

// Kind -> the file's name in `files`.
std::map<std::string, std::string> FileNamesByKind(const std::vector<SideFile>& files);

// The edits that turn the files `from` into `to`, file names taken from
// `loaded` (kind -> name), values of the backend map translated by
// `backend_alias` (a backend of the text -> the backend HAProxy serves it
// with; absent: itself). Nothing when the two do not hold the same kinds, a
// kind is unknown or not loaded, or a file names a key twice.
std::optional<std::vector<MapEdit>> PlanMapEdits(
    const std::vector<SideFile>& from, const std::vector<SideFile>& to,
    const std::map<std::string, std::string>& loaded,
    const std::map<std::string, std::string>& backend_alias);

// The runtime API commands, one per edit, in the order described above.
std::vector<std::string> MapEditCommands(const std::vector<MapEdit>& edits);

// Whether an answer to one of those commands means success (they answer
// nothing when they succeed).
bool MapCommandSucceeded(std::string_view answer);

// The entries `show map FILE` or `show acl FILE` lists: key -> value ("" for
// a pattern list). Lines are "0x55d0c3a0 key value".
std::map<std::string, std::string> ParseShowMap(std::string_view text);

// Empty when `shown` (file -> entries) holds every edit; otherwise what
// differs.
std::string CheckMapEdits(const std::vector<MapEdit>& edits,
                          const std::map<std::string, std::map<std::string, std::string>>& shown);

}  // namespace sg::haproxy
