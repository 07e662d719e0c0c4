#include "crds/route_admission.h"

#include <algorithm>

namespace sg::crds {
namespace {

bool IsWildcard(std::string_view host) { return host.size() > 2 && host.substr(0, 2) == "*."; }

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

std::string Describe(const LabelSelector& selector) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : selector.match_labels) parts.push_back(k + "=" + v);
  for (const auto& r : selector.match_expressions) {
    switch (r.op) {
      case LabelRequirement::Operator::kIn:
        parts.push_back(r.key + " in (" + Join(r.values) + ")");
        break;
      case LabelRequirement::Operator::kNotIn:
        parts.push_back(r.key + " notin (" + Join(r.values) + ")");
        break;
      case LabelRequirement::Operator::kExists:
        parts.push_back(r.key);
        break;
      case LabelRequirement::Operator::kDoesNotExist:
        parts.push_back("!" + r.key);
        break;
    }
  }
  return Join(parts);
}

}  // namespace

bool HostWithin(std::string_view host, std::string_view pattern) {
  if (!IsWildcard(pattern)) return host == pattern;
  std::string_view suffix = pattern.substr(1);  // ".example.com"
  if (IsWildcard(host)) host = host.substr(1);  // ".a.example.com" or ".example.com"
  // ".example.com" is the wildcard "*.example.com" itself: within. An exact
  // host never starts with '.', so "example.com" is not.
  if (host == suffix) return true;
  return host.size() > suffix.size() && EndsWith(host, suffix);
}

bool SelectorMatches(const LabelSelector& selector,
                     const std::map<std::string, std::string>& labels) {
  for (const auto& [k, v] : selector.match_labels) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  for (const auto& r : selector.match_expressions) {
    auto it = labels.find(r.key);
    bool has = it != labels.end();
    bool listed = has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
    switch (r.op) {
      case LabelRequirement::Operator::kIn:
        if (!listed) return false;
        break;
      case LabelRequirement::Operator::kNotIn:
        if (listed) return false;
        break;
      case LabelRequirement::Operator::kExists:
        if (!has) return false;
        break;
      case LabelRequirement::Operator::kDoesNotExist:
        if (has) return false;
        break;
    }
  }
  return true;
}

std::string RouteAdmission(const ServiceCluster& cluster, const Route& route) {
  if (!cluster.spec.allowed_routes) return "";
  const AllowedRoutes& allowed = *cluster.spec.allowed_routes;
  const std::string& name = cluster.metadata.name;
  if (allowed.selector && !SelectorMatches(*allowed.selector, route.metadata.labels)) {
    return "ServiceCluster \"" + name + "\" admits only routes with labels " +
           Describe(*allowed.selector) + " (spec.allowedRoutes.selector)";
  }
  if (allowed.hosts.empty()) return "";
  auto admitted = [&](const std::string& host) {
    return std::any_of(allowed.hosts.begin(), allowed.hosts.end(),
                       [&](const std::string& p) { return HostWithin(host, p); });
  };
  auto refuse = [&](const std::string& field, const std::string& host) {
    return field + " \"" + host + "\" is outside the hosts of ServiceCluster \"" + name +
           "\" (spec.allowedRoutes.hosts: " + Join(allowed.hosts) + ")";
  };
  for (const auto& h : route.spec.hosts) {
    if (!admitted(h)) return refuse("host", h);
  }
  for (const auto& r : route.spec.redirects) {
    if (!admitted(r.from)) return refuse("redirect source", r.from);
  }
  return "";
}

}  // namespace sg::crds
