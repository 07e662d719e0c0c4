#pragma once
// The fixture the operator e2e suites share.
//
// - OperatorEnv: once per process, the cluster from e2e/cluster and the
//   operator deployed on it (charts/swarmgate). It stays deployed when the
//   process ends, for the next suite.
// - SuiteFixture<Shared>: a gtest base class. SetUpTestSuite builds the
//   suite's Shared state (expensive things: a ServiceCluster with proxies,
//   echo backends, first routes) and TearDownTestSuite destroys it; SetUp
//   fails every test at once with the reason when the environment or the
//   Shared state could not be set up.
// - Scoped resources: each removes what it created when it goes out of
//   scope, also when an assertion returned early. Declare them in dependency
//   order (cluster, then backends, then routes): C++ destroys them in
//   reverse, which is the order Swarm and the operator can remove them in.
//
// A test creates what it changes and reads only what the Shared state holds,
// so it passes alone (--gtest_filter) and in any order (--gtest_shuffle).
//
//   struct Shared {
//     ScopedCluster cluster;
//     ScopedService backend;
//     ScopedRoute route;
//     std::string SetUp() {   // "" or why the suite cannot run
//       cluster = ScopedCluster::Create({"demo", 24000, 26000});  // or .Global()
//       if (!cluster.ok()) return cluster.error();
//       backend = ScopedService::Echo(cluster, UniqueName("demo-echo"));
//       if (!backend.ok()) return backend.error();
//       route = ScopedRoute::Apply(RouteYaml(UniqueName("demo"), cluster.name(),
//                                            "demo.test", "/", backend.name()));
//       if (!route.ok()) return route.error();
//       auto w = cluster.WaitServed("demo.test", "/", backend.name());
//       return w.ok ? "" : w.message;
//     }
//   };
//   class DemoE2E : public SuiteFixture<Shared> {};
//   TEST_F(DemoE2E, Serves) {
//     auto r = S().cluster.Get(ProxyNodes().front(), "demo.test", "/");
//     EXPECT_EQ(r.status, 200) << r.Describe();
//   }
//
// Not thread-safe: set up and tear down from the test's thread. Get/Wait
// methods of a live resource may be called from load threads.

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "e2e/harness/harness.h"
#include "e2e/harness/swarmgate_env.h"

namespace sg::e2e {

// ------------------------------------------------------------------ environment

class OperatorEnv {
 public:
  // Loads the cluster and deploys the operator on the first call; later
  // calls return the same object (also when that failed: see error()).
  static OperatorEnv& Get();

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  const Cluster& cluster() const { return *loaded_; }
  const SwarmgateEnv& sg() const { return *sg_; }
  // Node indexes labelled swarmgate.ingress=true (node 1 if none is).
  const std::vector<int>& proxy_nodes() const { return proxy_nodes_; }
  const std::string& addr(int node) const { return cluster().node(node).addr; }

 private:
  OperatorEnv();
  Cluster::Loaded loaded_;
  std::unique_ptr<SwarmgateEnv> sg_;
  std::vector<int> proxy_nodes_;
  std::string error_;
};

// ------------------------------------------------------------------ scope guard

// Runs `fn` when it goes out of scope (unless Dismiss()ed), for things that
// are not a Swarm object: a paused container, a local process, a stack.
class ScopeGuard {
 public:
  ScopeGuard() = default;
  explicit ScopeGuard(std::function<void()> fn) : fn_(std::move(fn)) {}
  ~ScopeGuard() { Run(); }
  ScopeGuard(ScopeGuard&& o) noexcept : fn_(std::exchange(o.fn_, nullptr)) {}
  ScopeGuard& operator=(ScopeGuard&& o) noexcept;
  ScopeGuard(const ScopeGuard&) = delete;
  ScopeGuard& operator=(const ScopeGuard&) = delete;
  // Runs it now (once).
  void Run();
  void Dismiss() { fn_ = nullptr; }

 private:
  std::function<void()> fn_;
};

// ------------------------------------------------------------------ cluster

struct ClusterOptions {
  // The name is UniqueName(prefix); the http port is taken from
  // [port_lo, port_hi), https is http + 1.
  ClusterOptions(std::string prefix, int port_lo, int port_hi)
      : prefix(std::move(prefix)), port_lo(port_lo), port_hi(port_hi) {}
  // One proxy on every ingress node (mode: global).
  ClusterOptions& Global() {
    replicas = kGlobalProxies;
    return *this;
  }

  // A name chosen beforehand (e.g. for routes applied before the cluster).
  ClusterOptions& Named(std::string n) {
    name = std::move(n);
    return *this;
  }

  std::string prefix;
  int port_lo, port_hi;
  std::string name;  // default: UniqueName(prefix)
  // kGlobalProxies, or a replica count; 0: one replica per ingress node.
  int replicas = 0;
  std::string extra_proxy_fields;  // appended under spec.proxy (see ClusterYaml)
  std::string extra_spec_fields;   // appended under spec (see ClusterYaml)
};

// A ServiceCluster applied through the CLI. Create() returns once the
// operator made its network (proxies may still be starting: wait for a
// route with WaitServed). Deleting it waits until every object the operator
// owned for it (services, network, secrets, configs) is gone.
class ScopedCluster {
 public:
  ScopedCluster() = default;
  static ScopedCluster Create(const ClusterOptions& options);
  ~ScopedCluster();
  ScopedCluster(ScopedCluster&& o) noexcept { *this = std::move(o); }
  ScopedCluster& operator=(ScopedCluster&& o) noexcept;
  ScopedCluster(const ScopedCluster&) = delete;
  ScopedCluster& operator=(const ScopedCluster&) = delete;

  bool ok() const { return error_.empty() && !name_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& name() const { return name_; }
  std::string network() const { return "sg-" + name_; }
  std::string proxy_service() const { return "sg-proxy-" + name_; }
  std::string listener_service() const { return "sg-listen-" + name_; }
  int http_port() const { return http_port_; }
  int https_port() const { return http_port_ + 1; }
  int replicas() const { return replicas_; }

  // Applies the cluster again with other proxy and spec fields (same name
  // and ports).
  ShResult Reapply(const std::string& extra_proxy_fields,
                   const std::string& extra_spec_fields = "") const;

  // GET http://<node>:<http port><target> with Host `host`.
  HttpResponse Get(int node, const std::string& host, const std::string& target = "/",
                   Duration timeout = std::chrono::seconds(3)) const;
  // Until host+target answers 200 from `service` (echo's "service" field)
  // through every node of `nodes` (default: every proxy node).
  WaitResult WaitServed(const std::string& host, const std::string& target,
                        const std::string& service, Duration deadline = std::chrono::seconds(60),
                        std::vector<int> nodes = {}) const;

  // Ready of the cluster and of `routes`, and the proxy tasks, for failure messages.
  std::string Diagnose(const std::vector<std::string>& routes = {}) const;

  // Deletes the cluster and waits until what it owned is gone; not ok when
  // the CLI refused the delete or something was left (the message says
  // what). The destructor does this when nobody did.
  WaitResult Delete(Duration deadline = std::chrono::seconds(90));
  // Only asks the operator to delete it, so several clusters go at once;
  // Delete() (or the destructor) then waits.
  void BeginDelete();

 private:
  std::string name_, error_;
  int http_port_ = 0;
  int replicas_ = 0;
  bool deleting_ = false;
  std::string delete_error_;
};

// ------------------------------------------------------------------ services

// A Swarm service created with `docker service create --detach`. Removal
// does not wait for the tasks (a ScopedCluster's deletion does, for its
// network).
// What ScopedService and ScopedSecret share: a Docker object owned by name,
// created with one docker command.
class ScopedDockerObject {
 public:
  bool ok() const { return error_.empty() && !name_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& name() const { return name_; }

 protected:
  // Owns `name` before running `docker ARGS` (a create that timed out may
  // still have created it); on failure error() says what `what` got.
  void CreateWith(const std::string& name, const std::string& docker_args, const std::string& what);

  std::string name_, error_;
};

class ScopedService : public ScopedDockerObject {
 public:
  ScopedService() = default;
  // docker service create --name NAME ARGS_AND_IMAGE; NAME is usually
  // UniqueName(prefix), known beforehand when a route names it first.
  static ScopedService Create(const std::string& name, const std::string& args_and_image);
  // An echo backend (EchoEnv identity) on the cluster's network.
  static ScopedService Echo(const ScopedCluster& cluster, const std::string& name, int replicas = 1,
                            const std::string& extra_args = "", const std::string& cmd = "");
  ~ScopedService();
  ScopedService(ScopedService&& o) noexcept { *this = std::move(o); }
  ScopedService& operator=(ScopedService&& o) noexcept;
  ScopedService(const ScopedService&) = delete;
  ScopedService& operator=(const ScopedService&) = delete;

  // Until exactly `n` tasks are running.
  WaitResult WaitRunning(int n, Duration deadline = std::chrono::seconds(60)) const;
  // Removes the service now.
  void Remove();
};

// Zero-drop backend flags: start-first updates gated by a health check, and a
// stop grace period in which sg-echo drains.
std::string HealthCheckedBackendArgs();

// ------------------------------------------------------------------ secrets

// A Docker secret from a file. Removal retries while a service still mounts
// it (the operator unmounts a TLS secret with a rolling update of the
// proxies after its last route went), bounded by 120 s.
class ScopedSecret : public ScopedDockerObject {
 public:
  ScopedSecret() = default;
  static ScopedSecret Create(const std::string& name, const std::string& file);
  ~ScopedSecret();
  ScopedSecret(ScopedSecret&& o) noexcept { *this = std::move(o); }
  ScopedSecret& operator=(ScopedSecret&& o) noexcept;
  ScopedSecret(const ScopedSecret&) = delete;
  ScopedSecret& operator=(const ScopedSecret&) = delete;

  // Removes it now; "" or what was left.
  std::string Remove();
};

// ------------------------------------------------------------------ routes

// Resources applied from one YAML file (usually Routes, one or several
// documents), deleted with `swarmgate delete -f` of the last applied text.
class ScopedRoute {
 public:
  ScopedRoute() = default;
  static ScopedRoute Apply(const std::string& yaml);
  ~ScopedRoute();
  ScopedRoute(ScopedRoute&& o) noexcept { *this = std::move(o); }
  ScopedRoute& operator=(ScopedRoute&& o) noexcept;
  ScopedRoute(const ScopedRoute&) = delete;
  ScopedRoute& operator=(const ScopedRoute&) = delete;

  bool ok() const { return error_.empty() && !file_.empty(); }
  const std::string& error() const { return error_; }
  // The name of the first document (metadata.name).
  const std::string& name() const { return name_; }
  // Applies new text for the same resources (e.g. another backend).
  ShResult Reapply(const std::string& yaml);
  // Deletes now; the CLI's result.
  ShResult Delete();

 private:
  std::string file_, name_, error_;
};

// ------------------------------------------------------------------ suites

// Base of the operator suites; `Shared` is default-constructible and has
// `std::string SetUp()` returning "" or why the suite cannot run. Members of
// Shared are destroyed in reverse declaration order at TearDownTestSuite.
template <typename Shared>
class SuiteFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto t0 = std::chrono::steady_clock::now();
    shared_ = std::make_unique<Shared>();
    error_ = Env().ok() ? shared_->SetUp() : Env().error();
    ReportTime("set up", t0);
  }
  static void TearDownTestSuite() {
    auto t0 = std::chrono::steady_clock::now();
    shared_.reset();
    error_.clear();
    ReportTime("torn down", t0);
  }
  void SetUp() override { ASSERT_TRUE(error_.empty()) << error_; }

  static Shared& S() { return *shared_; }
  static OperatorEnv& Env() { return OperatorEnv::Get(); }
  static const Cluster& C() { return Env().cluster(); }
  static const SwarmgateEnv& Sg() { return Env().sg(); }
  static const std::vector<int>& ProxyNodes() { return Env().proxy_nodes(); }
  static const std::string& Addr(int node) { return Env().addr(node); }

 private:
  static void ReportTime(const char* what, std::chrono::steady_clock::time_point t0) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_suite();
    std::printf("[ fixture  ] %s %s in %.1f s\n", info ? info->name() : "suite", what,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    std::fflush(stdout);
  }
  static inline std::unique_ptr<Shared> shared_;
  static inline std::string error_;
};

}  // namespace sg::e2e
