#include "operator/app/change_router.h"

namespace sg::app {
namespace {

std::string Attr(const docker::Event& e, const char* key) {
  auto it = e.attributes.find(key);
  return it == e.attributes.end() ? "" : it->second;
}

// "sg.route.shop.3" -> {"route", "shop"}.
bool ParseResourceConfigName(const std::string& name, std::string* kind, std::string* res) {
  if (name.rfind("sg.", 0) != 0) return false;
  auto k_end = name.find('.', 3);
  auto g_start = name.rfind('.');
  if (k_end == std::string::npos || g_start == std::string::npos || g_start <= k_end) return false;
  *kind = name.substr(3, k_end - 3);
  *res = name.substr(k_end + 1, g_start - k_end - 1);
  return (*kind == "route" || *kind == "cluster") && !res->empty();
}

}  // namespace

void ChangeRouter::OnEvent(const docker::Event& e, runtime::Clock::TimePoint now) const {
  if (e.type == "config") {
    // A resource's spec never changes in place (a change is a new generation,
    // so "create"); "update" is a status label written by the operator
    // itself, and reacting to it would make every status write trigger
    // another reconcile of the whole cluster.
    if (e.action == "update") return;
    std::string kind, name;
    if (!ParseResourceConfigName(Attr(e, "name"), &kind, &name)) return;
    if (kind == "route") sinks_.route(name, {"route", now});
    if (kind == "cluster") sinks_.cluster(name, {"servicecluster", now});
    return;
  }
  if (e.type == "service") {
    std::string name = Attr(e, "name");
    if (name.rfind("sg-proxy-", 0) == 0) {
      sinks_.cluster(name.substr(9), {"service", now});
      if (sinks_.service_changed) sinks_.service_changed(name);
      return;
    }
    if (sinks_.service_changed) sinks_.service_changed(name);
    auto clusters = index_.ClustersUsingService(name);
    for (const auto& c : clusters) sinks_.cluster(c, {"service", now});
    return;
  }
  // Networks, secrets and nodes can change any cluster (a secret a route
  // needs appears, a proxy node goes away): cheap to re-render them all. A
  // node's state decides which of its tasks are served (a node going down
  // takes them out), so its changes count as task changes.
  if (e.type == "network" || e.type == "secret" || e.type == "node") {
    sinks_.all_clusters({e.type == "node" ? "task" : "service", now});
  }
}

void ChangeRouter::OnTasksChanged(const std::string& service_name,
                                  runtime::Clock::TimePoint now) const {
  if (service_name.rfind("sg-proxy-", 0) == 0) {
    sinks_.cluster(service_name.substr(9), {"task", now});
    return;
  }
  for (const auto& c : index_.ClustersUsingService(service_name)) sinks_.cluster(c, {"task", now});
}

}  // namespace sg::app
