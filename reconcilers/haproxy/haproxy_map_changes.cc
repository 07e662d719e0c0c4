#include "reconcilers/haproxy/haproxy_map_changes.h"

#include <algorithm>
#include <set>

namespace sg::haproxy {
namespace {

// Where each kind sits in the front-end's lookup chain (host -> context root
// -> backend; the lists are consulted once a location is known). Additions
// go in rising rank, removals in falling rank.
const std::map<std::string, int, std::less<>>& Ranks() {
  static const std::map<std::string, int, std::less<>> ranks = {
      {"sg-websocket.lst", 0}, {"sg-https.lst", 0}, {"sg-backends.map", 1},
      {"sg-paths.map", 2},     {"sg-hosts.map", 3}, {"sg-tls-hosts.map", 3},
  };
  return ranks;
}

// The file holding backend names as values.
constexpr std::string_view kBackendsKind = "sg-backends.map";

bool IsList(std::string_view kind) {
  return kind.size() > 4 && kind.substr(kind.size() - 4) == ".lst";
}

std::string_view Trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r";
  const size_t begin = s.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(kSpace) - begin + 1);
}

// Calls fn(line) for each line of `text`, trimmed.
template <class Fn>
void ForEachLine(std::string_view text, Fn fn) {
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    fn(Trim(text.substr(begin, end - begin)));
    begin = end + 1;
  }
}

// "key value" -> (key, value); the value is empty when there is none.
std::pair<std::string_view, std::string_view> KeyAndValue(std::string_view line) {
  const size_t space = line.find_first_of(" \t");
  if (space == std::string_view::npos) return {line, {}};
  return {line.substr(0, space), Trim(line.substr(space))};
}

// Key -> value of a map or list file, in the file's order; nothing when a
// key appears twice (which entry HAProxy returns would then depend on order,
// which the runtime API does not keep).
std::optional<std::vector<std::pair<std::string_view, std::string_view>>> Entries(
    std::string_view content) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  std::set<std::string_view> keys;
  bool twice = false;
  ForEachLine(content, [&](std::string_view line) {
    if (line.empty() || line.front() == '#') return;
    const auto entry = KeyAndValue(line);
    twice = twice || !keys.insert(entry.first).second;
    out.push_back(entry);
  });
  if (twice) return std::nullopt;
  return out;
}

}  // namespace

std::string SideFileKind(std::string_view name) {
  const size_t last = name.rfind('.');
  if (last == std::string_view::npos || last == 0) return std::string(name);
  const size_t middle = name.rfind('.', last - 1);
  if (middle == std::string_view::npos) return std::string(name);
  const std::string_view hash = name.substr(middle + 1, last - middle - 1);
  const bool hex = !hash.empty() && std::all_of(hash.begin(), hash.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
  if (!hex) return std::string(name);
  return std::string(name.substr(0, middle)) + std::string(name.substr(last));
}

std::map<std::string, std::string> FileNamesByKind(const std::vector<SideFile>& files) {
  std::map<std::string, std::string> out;
  for (const SideFile& f : files) out.emplace(SideFileKind(f.name), f.name);
  return out;
}

std::optional<std::vector<MapEdit>> PlanMapEdits(
    const std::vector<SideFile>& from, const std::vector<SideFile>& to,
    const std::map<std::string, std::string>& loaded,
    const std::map<std::string, std::string>& backend_alias) {
  std::map<std::string, const SideFile*> before, after;
  for (const SideFile& f : from) {
    if (!before.emplace(SideFileKind(f.name), &f).second) return std::nullopt;
  }
  for (const SideFile& f : to) {
    if (!after.emplace(SideFileKind(f.name), &f).second) return std::nullopt;
  }
  if (before.size() != after.size()) return std::nullopt;
  struct Ranked {
    int rank;
    MapEdit edit;
  };
  std::vector<Ranked> adds, dels;
  for (const auto& [kind, old_file] : before) {
    const auto next = after.find(kind);
    const auto rank = Ranks().find(kind);
    if (next == after.end() || rank == Ranks().end()) return std::nullopt;
    if (old_file->content == next->second->content) continue;
    const auto name = loaded.find(kind);
    if (name == loaded.end()) return std::nullopt;
    const auto old_entries = Entries(old_file->content);
    const auto new_entries = Entries(next->second->content);
    if (!old_entries || !new_entries) return std::nullopt;
    const bool list = IsList(kind);
    auto value_of = [&](std::string_view v) {
      if (kind != kBackendsKind) return std::string(v);
      const auto alias = backend_alias.find(std::string(v));
      return alias == backend_alias.end() ? std::string(v) : alias->second;
    };
    std::map<std::string_view, std::string_view> old_map(old_entries->begin(), old_entries->end());
    std::set<std::string_view> new_keys;
    for (const auto& [key, value] : *new_entries) {
      new_keys.insert(key);
      const auto old = old_map.find(key);
      if (old != old_map.end() && old->second == value) continue;
      // A list's entry has no value, so it is either there or not.
      const MapEdit::Op op = old == old_map.end() ? MapEdit::Op::kAdd : MapEdit::Op::kSet;
      adds.push_back(
          {rank->second, {op, list, name->second, std::string(key), list ? "" : value_of(value)}});
    }
    for (const auto& [key, value] : *old_entries) {
      if (new_keys.count(key)) continue;
      dels.push_back(
          {rank->second,
           {MapEdit::Op::kDel, list, name->second, std::string(key), list ? "" : value_of(value)}});
    }
  }
  std::stable_sort(adds.begin(), adds.end(),
                   [](const Ranked& a, const Ranked& b) { return a.rank < b.rank; });
  std::stable_sort(dels.begin(), dels.end(),
                   [](const Ranked& a, const Ranked& b) { return a.rank > b.rank; });
  std::vector<MapEdit> out;
  out.reserve(adds.size() + dels.size());
  for (Ranked& r : adds) out.push_back(std::move(r.edit));
  for (Ranked& r : dels) out.push_back(std::move(r.edit));
  return out;
}

std::vector<std::string> MapEditCommands(const std::vector<MapEdit>& edits) {
  std::vector<std::string> out;
  out.reserve(edits.size());
  for (const MapEdit& e : edits) {
    const std::string what = e.list ? "acl " : "map ";
    switch (e.op) {
      case MapEdit::Op::kAdd:
        out.push_back("add " + what + e.file + " " + e.key + (e.list ? "" : " " + e.value));
        break;
      case MapEdit::Op::kSet:
        out.push_back("set " + what + e.file + " " + e.key + " " + e.value);
        break;
      case MapEdit::Op::kDel:
        out.push_back("del " + what + e.file + " " + e.key);
        break;
    }
  }
  return out;
}

bool MapCommandSucceeded(std::string_view answer) {
  return answer.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

std::map<std::string, std::string> ParseShowMap(std::string_view text) {
  std::map<std::string, std::string> out;
  ForEachLine(text, [&](std::string_view line) {
    // "0x55d0c3a0 key value": the entry's address, then what the file says.
    if (line.rfind("0x", 0) != 0) return;
    const size_t key_at = line.find(' ');
    if (key_at == std::string_view::npos) return;
    const auto [key, value] = KeyAndValue(Trim(line.substr(key_at)));
    out.emplace(key, value);
  });
  return out;
}

std::string CheckMapEdits(const std::vector<MapEdit>& edits,
                          const std::map<std::string, std::map<std::string, std::string>>& shown) {
  std::string why;
  auto note = [&](const std::string& s) { why += (why.empty() ? "" : "; ") + s; };
  for (const MapEdit& e : edits) {
    const auto file = shown.find(e.file);
    const std::map<std::string, std::string> none;
    const auto& entries = file == shown.end() ? none : file->second;
    const auto entry = entries.find(e.key);
    if (e.op == MapEdit::Op::kDel) {
      if (entry != entries.end()) note(e.file + " still has " + e.key);
    } else if (entry == entries.end()) {
      note(e.file + " has no " + e.key);
    } else if (!e.list && entry->second != e.value) {
      note(e.file + " maps " + e.key + " to " + entry->second + ", not " + e.value);
    }
  }
  return why;
}

}  // namespace sg::haproxy
