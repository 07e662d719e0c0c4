// TLS and ServiceCluster isolation on a real Swarm, end to end: certificates
// from Docker secrets terminated by the proxies, TLS passed through by SNI on
// the same https port, host redirects, two ServiceClusters side by side, and
// VIP backend mode. The operator runs as a Swarm service (charts/swarmgate),
// `swarmgate apply` stores resources, and real requests go through the
// proxies' host-mode ports on each proxy node.
//
// The tests of this file share one operator (left deployed for other suites)
// and one ServiceCluster with its backends and secrets, and run in declaration
// order. The teardown removes every cluster, route, service and secret they
// created.

#include <atomic>
#include <cstdlib>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "e2e/harness/harness.h"
#include "e2e/harness/loadgen_runner.h"
#include "e2e/harness/swarmgate_env.h"
#include "e2e/harness/tls_util.h"

namespace sg::e2e {
namespace {

using namespace std::chrono_literals;

// Hosts of the shared cluster.
constexpr const char* kHostA = "a.tls.test";          // terminate, secret A, redirectHTTP
constexpr const char* kHostB = "b.tls.test";          // terminate, secret B
constexpr const char* kHostC = "c.tls.test";          // terminate, secret C (added under load)
constexpr const char* kHostPlain = "plain.tls.test";  // plain http (the load's host)
constexpr const char* kHostPass = "pass.tls.test";    // passthrough to a TLS backend
constexpr const char* kHostOld = "old.tls.test";      // redirected to https://new.tls.test
constexpr const char* kHostVip = "vip.tls.test";      // backendMode: vip

std::string Subject(const std::string& host) { return "CN=" + host; }

// A string member of a nested JSON object: JsonPath(body, "headers", "host").
std::string JsonPath(const std::string& json, const std::string& object, const std::string& key) {
  rapidjson::Document d;
  d.Parse(json.c_str());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember(object.c_str())) return "";
  const auto& o = d[object.c_str()];
  if (!o.IsObject() || !o.HasMember(key.c_str()) || !o[key.c_str()].IsString()) return "";
  return o[key.c_str()].GetString();
}

bool JsonBool(const std::string& json, const std::string& key) {
  rapidjson::Document d;
  d.Parse(json.c_str());
  return !d.HasParseError() && d.IsObject() && d.HasMember(key.c_str()) &&
         d[key.c_str()].IsBool() && d[key.c_str()].GetBool();
}

class TlsE2E : public ::testing::Test {
 protected:
  struct Shared {
    explicit Shared(Cluster::Loaded l) : loaded(std::move(l)) {}
    Cluster::Loaded loaded;
    std::unique_ptr<SwarmgateEnv> env;
    std::unique_ptr<Resources> res;
    std::string tag;      // prefix of every name this suite creates
    std::string cluster;  // the shared ServiceCluster
    std::string network;
    int http_port = 0, https_port = 0;
    std::vector<int> proxy_nodes;
    std::string svc_a, svc_b, svc_plain, svc_pass;
    std::map<std::string, std::string> secrets;  // host -> Docker secret name
    std::set<std::string> routes;                // route names to delete
    std::set<std::string> clusters;              // cluster names to delete
    std::string error;
  };
  static Shared* s_;

  static const Cluster& C() { return *s_->loaded; }
  static SwarmgateEnv& Env() { return *s_->env; }
  static std::string Route(const std::string& suffix) { return s_->tag + "-" + suffix; }
  static std::string Addr(int node) { return C().node(node).addr; }

  static HttpResponse Get(int node, const std::string& host, const std::string& target = "/",
                          int port = 0) {
    return HttpGet(Addr(node), port ? port : s_->http_port, target, host, 3s);
  }

  // Applies `yaml` and remembers the route names in it for the teardown.
  static ShResult ApplyRoutes(const std::string& file, const std::string& yaml,
                              const std::vector<std::string>& names) {
    for (const auto& n : names) s_->routes.insert(n);
    return Env().Apply(file, yaml);
  }

  static std::string TlsSpec(const std::string& host, bool redirect_http) {
    return "  tls: {mode: terminate, secret: " + s_->secrets.at(host) +
           (redirect_http ? ", redirectHTTP: true" : "") + "}\n";
  }

  // Creates a Docker secret from `file` and tracks it for removal.
  static std::string CreateSecret(const std::string& name, const std::string& file) {
    auto r = C().Docker("secret create " + ShellQuote(name) + " " + ShellQuote(file));
    if (!r.ok()) return "secret create " + name + ": " + r.Describe();
    s_->res->TrackSecret(name);
    return "";
  }

  static std::string MakeCertAndSecret(const std::string& host) {
    auto cert = MakeSelfSigned(Env().dir(), host);
    if (!cert.ok()) return cert.error;
    s_->secrets[host] = s_->tag + "-" + host.substr(0, host.find('.'));
    return CreateSecret(s_->secrets[host], cert.bundle);
  }

  static std::string Echo(const std::string& prefix, const std::string& network,
                          const std::string& extra_args = "", const std::string& cmd = "") {
    return s_->res->Service(UniqueName(prefix), "--replicas 1 --network " + network + " " +
                                                    EchoEnv() + " " + extra_args +
                                                    " swarmgate/echo:dev " + cmd);
  }

  static WaitResult WaitNetwork(const std::string& network) {
    return WaitUntil("network " + network, 30s, [&](std::string& observed) {
      auto r = C().Docker("network inspect --format '{{.Name}}' " + network);
      observed = r.Describe();
      return r.ok();
    });
  }

  // What the operator and Swarm say, for failure messages.
  static std::string Diagnose(const std::vector<std::string>& routes,
                              const std::string& cluster = "") {
    std::string cl = cluster.empty() ? s_->cluster : cluster;
    std::string out = "\ncluster " + cl + ": " + Env().Ready("servicecluster", cl);
    for (const auto& r : routes) out += "\nroute " + r + ": " + Env().Ready("route", r);
    out += "\n" + C().Docker("service ps --no-trunc sg-proxy-" + cl).out;
    return out;
  }

  // The proxy service's mounted TLS secrets and update state.
  static std::string ProxyServiceState(const std::string& cluster) {
    auto r = C().Docker(
        "service inspect --format '{{range .Spec.TaskTemplate.ContainerSpec.Secrets}}"
        "{{.SecretName}} {{end}}|{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}' sg-proxy-" +
        cluster);
    return TrimRight(r.out);
  }

  struct ClusterGeneration {
    long config = -1, served = -1, metric = -1;
    std::string Describe() const {
      return "configGeneration=" + std::to_string(config) +
             " servedGeneration=" + std::to_string(served) + " metric=" + std::to_string(metric);
    }
  };

  // The cluster's generations from the operator's /v1/status and /metrics.
  static ClusterGeneration Generation(const std::string& cluster) {
    ClusterGeneration g;
    auto st = HttpGet(Addr(1), kOperatorPort, "/v1/status", "", 3s);
    rapidjson::Document d;
    d.Parse(st.body.c_str());
    if (!d.HasParseError() && d.IsObject() && d.HasMember("clusters") && d["clusters"].IsArray()) {
      for (const auto& item : d["clusters"].GetArray()) {
        if (item.HasMember("name") && cluster == item["name"].GetString()) {
          g.config = item["configGeneration"].GetInt64();
          g.served = item["servedGeneration"].GetInt64();
        }
      }
    }
    auto m = HttpGet(Addr(1), kOperatorPort, "/metrics", "", 3s);
    std::string key = "swarmgate_proxy_config_generation{cluster=\"" + cluster + "\"} ";
    for (const auto& line : Lines(m.body)) {
      if (line.rfind(key, 0) == 0) g.metric = std::atol(line.c_str() + key.size());
    }
    return g;
  }

  static std::string ProxyServiceVersion(const std::string& cluster) {
    return TrimRight(
        C().Docker("service inspect --format '{{.Version.Index}}' sg-proxy-" + cluster).out);
  }

  static void SetUpTestSuite() {
    s_ = new Shared(Cluster::Load());
    if (!s_->loaded.ok()) return;
    const auto& c = C();
    s_->res = std::make_unique<Resources>(c);
    s_->env = std::make_unique<SwarmgateEnv>(c, SG_SWARMGATE_PATH);
    s_->proxy_nodes = Env().ProxyNodes();
    s_->error = Env().DeployOperator();
    if (!s_->error.empty()) return;

    s_->tag = UniqueName("tls");
    s_->cluster = s_->tag;
    s_->network = "sg-" + s_->cluster;
    s_->http_port = UniquePort(24000, 26000);
    s_->https_port = s_->http_port + 1;

    for (const char* host : {kHostA, kHostB, kHostC}) {
      s_->error = MakeCertAndSecret(host);
      if (!s_->error.empty()) return;
    }
    // The passthrough backend's own certificate and key, as two secrets.
    auto pass = MakeSelfSigned(Env().dir(), kHostPass);
    if (!pass.ok()) {
      s_->error = pass.error;
      return;
    }
    std::string pass_crt = s_->tag + "-pass-crt", pass_key = s_->tag + "-pass-key";
    for (const auto& [name, file] : std::vector<std::pair<std::string, std::string>>{
             {pass_crt, pass.cert}, {pass_key, pass.key}}) {
      s_->error = CreateSecret(name, file);
      if (!s_->error.empty()) return;
    }

    auto applied = Env().Apply(
        "cluster.yaml", ClusterYaml(s_->cluster, kGlobalProxies, s_->http_port, s_->https_port));
    if (!applied.ok()) {
      s_->error = "apply cluster: " + applied.Describe();
      return;
    }
    s_->clusters.insert(s_->cluster);
    auto net = WaitNetwork(s_->network);
    if (!net.ok) {
      s_->error = net.message;
      return;
    }
    s_->svc_a = Echo("tls-a", s_->network);
    s_->svc_b = Echo("tls-b", s_->network);
    s_->svc_plain = Echo("tls-plain", s_->network);
    s_->svc_pass = Echo("tls-pass", s_->network,
                        "--secret source=" + pass_crt +
                            ",target=pass.crt --secret source=" + pass_key + ",target=pass.key",
                        "--tls-cert /run/secrets/pass.crt --tls-key /run/secrets/pass.key");
    if (s_->svc_a.empty() || s_->svc_b.empty() || s_->svc_plain.empty() || s_->svc_pass.empty()) {
      s_->error = "backend services: " + s_->res->last_error();
      return;
    }
    const std::string& cl = s_->cluster;
    std::string routes =
        RouteYaml(Route("plain"), cl, kHostPlain, "/", s_->svc_plain) + "---\n" +
        RouteYaml(Route("a"), cl, kHostA, "/", s_->svc_a, 8080, TlsSpec(kHostA, true)) + "---\n" +
        RouteYaml(Route("b"), cl, kHostB, "/", s_->svc_b, 8080, TlsSpec(kHostB, false)) + "---\n" +
        RouteYaml(Route("pass"), cl, kHostPass, "/", s_->svc_pass, 8080,
                  "  tls: {mode: passthrough}\n") +
        "---\n" +
        RouteYaml(Route("redir"), cl, "new.tls.test", "/", s_->svc_plain, 8080,
                  std::string("  redirects: [{from: ") + kHostOld +
                      ", to: \"https://new.tls.test\", code: 301}]\n");
    applied = ApplyRoutes("routes.yaml", routes,
                          {Route("plain"), Route("a"), Route("b"), Route("pass"), Route("redir")});
    if (!applied.ok()) {
      s_->error = "apply routes: " + applied.Describe();
      return;
    }
    // Everything below waits for the proxies to serve the TLS routes.
    auto served = WaitUntil("TLS routes served on every proxy node", 120s, [&](std::string& obs) {
      obs.clear();
      bool all = true;
      for (int node : s_->proxy_nodes) {
        std::string err;
        std::string sa = PresentedSubject(Addr(node), s_->https_port, kHostA, &err, 3s);
        std::string sb = PresentedSubject(Addr(node), s_->https_port, kHostB, &err, 3s);
        obs += "node" + std::to_string(node) + ": a=" + sa + " b=" + sb + " " + err + "; ";
        all = all && sa == Subject(kHostA) && sb == Subject(kHostB);
      }
      obs += ProxyServiceState(cl);
      return all;
    });
    if (!served.ok) {
      s_->error = served.message + Diagnose({Route("a"), Route("b")});
    }
  }

  static void TearDownTestSuite() {
    if (s_ && s_->loaded.ok() && s_->env) {
      const auto& c = C();
      for (const auto& r : s_->routes) (void)Env().Swarmgate("delete route " + r);
      for (const auto& cl : s_->clusters) {
        (void)Env().Swarmgate("delete servicecluster " + cl);
      }
      // The proxy services mount the secrets: they must go first.
      for (const auto& cl : s_->clusters) {
        auto gone = WaitUntil("proxy service of " + cl + " gone", 60s, [&](std::string& observed) {
          auto r = c.Docker("service ls -q --filter name=sg-proxy-" + cl);
          observed = r.out;
          return r.ok() && TrimRight(r.out).empty();
        });
        if (!gone.ok) std::cerr << gone.message << "\n";
      }
      s_->res.reset();  // backends, secrets, networks of our own
      // With the backends gone, the operator can remove the clusters' networks.
      for (const auto& cl : s_->clusters) {
        (void)WaitUntil("objects owned by " + cl + " gone", 60s, [&](std::string& observed) {
          observed.clear();
          for (const char* what : {"service", "network", "secret", "config"}) {
            auto r = c.Docker(std::string(what) +
                              " ls -q --filter label=swarmgate.io/owner=cluster/" + cl);
            if (!TrimRight(r.out).empty()) observed += std::string(what) + ": " + r.out + "; ";
          }
          return observed.empty();
        });
      }
      // The operator stays deployed for the other suites.
    }
    delete s_;
    s_ = nullptr;
  }

  void SetUp() override {
    ASSERT_TRUE(s_->loaded.ok()) << s_->loaded.error;
    ASSERT_TRUE(s_->error.empty()) << s_->error;
  }
};

TlsE2E::Shared* TlsE2E::s_ = nullptr;

TEST_F(TlsE2E, TerminatesEachHostWithItsCertificateFromDockerSecrets) {
  for (int node : s_->proxy_nodes) {
    SCOPED_TRACE("proxy node " + std::to_string(node));
    for (const auto& [host, svc] : std::vector<std::pair<std::string, std::string>>{
             {kHostA, s_->svc_a}, {kHostB, s_->svc_b}}) {
      std::string err;
      EXPECT_EQ(PresentedSubject(Addr(node), s_->https_port, host, &err), Subject(host)) << err;
      auto w = WaitUntil("https " + host, 30s, [&](std::string& observed) {
        auto r = HttpsGet(Addr(node), s_->https_port, host, "/secure?x=1");
        observed = r.Describe();
        return r.status == 200 && JsonField(r.body, "service") == svc;
      });
      ASSERT_TRUE(w.ok) << w.message << Diagnose({Route("a"), Route("b")});
      auto r = HttpsGet(Addr(node), s_->https_port, host, "/secure?x=1");
      // The backend got plain http from the proxy, which says what the client used.
      EXPECT_EQ(JsonField(r.body, "path"), "/secure") << r.body;
      EXPECT_FALSE(JsonBool(r.body, "tls")) << r.body;
      EXPECT_EQ(JsonPath(r.body, "headers", "x-forwarded-proto"), "https") << r.body;
      EXPECT_EQ(JsonPath(r.body, "headers", "host"), host) << r.body;
    }
    // redirectHTTP on a.tls.test: plain http is sent to https, path and query kept.
    auto plain_a = Get(node, kHostA, "/page?q=1");
    EXPECT_EQ(plain_a.status, 301) << plain_a.Describe();
    EXPECT_EQ(plain_a.headers["location"], "https://" + std::string(kHostA) + ":" +
                                               std::to_string(s_->https_port) + "/page?q=1");
    // b.tls.test has no redirectHTTP: plain http is served as well.
    auto plain_b = Get(node, kHostB, "/page");
    EXPECT_EQ(plain_b.status, 200) << plain_b.Describe();
    EXPECT_EQ(JsonField(plain_b.body, "service"), s_->svc_b);
    // A name with no certificate: the handshake is refused.
    std::string err;
    EXPECT_EQ(PresentedSubject(Addr(node), s_->https_port, "unknown.tls.test", &err), "")
        << "a certificate was presented for an unknown name";
  }
}

TEST_F(TlsE2E, PassthroughBySniOnTheSameHttpsPort) {
  for (int node : s_->proxy_nodes) {
    SCOPED_TRACE("proxy node " + std::to_string(node));
    auto w = WaitUntil("backend certificate for " + std::string(kHostPass), 30s,
                       [&](std::string& observed) {
                         std::string err;
                         observed = PresentedSubject(Addr(node), s_->https_port, kHostPass, &err);
                         observed += err;
                         return observed == Subject(kHostPass);
                       });
    ASSERT_TRUE(w.ok) << w.message << Diagnose({Route("pass")});
    // The backend itself terminated TLS: it saw a TLS connection and no proxy headers.
    auto r = HttpsGet(Addr(node), s_->https_port, kHostPass, "/through");
    EXPECT_EQ(r.status, 200) << r.Describe();
    EXPECT_EQ(JsonField(r.body, "service"), s_->svc_pass) << r.body;
    EXPECT_TRUE(JsonBool(r.body, "tls")) << r.body;
    EXPECT_EQ(JsonPath(r.body, "headers", "x-forwarded-proto"), "") << r.body;
    // Same port, another SNI: the proxy's own certificate, terminated there.
    std::string err;
    EXPECT_EQ(PresentedSubject(Addr(node), s_->https_port, kHostA, &err), Subject(kHostA)) << err;
    auto t = HttpsGet(Addr(node), s_->https_port, kHostA, "/terminated");
    EXPECT_EQ(t.status, 200) << t.Describe();
    EXPECT_EQ(JsonField(t.body, "service"), s_->svc_a) << t.body;
    EXPECT_FALSE(JsonBool(t.body, "tls")) << t.body;
  }
}

TEST_F(TlsE2E, HostRedirects) {
  for (int node : s_->proxy_nodes) {
    HttpResponse r;
    auto w = WaitUntil("redirect of " + std::string(kHostOld) + " via node " + std::to_string(node),
                       30s, [&](std::string& observed) {
                         r = Get(node, kHostOld, "/shop/cart?id=7");
                         observed = r.Describe() + " location=" + r.headers["location"];
                         return r.status == 301;
                       });
    EXPECT_TRUE(w.ok) << w.message << Diagnose({Route("redir")});
    EXPECT_EQ(r.headers["location"], "https://new.tls.test/shop/cart?id=7") << "node " << node;
    // The redirect target of the same route still serves.
    auto n = Get(node, "new.tls.test", "/");
    EXPECT_EQ(n.status, 200) << n.Describe();
    EXPECT_EQ(JsonField(n.body, "service"), s_->svc_plain);
  }
}

TEST_F(TlsE2E, ServiceClustersAreIsolated) {
  const auto& c = C();
  // A second cluster on other ports, with its own proxies, network and route.
  std::string other = s_->tag + "-other";
  std::string other_net = "sg-" + other;
  int http_b = UniquePort(26000, 28000);
  auto applied =
      Env().Apply("other.yaml",
                  ClusterYaml(other, static_cast<int>(s_->proxy_nodes.size()), http_b, http_b + 1));
  ASSERT_TRUE(applied.ok()) << applied.Describe();
  s_->clusters.insert(other);
  auto net = WaitNetwork(other_net);
  ASSERT_TRUE(net.ok) << net.message;
  std::string svc_other = Echo("tls-other", other_net);
  ASSERT_FALSE(svc_other.empty()) << s_->res->last_error();
  applied =
      ApplyRoutes("only.yaml", RouteYaml(Route("only"), other, "only.other.test", "/", svc_other),
                  {Route("only")});
  ASSERT_TRUE(applied.ok()) << applied.Describe();

  for (int node : s_->proxy_nodes) {
    auto w = WaitUntil("only.other.test via the other cluster on node " + std::to_string(node), 90s,
                       [&](std::string& observed) {
                         auto r = Get(node, "only.other.test", "/x", http_b);
                         observed = r.Describe();
                         return r.status == 200 && JsonField(r.body, "service") == svc_other;
                       });
    ASSERT_TRUE(w.ok) << w.message << Diagnose({Route("only")}, other);
    // Neither cluster's proxies serve the other's hosts.
    auto r = Get(node, "only.other.test", "/x");
    EXPECT_EQ(r.status, 404) << "node " << node << " (first cluster): " << r.Describe();
    r = Get(node, kHostPlain, "/", http_b);
    EXPECT_EQ(r.status, 404) << "node " << node << " (second cluster): " << r.Describe();
    r = Get(node, kHostPlain, "/");
    EXPECT_EQ(r.status, 200) << "node " << node << " (first cluster): " << r.Describe();
  }

  // Each proxy service joins its own cluster's network and sg-control, nothing else.
  for (const auto& [cl, want] : std::vector<std::pair<std::string, std::string>>{
           {s_->cluster, s_->network}, {other, other_net}}) {
    auto ids = c.Docker(
        "service inspect --format "
        "'{{range .Spec.TaskTemplate.Networks}}{{.Target}} {{end}}' sg-proxy-" +
        cl);
    ASSERT_TRUE(ids.ok()) << ids.Describe();
    std::set<std::string> names;
    for (const auto& line :
         Lines(c.Docker("network inspect --format '{{.Name}}' " + TrimRight(ids.out)).out)) {
      names.insert(line);
    }
    EXPECT_EQ(names, (std::set<std::string>{want, "sg-control"})) << "proxy service of " << cl;
  }

  // A change to the first cluster leaves the second one's configuration alone.
  auto converged = [&](const std::string& cl, ClusterGeneration* out) {
    return WaitUntil("cluster " + cl + " converged", 60s, [&](std::string& observed) {
      *out = Generation(cl);
      observed = out->Describe();
      return out->config > 0 && out->served == out->config && out->metric == out->config;
    });
  };
  ClusterGeneration a0, b0, a1, b1;
  auto wa = converged(s_->cluster, &a0);
  ASSERT_TRUE(wa.ok) << wa.message;
  auto wb = converged(other, &b0);
  ASSERT_TRUE(wb.ok) << wb.message;
  std::string b_version = ProxyServiceVersion(other);
  applied = ApplyRoutes("gen.yaml",
                        RouteYaml(Route("gen"), s_->cluster, "gen.tls.test", "/", s_->svc_plain),
                        {Route("gen")});
  ASSERT_TRUE(applied.ok()) << applied.Describe();
  auto moved = WaitUntil("first cluster at a new generation", 60s, [&](std::string& observed) {
    a1 = Generation(s_->cluster);
    auto r = Get(s_->proxy_nodes.front(), "gen.tls.test", "/");
    observed = a1.Describe() + " gen.tls.test: " + r.Describe();
    return a1.served > a0.config && r.status == 200;
  });
  ASSERT_TRUE(moved.ok) << moved.message;
  // Give a stray reconcile of the second cluster time to show up.
  std::this_thread::sleep_for(2s);
  b1 = Generation(other);
  EXPECT_EQ(b1.config, b0.config) << "before " << b0.Describe() << ", after " << b1.Describe();
  EXPECT_EQ(b1.metric, b0.metric) << "before " << b0.Describe() << ", after " << b1.Describe();
  EXPECT_EQ(ProxyServiceVersion(other), b_version) << "the second cluster's proxy service changed";
  std::cout << "[ generations ] " << s_->cluster << ": " << a0.Describe() << " -> " << a1.Describe()
            << "; " << other << ": " << b0.Describe() << " -> " << b1.Describe() << "\n";
}

TEST_F(TlsE2E, VipBackendModeResolvesTheServiceVip) {
  const auto& c = C();
  // A service with the default endpoint mode (vip).
  std::string svc =
      s_->res->Service(UniqueName("tls-vip"), "--replicas 1 --network " + s_->network + " " +
                                                  EchoEnv() + " swarmgate/echo:dev");
  ASSERT_FALSE(svc.empty()) << s_->res->last_error();
  auto net_id = TrimRight(c.Docker("network inspect --format '{{.Id}}' " + s_->network).out);
  std::string vip;
  auto has_vip = WaitUntil("service VIP on the cluster network", 30s, [&](std::string& observed) {
    auto r = c.Docker(
        "service inspect --format "
        "'{{range .Endpoint.VirtualIPs}}{{.NetworkID}}={{.Addr}} {{end}}' " +
        svc);
    observed = r.Describe() + r.out;
    std::istringstream in(r.out);
    std::string item;
    while (in >> item) {
      if (item.rfind(net_id + "=", 0) == 0) vip = item.substr(net_id.size() + 1);
    }
    vip = vip.substr(0, vip.find('/'));
    return !vip.empty();
  });
  ASSERT_TRUE(has_vip.ok) << has_vip.message;
  auto applied = ApplyRoutes(
      "vip.yaml",
      RouteYaml(Route("vip"), s_->cluster, kHostVip, "/", svc, 8080, "  backendMode: vip\n"),
      {Route("vip")});
  ASSERT_TRUE(applied.ok()) << applied.Describe();
  std::string want = vip + ":8080";
  auto endpoints = WaitUntil("route endpoints = the VIP", 60s, [&](std::string& observed) {
    auto r = Env().Swarmgate("get route " + Route("vip") + " -o json");
    rapidjson::Document d;
    d.Parse(r.out.c_str());
    std::vector<std::string> eps;
    if (!d.HasParseError() && d.IsObject() && d.HasMember("status") &&
        d["status"].HasMember("endpoints") && d["status"]["endpoints"].IsArray()) {
      for (const auto& e : d["status"]["endpoints"].GetArray()) eps.push_back(e.GetString());
    }
    observed = "endpoints:";
    for (const auto& e : eps) observed += " " + e;
    observed += "; " + Env().Ready("route", Route("vip"));
    return eps == std::vector<std::string>{want} &&
           Env().Ready("route", Route("vip")).rfind("True/", 0) == 0;
  });
  EXPECT_TRUE(endpoints.ok) << endpoints.message << " (want " << want << ")";
  // The task's own address is not used in vip mode.
  for (const auto& t : RunningTasks(c, svc, s_->network)) {
    for (const auto& a : t.addrs) EXPECT_NE(a, vip) << "task address equals the VIP";
  }

  auto caps = DetectCapabilities();
  if (!caps.ipvs) {
    GTEST_SKIP() << "VIP traffic not checked (status endpoints were): " << caps.ipvs_reason;
  }
  for (int node : s_->proxy_nodes) {
    auto w =
        WaitUntil("vip.tls.test via node " + std::to_string(node), 60s, [&](std::string& observed) {
          auto r = Get(node, kHostVip, "/");
          observed = r.Describe();
          return r.status == 200 && JsonField(r.body, "service") == svc;
        });
    EXPECT_TRUE(w.ok) << w.message;
  }
}

// Last, because it rolls the proxy service: a route with a secret the proxies
// do not mount yet makes the operator update the proxy service to mount it.
// Load on another route's host runs on one proxy node throughout and every
// failed request is counted.
TEST_F(TlsE2E, NewSecretRollsTheProxiesUnderLoad) {
  const std::string& secret = s_->secrets.at(kHostC);
  std::string before = ProxyServiceState(s_->cluster);
  ASSERT_EQ(before.find(secret), std::string::npos) << before;
  int node = s_->proxy_nodes.front();
  std::string args = "--url http://" + Addr(node) + ":" + std::to_string(s_->http_port) +
                     "/load --host " + kHostPlain +
                     " --concurrency 4 --keepalive --rate 100 --timeout 2s --duration 3s";
  // The load runs in 3 s slices until the roll is over (plus one more slice),
  // so it lasts as long as the roll does; the slices' counts are summed.
  std::atomic<bool> stop{false};
  auto load = std::async(std::launch::async, [&] {
    LoadReport total;
    total.requests = total.ok = total.failures = total.connect = 0;
    int slices = 0;
    while (slices < 60) {
      bool last = stop.load();
      auto rep = RunLoadgen(SG_LOADGEN_PATH, args);
      ++slices;
      if (!rep.parsed()) {
        total.raw += "slice " + std::to_string(slices) + " unparsed: " + rep.raw + "\n";
      } else {
        total.requests += rep.requests;
        total.ok += rep.ok;
        total.failures += rep.failures;
        total.connect += rep.connect;
        if (rep.failures > 0) total.raw += "slice " + std::to_string(slices) + ": " + rep.raw;
      }
      if (last) break;
    }
    return total;
  });
  std::this_thread::sleep_for(3s);  // a baseline slice before the change

  auto t0 = std::chrono::steady_clock::now();
  auto applied = ApplyRoutes(
      "c.yaml",
      RouteYaml(Route("c"), s_->cluster, kHostC, "/", s_->svc_a, 8080, TlsSpec(kHostC, false)),
      {Route("c")});
  EXPECT_TRUE(applied.ok()) << applied.Describe();
  auto rolled = WaitUntil("proxies mount the new secret and serve " + std::string(kHostC), 120s,
                          [&](std::string& observed) {
                            std::string state = ProxyServiceState(s_->cluster);
                            observed = state;
                            bool all = state.find(secret) != std::string::npos;
                            for (int n : s_->proxy_nodes) {
                              std::string subj =
                                  PresentedSubject(Addr(n), s_->https_port, kHostC, nullptr, 3s);
                              observed += " node" + std::to_string(n) + "=" + subj;
                              all = all && subj == Subject(kHostC);
                            }
                            return all;
                          });
  double roll_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  stop = true;
  LoadReport rep = load.get();
  std::cout << "[ secret roll ] " << (rolled.ok ? "completed" : "NOT completed") << " in " << roll_s
            << " s; load on " << kHostPlain << " via node " << node << ": " << rep.requests
            << " requests, " << rep.ok << " ok, " << rep.failures << " failures (connect errors "
            << rep.connect << ")\n"
            << rep.raw << "\n";
  RecordProperty("roll_seconds", std::to_string(roll_s));
  RecordProperty("roll_requests", std::to_string(rep.requests));
  RecordProperty("roll_failures", std::to_string(rep.failures));
  ASSERT_TRUE(rolled.ok) << rolled.message << Diagnose({Route("c")});
  auto r = HttpsGet(Addr(node), s_->https_port, kHostC, "/after-roll");
  EXPECT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(JsonField(r.body, "service"), s_->svc_a) << r.body;
  // The earlier certificates survive the roll.
  std::string err;
  EXPECT_EQ(PresentedSubject(Addr(node), s_->https_port, kHostA, &err), Subject(kHostA)) << err;
  EXPECT_GT(rep.requests, 300) << rep.raw;
  // The node's ports are held by the listener service, so each proxy task is
  // replaced start-first beside its predecessor, both accepting from the
  // same socket: the new secret costs no request.
  std::string order = TrimRight(
      C().Docker("service inspect --format '{{.Spec.UpdateConfig.Order}}' sg-proxy-" + s_->cluster)
          .out);
  EXPECT_EQ(order, "start-first");
  EXPECT_EQ(rep.failures, 0) << rep.raw;
}

}  // namespace
}  // namespace sg::e2e
