#include "operator/interlock/converter.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <sstream>
#include <tuple>
#include <utility>

#include "crds/grammar.h"
#include "operator/interlock/label_plan.h"

namespace sg::interlock {
namespace {

using namespace detail;  // NOLINT: the converter's own helpers

// ---- routes ------------------------------------------------------------------

struct Backend {
  std::string service;
  int port = 0;
  int weight = -1;  // -1: not written (default 100)
};

struct RouteDoc {
  std::string name;
  std::string cluster;
  std::vector<std::string> hosts;
  std::string path = "/";
  bool rewrite = false;
  std::vector<Backend> backends;
  std::optional<Tls> tls;
  std::string sticky;
  bool websocket = false;
  std::string backend_mode;
  std::vector<Redirect> redirects;
  std::vector<std::string> comments;
  std::vector<std::string> services;
  bool dropped = false;
};

std::string UniqueName(const std::string& base, const std::string& suffix,
                       std::set<std::string>& used) {
  for (int n = 1;; ++n) {
    std::string s = suffix + (n == 1 ? "" : "-" + std::to_string(n));
    std::string head = base.substr(0, kMaxName - s.size());
    while (!head.empty() && head.back() == '-') head.pop_back();
    std::string name = head.empty() ? "route" + s : head + s;
    if (used.insert(name).second) return name;
  }
}

void WriteComments(std::ostream& o, const std::vector<std::string>& comments) {
  for (const auto& c : comments) o << "# " << CommentText(c) << "\n";
}

void WriteRoute(std::ostream& o, const RouteDoc& r) {
  o << "---\n";
  WriteComments(o, r.comments);
  o << "apiVersion: swarmgate.io/v1alpha1\nkind: Route\nmetadata:\n  name: " << Scalar(r.name)
    << "\nspec:\n  serviceCluster: " << Scalar(r.cluster) << "\n  hosts:\n";
  for (const auto& h : r.hosts) o << "    - " << Scalar(h) << "\n";
  if (r.path != "/") o << "  path: " << Scalar(r.path) << "\n";
  if (r.rewrite) o << "  rewrite: /\n";
  o << "  backends:\n";
  for (const auto& b : r.backends) {
    o << "    - service: " << Scalar(b.service) << "\n      port: " << b.port << "\n";
    if (b.weight >= 0) o << "      weight: " << b.weight << "\n";
  }
  if (!r.backend_mode.empty()) o << "  backendMode: " << r.backend_mode << "\n";
  if (r.tls) {
    o << "  tls:\n    mode: " << r.tls->mode << "\n";
    if (!r.tls->secret.empty()) o << "    secret: " << Scalar(r.tls->secret) << "\n";
    if (r.tls->redirect_http) o << "    redirectHTTP: true\n";
  }
  if (!r.sticky.empty()) o << "  stickySession:\n    cookie: " << Scalar(r.sticky) << "\n";
  if (r.websocket) o << "  websocket: true\n";
  if (!r.redirects.empty()) {
    o << "  redirects:\n";
    for (const auto& rd : r.redirects) {
      o << "    - from: " << Scalar(rd.from) << "\n      to: " << Scalar(rd.to)
        << "\n      code: " << rd.code << "\n";
    }
  }
}

// Weights proportional to replica counts, 0-100, at least one > 0.
std::vector<int> ReplicaWeights(const std::vector<const Plan*>& members) {
  uint64_t total = 0;
  for (const Plan* p : members) total += p->replicas.value_or(1);
  std::vector<int> out;
  for (const Plan* p : members) {
    uint64_t r = p->replicas.value_or(1);
    if (total == 0) {
      out.push_back(std::max<int>(1, static_cast<int>(100 / members.size())));
      continue;
    }
    int w = static_cast<int>((200 * r + total) / (2 * total));  // rounded
    if (r > 0 && w == 0) w = 1;
    out.push_back(w);
  }
  return out;
}

struct ClusterDoc {
  std::string network;  // empty: sg-<name>
  std::vector<std::string> comments;
  std::vector<const Plan*> members;  // each service once, routes first
  const Plan* default_backend = nullptr;
};

// A cluster has one network. A com.docker.lb.network label names it (the
// first, by service name); without one, Interlock's proxy joined the networks
// of every service it routed to, so a network all of the cluster's services
// are on already keeps them reachable without updating any of them.
void ChooseNetwork(const std::string& cluster, ClusterDoc& c, std::vector<std::string>& warnings) {
  auto note = [&](const std::string& text) {
    c.comments.push_back(text);
    warnings.push_back(text);
  };
  const Plan* labelled = nullptr;
  for (const Plan* m : c.members) {
    if (m->network.empty()) continue;
    if (!labelled) {
      c.network = m->network;
      labelled = m;
    } else if (c.network != m->network) {
      std::string text = "com.docker.lb.network=" + Shown(m->network) +
                         " not mapped: ServiceCluster " + Shown(cluster) +
                         " already uses network " + Shown(c.network) + " (from " +
                         Shown(labelled->service) + "); one cluster has one network";
      c.comments.push_back("service " + Shown(m->service) + ": " + text);
      warnings.push_back("service " + Shown(m->service) + ": " + text);
    }
  }
  if (!labelled) {
    std::vector<std::string> shared;  // sorted
    for (const Plan* m : c.members) {
      std::vector<std::string> mine = m->attached_networks;
      std::sort(mine.begin(), mine.end());
      if (m == c.members.front()) {
        shared = mine;
        continue;
      }
      std::vector<std::string> both;
      std::set_intersection(shared.begin(), shared.end(), mine.begin(), mine.end(),
                            std::back_inserter(both));
      shared = both;
    }
    // Interlock's own network only when nothing else is shared.
    auto pick = std::find_if(shared.begin(), shared.end(),
                             [](const std::string& n) { return n != kInterlockNetwork; });
    if (pick == shared.end() && !shared.empty()) pick = shared.begin();
    bool all_known = std::all_of(c.members.begin(), c.members.end(),
                                 [](const Plan* m) { return !m->attached_networks.empty(); });
    if (pick != shared.end()) {
      c.network = *pick;
      note("network " + Shown(c.network) + " of ServiceCluster " + Shown(cluster) +
           ": no com.docker.lb.network label names one, and every backend of the cluster is "
           "attached to it already (Interlock's proxy joined the networks of the services it "
           "routed to)");
    } else if (c.members.size() > 1 && all_known) {
      note("no com.docker.lb.network label names a network and the backends of ServiceCluster " +
           Shown(cluster) +
           " share none (Interlock's proxy joined each of their networks; a ServiceCluster has "
           "one): it gets network sg-" +
           cluster + " and every backend must join it");
    }
  }
  if (c.network == kInterlockNetwork) {
    note("network " + Shown(c.network) +
         " is the overlay network UCP created for Interlock's own services: ServiceCluster " +
         Shown(cluster) +
         " uses it so that its backends stay reachable, but plan to move them to a network of "
         "their own");
  }
}

// `apart`: each cluster on the nodes labelled for it (see Convert).
void WriteCluster(std::ostream& o, const std::string& name, const ClusterDoc& c, bool apart) {
  std::string network = c.network.empty() ? "sg-" + name : c.network;
  o << "---\n";
  WriteComments(o, c.comments);
  std::vector<std::string> to_attach;
  for (const Plan* m : c.members) {
    const auto& on = m->attached_networks;
    if (std::find(on.begin(), on.end(), network) == on.end()) to_attach.push_back(m->service);
  }
  if (to_attach.empty()) {
    o << "# backends are attached to network " << network << " already\n";
  } else {
    o << "# backends must be attached to network " << network << " (skip those already on it):\n";
    for (const auto& s : to_attach) {
      o << "#   docker service update --network-add " << network << " " << s << "\n";
    }
  }
  o << "apiVersion: swarmgate.io/v1alpha1\nkind: ServiceCluster\nmetadata:\n  name: "
    << Scalar(name) << "\n";
  if (!c.network.empty() || apart || c.default_backend) o << "spec:\n";
  if (!c.network.empty()) o << "  network: " << Scalar(c.network) << "\n";
  if (c.default_backend) {
    o << "  defaultBackend:\n    service: " << Scalar(c.default_backend->service)
      << "\n    port: " << c.default_backend->port << "\n";
  }
  if (apart) {
    o << "  proxy:\n    constraints:\n      - " << Scalar("node.labels.swarmgate.cluster==" + name)
      << "\n";
  }
}

}  // namespace

std::string SanitizeName(const std::string& name) {
  std::string out;
  for (char ch : Lower(name)) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
    out += ok ? ch : '-';
  }
  // Collapse runs of '-' and trim them at both ends.
  std::string collapsed;
  for (char c : out) {
    if (c == '-' && (collapsed.empty() || collapsed.back() == '-')) continue;
    collapsed += c;
  }
  if (collapsed.size() > kMaxName) collapsed.resize(kMaxName);
  while (!collapsed.empty() && collapsed.back() == '-') collapsed.pop_back();
  return collapsed.empty() ? "route" : collapsed;
}

std::vector<std::string> NetworkNames(const std::vector<std::string>& targets,
                                      const std::map<std::string, std::string>& names_by_id) {
  std::vector<std::string> out;
  for (const std::string& target : targets) {
    std::string name;
    if (auto it = names_by_id.find(target); it != names_by_id.end()) {
      name = it->second;
    } else if (std::any_of(names_by_id.begin(), names_by_id.end(),
                           [&](const auto& kv) { return kv.second == target; })) {
      name = target;
    } else {
      return {};
    }
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  }
  return out;
}

ConvertResult Convert(const std::vector<ServiceInput>& services, const ConvertOptions& options) {
  ConvertResult result;
  std::vector<std::string> header;  // notes on services left out
  auto warn = [&](const std::string& who, const std::string& text) {
    result.warnings.push_back(who + ": " + text);
  };

  std::vector<const ServiceInput*> sorted;
  for (const auto& s : services) sorted.push_back(&s);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const ServiceInput* a, const ServiceInput* b) { return a->name < b->name; });

  std::vector<Plan> plans;
  std::set<std::string> seen_names;
  for (const ServiceInput* svc : sorted) {
    std::map<std::string, std::string> lb;
    for (const auto& [k, v] : svc->labels) {
      if (k.rfind(kPrefix, 0) == 0 && k.size() > std::string(kPrefix).size()) {
        lb[k.substr(std::string(kPrefix).size())] = v;
      }
    }
    if (lb.empty()) continue;
    ++result.services_seen;
    std::string who = "service " + Shown(svc->name);
    if (!seen_names.insert(svc->name).second) {
      header.push_back(who + " left out: it appears twice in the input");
      warn(who, "left out: it appears twice in the input");
      continue;
    }
    if (!lb.count("hosts") && !lb.count("default_backend")) {
      std::vector<std::string> keys;
      for (const auto& kv : lb) keys.push_back("com.docker.lb." + kv.first);
      std::string text = "left out: it has " + Join(keys, ", ") +
                         " but no com.docker.lb.hosts, so Interlock did not route to it";
      header.push_back(who + " " + text);
      warn(who, text);
      continue;
    }
    ParseOutcome parsed = ParseService(*svc, lb, options);
    if (!parsed.plan) {
      header.push_back(who + " left out: " + parsed.skip_reason);
      warn(who, "left out: " + parsed.skip_reason);
      continue;
    }
    for (auto& n : parsed.plan->notes) {
      warn(who, n);
      n = who + ": " + n;
    }
    plans.push_back(std::move(*parsed.plan));
  }

  // Group services that share cluster, hosts and path: Interlock's
  // replica-ratio canary becomes one Route with weighted backends.
  std::vector<std::vector<const Plan*>> groups;
  std::map<std::string, size_t> group_of;
  for (const Plan& p : plans) {
    if (p.hosts.empty()) continue;  // a default backend only
    std::vector<std::string> hosts = p.hosts;
    std::sort(hosts.begin(), hosts.end());
    std::string key = p.cluster + "\n" + p.path + "\n" + Join(hosts, ",");
    auto [it, inserted] = group_of.emplace(key, groups.size());
    if (inserted) groups.emplace_back();
    groups[it->second].push_back(&p);
  }

  std::set<std::string> used_names;
  std::vector<RouteDoc> mains;
  std::vector<std::vector<RouteDoc>> websockets(groups.size());
  for (size_t g = 0; g < groups.size(); ++g) {
    const auto& members = groups[g];
    const Plan& lead = *members.front();
    RouteDoc r;
    std::string base = SanitizeName(lead.service);
    r.name = UniqueName(base, "", used_names);
    r.cluster = lead.cluster;
    r.hosts = lead.hosts;
    r.path = lead.path;
    r.rewrite = lead.rewrite;
    r.tls = lead.tls;
    r.sticky = lead.sticky;
    r.backend_mode = lead.backend_mode;
    r.redirects = lead.redirects;
    for (const Plan* m : members) {
      r.comments.insert(r.comments.end(), m->notes.begin(), m->notes.end());
      r.services.push_back(m->service);
      r.backends.push_back({m->service, m->port, -1});
      if (m != &lead && m->RouteSettings() != lead.RouteSettings()) {
        std::string text = "shares hosts and path with " + Shown(lead.service) +
                           " but its TLS, sticky session, rewrite, backend mode, websocket or "
                           "redirect labels differ: the route uses those of " +
                           Shown(lead.service);
        r.comments.push_back("service " + Shown(m->service) + ": " + text);
        warn("service " + Shown(m->service), text);
      }
    }
    if (members.size() > 1) {
      auto weights = ReplicaWeights(members);
      std::vector<std::string> parts;
      for (size_t i = 0; i < members.size(); ++i) {
        r.backends[i].weight = weights[i];
        const Plan& m = *members[i];
        parts.push_back(m.service + ": " +
                        (m.replicas ? std::to_string(*m.replicas) +
                                          (*m.replicas == 1 ? " replica" : " replicas")
                                    : std::string("global mode, counted as 1")) +
                        " -> weight " + std::to_string(weights[i]));
      }
      r.comments.push_back(
          "replica-ratio canary: Interlock split traffic between these services by their "
          "replica counts; swarmgate splits by request, whatever the replica counts, so the "
          "weights keep today's split (" +
          Join(parts, ", ") + ") and no longer follow scaling: edit them to shift traffic");
    }
    // One extra route per websocket endpoint (the main path itself just gets
    // websocket: true).
    for (const std::string& ws : lead.websocket_paths) {
      if (ws == r.path) {
        r.websocket = true;
        continue;
      }
      RouteDoc w = r;
      w.comments = {"websocket endpoint " + Shown(ws) + " of " + Join(r.services, ", ") +
                    " (com.docker.lb.websocket_endpoints)"};
      w.name = UniqueName(base, "-ws", used_names);
      w.path = ws;
      w.rewrite = false;
      w.websocket = true;
      w.redirects.clear();  // served once, by the main route
      websockets[g].push_back(std::move(w));
    }
    mains.push_back(std::move(r));
  }

  // Host+path claims: the first route keeps a contested host (main routes
  // before websocket routes), later ones lose it with a comment.
  std::map<std::tuple<std::string, std::string, std::string>, std::string> claims;
  auto claim = [&](RouteDoc& r) {
    std::vector<std::string> kept;
    for (const auto& h : r.hosts) {
      auto [it, inserted] = claims.emplace(std::make_tuple(r.cluster, h, r.path), r.name);
      if (inserted) {
        kept.push_back(h);
        continue;
      }
      std::string text = "host " + Shown(h) + " path " + Shown(r.path) +
                         " is already served by Route " + Shown(it->second) +
                         " of ServiceCluster " + Shown(r.cluster) + "; left out of this route";
      r.comments.push_back(text);
      warn("route " + Shown(r.name), text);
    }
    r.hosts = kept;
    if (r.hosts.empty()) {
      r.dropped = true;
      std::string text = "route " + Shown(r.name) + " (" + Join(r.services, ", ") +
                         ") left out: every host and path it would serve is already served";
      header.push_back(text);
      result.warnings.push_back(text);
    }
  };
  for (auto& r : mains) claim(r);
  for (auto& list : websockets) {
    for (auto& w : list) claim(w);
  }

  // Clusters of the routes emitted and of the default backends.
  std::map<std::string, ClusterDoc> clusters;
  std::set<std::string> imported;
  std::vector<const RouteDoc*> emitted;
  auto join = [&](ClusterDoc& c, const Plan* m) {
    if (imported.insert(m->service).second) c.members.push_back(m);
  };
  for (size_t g = 0; g < groups.size(); ++g) {
    if (!mains[g].dropped) emitted.push_back(&mains[g]);
    for (const auto& w : websockets[g]) {
      if (!w.dropped) emitted.push_back(&w);
    }
    bool any = !mains[g].dropped || std::any_of(websockets[g].begin(), websockets[g].end(),
                                                [](const RouteDoc& w) { return !w.dropped; });
    if (!any) continue;
    ClusterDoc& c = clusters[mains[g].cluster];
    for (const Plan* m : groups[g]) join(c, m);
  }
  // One default backend per cluster: the first by service name.
  for (const Plan& p : plans) {
    if (!p.default_backend) continue;
    ClusterDoc& c = clusters[p.cluster];
    if (!c.default_backend) {
      c.default_backend = &p;
      join(c, &p);
      // Without hosts there is no route to carry the service's notes.
      if (p.hosts.empty()) c.comments.insert(c.comments.end(), p.notes.begin(), p.notes.end());
      c.comments.push_back(
          "defaultBackend: service " + Shown(p.service) +
          " (com.docker.lb.default_backend) answers the requests no Route of this cluster "
          "claims; Interlock sent it the requests for hosts it did not serve, swarmgate also "
          "sends it the paths that no Route of a served host matches");
      continue;
    }
    std::string text = "com.docker.lb.default_backend=\"true\" not mapped: ServiceCluster " +
                       Shown(p.cluster) + " already takes " + Shown(c.default_backend->service) +
                       " as its defaultBackend (the first by service name) and has only one";
    c.comments.push_back("service " + Shown(p.service) + ": " + text);
    warn("service " + Shown(p.service), text);
  }
  for (auto& [name, c] : clusters) ChooseNetwork(name, c, result.warnings);

  result.services_imported = static_cast<int>(imported.size());
  result.clusters = static_cast<int>(clusters.size());
  result.routes = static_cast<int>(emitted.size());

  std::ostringstream o;
  o << "# swarmgate resources imported from the Interlock labels of " << options.source << ": "
    << result.services_imported << " of " << result.services_seen << " labelled services, "
    << result.clusters << " ServiceCluster(s), " << result.routes << " Route(s).\n"
    << "# Read every comment: labels that could not be mapped say why.\n"
    << "# Check and apply: swarmgate validate -f FILE && swarmgate apply -f FILE\n";
  // Interlock ran each service cluster's proxies on nodes of their own (its
  // ProxyConstraints, which the labels do not carry). Host ports are bound
  // in each node's namespace, so two clusters with the same ports must stay
  // on different nodes: each gets a node label of its own to place it by.
  const bool apart = clusters.size() > 1;
  if (apart) {
    std::string text =
        "each ServiceCluster runs on the nodes labelled swarmgate.cluster=<its name> (two "
        "clusters cannot hold the same ports on one node): label them, e.g. docker node update "
        "--label-add swarmgate.cluster=NAME NODE, or give the clusters other spec.proxy.ports";
    WriteComments(o, {text});
    result.warnings.push_back(text);
  }
  WriteComments(o, header);
  for (const auto& [name, c] : clusters) WriteCluster(o, name, c, apart);
  for (const RouteDoc* r : emitted) WriteRoute(o, *r);
  result.yaml = o.str();
  return result;
}

}  // namespace sg::interlock
