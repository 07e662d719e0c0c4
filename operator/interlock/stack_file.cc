#include "operator/interlock/stack_file.h"

#include <yaml-cpp/yaml.h>

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

}  // namespace

Result<std::vector<ServiceInput>> ParseStackFile(std::string_view text, const std::string& stack) {
  std::vector<ServiceInput> out;
  try {
    YAML::Node root = YAML::Load(std::string(text));
    YAML::Node services = root.IsMap() ? root["services"] : YAML::Node();
    if (!services || !services.IsMap()) {
      return InvalidArgument("expected a `services:` map at the top level");
    }
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
      out.push_back(std::move(svc));
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgument(e.what());
  }
  return out;
}

}  // namespace sg::interlock
