#pragma once
// What e2e suites need to drive swarmgate on the test Swarm: the operator
// deployed with charts/swarmgate (idempotent, shared by suites), the CLI
// pointed at the manager, resource YAML written to a private temp dir, and
// status conditions read back.

#include <string>

#include "crds/engine_on_apply.h"
#include "e2e/harness/harness.h"

namespace sg::e2e {

inline constexpr int kOperatorPort = 9090;

// Swarm templates give each echo task its identity (see e2e/echo).
std::string EchoEnv();

class SwarmgateEnv {
 public:
  // `swarmgate` is the CLI binary's path. Makes a temp dir for YAML files.
  SwarmgateEnv(const Cluster& cluster, std::string swarmgate);
  ~SwarmgateEnv();  // removes the temp dir (the operator stays deployed)

  // Deploys (or updates) the operator stack "swarmgate" and waits for
  // /readyz. Returns "" or what went wrong, with the operator's logs.
  std::string DeployOperator(Duration deadline = std::chrono::seconds(90)) const;
  // Removes the operator stack and waits until its service is gone.
  void RemoveOperator() const;

  // Runs the CLI against the manager.
  ShResult Swarmgate(const std::string& args, Duration timeout = std::chrono::seconds(60)) const;
  // Writes `text` to <tempdir>/<name> and applies it; returns the CLI result.
  ShResult Apply(const std::string& name, const std::string& text) const;
  std::string WriteFile(const std::string& name, const std::string& text) const;
  const std::string& dir() const { return dir_; }

  // The Ready condition: "True/Ready: msg", "False/Conflict: msg", or why
  // none could be read.
  std::string Ready(const std::string& kind, const std::string& name) const;
  // Any condition by type, same format.
  std::string Condition(const std::string& kind, const std::string& name,
                        const std::string& type) const;
  // Until Condition(kind, name, type) starts with `prefix` ("True/",
  // "False/BackendNotFound"); the result's `observed` is the last condition.
  WaitResult WaitCondition(const std::string& kind, const std::string& name,
                           const std::string& type, const std::string& prefix,
                           Duration deadline = std::chrono::seconds(30)) const;

  // Node indexes labelled swarmgate.ingress=true (node 1 if none is).
  std::vector<int> ProxyNodes() const;

 private:
  const Cluster& cluster_;
  std::string swarmgate_;
  std::string dir_;
};

// `replicas` value for ClusterYaml/CreateCluster: `mode: global`, one proxy
// on every node labelled swarmgate.ingress=true.
inline constexpr int kGlobalProxies = -1;

// YAML of a minimal ServiceCluster on the proxy nodes with the given ports.
// The proxy engine every cluster of this test process uses: SG_E2E_ENGINE
// (nginx or haproxy), else the engine `swarmgate apply` gives a new cluster
// that names none (ClusterYaml then names none either). ctest runs the
// operator suites once per engine (e2e/CMakeLists.txt), so one test body
// proves both engines.
inline constexpr const char* kDefaultEngine = crds::kNewClusterEngine;
std::string E2eEngine();

// `extra_proxy_fields` goes under spec.proxy (indented by four spaces),
// `extra_spec_fields` under spec (by two, e.g. "  accessLog: {format: json}\n").
std::string ClusterYaml(const std::string& name, int replicas, int http_port, int https_port,
                        const std::string& extra_proxy_fields = "",
                        const std::string& extra_spec_fields = "");
// YAML of a Route with one backend; `extra_spec` is appended under spec
// (indented by two spaces, e.g. "  websocket: true\n").
std::string RouteYaml(const std::string& name, const std::string& cluster, const std::string& host,
                      const std::string& path, const std::string& service, int port = 8080,
                      const std::string& extra_spec = "");

}  // namespace sg::e2e
