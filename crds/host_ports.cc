#include "crds/host_ports.h"

#include <algorithm>
#include <vector>

namespace sg::crds {
namespace {

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

}  // namespace

std::optional<HostPortClash> FindHostPortClash(const ServiceCluster& cluster,
                                               const ServiceCluster& other,
                                               const std::string& other_where) {
  const ProxySpec& a = cluster.spec.proxy;
  const ProxySpec& b = other.spec.proxy;
  if (a.publish_mode != PublishMode::kHost || b.publish_mode != PublishMode::kHost) {
    return std::nullopt;
  }
  std::string nodes;
  if (a.constraints.empty() || b.constraints.empty()) {
    nodes = "one of them runs on every node";
  } else if (Sorted(a.constraints) == Sorted(b.constraints)) {
    nodes = "both run on the nodes of the same constraints";
  } else {
    return std::nullopt;  // they may meet on no node
  }
  const std::pair<const char*, int> mine[] = {{"http", a.ports.http}, {"https", a.ports.https}};
  const std::pair<const char*, int> theirs[] = {{"http", b.ports.http}, {"https", b.ports.https}};
  for (const auto& [field, port] : mine) {
    for (const auto& [other_field, other_port] : theirs) {
      if (port != other_port) continue;
      return HostPortClash{
          std::string("spec.proxy.ports.") + field,
          "expected a port no other ServiceCluster in publishMode host holds on the same nodes, "
          "got " +
              std::to_string(port) + ", the " + other_field + " port of ServiceCluster \"" +
              other.metadata.name + "\"" +
              (other_where.empty() ? "" : " (at " + other_where + ")") + "; " + nodes +
              ": give one of them other ports, or constraints that keep them apart"};
    }
  }
  return std::nullopt;
}

}  // namespace sg::crds
