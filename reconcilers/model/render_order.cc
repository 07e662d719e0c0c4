#include "reconcilers/model/render_order.h"

#include <algorithm>
#include <tuple>
#include <utility>

namespace sg::model {

bool LocationLess(const Location* a, const Location* b) {
  if (std::tie(a->path, a->route) != std::tie(b->path, b->route)) {
    return std::tie(a->path, a->route) < std::tie(b->path, b->route);
  }
  return std::make_tuple(a->rank, a->path_match, a->match_field) <
         std::make_tuple(b->rank, b->path_match, b->match_field);
}

namespace {

// 0: exact, 1: prefix other than "/", 2: pattern, 3: the prefix "/".
int PathClass(const Location& l) {
  switch (l.path_match) {
    case PathMatch::kExact:
      return 0;
    case PathMatch::kRegex:
      return 2;
    case PathMatch::kPrefix:
      break;
  }
  return BasePath(l.path) == "/" ? 3 : 1;
}

}  // namespace

bool PrecedesMatch(const Location* a, const Location* b) {
  int ca = PathClass(*a), cb = PathClass(*b);
  if (ca != cb) return ca < cb;
  if (ca == 1) {
    size_t la = BasePath(a->path).size(), lb = BasePath(b->path).size();
    if (la != lb) return la > lb;
  }
  if (a->method.empty() != b->method.empty()) return !a->method.empty();
  if (a->headers.size() != b->headers.size()) return a->headers.size() > b->headers.size();
  if (a->query.size() != b->query.size()) return a->query.size() > b->query.size();
  if (a->rank != b->rank) return a->rank < b->rank;
  return LocationLess(a, b);
}

bool HasConditions(const Location& l) {
  return !l.headers.empty() || !l.query.empty() || !l.method.empty();
}

std::string JoinCertPath(const Settings& s, const std::string& file) {
  if (file.empty() || file[0] == '/' || s.certs_dir.empty()) return file;
  std::string p = s.certs_dir;
  if (p.back() != '/') p.push_back('/');
  return p + file;
}

std::string_view BasePath(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return path.empty() ? std::string_view("/") : path;
}

std::vector<std::string_view> SortedHosts(const std::vector<std::string>& hosts) {
  std::vector<std::string_view> out(hosts.begin(), hosts.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<const UpstreamServer*> SortedServers(const Upstream& u) {
  return SortedPtrs(u.servers, [](const UpstreamServer& a, const UpstreamServer& b) {
    return std::tie(a.address, a.weight) < std::tie(b.address, b.weight);
  });
}

std::string_view SortedServer::Route() const {
  std::string_view route;
  for (const Location* l : locations) {
    if (route.empty()) {
      route = l->route;
    } else if (l->route != route) {
      return "";
    }
  }
  return route;
}

SortedModel SortModel(const TrafficModel& m) {
  SortedModel out;
  out.servers.reserve(m.servers.size());
  for (const Server& s : m.servers) {
    SortedServer ss{&s, SortedHosts(s.hosts), {}};
    ss.locations.reserve(s.locations.size());
    for (const Location& l : s.locations) ss.locations.push_back(&l);
    std::sort(ss.locations.begin(), ss.locations.end(), LocationLess);
    out.servers.push_back(std::move(ss));
  }
  std::sort(out.servers.begin(), out.servers.end(),
            [](const SortedServer& a, const SortedServer& b) {
              if (a.hosts != b.hosts) return a.hosts < b.hosts;
              // Identical host lists are a builder bug; still keep the order stable.
              size_t n = std::min(a.locations.size(), b.locations.size());
              for (size_t i = 0; i < n; ++i) {
                if (LocationLess(a.locations[i], b.locations[i])) return true;
                if (LocationLess(b.locations[i], a.locations[i])) return false;
              }
              return a.locations.size() < b.locations.size();
            });
  out.upstreams =
      SortedPtrs(m.upstreams, [](const Upstream& a, const Upstream& b) { return a.name < b.name; });
  out.redirects = SortedPtrs(m.redirects, [](const HostRedirect& a, const HostRedirect& b) {
    return std::tie(a.from_host, a.route, a.to_url) < std::tie(b.from_host, b.route, b.to_url);
  });
  out.passthrough =
      SortedPtrs(m.passthrough, [](const PassthroughRoute& a, const PassthroughRoute& b) {
        return std::tie(a.route, a.upstream.name) < std::tie(b.route, b.upstream.name);
      });
  return out;
}

bool ServesPassthrough(const std::vector<const PassthroughRoute*>& routes) {
  for (const PassthroughRoute* p : routes) {
    if (!p->selection.split.empty() && !p->hosts.empty()) return true;
  }
  return false;
}

void SortUnique(std::vector<std::string>* v) {
  std::sort(v->begin(), v->end());
  v->erase(std::unique(v->begin(), v->end()), v->end());
}

std::string RuleField(const Location& l) {
  size_t end = l.match_field.find(".matches");
  if (end == std::string::npos) return "spec";
  return l.match_field.substr(0, end);
}

}  // namespace sg::model
