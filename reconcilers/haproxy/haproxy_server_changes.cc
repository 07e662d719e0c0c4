#include "reconcilers/haproxy/haproxy_server_changes.h"

#include <algorithm>
#include <cstdlib>
#include <set>
#include <sstream>
#include <tuple>

#include "reconcilers/haproxy/haproxy_renderer.h"
#include "reconcilers/haproxy/haproxy_side_files.h"

namespace sg::haproxy {
namespace {

std::string_view Trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n";
  const size_t begin = s.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(kSpace) - begin + 1);
}

std::vector<std::string> Words(std::string_view s) {
  std::vector<std::string> out;
  std::istringstream in{std::string(s)};
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// One section of a configuration: its header ("backend api-v1") and its
// lines, with the `server` lines kept apart by name. Views into the text,
// which outlives them: the operator compares whole configurations on every
// pass, and copying every line would double the work.
struct Section {
  std::string_view header;
  std::vector<std::string_view> lines;                   // every other line, in order
  std::vector<std::string_view> server_order;            // server names, in order
  std::map<std::string_view, std::string_view> servers;  // name -> params
  bool duplicate_server = false;
};

std::vector<Section> Sections(std::string_view text) {
  std::vector<Section> out;
  out.emplace_back();  // what precedes the first header (comments)
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view raw = text.substr(begin, end - begin);
    begin = end + 1;
    const std::string_view line = Trim(raw);
    // Comments change nothing HAProxy does ("# no endpoints").
    if (line.empty() || (line.front() == '#' && !out.back().header.empty())) continue;
    if (raw.front() != ' ' && raw.front() != '\t' && line.front() != '#') {
      out.emplace_back();
      out.back().header = line;
      continue;
    }
    Section& s = out.back();
    if (line.rfind("server ", 0) == 0) {
      std::string_view rest = Trim(line.substr(7));
      const size_t space = rest.find_first_of(" \t");
      const std::string_view name = rest.substr(0, space);
      const std::string_view params =
          space == std::string_view::npos ? std::string_view() : Trim(rest.substr(space));
      if (!s.servers.emplace(name, params).second) s.duplicate_server = true;
      s.server_order.push_back(name);
      continue;
    }
    s.lines.push_back(line);
  }
  return out;
}

// Server keywords a dynamic server (`add server`) accepts, with whether each
// takes a value. A rendered server line with any other keyword is added by a
// reload instead (HAProxy 2.6 refuses `cookie`, for one).
const std::map<std::string, bool>& DynamicKeywords() {
  static const std::map<std::string, bool> k = {
      {"backup", false},       {"check", false}, {"send-proxy-v2", false}, {"error-limit", true},
      {"fall", true},          {"inter", true},  {"observe", true},        {"on-error", true},
      {"pool-max-conn", true}, {"rise", true},   {"weight", true},
  };
  return k;
}

bool AcceptedByAddServer(std::string_view params) {
  const auto words = Words(params);
  if (words.empty()) return false;
  for (size_t i = 1; i < words.size(); ++i) {
    const auto k = DynamicKeywords().find(words[i]);
    if (k == DynamicKeywords().end()) return false;
    if (k->second) ++i;
  }
  return true;
}

// The `weight` of a server line (1 when absent) and the line without it.
int WeightOf(std::string_view params, std::string* without) {
  const auto words = Words(params);
  int weight = 1;
  std::string rest;
  for (size_t i = 0; i < words.size(); ++i) {
    if (words[i] == "weight" && i + 1 < words.size()) {
      weight = std::atoi(words[i + 1].c_str());
      ++i;
      continue;
    }
    rest += (rest.empty() ? "" : " ") + words[i];
  }
  if (without) *without = rest;
  return weight;
}

bool HasWord(std::string_view params, const std::string& word) {
  const auto words = Words(params);
  return std::find(words.begin(), words.end(), word) != words.end();
}

// Sections by header ("backend api-v1"), built once per plan.
using SectionIndex = std::map<std::string_view, const Section*>;

// A server added at run time cannot track another one added at run time
// (HAProxy 2.6: "unable to use ... for tracking as it is a dynamic server"),
// and the server it tracks is new whenever the task is. It gets its own check
// instead, with the tracked server's check keywords: the same health, probed
// twice until the next reload brings the shared check back. Empty when the
// tracked server is not in `to`.
std::string WithOwnCheck(std::string_view params, const SectionIndex& to) {
  static const std::set<std::string> kCheckKeywords = {"check",   "inter",       "fall",    "rise",
                                                       "observe", "error-limit", "on-error"};
  const auto words = Words(params);
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (words[i] != "track" || i + 1 >= words.size()) {
      out += (out.empty() ? "" : " ") + words[i];
      continue;
    }
    const std::string& target = words[++i];
    const size_t slash = target.find('/');
    if (slash == std::string::npos) return {};
    const std::string header = "backend " + target.substr(0, slash);
    const auto tracked = to.find(header);
    if (tracked == to.end()) return {};
    const auto server = tracked->second->servers.find(target.substr(slash + 1));
    if (server == tracked->second->servers.end()) return {};
    const auto leader = Words(server->second);
    for (size_t j = 1; j < leader.size(); ++j) {
      if (!kCheckKeywords.count(leader[j])) {
        // Keywords the tracker has its own of (weight, pool-max-conn), with
        // their values.
        const auto k = DynamicKeywords().find(leader[j]);
        if (k != DynamicKeywords().end() && k->second) ++j;
        continue;
      }
      out += " " + leader[j];
      if (leader[j] != "check" && j + 1 < leader.size()) out += " " + leader[++j];
    }
  }
  return out;
}

bool IsBackend(const Section& s) { return s.header.rfind("backend ", 0) == 0; }

bool IsSpare(std::string_view backend) { return backend.rfind(kSpareBackendPrefix, 0) == 0; }

bool FileNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// `line` with every side-file name in it replaced by its kind.
std::string WithFileKinds(std::string_view line,
                          const std::set<std::string, std::less<>>& file_names) {
  std::string out;
  size_t i = 0;
  while (i < line.size()) {
    if (!FileNameChar(line[i])) {
      out.push_back(line[i++]);
      continue;
    }
    size_t end = i;
    while (end < line.size() && FileNameChar(line[end])) ++end;
    const std::string_view word = line.substr(i, end - i);
    if (file_names.count(word)) {
      out += SideFileKind(word);
    } else {
      out.append(word);
    }
    i = end;
  }
  return out;
}

// A server line's parameters with its health as its own check: a `track`
// replaced by the tracked server's check keywords (in `sections`).
std::string OwnHealth(std::string_view params, const SectionIndex& sections) {
  if (!HasWord(params, "track")) return std::string(params);
  return WithOwnCheck(params, sections);
}

// The server changes of one backend (`b` as it was, `a` as it will be; a
// new backend's `b` is empty), served by HAProxy's backend `served_as`,
// appended to *out; false when the runtime API cannot make them. The
// backends' other lines are the caller's to compare.
bool DiffServers(const Section& b, const Section& a, const std::string& served_as,
                 const SectionIndex& before, const SectionIndex& after, ServerChanges* out) {
  if (b.servers == a.servers) return true;
  // A name used twice would make the runtime API ambiguous.
  if (b.duplicate_server || a.duplicate_server) return false;
  for (const std::string_view name : a.server_order) {
    const std::string_view params = a.servers.at(name);
    const auto old = b.servers.find(name);
    if (old == b.servers.end()) {
      std::string added(params);
      if (HasWord(params, "track")) added = WithOwnCheck(params, after);
      if (!AcceptedByAddServer(added)) return false;
      out->added.push_back({served_as, std::string(name), std::move(added)});
      continue;
    }
    if (old->second == params) continue;
    std::string old_rest, new_rest;
    const int old_weight = WeightOf(OwnHealth(old->second, before), &old_rest);
    const int weight = WeightOf(OwnHealth(params, after), &new_rest);
    if (old_rest.empty() || old_rest != new_rest) return false;
    if (weight != old_weight) out->reweighted.push_back({served_as, std::string(name), weight});
  }
  for (const std::string_view name : b.server_order) {
    if (!a.servers.count(name)) {
      out->removed.push_back({served_as, std::string(name), std::string(b.servers.at(name))});
    }
  }
  return true;
}

std::string Qualified(const std::string& backend, const std::string& name) {
  return backend + "/" + name;
}

}  // namespace

std::vector<std::string> ServerChanges::Backends() const {
  std::set<std::string> out;
  for (const auto& a : added) out.insert(a.backend);
  for (const auto& r : removed) out.insert(r.backend);
  for (const auto& w : reweighted) out.insert(w.backend);
  return {out.begin(), out.end()};
}

namespace {
std::optional<RuntimeChanges> PlanChanges(std::string_view from, std::string_view to,
                                          const RuntimeNames* given);
}  // namespace

std::optional<ServerChanges> PlanServerChanges(std::string_view from, std::string_view to) {
  auto changes = PlanRuntimeChanges(from, to);
  if (!changes || !changes->maps.empty() || !changes->taken.empty() || !changes->retired.empty()) {
    return std::nullopt;
  }
  return std::move(changes->servers);
}

RuntimeNames LoadedNames(std::string_view loaded_text) {
  RuntimeNames names;
  if (auto files = SideFiles(loaded_text); files.ok()) names.files = FileNamesByKind(*files);
  return names;
}

void RuntimeChanges::ApplyTo(RuntimeNames* names) const {
  for (const auto& [backend, spare] : taken) names->backends[backend] = spare;
  for (const std::string& backend : retired) names->retired.insert(backend);
}

std::optional<RuntimeChanges> PlanRuntimeChanges(std::string_view from, std::string_view to) {
  return PlanChanges(from, to, nullptr);
}

std::optional<RuntimeChanges> PlanRuntimeChanges(std::string_view from, std::string_view to,
                                                 const RuntimeNames& names) {
  return PlanChanges(from, to, &names);
}

namespace {

// PlanRuntimeChanges; `given` null: HAProxy loaded `from` itself.
std::optional<RuntimeChanges> PlanChanges(std::string_view from, std::string_view to,
                                          const RuntimeNames* given) {
  const auto from_files = SideFiles(from);
  const auto to_files = SideFiles(to);
  if (!from_files.ok() || !to_files.ok()) return std::nullopt;
  RuntimeNames own;
  if (given == nullptr) own.files = FileNamesByKind(*from_files);
  const RuntimeNames& names = given == nullptr ? own : *given;
  std::set<std::string, std::less<>> file_names;
  for (const auto* files : {&*from_files, &*to_files}) {
    for (const SideFile& f : *files) file_names.insert(f.name);
  }
  const auto before = Sections(from);
  const auto after = Sections(to);
  // Everything but the backends must be the same, in the same order; the
  // maps they name are compared by kind (their names change with content).
  std::vector<const Section*> fixed_before, fixed_after;
  SectionIndex backends_before, backends_after;
  for (auto [sections, fixed, backends] : {std::tuple{&before, &fixed_before, &backends_before},
                                           std::tuple{&after, &fixed_after, &backends_after}}) {
    for (const Section& section : *sections) {
      if (IsBackend(section)) {
        if (!backends->emplace(section.header, &section).second) return std::nullopt;
      } else {
        fixed->push_back(&section);
      }
    }
  }
  if (fixed_before.size() != fixed_after.size()) return std::nullopt;
  for (size_t i = 0; i < fixed_before.size(); ++i) {
    const Section& b = *fixed_before[i];
    const Section& a = *fixed_after[i];
    if (b.header != a.header || b.servers != a.servers || b.lines.size() != a.lines.size()) {
      return std::nullopt;
    }
    for (size_t l = 0; l < b.lines.size(); ++l) {
      if (b.lines[l] != a.lines[l] &&
          WithFileKinds(b.lines[l], file_names) != WithFileKinds(a.lines[l], file_names)) {
        return std::nullopt;
      }
    }
  }

  RuntimeChanges changes;
  auto served_as = [&](std::string_view backend) {
    const auto alias = names.backends.find(std::string(backend));
    return alias == names.backends.end() ? std::string(backend) : alias->second;
  };
  for (const auto& [header, b] : backends_before) {
    const auto next = backends_after.find(header);
    if (next == backends_after.end()) {
      changes.retired.emplace_back(header.substr(8));
      continue;
    }
    if (b->lines != next->second->lines ||
        !DiffServers(*b, *next->second, served_as(header.substr(8)), backends_before,
                     backends_after, &changes.servers)) {
      return std::nullopt;
    }
  }
  // Spares in use: by routes added earlier, then by the new ones below.
  std::set<std::string> used;
  for (const auto& [backend, spare] : names.backends) used.insert(spare);
  const std::string spare_prefix = "backend " + std::string(kSpareBackendPrefix);
  for (const auto& [header, a] : backends_after) {
    if (backends_before.count(header)) continue;
    const std::string backend(header.substr(8));
    if (names.retired.count(backend) || IsSpare(backend)) return std::nullopt;
    const Section* spare = nullptr;
    for (auto it = backends_after.lower_bound(spare_prefix);
         it != backends_after.end() && IsSpare(it->first.substr(8)); ++it) {
      const Section* candidate = it->second;
      if (candidate->servers.empty() && candidate->lines == a->lines &&
          !used.count(std::string(it->first.substr(8))) && backends_before.count(it->first)) {
        spare = candidate;
        break;
      }
    }
    if (spare == nullptr) return std::nullopt;
    const std::string spare_name(spare->header.substr(8));
    used.insert(spare_name);
    changes.taken.emplace(backend, spare_name);
    if (!DiffServers(Section{}, *a, spare_name, backends_before, backends_after,
                     &changes.servers)) {
      return std::nullopt;
    }
  }
  std::map<std::string, std::string> aliases = names.backends;
  for (const auto& [backend, spare] : changes.taken) aliases[backend] = spare;
  auto maps = PlanMapEdits(*from_files, *to_files, names.files, aliases);
  if (!maps) return std::nullopt;
  changes.maps = std::move(*maps);
  return changes;
}

}  // namespace

std::vector<std::string> ServerChangeCommands(const ServerChanges& changes,
                                              const ServersState& current) {
  std::vector<std::string> out;
  // New servers first, so that a backend whose tasks are replaced is never
  // left without one.
  for (const auto& a : changes.added) {
    const std::string q = Qualified(a.backend, a.name);
    const auto backend = current.find(a.backend);
    if (backend != current.end() && backend->second.count(a.name)) {
      // Named after its address, so the same endpoint: back with its weight,
      // and up, as a reload would start it.
      out.push_back("set server " + q + " weight " + std::to_string(WeightOf(a.params, nullptr)));
      if (HasWord(a.params, "check")) out.push_back("set server " + q + " health up");
      out.push_back("set server " + q + " state ready");
      continue;
    }
    out.push_back("add server " + q + " " + a.params);
    if (HasWord(a.params, "check")) out.push_back("enable health " + q);
    // A dynamic server starts in maintenance.
    out.push_back("set server " + q + " state ready");
  }
  for (const auto& w : changes.reweighted) {
    out.push_back("set server " + Qualified(w.backend, w.name) + " weight " +
                  std::to_string(w.weight));
  }
  for (const auto& r : changes.removed) {
    const std::string q = Qualified(r.backend, r.name);
    out.push_back("set server " + q + " state maint");
    out.push_back("del server " + q);
  }
  return out;
}

bool ServerCommandSucceeded(std::string_view command, std::string_view answer) {
  answer = Trim(answer);
  while (!answer.empty() && (answer.back() == '\n' || answer.back() == '\r')) {
    answer.remove_suffix(1);
    answer = Trim(answer);
  }
  if (command.rfind("add server ", 0) == 0) {
    return answer.find("New server registered.") != std::string_view::npos;
  }
  if (command.rfind("del server ", 0) == 0) {
    // A server another one tracks (`track`) cannot be deleted either; it
    // stays in maintenance until the next reload.
    return answer.find("Server deleted.") != std::string_view::npos ||
           answer.find("still has connections") != std::string_view::npos ||
           answer.find("other configuration elements pointing to it") != std::string_view::npos;
  }
  // `set server` and `enable health` answer nothing when they succeed.
  return answer.empty();
}

ServersState ParseServersState(std::string_view text) {
  // 1
  // # be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight ...
  // 3 api-v1 1 10.0.2.5:8080 10.0.2.5 2 0 1 1 ...
  ServersState out;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const auto f = Words(line);
    if (f.size() < 8) continue;
    ServerState s;
    s.operational = std::atoi(f[5].c_str());
    s.admin = std::atoi(f[6].c_str());
    s.weight = std::atoi(f[7].c_str());
    out[f[1]][f[3]] = s;
  }
  return out;
}

std::string CheckServerChanges(const ServerChanges& changes, const ServersState& state) {
  // Forced, inherited, configured and resolution maintenance.
  constexpr int kMaintenance = 0x01 | 0x02 | 0x04 | 0x40;
  auto find = [&](const std::string& backend, const std::string& name) -> const ServerState* {
    const auto b = state.find(backend);
    if (b == state.end()) return nullptr;
    const auto s = b->second.find(name);
    return s == b->second.end() ? nullptr : &s->second;
  };
  std::string why;
  auto note = [&](const std::string& s) { why += (why.empty() ? "" : "; ") + s; };
  for (const auto& a : changes.added) {
    const ServerState* s = find(a.backend, a.name);
    if (!s) {
      note(Qualified(a.backend, a.name) + " is missing");
    } else if (s->admin & kMaintenance) {
      note(Qualified(a.backend, a.name) + " is in maintenance (admin state " +
           std::to_string(s->admin) + ")");
    }
  }
  for (const auto& r : changes.removed) {
    const ServerState* s = find(r.backend, r.name);
    if (s && !(s->admin & 0x01)) note(Qualified(r.backend, r.name) + " still takes requests");
  }
  for (const auto& w : changes.reweighted) {
    const ServerState* s = find(w.backend, w.name);
    if (!s) {
      note(Qualified(w.backend, w.name) + " is missing");
    } else if (s->weight != w.weight) {
      note(Qualified(w.backend, w.name) + " has weight " + std::to_string(s->weight) + ", not " +
           std::to_string(w.weight));
    }
  }
  return why;
}

}  // namespace sg::haproxy
