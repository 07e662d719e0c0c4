#include "e2e/harness/swarmgate_env.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include <rapidjson/document.h>

namespace sg::e2e {

using namespace std::chrono_literals;

std::string EchoEnv() {
  return "--env " + ShellQuote("SG_SERVICE={{.Service.Name}}") + " --env " +
         ShellQuote("SG_SLOT={{.Task.Slot}}") + " --env " + ShellQuote("SG_TASK={{.Task.Name}}");
}

SwarmgateEnv::SwarmgateEnv(const Cluster& cluster, std::string swarmgate)
    : cluster_(cluster), swarmgate_(std::move(swarmgate)) {
  char tmpl[] = "/tmp/sge2e-sg-XXXXXX";
  const char* d = mkdtemp(tmpl);
  dir_ = d ? d : "/tmp";
}

SwarmgateEnv::~SwarmgateEnv() {
  if (dir_ != "/tmp") (void)Sh("rm -rf " + ShellQuote(dir_));
}

std::string SwarmgateEnv::DeployOperator(Duration deadline) const {
  const auto& c = cluster_;
  auto deploy =
      // As users deploy it (each node's daemon also listens on
      // /var/run/docker.sock in that node's mount namespace, e2e/cluster),
      // published, and held on node 1 for the suites (operator-on-node1.yml).
      Sh("SWARMGATE_IMAGE=swarmgate/operator:dev SWARMGATE_LOG=debug SG_OPERATOR_NODE=" +
             ShellQuote(c.node(1).hostname) + " docker -H " + ShellQuote(c.node(1).docker_host()) +
             " stack deploy -c " + ShellQuote(SourceDir() + "/charts/swarmgate/stack.yml") +
             " -c " + ShellQuote(SourceDir() + "/charts/swarmgate/publish.yml") + " -c " +
             ShellQuote(SourceDir() + "/e2e/harness/operator-on-node1.yml") + " swarmgate",
         120s);
  if (!deploy.ok()) return "stack deploy: " + deploy.Describe();
  auto ready = WaitUntil("operator /readyz", deadline, [&](std::string& observed) {
    auto r = HttpGet(c.node(1).addr, kOperatorPort, "/readyz");
    observed = r.Describe();
    return r.status == 200;
  });
  if (ready.ok) return "";
  return ready.message + "\n" + c.Docker("service ps --no-trunc swarmgate_operator").out +
         c.Docker("service logs --tail 50 swarmgate_operator").out;
}

void SwarmgateEnv::RemoveOperator() const {
  (void)cluster_.Docker("stack rm swarmgate", 1, 60s);
  (void)WaitUntil("operator gone", 60s, [&](std::string& observed) {
    auto r = cluster_.Docker("service ls -q --filter name=swarmgate_operator");
    observed = r.out;
    return r.ok() && TrimRight(r.out).empty();
  });
}

ShResult SwarmgateEnv::Swarmgate(const std::string& args, Duration timeout) const {
  return Sh(ShellQuote(swarmgate_) + " --docker-host " +
                ShellQuote(cluster_.node(1).docker_host()) + " " + args,
            timeout);
}

std::string SwarmgateEnv::WriteFile(const std::string& name, const std::string& text) const {
  std::string path = dir_ + "/" + name;
  std::ofstream(path) << text;
  return path;
}

ShResult SwarmgateEnv::Apply(const std::string& name, const std::string& text) const {
  return Swarmgate("apply -f " + ShellQuote(WriteFile(name, text)));
}

std::string SwarmgateEnv::Condition(const std::string& kind, const std::string& name,
                                    const std::string& type) const {
  auto r = Swarmgate("get " + kind + " " + ShellQuote(name) + " -o json");
  if (!r.ok()) return "get failed: " + r.Describe();
  rapidjson::Document d;
  d.Parse(r.out.c_str());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("status")) return "no status";
  const auto& st = d["status"];
  if (!st.HasMember("conditions") || !st["conditions"].IsArray()) return "no conditions";
  for (const auto& c : st["conditions"].GetArray()) {
    if (type == c["type"].GetString()) {
      return std::string(c["status"].GetString()) + "/" + c["reason"].GetString() + ": " +
             (c.HasMember("message") ? c["message"].GetString() : "");
    }
  }
  return "no " + type + " condition";
}

WaitResult SwarmgateEnv::WaitCondition(const std::string& kind, const std::string& name,
                                       const std::string& type, const std::string& prefix,
                                       Duration deadline) const {
  return WaitUntil(kind + " " + name + " " + type + "=" + prefix, deadline,
                   [&](std::string& observed) {
                     observed = Condition(kind, name, type);
                     return observed.rfind(prefix, 0) == 0;
                   });
}

std::string SwarmgateEnv::Ready(const std::string& kind, const std::string& name) const {
  return Condition(kind, name, "Ready");
}

std::vector<int> SwarmgateEnv::ProxyNodes() const {
  std::vector<int> out;
  for (const auto& n : cluster_.nodes()) {
    auto r = cluster_.Docker(
        "node inspect --format '{{index .Spec.Labels \"swarmgate.ingress\"}}' " + n.hostname);
    if (TrimRight(r.out) == "true") out.push_back(n.index);
  }
  if (out.empty()) out.push_back(1);
  return out;
}

// SG_E2E_ENGINE, or "" when unset (the default engine).
static std::string ChosenEngine() {
  const char* e = std::getenv("SG_E2E_ENGINE");
  return e != nullptr ? e : "";
}

std::string E2eEngine() {
  const std::string chosen = ChosenEngine();
  return chosen.empty() ? kDefaultEngine : chosen;
}

std::string ClusterYaml(const std::string& name, int replicas, int http_port, int https_port,
                        const std::string& extra_proxy_fields,
                        const std::string& extra_spec_fields) {
  const std::string placement = replicas == kGlobalProxies
                                    ? std::string("    mode: global\n")
                                    : "    replicas: " + std::to_string(replicas) + "\n";
  // On the default engine the cluster names none: apply picks it.
  const std::string chosen = ChosenEngine();
  const std::string engine = chosen.empty() ? "" : "    engine: " + chosen + "\n";
  return "apiVersion: swarmgate.io/v1alpha1\nkind: ServiceCluster\nmetadata:\n  name: " + name +
         "\nspec:\n  proxy:\n    image: swarmgate/proxy:dev\n" + engine + placement +
         "    ports: {http: " + std::to_string(http_port) +
         ", https: " + std::to_string(https_port) +
         "}\n    constraints: [\"node.labels.swarmgate.ingress==true\"]\n" + extra_proxy_fields +
         extra_spec_fields;
}

std::string RouteYaml(const std::string& name, const std::string& cluster, const std::string& host,
                      const std::string& path, const std::string& service, int port,
                      const std::string& extra_spec) {
  return "apiVersion: swarmgate.io/v1alpha1\nkind: Route\nmetadata:\n  name: " + name +
         "\nspec:\n  serviceCluster: " + cluster + "\n  hosts: [\"" + host +
         "\"]\n  path: " + path + "\n  backends:\n    - {service: " + service +
         ", port: " + std::to_string(port) + "}\n" + extra_spec;
}

}  // namespace sg::e2e
