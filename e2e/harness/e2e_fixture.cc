#include "e2e/harness/e2e_fixture.h"

#include <iostream>

namespace sg::e2e {

using namespace std::chrono_literals;

namespace {
// The YAML files of one process go to one temp dir (SwarmgateEnv's), so each
// scoped apply writes a file of its own.
std::string NextFileName(const std::string& stem) { return UniqueName(stem) + ".yaml"; }

// Docker and the CLI say "not found" or "No such ..." for a missing object.
bool Missing(const ShResult& r) {
  return r.err.find("not found") != std::string::npos || r.err.find("No such") != std::string::npos;
}

std::string FirstName(const std::string& yaml) {
  static const std::string kKey = "\n  name: ";
  auto at = yaml.find(kKey);
  if (at == std::string::npos) return "";
  at += kKey.size();
  return TrimRight(yaml.substr(at, yaml.find('\n', at) - at));
}
}  // namespace

// ------------------------------------------------------------------ environment

OperatorEnv::OperatorEnv() : loaded_(Cluster::Load()) {
  if (!loaded_.ok()) {
    error_ = loaded_.error;
    return;
  }
  sg_ = std::make_unique<SwarmgateEnv>(*loaded_, SG_SWARMGATE_PATH);
  proxy_nodes_ = sg_->ProxyNodes();
  error_ = sg_->DeployOperator();
}

OperatorEnv& OperatorEnv::Get() {
  // Never destroyed: scoped resources of suites may still need it while
  // static objects go away.
  static OperatorEnv* env = new OperatorEnv();
  return *env;
}

// ------------------------------------------------------------------ scope guard

ScopeGuard& ScopeGuard::operator=(ScopeGuard&& o) noexcept {
  if (this != &o) {
    Run();
    fn_ = std::exchange(o.fn_, nullptr);
  }
  return *this;
}

void ScopeGuard::Run() {
  if (!fn_) return;
  auto fn = std::exchange(fn_, nullptr);
  fn();
}

// ------------------------------------------------------------------ cluster

ScopedCluster& ScopedCluster::operator=(ScopedCluster&& o) noexcept {
  if (this != &o) {
    (void)Delete();
    name_ = std::exchange(o.name_, "");
    error_ = std::exchange(o.error_, "");
    http_port_ = std::exchange(o.http_port_, 0);
    replicas_ = std::exchange(o.replicas_, 0);
    deleting_ = std::exchange(o.deleting_, false);
    delete_error_ = std::exchange(o.delete_error_, "");
  }
  return *this;
}

ScopedCluster ScopedCluster::Create(const ClusterOptions& options) {
  ScopedCluster c;
  auto& env = OperatorEnv::Get();
  if (!env.ok()) {
    c.error_ = env.error();
    return c;
  }
  c.replicas_ =
      options.replicas != 0 ? options.replicas : static_cast<int>(env.proxy_nodes().size());
  // Even http ports, so one cluster's https port (http + 1) is never
  // another's http port.
  c.http_port_ = 2 * UniquePort(options.port_lo / 2, options.port_hi / 2);
  c.name_ = options.name.empty() ? UniqueName(options.prefix) : options.name;
  auto applied = env.sg().Apply(NextFileName("cluster"),
                                ClusterYaml(c.name_, c.replicas_, c.http_port_, c.https_port(),
                                            options.extra_proxy_fields, options.extra_spec_fields));
  if (!applied.ok()) {
    c.error_ = "apply cluster " + c.name_ + ": " + applied.Describe();
    return c;  // the destructor deletes what may have been stored
  }
  auto net = WaitUntil("network of cluster " + c.name_, 30s, [&](std::string& observed) {
    auto r = env.cluster().Docker("network inspect --format '{{.Name}}' " + c.network());
    observed = r.Describe();
    return r.ok();
  });
  if (!net.ok) c.error_ = net.message + c.Diagnose();
  return c;
}

ScopedCluster::~ScopedCluster() { (void)Delete(); }

ShResult ScopedCluster::Reapply(const std::string& extra_proxy_fields,
                                const std::string& extra_spec_fields) const {
  return OperatorEnv::Get().sg().Apply(NextFileName("cluster"),
                                       ClusterYaml(name_, replicas_, http_port_, https_port(),
                                                   extra_proxy_fields, extra_spec_fields));
}

HttpResponse ScopedCluster::Get(int node, const std::string& host, const std::string& target,
                                Duration timeout) const {
  return HttpGet(OperatorEnv::Get().addr(node), http_port_, target, host, timeout);
}

WaitResult ScopedCluster::WaitServed(const std::string& host, const std::string& target,
                                     const std::string& service, Duration deadline,
                                     std::vector<int> nodes) const {
  if (nodes.empty()) nodes = OperatorEnv::Get().proxy_nodes();
  return WaitUntil(host + target + " served by " + service, deadline, [&](std::string& observed) {
    observed.clear();
    bool all = true;
    for (int node : nodes) {
      auto r = Get(node, host, target);
      observed += "node " + std::to_string(node) + ": " + r.Describe() + "; ";
      all = all && r.status == 200 && JsonField(r.body, "service") == service;
    }
    return all;
  });
}

std::string ScopedCluster::Diagnose(const std::vector<std::string>& routes) const {
  const auto& env = OperatorEnv::Get();
  std::string out = "\ncluster " + name_ + ": " + env.sg().Ready("servicecluster", name_);
  for (const auto& r : routes) {
    out += "\nroute " + r + ": " + env.sg().Ready("route", r) + "; Degraded " +
           env.sg().Condition("route", r, "Degraded");
  }
  out += "\n" + env.cluster().Docker("service ps --no-trunc " + proxy_service()).out;
  return out;
}

void ScopedCluster::BeginDelete() {
  if (name_.empty() || deleting_) return;
  deleting_ = true;
  auto deleted = OperatorEnv::Get().sg().Swarmgate("delete servicecluster " + name_);
  if (!deleted.ok() && !Missing(deleted)) {
    delete_error_ = "delete servicecluster " + name_ + ": " + deleted.Describe() + "; ";
    std::cerr << delete_error_ << "\n";
  }
}

WaitResult ScopedCluster::Delete(Duration deadline) {
  WaitResult w;
  w.ok = true;
  if (name_.empty()) return w;
  BeginDelete();
  std::string name = std::exchange(name_, "");
  std::string delete_error = std::exchange(delete_error_, "");
  deleting_ = false;
  const auto& c = OperatorEnv::Get().cluster();
  // The operator removes the proxy and listener services, then (retrying
  // while the tasks shut down and the backends leave) the network, the
  // token secret and the configs.
  w = WaitUntil(
      "objects owned by cluster " + name + " gone", deadline,
      [&](std::string& observed) {
        observed.clear();
        for (const char* what : {"service", "network", "secret", "config"}) {
          auto r = c.Docker(std::string(what) +
                            " ls -q --filter label=swarmgate.io/owner=cluster/" + name);
          std::string out = TrimRight(r.out);
          if (!r.ok()) out = r.Describe();
          if (!out.empty()) observed += std::string(what) + ": " + out + "; ";
        }
        return observed.empty();
      },
      500ms);
  if (!delete_error.empty()) {
    w.ok = false;
    w.message = delete_error + w.message;
  }
  return w;
}

// ------------------------------------------------------------------ services

std::string HealthCheckedBackendArgs() {
  return "--update-order start-first --update-parallelism 1 --update-monitor 2s"
         " --stop-grace-period 10s"
         " --health-cmd 'wget -q -O /dev/null http://127.0.0.1:8080/healthz'"
         " --health-interval 1s --health-timeout 2s --health-retries 2"
         " --health-start-period 1s";
}

ScopedService& ScopedService::operator=(ScopedService&& o) noexcept {
  if (this != &o) {
    Remove();
    name_ = std::exchange(o.name_, "");
    error_ = std::exchange(o.error_, "");
  }
  return *this;
}

void ScopedDockerObject::CreateWith(const std::string& name, const std::string& docker_args,
                                    const std::string& what) {
  auto& env = OperatorEnv::Get();
  if (!env.ok()) {
    error_ = env.error();
    return;
  }
  name_ = name;
  auto r = env.cluster().Docker(docker_args);
  if (!r.ok()) error_ = what + " " + name + ": " + r.Describe();
}

ScopedService ScopedService::Create(const std::string& name, const std::string& args_and_image) {
  ScopedService s;
  s.CreateWith(name,
               "service create --detach --quiet --name " + ShellQuote(name) + " " + args_and_image,
               "service create");
  return s;
}

ScopedService ScopedService::Echo(const ScopedCluster& cluster, const std::string& name,
                                  int replicas, const std::string& extra_args,
                                  const std::string& cmd) {
  return Create(name, "--replicas " + std::to_string(replicas) + " --network " + cluster.network() +
                          " " + EchoEnv() + " " + extra_args + " swarmgate/echo:dev " + cmd);
}

ScopedService::~ScopedService() { Remove(); }

void ScopedService::Remove() {
  if (name_.empty()) return;
  std::string name = std::exchange(name_, "");
  auto r = OperatorEnv::Get().cluster().Docker("service rm " + ShellQuote(name));
  if (!r.ok() && !Missing(r)) {
    std::cerr << "service rm " << name << ": " << r.Describe() << "\n";
  }
}

WaitResult ScopedService::WaitRunning(int n, Duration deadline) const {
  const auto& c = OperatorEnv::Get().cluster();
  return WaitUntil(std::to_string(n) + " tasks of " + name_ + " running", deadline,
                   [&](std::string& observed) {
                     auto tasks = RunningTasks(c, name_);
                     observed = std::to_string(tasks.size()) + " running";
                     return static_cast<int>(tasks.size()) == n;
                   });
}

// ------------------------------------------------------------------ secrets

ScopedSecret& ScopedSecret::operator=(ScopedSecret&& o) noexcept {
  if (this != &o) {
    (void)Remove();
    name_ = std::exchange(o.name_, "");
    error_ = std::exchange(o.error_, "");
  }
  return *this;
}

ScopedSecret ScopedSecret::Create(const std::string& name, const std::string& file) {
  ScopedSecret s;
  s.CreateWith(name, "secret create " + ShellQuote(name) + " " + ShellQuote(file), "secret create");
  return s;
}

ScopedSecret::~ScopedSecret() {
  std::string left = Remove();
  if (!left.empty()) std::cerr << left << "\n";
}

std::string ScopedSecret::Remove() {
  if (name_.empty()) return "";
  std::string name = std::exchange(name_, "");
  const auto& c = OperatorEnv::Get().cluster();
  auto w = WaitUntil(
      "secret " + name + " removed", 120s,
      [&](std::string& observed) {
        auto r = c.Docker("secret rm " + ShellQuote(name));
        observed = r.Describe();
        return r.ok() || Missing(r);
      },
      1s);
  return w.ok ? "" : w.message;
}

// ------------------------------------------------------------------ routes

ScopedRoute& ScopedRoute::operator=(ScopedRoute&& o) noexcept {
  if (this != &o) {
    (void)Delete();
    file_ = std::exchange(o.file_, "");
    name_ = std::exchange(o.name_, "");
    error_ = std::exchange(o.error_, "");
  }
  return *this;
}

ScopedRoute ScopedRoute::Apply(const std::string& yaml) {
  ScopedRoute r;
  auto& env = OperatorEnv::Get();
  if (!env.ok()) {
    r.error_ = env.error();
    return r;
  }
  r.name_ = FirstName(yaml);
  auto applied = r.Reapply(yaml);
  if (!applied.ok()) r.error_ = "apply " + r.name_ + ": " + applied.Describe();
  return r;
}

ShResult ScopedRoute::Reapply(const std::string& yaml) {
  // Owned from here on: an apply that failed half-way may have stored some.
  file_ = OperatorEnv::Get().sg().WriteFile(NextFileName("route"), yaml);
  return OperatorEnv::Get().sg().Swarmgate("apply -f " + ShellQuote(file_));
}

ScopedRoute::~ScopedRoute() { (void)Delete(); }

ShResult ScopedRoute::Delete() {
  ShResult r;
  if (file_.empty()) return r;
  std::string file = std::exchange(file_, "");
  r = OperatorEnv::Get().sg().Swarmgate("delete -f " + ShellQuote(file));
  if (!r.ok() && !Missing(r)) {
    std::cerr << "delete -f " << file << ": " << r.Describe() << "\n";
  }
  return r;
}

}  // namespace sg::e2e
