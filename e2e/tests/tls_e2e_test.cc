// TLS and ServiceCluster isolation on a real Swarm, end to end: certificates
// from Docker secrets terminated by the proxies, TLS passed through by SNI on
// the same https port, host redirects, two ServiceClusters side by side, and
// VIP backend mode. The operator runs as a Swarm service (charts/swarmgate),
// `swarmgate apply` stores resources, and real requests go through the
// proxies' host-mode ports on each proxy node.
//
// The tests of this file share one ServiceCluster with its backends, secrets
// and routes, served before the first test runs; what a test adds (a second
// cluster, a route, a secret) it removes, so the tests run in any order.

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

#include "e2e/harness/e2e_fixture.h"
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

// The proxy service's mounted TLS secrets and update state.
std::string ProxyServiceState(const std::string& proxy_service) {
  auto r = OperatorEnv::Get().cluster().Docker(
      "service inspect --format '{{range .Spec.TaskTemplate.ContainerSpec.Secrets}}"
      "{{.SecretName}} {{end}}|{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}' " +
      proxy_service);
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
ClusterGeneration Generation(const std::string& cluster) {
  ClusterGeneration g;
  const std::string& addr = OperatorEnv::Get().addr(1);
  auto st = HttpGet(addr, kOperatorPort, "/v1/status", "", 3s);
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
  auto m = HttpGet(addr, kOperatorPort, "/metrics", "", 3s);
  std::string key = "swarmgate_proxy_config_generation{cluster=\"" + cluster + "\"} ";
  for (const auto& line : Lines(m.body)) {
    if (line.rfind(key, 0) == 0) g.metric = std::atol(line.c_str() + key.size());
  }
  return g;
}

std::string ProxyServiceVersion(const std::string& proxy_service) {
  return TrimRight(OperatorEnv::Get()
                       .cluster()
                       .Docker("service inspect --format '{{.Version.Index}}' " + proxy_service)
                       .out);
}

// A self-signed certificate for `host` stored as Docker secret `name`
// (certificate and key in one PEM, as the proxies read it); "" or what failed.
std::string CertSecret(const std::string& name, const std::string& host, ScopedSecret* secret) {
  auto cert = MakeSelfSigned(OperatorEnv::Get().sg().dir(), host);
  if (!cert.ok()) return "certificate for " + host + ": " + cert.error;
  *secret = ScopedSecret::Create(name, cert.bundle);
  return secret->error();
}

// The shared cluster: global proxies serving A and B (terminated), plain,
// passthrough and a host redirect.
struct TlsShared {
  std::string tag;  // the cluster's name, prefix of the secrets and routes
  // Secrets outlive the cluster whose proxies mount them.
  ScopedSecret secret_a, secret_b, pass_crt, pass_key;
  ScopedCluster cluster;
  ScopedService svc_a, svc_b, svc_plain, svc_pass;
  ScopedRoute routes;
  // A second cluster on other ports with its own backend and route
  // (only.other.test), which only ServiceClustersAreIsolated uses; made here
  // so its proxies start alongside the first cluster's.
  ScopedCluster other;
  ScopedService other_backend;
  ScopedRoute other_route;

  ~TlsShared() {
    // Both clusters go at once: their routes and backends first.
    (void)other_route.Delete();
    (void)routes.Delete();
    for (auto* svc : {&other_backend, &svc_pass, &svc_plain, &svc_b, &svc_a}) svc->Remove();
    other.BeginDelete();
    cluster.BeginDelete();
  }

  std::string Route(const std::string& suffix) const { return tag + "-" + suffix; }

  std::string SetUp() {
    tag = UniqueName("tls");
    if (auto e = CertSecret(tag + "-a", kHostA, &secret_a); !e.empty()) return e;
    if (auto e = CertSecret(tag + "-b", kHostB, &secret_b); !e.empty()) return e;
    // The passthrough backend's own certificate and key, as two secrets.
    auto pass = MakeSelfSigned(OperatorEnv::Get().sg().dir(), kHostPass);
    if (!pass.ok()) return pass.error;
    pass_crt = ScopedSecret::Create(tag + "-pass-crt", pass.cert);
    if (!pass_crt.ok()) return pass_crt.error();
    pass_key = ScopedSecret::Create(tag + "-pass-key", pass.key);
    if (!pass_key.ok()) return pass_key.error();

    // The routes go in before the cluster, so the proxy service is created
    // mounting their secrets instead of being rolled to mount them; their
    // backends follow once the cluster's network exists.
    const std::string a = UniqueName("tls-a"), b = UniqueName("tls-b"),
                      plain = UniqueName("tls-plain"), passthrough = UniqueName("tls-pass");
    routes = ScopedRoute::Apply(
        RouteYaml(Route("plain"), tag, kHostPlain, "/", plain) + "---\n" +
        RouteYaml(Route("a"), tag, kHostA, "/", a, 8080, TlsSpec(secret_a, true)) + "---\n" +
        RouteYaml(Route("b"), tag, kHostB, "/", b, 8080, TlsSpec(secret_b, false)) + "---\n" +
        RouteYaml(Route("pass"), tag, kHostPass, "/", passthrough, 8080,
                  "  tls: {mode: passthrough}\n") +
        "---\n" +
        RouteYaml(Route("redir"), tag, "new.tls.test", "/", plain, 8080,
                  std::string("  redirects: [{from: ") + kHostOld +
                      ", to: \"https://new.tls.test\", code: 301}]\n"));
    if (!routes.ok()) return routes.error();
    cluster = ScopedCluster::Create(ClusterOptions("tls", 24000, 26000).Named(tag).Global());
    if (!cluster.ok()) return cluster.error();
    svc_a = ScopedService::Echo(cluster, a);
    if (!svc_a.ok()) return svc_a.error();
    svc_b = ScopedService::Echo(cluster, b);
    if (!svc_b.ok()) return svc_b.error();
    svc_plain = ScopedService::Echo(cluster, plain);
    if (!svc_plain.ok()) return svc_plain.error();
    svc_pass = ScopedService::Echo(
        cluster, passthrough, 1,
        "--secret source=" + pass_crt.name() +
            ",target=pass.crt --secret source=" + pass_key.name() + ",target=pass.key",
        "--tls-cert /run/secrets/pass.crt --tls-key /run/secrets/pass.key");
    if (!svc_pass.ok()) return svc_pass.error();
    other = ScopedCluster::Create({"tls-other", 26000, 28000});
    if (!other.ok()) return other.error();
    other_backend = ScopedService::Echo(other, UniqueName("tls-other"));
    if (!other_backend.ok()) return other_backend.error();
    other_route = ScopedRoute::Apply(
        RouteYaml(Route("only"), other.name(), "only.other.test", "/", other_backend.name()));
    if (!other_route.ok()) return other_route.error();

    // Every test starts with the proxies serving the TLS routes.
    const auto& nodes = OperatorEnv::Get().proxy_nodes();
    auto served = WaitUntil("TLS routes served on every proxy node", 120s, [&](std::string& obs) {
      obs.clear();
      bool all = true;
      for (int node : nodes) {
        const std::string& addr = OperatorEnv::Get().addr(node);
        std::string err;
        std::string sa = PresentedSubject(addr, cluster.https_port(), kHostA, &err, 3s);
        std::string sb = PresentedSubject(addr, cluster.https_port(), kHostB, &err, 3s);
        auto r = cluster.Get(node, kHostPlain, "/");
        obs += "node" + std::to_string(node) + ": a=" + sa + " b=" + sb + " " + err +
               " plain=" + r.Describe() + "; ";
        all = all && sa == Subject(kHostA) && sb == Subject(kHostB) && r.status == 200 &&
              JsonField(r.body, "service") == svc_plain.name();
      }
      obs += ProxyServiceState(cluster.proxy_service());
      return all;
    });
    if (!served.ok) return served.message + cluster.Diagnose({Route("a"), Route("b")});
    return "";
  }

  static std::string TlsSpec(const ScopedSecret& secret, bool redirect_http) {
    return "  tls: {mode: terminate, secret: " + secret.name() +
           (redirect_http ? ", redirectHTTP: true" : "") + "}\n";
  }
};

class TlsE2E : public SuiteFixture<TlsShared> {
 protected:
  static std::string Route(const std::string& suffix) { return S().Route(suffix); }
  static int HttpsPort() { return S().cluster.https_port(); }

  static HttpResponse Get(int node, const std::string& host, const std::string& target = "/",
                          int port = 0) {
    return HttpGet(Addr(node), port ? port : S().cluster.http_port(), target, host, 3s);
  }

  // What the operator and Swarm say, for failure messages.
  static std::string Diagnose(const std::vector<std::string>& routes,
                              const ScopedCluster* cluster = nullptr) {
    return (cluster ? *cluster : S().cluster).Diagnose(routes);
  }
};

TEST_F(TlsE2E, TerminatesEachHostWithItsCertificateFromDockerSecrets) {
  for (int node : ProxyNodes()) {
    SCOPED_TRACE("proxy node " + std::to_string(node));
    for (const auto& [host, svc] : std::vector<std::pair<std::string, std::string>>{
             {kHostA, S().svc_a.name()}, {kHostB, S().svc_b.name()}}) {
      std::string err;
      EXPECT_EQ(PresentedSubject(Addr(node), HttpsPort(), host, &err), Subject(host)) << err;
      auto w = WaitUntil("https " + host, 30s, [&](std::string& observed) {
        auto r = HttpsGet(Addr(node), HttpsPort(), host, "/secure?x=1");
        observed = r.Describe();
        return r.status == 200 && JsonField(r.body, "service") == svc;
      });
      ASSERT_TRUE(w.ok) << w.message << Diagnose({Route("a"), Route("b")});
      auto r = HttpsGet(Addr(node), HttpsPort(), host, "/secure?x=1");
      // The backend got plain http from the proxy, which says what the client used.
      EXPECT_EQ(JsonField(r.body, "path"), "/secure") << r.body;
      EXPECT_FALSE(JsonBool(r.body, "tls")) << r.body;
      EXPECT_EQ(JsonPath(r.body, "headers", "x-forwarded-proto"), "https") << r.body;
      EXPECT_EQ(JsonPath(r.body, "headers", "host"), host) << r.body;
    }
    // redirectHTTP on a.tls.test: plain http is sent to https, path and query kept.
    auto plain_a = Get(node, kHostA, "/page?q=1");
    EXPECT_EQ(plain_a.status, 301) << plain_a.Describe();
    EXPECT_EQ(plain_a.headers["location"],
              "https://" + std::string(kHostA) + ":" + std::to_string(HttpsPort()) + "/page?q=1");
    // b.tls.test has no redirectHTTP: plain http is served as well.
    auto plain_b = Get(node, kHostB, "/page");
    EXPECT_EQ(plain_b.status, 200) << plain_b.Describe();
    EXPECT_EQ(JsonField(plain_b.body, "service"), S().svc_b.name());
    // A name with no certificate: the handshake is refused.
    std::string err;
    EXPECT_EQ(PresentedSubject(Addr(node), HttpsPort(), "unknown.tls.test", &err), "")
        << "a certificate was presented for an unknown name";
  }
}

TEST_F(TlsE2E, PassthroughBySniOnTheSameHttpsPort) {
  for (int node : ProxyNodes()) {
    SCOPED_TRACE("proxy node " + std::to_string(node));
    auto w = WaitUntil("backend certificate for " + std::string(kHostPass), 30s,
                       [&](std::string& observed) {
                         std::string err;
                         observed = PresentedSubject(Addr(node), HttpsPort(), kHostPass, &err);
                         observed += err;
                         return observed == Subject(kHostPass);
                       });
    ASSERT_TRUE(w.ok) << w.message << Diagnose({Route("pass")});
    // The backend itself terminated TLS: it saw a TLS connection and no proxy headers.
    auto r = HttpsGet(Addr(node), HttpsPort(), kHostPass, "/through");
    EXPECT_EQ(r.status, 200) << r.Describe();
    EXPECT_EQ(JsonField(r.body, "service"), S().svc_pass.name()) << r.body;
    EXPECT_TRUE(JsonBool(r.body, "tls")) << r.body;
    EXPECT_EQ(JsonPath(r.body, "headers", "x-forwarded-proto"), "") << r.body;
    // Same port, another SNI: the proxy's own certificate, terminated there.
    std::string err;
    EXPECT_EQ(PresentedSubject(Addr(node), HttpsPort(), kHostA, &err), Subject(kHostA)) << err;
    auto t = HttpsGet(Addr(node), HttpsPort(), kHostA, "/terminated");
    EXPECT_EQ(t.status, 200) << t.Describe();
    EXPECT_EQ(JsonField(t.body, "service"), S().svc_a.name()) << t.body;
    EXPECT_FALSE(JsonBool(t.body, "tls")) << t.body;
  }
}

TEST_F(TlsE2E, HostRedirects) {
  for (int node : ProxyNodes()) {
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
    EXPECT_EQ(JsonField(n.body, "service"), S().svc_plain.name());
  }
}

TEST_F(TlsE2E, ServiceClustersAreIsolated) {
  const auto& c = C();
  // The second cluster, on other ports, with its own proxies, network and route.
  const ScopedCluster& other_cluster = S().other;
  const std::string other = other_cluster.name();
  const std::string other_net = other_cluster.network();
  const int http_b = other_cluster.http_port();
  const std::string svc_other = S().other_backend.name();

  for (int node : ProxyNodes()) {
    auto w = WaitUntil("only.other.test via the other cluster on node " + std::to_string(node), 90s,
                       [&](std::string& observed) {
                         auto r = Get(node, "only.other.test", "/x", http_b);
                         observed = r.Describe();
                         return r.status == 200 && JsonField(r.body, "service") == svc_other;
                       });
    ASSERT_TRUE(w.ok) << w.message << Diagnose({Route("only")}, &other_cluster);
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
           {S().cluster.name(), S().cluster.network()}, {other, other_net}}) {
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
  auto wa = converged(S().cluster.name(), &a0);
  ASSERT_TRUE(wa.ok) << wa.message;
  auto wb = converged(other, &b0);
  ASSERT_TRUE(wb.ok) << wb.message;
  std::string b_version = ProxyServiceVersion(other_cluster.proxy_service());
  ScopedRoute gen = ScopedRoute::Apply(
      RouteYaml(Route("gen"), S().cluster.name(), "gen.tls.test", "/", S().svc_plain.name()));
  ASSERT_TRUE(gen.ok()) << gen.error();
  auto moved = WaitUntil("first cluster at a new generation", 60s, [&](std::string& observed) {
    a1 = Generation(S().cluster.name());
    auto r = Get(ProxyNodes().front(), "gen.tls.test", "/");
    observed = a1.Describe() + " gen.tls.test: " + r.Describe();
    return a1.served > a0.config && r.status == 200;
  });
  ASSERT_TRUE(moved.ok) << moved.message;
  // Give a stray reconcile of the second cluster time to show up.
  std::this_thread::sleep_for(2s);
  b1 = Generation(other);
  EXPECT_EQ(b1.config, b0.config) << "before " << b0.Describe() << ", after " << b1.Describe();
  EXPECT_EQ(b1.metric, b0.metric) << "before " << b0.Describe() << ", after " << b1.Describe();
  EXPECT_EQ(ProxyServiceVersion(other_cluster.proxy_service()), b_version)
      << "the second cluster's proxy service changed";
  std::cout << "[ generations ] " << S().cluster.name() << ": " << a0.Describe() << " -> "
            << a1.Describe() << "; " << other << ": " << b0.Describe() << " -> " << b1.Describe()
            << "\n";
}

TEST_F(TlsE2E, VipBackendModeResolvesTheServiceVip) {
  const auto& c = C();
  // A service with the default endpoint mode (vip).
  ScopedService vip_backend = ScopedService::Echo(S().cluster, UniqueName("tls-vip"));
  ASSERT_TRUE(vip_backend.ok()) << vip_backend.error();
  const std::string svc = vip_backend.name();
  auto net_id =
      TrimRight(c.Docker("network inspect --format '{{.Id}}' " + S().cluster.network()).out);
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
  const std::string vip_route = UniqueName(Route("vip"));
  ScopedRoute route = ScopedRoute::Apply(
      RouteYaml(vip_route, S().cluster.name(), kHostVip, "/", svc, 8080, "  backendMode: vip\n"));
  ASSERT_TRUE(route.ok()) << route.error();
  std::string want = vip + ":8080";
  auto endpoints = WaitUntil("route endpoints = the VIP", 60s, [&](std::string& observed) {
    auto r = Sg().Swarmgate("get route " + vip_route + " -o json");
    rapidjson::Document d;
    d.Parse(r.out.c_str());
    std::vector<std::string> eps;
    if (!d.HasParseError() && d.IsObject() && d.HasMember("status") &&
        d["status"].HasMember("endpoints") && d["status"]["endpoints"].IsArray()) {
      for (const auto& e : d["status"]["endpoints"].GetArray()) eps.push_back(e.GetString());
    }
    observed = "endpoints:";
    for (const auto& e : eps) observed += " " + e;
    observed += "; " + Sg().Ready("route", vip_route);
    return eps == std::vector<std::string>{want} &&
           Sg().Ready("route", vip_route).rfind("True/", 0) == 0;
  });
  EXPECT_TRUE(endpoints.ok) << endpoints.message << " (want " << want << ")";
  // The task's own address is not used in vip mode.
  for (const auto& t : RunningTasks(c, svc, S().cluster.network())) {
    for (const auto& a : t.addrs) EXPECT_NE(a, vip) << "task address equals the VIP";
  }

  auto caps = DetectCapabilities();
  if (!caps.ipvs) {
    GTEST_SKIP() << "VIP traffic not checked (status endpoints were): " << caps.ipvs_reason;
  }
  for (int node : ProxyNodes()) {
    auto w =
        WaitUntil("vip.tls.test via node " + std::to_string(node), 60s, [&](std::string& observed) {
          auto r = Get(node, kHostVip, "/");
          observed = r.Describe();
          return r.status == 200 && JsonField(r.body, "service") == svc;
        });
    EXPECT_TRUE(w.ok) << w.message;
  }
}

// A route with a secret the proxies do not mount yet makes the operator
// update the proxy service to mount it. Load on another route's host runs on
// one proxy node throughout and every failed request is counted.
TEST_F(TlsE2E, NewSecretRollsTheProxiesUnderLoad) {
  const std::string proxy = S().cluster.proxy_service();
  ScopedSecret secret_c;
  std::string made = CertSecret(UniqueName(S().tag + "-c"), kHostC, &secret_c);
  ASSERT_EQ(made, "");
  const std::string& secret = secret_c.name();
  // Once the route is gone the operator rolls the proxies again to unmount
  // the secret: the next test starts when that roll is over (and then the
  // secret can be removed).
  ScopeGuard settled([&] {
    auto w =
        WaitUntil("proxies without " + secret + ", update over", 120s, [&](std::string& observed) {
          observed = ProxyServiceState(proxy);
          bool done = observed.find(secret) == std::string::npos &&
                      observed.find("|updating") == std::string::npos;
          // No task of the old spec is still meant to run.
          auto ids = C().Docker("service ps -q --filter desired-state=running " + proxy);
          for (const auto& id : Lines(ids.out)) {
            auto t = C().Docker(
                "inspect --format '{{range .Spec.ContainerSpec.Secrets}}"
                "{{.SecretName}} {{end}}' " +
                id);
            observed += " task " + id + ": " + TrimRight(t.out) + ";";
            done = done && t.ok() && t.out.find(secret) == std::string::npos;
          }
          return done;
        });
    if (!w.ok) ADD_FAILURE() << "teardown: " << w.message;
  });
  std::string before = ProxyServiceState(proxy);
  ASSERT_EQ(before.find(secret), std::string::npos) << before;
  int node = ProxyNodes().front();
  std::string args = "--url http://" + Addr(node) + ":" + std::to_string(S().cluster.http_port()) +
                     "/load --host " + kHostPlain +
                     " --concurrency 4 --keepalive --rate 100 --timeout 2s --duration 3s"
                     " --resend-idempotent";
  // The load runs in 3 s slices until the roll is over (plus one more slice),
  // so it lasts as long as the roll does; the slices' counts are summed.
  std::atomic<bool> stop{false};
  auto load = std::async(std::launch::async, [&] {
    LoadReport total;
    total.requests = total.ok = total.failures = total.failures_after_resend = total.connect = 0;
    int slices = 0;
    while (slices < 60) {
      bool last = stop.load();
      auto rep = RunLoadgen(SG_LOADGEN_PATH, args);
      ++slices;
      if (!rep.parsed()) {
        total.raw += "slice " + std::to_string(slices) + " unparsed: " + rep.raw + "\n";
      } else {
        total.Add(rep);
        if (rep.failures > 0) total.raw += "slice " + std::to_string(slices) + ": " + rep.raw;
      }
      if (last) break;
    }
    return total;
  });
  std::this_thread::sleep_for(3s);  // a baseline slice before the change

  auto t0 = std::chrono::steady_clock::now();
  ScopedRoute route_c =
      ScopedRoute::Apply(RouteYaml(Route("c"), S().cluster.name(), kHostC, "/", S().svc_a.name(),
                                   8080, TlsShared::TlsSpec(secret_c, false)));
  EXPECT_TRUE(route_c.ok()) << route_c.error();
  auto rolled = WaitUntil("proxies mount the new secret and serve " + std::string(kHostC), 120s,
                          [&](std::string& observed) {
                            std::string state = ProxyServiceState(proxy);
                            observed = state;
                            bool all = state.find(secret) != std::string::npos;
                            for (int n : ProxyNodes()) {
                              std::string subj =
                                  PresentedSubject(Addr(n), HttpsPort(), kHostC, nullptr, 3s);
                              observed += " node" + std::to_string(n) + "=" + subj;
                              all = all && subj == Subject(kHostC);
                            }
                            return all;
                          });
  double roll_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  stop = true;
  LoadReport rep = load.get();
  std::cout << "[ secret roll ] " << (rolled.ok ? "completed" : "NOT completed") << " in " << roll_s
            << " s; load on " << kHostPlain << " via node " << node << ": " << rep.Summary() << ", "
            << rep.ok << " ok (connect errors " << rep.connect
            << (E2eEngine() == "nginx"
                    ? "); NOT asserted zero for a client that never resends (nginx engine)\n"
                    : "); asserted zero for a client that never resends\n")
            << rep.raw << "\n";
  RecordProperty("roll_seconds", std::to_string(roll_s));
  RecordProperty("roll_requests", std::to_string(rep.requests));
  RecordProperty("roll_failures_no_resend", std::to_string(rep.failures));
  RecordProperty("roll_failures_after_resend", std::to_string(rep.failures_after_resend));
  ASSERT_TRUE(rolled.ok) << rolled.message << Diagnose({Route("c")});
  auto r = HttpsGet(Addr(node), HttpsPort(), kHostC, "/after-roll");
  EXPECT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(JsonField(r.body, "service"), S().svc_a.name()) << r.body;
  // The earlier certificates survive the roll.
  std::string err;
  EXPECT_EQ(PresentedSubject(Addr(node), HttpsPort(), kHostA, &err), Subject(kHostA)) << err;
  EXPECT_GT(rep.requests, 300) << rep.raw;
  // The node's ports are held by the listener service, so each proxy task is
  // replaced start-first beside its predecessor, both accepting from the
  // same socket: the new secret costs no request that a client resending
  // idempotent requests once would see. The replaced nginx closes its idle
  // keep-alive connections as it drains, so a client that never resends can
  // fail (printed above, not asserted zero); HAProxy's soft stop keeps idle
  // connections until their next response, so there it is asserted zero.
  std::string order =
      TrimRight(C().Docker("service inspect --format '{{.Spec.UpdateConfig.Order}}' " + proxy).out);
  EXPECT_EQ(order, "start-first");
  EXPECT_EQ(rep.failures_after_resend, 0) << rep.raw;
  if (E2eEngine() != "nginx") {
    EXPECT_EQ(rep.failures, 0) << rep.raw;
  }
}

}  // namespace
}  // namespace sg::e2e
