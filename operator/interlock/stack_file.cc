#include "operator/interlock/stack_file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <optional>

#include "crds/grammar.h"
#include "operator/interlock/label_plan.h"

namespace sg::interlock {
namespace {

// A map, or a list of "key=value" (a bare "key" is "").
void ReadLabels(const YAML::Node& node, std::map<std::string, std::string>& labels) {
  if (!node) return;
  if (node.IsMap()) {
    for (const auto& kv : node) {
      labels[kv.first.as<std::string>()] =
          kv.second.IsScalar() ? kv.second.as<std::string>() : std::string();
    }
  } else if (node.IsSequence()) {
    for (const auto& item : node) {
      if (!item.IsScalar()) continue;
      std::string entry = item.as<std::string>();
      size_t eq = entry.find('=');
      labels[entry.substr(0, eq)] = eq == std::string::npos ? "" : entry.substr(eq + 1);
    }
  }
}

// What a top-level `networks:` entry is called once deployed: `name:` and
// external networks as written, the others STACK_key (unknown without a
// stack name).
std::map<std::string, std::optional<std::string>> DeployedNetworks(const YAML::Node& root,
                                                                   const std::string& stack) {
  std::map<std::string, std::optional<std::string>> out;
  YAML::Node networks = root["networks"];
  if (!networks || !networks.IsMap()) return out;
  for (const auto& kv : networks) {
    std::string key = kv.first.as<std::string>();
    const YAML::Node& spec = kv.second;
    std::optional<std::string> name;
    bool external = false;
    if (spec.IsMap()) {
      if (spec["name"] && spec["name"].IsScalar()) name = spec["name"].as<std::string>();
      YAML::Node ext = spec["external"];
      if (ext && ext.IsScalar()) {
        bool b = false;
        external = YAML::convert<bool>::decode(ext, b) && b;
      } else if (ext && ext.IsMap()) {  // the older `external: {name: NET}`
        external = true;
        if (ext["name"] && ext["name"].IsScalar()) name = ext["name"].as<std::string>();
      }
    }
    if (external && !name) name = key;
    if (!name && !stack.empty()) name = stack + "_" + key;
    out[key] = name;
  }
  return out;
}

// The deployed names of the networks a service joins (its `networks:`, or
// the stack's `default` network); empty when one of them is unknown.
std::vector<std::string> ServiceNetworks(
    const YAML::Node& spec, const std::map<std::string, std::optional<std::string>>& declared,
    const std::string& stack) {
  std::vector<std::string> keys;
  YAML::Node networks = spec["networks"];
  if (networks && networks.IsSequence()) {
    for (const auto& n : networks) {
      if (n.IsScalar()) keys.push_back(n.as<std::string>());
    }
  } else if (networks && networks.IsMap()) {
    for (const auto& kv : networks) keys.push_back(kv.first.as<std::string>());
  } else {
    keys.push_back("default");
  }
  std::vector<std::string> out;
  for (const std::string& key : keys) {
    std::optional<std::string> name;
    if (auto it = declared.find(key); it != declared.end()) {
      name = it->second;
    } else if (key == "default" && !stack.empty()) {
      name = stack + "_default";
    }
    if (!name || !crds::CheckDockerName(*name).empty()) return {};
    if (std::find(out.begin(), out.end(), *name) == out.end()) out.push_back(*name);
  }
  return out;
}

}  // namespace

Result<std::vector<ServiceInput>> ParseStackFile(std::string_view text, const std::string& stack) {
  std::vector<ServiceInput> out;
  try {
    YAML::Node root = YAML::Load(std::string(text));
    YAML::Node services = root.IsMap() ? root["services"] : YAML::Node();
    if (!services || !services.IsMap()) {
      return InvalidArgument("expected a `services:` map at the top level");
    }
    const auto declared = DeployedNetworks(root, stack);
    for (const auto& kv : services) {
      const YAML::Node& spec = kv.second;
      if (!spec.IsMap()) continue;
      ServiceInput svc;
      std::string name = kv.first.as<std::string>();
      svc.name = stack.empty() ? name : stack + "_" + name;
      svc.replicas = 1;
      std::map<std::string, std::string> container_labels;
      ReadLabels(spec["labels"], container_labels);
      YAML::Node deploy = spec["deploy"];
      if (deploy && deploy.IsMap()) {
        ReadLabels(deploy["labels"], svc.labels);
        YAML::Node mode = deploy["mode"];
        YAML::Node replicas = deploy["replicas"];
        if (mode && mode.IsScalar() && mode.as<std::string>() == "global") {
          svc.replicas = std::nullopt;
        } else if (replicas && replicas.IsScalar()) {
          uint64_t n = 0;
          if (YAML::convert<uint64_t>::decode(replicas, n)) {
            svc.replicas = n;
          } else {
            svc.replicas = std::nullopt;
          }
        }
      }
      // deploy.labels win; container labels only fill the gaps.
      for (auto& [k, v] : container_labels) svc.labels.emplace(k, v);
      // docker stack deploy labels every service with its stack's name.
      if (!stack.empty()) svc.labels[detail::kStackNamespaceLabel] = stack;
      svc.networks = ServiceNetworks(spec, declared, stack);
      out.push_back(std::move(svc));
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgument(e.what());
  }
  return out;
}

}  // namespace sg::interlock
