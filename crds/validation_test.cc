// One good and at least one bad case for every validation rule; the bad
// cases check the field path and the line the error points at.

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "crds/loader.h"
#include "crds/test_util.h"
#include "sg_build_paths.h"

namespace sg::crds {
namespace {

using testing::ClusterYaml;
using testing::Dump;
using testing::HasError;
using testing::RouteYaml;

LoadResult Load(const std::string& yaml) { return LoadText(yaml, "t.yaml"); }

// A Route whose spec body (starting at line 6) is given in full.
std::string RouteSpec(const std::string& body, const std::string& name = "r1") {
  return "apiVersion: swarmgate.io/v1alpha1\nkind: Route\nmetadata:\n  name: " + name +
         "\nspec:\n" + body;
}

#define EXPECT_VALID(yaml)            \
  do {                                \
    LoadResult r_ = Load(yaml);       \
    EXPECT_TRUE(r_.ok()) << Dump(r_); \
  } while (0)

// ------------------------------------------------------------- document shape

TEST(DocumentTest, MustBeAMapping) {
  LoadResult r = Load("- a\n- b\n");
  EXPECT_TRUE(HasError(r, "", 1, "expected a mapping"));
}

TEST(DocumentTest, KindIsRequiredAndKnown) {
  EXPECT_TRUE(HasError(Load("apiVersion: swarmgate.io/v1alpha1\nmetadata: {name: a}\n"), "kind", 1,
                       "required field is missing"));
  EXPECT_TRUE(HasError(Load("apiVersion: swarmgate.io/v1alpha1\nkind: Ingress\n"), "kind", 2,
                       "expected ServiceCluster or Route, got \"Ingress\""));
}

TEST(DocumentTest, ApiVersion) {
  LoadResult r = Load("apiVersion: swarmgate.io/v1\nkind: Route\n");
  EXPECT_TRUE(HasError(r, "apiVersion", 1,
                       "expected one of: swarmgate.io/v1alpha1; got \"swarmgate.io/v1\""));
}

TEST(DocumentTest, UnknownFieldsAreErrors) {
  LoadResult r = Load(RouteYaml("  colour: blue\n  tls: {mode: passthrough, extra: 1}\n"));
  EXPECT_TRUE(HasError(r, "spec.colour", 10, "unknown field; expected one of: serviceCluster,"));
  EXPECT_TRUE(HasError(r, "spec.tls.extra", 11, "unknown field"));
  LoadResult top = Load(RouteYaml() + "status: {}\n");
  EXPECT_TRUE(HasError(top, "status", 10, "unknown field"));
}

TEST(DocumentTest, MissingRequiredFieldsPointAtTheParent) {
  LoadResult r = Load(RouteSpec("  serviceCluster: public\n  hosts: [a.example.com]\n"));
  EXPECT_TRUE(HasError(r, "spec.backends", 5, "required field is missing"));
  LoadResult port =
      Load(RouteSpec("  serviceCluster: public\n  hosts: [a.example.com]\n"
                     "  backends:\n    - service: app\n      weight: 5\n"));
  EXPECT_TRUE(HasError(port, "spec.backends[0].port", 9, "required field is missing"));
  LoadResult meta = Load(
      "apiVersion: swarmgate.io/v1alpha1\nkind: ServiceCluster\nmetadata:\n  labels: {a: b}\n");
  EXPECT_TRUE(HasError(meta, "metadata.name", 3, "required field is missing"));
}

TEST(DocumentTest, TypeMismatchSaysWhatWasFound) {
  LoadResult r =
      Load(RouteSpec("  serviceCluster: public\n  hosts: a.example.com\n"
                     "  backends: [{service: app, port: \"8080\"}]\n  websocket: yes\n"));
  EXPECT_TRUE(HasError(r, "spec.hosts", 7, "expected a list, got string \"a.example.com\""));
  EXPECT_TRUE(HasError(r, "spec.backends[0].port", 8, "expected an integer, got string \"8080\""));
  EXPECT_TRUE(HasError(r, "spec.websocket", 9, "expected true or false, got string \"yes\""));
}

TEST(DocumentTest, DuplicateYamlKeys) {
  LoadResult r = Load(RouteYaml("  path: /a\n  path: /b\n"));
  EXPECT_TRUE(HasError(r, "spec.path", 11, "duplicate key"));
  EXPECT_TRUE(r.resources.empty());
}

// ----------------------------------------------------------------------- names

TEST(NameTest, ResourceNames) {
  EXPECT_VALID(RouteYaml("", "shop-2"));
  EXPECT_TRUE(
      HasError(Load(RouteYaml("", "Shop")), "metadata.name", 4, "expected a resource name"));
  EXPECT_TRUE(
      HasError(Load(RouteYaml("", "-shop")), "metadata.name", 4, "expected a resource name"));
  EXPECT_TRUE(HasError(Load(RouteYaml("", std::string(41, 'a'))), "metadata.name", 4,
                       "expected at most 40 characters, got 41 characters"));
}

TEST(NameTest, LabelKeysAndValues) {
  std::string good =
      "apiVersion: swarmgate.io/v1alpha1\nkind: ServiceCluster\nmetadata:\n"
      "  name: c\n  labels: {team: web, swarmgate.io/tier: edge}\n";
  EXPECT_VALID(good);
  LoadResult r = Load(
      "apiVersion: swarmgate.io/v1alpha1\nkind: ServiceCluster\nmetadata:\n"
      "  name: c\n  labels:\n    \"bad key\": x\n    ok: \"a\\\"b\"\n    n: 5\n");
  EXPECT_TRUE(HasError(r, "metadata.labels[\"bad key\"]", 6, "expected a label key"));
  EXPECT_TRUE(HasError(r, "metadata.labels.ok", 7, "expected a label value"));
  EXPECT_TRUE(HasError(r, "metadata.labels.n", 8, "expected a string, got integer 5"));
}

TEST(NameTest, DockerServiceSecretAndNetworkNames) {
  EXPECT_VALID(
      RouteSpec("  serviceCluster: public\n  hosts: [a.example.com]\n"
                "  backends: [{service: My_App.v2, port: 80}]\n"));
  LoadResult r =
      Load(RouteSpec("  serviceCluster: public\n  hosts: [a.example.com]\n"
                     "  backends: [{service: -app, port: 80}]\n"
                     "  tls: {mode: terminate, secret: 'my secret'}\n"));
  EXPECT_TRUE(HasError(r, "spec.backends[0].service", 8, "expected a Docker object name"));
  EXPECT_TRUE(HasError(r, "spec.tls.secret", 9, "expected a Docker object name"));
  EXPECT_VALID(ClusterYaml("  network: my_net.1\n"));
  EXPECT_TRUE(HasError(Load(ClusterYaml("  network: net/work\n")), "spec.network", 6,
                       "expected a Docker network name"));
  EXPECT_TRUE(HasError(Load(ClusterYaml("  network: " + std::string(64, 'n') + "\n")),
                       "spec.network", 6, "expected at most 63 characters"));
}

TEST(NameTest, ServiceClusterReference) {
  EXPECT_TRUE(HasError(Load(RouteSpec("  serviceCluster: Public\n  hosts: [a.example.com]\n"
                                      "  backends: [{service: app, port: 80}]\n")),
                       "spec.serviceCluster", 6, "expected a resource name"));
}

// ------------------------------------------------------------------ durations

TEST(DurationTest, GoodUnits) {
  EXPECT_VALID(RouteYaml("  timeouts: {connect: 500ms, read: 2m, send: 1h}\n"));
  EXPECT_VALID(
      ClusterYaml("  proxy: {stopGracePeriod: 0s, updatePolicy: {delay: 0s, monitor: 0s}}\n"));
}

TEST(DurationTest, BadUnitsAndZeroWherePositive) {
  LoadResult r =
      Load(RouteYaml("  timeouts: {connect: 5, read: 5 s, send: 0s}\n"
                     "  healthCheck: {failTimeout: 1d}\n"
                     "  updatePolicy: {delay: 5sec, stopGracePeriod: -1s}\n"));
  EXPECT_TRUE(HasError(r, "spec.timeouts.connect", 10, "expected a string, got integer 5"));
  EXPECT_TRUE(HasError(r, "spec.timeouts.read", 10, "expected a duration"));
  EXPECT_TRUE(HasError(r, "spec.timeouts.send", 10,
                       "expected a positive duration such as 500ms, 5s, 2m or 1h, got \"0s\""));
  EXPECT_TRUE(HasError(r, "spec.healthCheck.failTimeout", 11, "expected a duration"));
  EXPECT_TRUE(HasError(r, "spec.updatePolicy.delay", 12, "expected a duration"));
  EXPECT_TRUE(HasError(r, "spec.updatePolicy.stopGracePeriod", 12, "expected a duration"));
  LoadResult c =
      Load(ClusterYaml("  proxy:\n    stopGracePeriod: 10\n    config: {keepaliveTimeout: 75}\n"
                       "    updatePolicy: {monitor: 5x}\n"));
  EXPECT_TRUE(HasError(c, "spec.proxy.stopGracePeriod", 7, "expected a string, got integer 10"));
  EXPECT_TRUE(HasError(c, "spec.proxy.config.keepaliveTimeout", 8, "expected a string"));
  EXPECT_TRUE(HasError(c, "spec.proxy.updatePolicy.monitor", 9, "expected a duration"));
}

TEST(DurationTest, Overflow) {
  LoadResult r = Load(RouteYaml("  timeouts: {read: 99999999999h}\n"));
  EXPECT_TRUE(HasError(r, "spec.timeouts.read", 10, "expected a duration"));
}

// ----------------------------------------------------------------------- hosts

TEST(HostTest, GoodHosts) {
  EXPECT_VALID(
      RouteSpec("  serviceCluster: public\n  hosts: [a.example.com, '*.example.com', localhost]\n"
                "  backends: [{service: app, port: 80}]\n"));
}

TEST(HostTest, BadHosts) {
  std::string long_label = std::string(64, 'a') + ".com";
  LoadResult r =
      Load(RouteSpec("  serviceCluster: public\n  hosts:\n"
                     "    - A.example.com\n"
                     "    - '*.*.example.com'\n"
                     "    - 'a.*.example.com'\n"
                     "    - " +
                     long_label +
                     "\n"
                     "    - a_b.example.com\n"
                     "  backends: [{service: app, port: 80}]\n"));
  EXPECT_TRUE(HasError(r, "spec.hosts[0]", 8, "expected a lowercase host name"));
  EXPECT_TRUE(HasError(r, "spec.hosts[1]", 9, "expected a lowercase host name"));
  EXPECT_TRUE(HasError(r, "spec.hosts[2]", 10, "expected a lowercase host name"));
  EXPECT_TRUE(HasError(r, "spec.hosts[3]", 11, "labels of at most 63"));
  EXPECT_TRUE(HasError(r, "spec.hosts[4]", 12, "expected a lowercase host name"));
}

TEST(HostTest, ListMustBeNonEmptyAndUnique) {
  LoadResult r = Load(
      RouteSpec("  serviceCluster: public\n  hosts: []\n  backends: [{service: app, port: 80}]\n"));
  EXPECT_TRUE(HasError(r, "spec.hosts", 7, "expected at least 1 item, got 0"));
  LoadResult d = Load(
      RouteSpec("  serviceCluster: public\n  hosts:\n    - a.example.com\n    - a.example.com\n"
                "  backends: [{service: app, port: 80}]\n"));
  EXPECT_TRUE(HasError(d, "spec.hosts[1]", 9, "expected unique items"));
}

// ------------------------------------------------------------- path, rewrite

TEST(PathTest, GoodPaths) {
  EXPECT_VALID(RouteYaml("  path: /api/v1\n  rewrite: /\n"));
  EXPECT_VALID(RouteYaml("  path: /a%20b/c-d_e.f~g\n  rewrite: /internal/api\n"));
}

TEST(PathTest, BadPaths) {
  EXPECT_TRUE(HasError(Load(RouteYaml("  path: api\n")), "spec.path", 10, "expected a URL path"));
  EXPECT_TRUE(HasError(Load(RouteYaml("  path: /a/../b\n")), "spec.path", 10,
                       "without '.' or '..' segments, got \"/a/../b\""));
  EXPECT_TRUE(
      HasError(Load(RouteYaml("  path: '/a b'\n")), "spec.path", 10, "expected a URL path"));
  EXPECT_TRUE(
      HasError(Load(RouteYaml("  path: /a?x=1\n")), "spec.path", 10, "expected a URL path"));
}

TEST(PathTest, BadRewrites) {
  EXPECT_TRUE(
      HasError(Load(RouteYaml("  rewrite: /x/..\n")), "spec.rewrite", 10, "expected a URL path"));
  EXPECT_TRUE(
      HasError(Load(RouteYaml("  rewrite: /$1\n")), "spec.rewrite", 10, "expected a URL path"));
  EXPECT_TRUE(
      HasError(Load(RouteYaml("  rewrite: x\n")), "spec.rewrite", 10, "expected a URL path"));
}

// -------------------------------------------------------- backends and weights

TEST(BackendTest, Ports) {
  std::string head = "  serviceCluster: public\n  hosts: [a.example.com]\n  backends:\n";
  EXPECT_VALID(RouteSpec(head + "    - {service: a, port: 1}\n    - {service: b, port: 65535}\n"));
  LoadResult r =
      Load(RouteSpec(head + "    - {service: a, port: 0}\n    - {service: b, port: 70000}\n"));
  EXPECT_TRUE(HasError(r, "spec.backends[0].port", 9, "expected an integer 1-65535, got 0"));
  EXPECT_TRUE(HasError(r, "spec.backends[1].port", 10, "expected an integer 1-65535, got 70000"));
  EXPECT_NE(r.diagnostics.back().ToString().find(
                "t.yaml:10:26: spec.backends[1].port: expected an integer 1-65535, got 70000"),
            std::string::npos)
      << Dump(r);
}

TEST(BackendTest, Weights) {
  std::string head = "  serviceCluster: public\n  hosts: [a.example.com]\n  backends:\n";
  EXPECT_VALID(RouteSpec(
      head +
      "    - {service: a, port: 80, weight: 0}\n    - {service: b, port: 80, weight: 100}\n"));
  LoadResult range = Load(RouteSpec(
      head +
      "    - {service: a, port: 80, weight: 101}\n    - {service: b, port: 80, weight: -1}\n"));
  EXPECT_TRUE(HasError(range, "spec.backends[0].weight", 9, "expected an integer 0-100, got 101"));
  EXPECT_TRUE(HasError(range, "spec.backends[1].weight", 10, "expected an integer 0-100, got -1"));
  LoadResult zero = Load(RouteSpec(
      head + "    - {service: a, port: 80, weight: 0}\n    - {service: b, port: 80, weight: 0}\n"));
  EXPECT_TRUE(HasError(zero, "spec.backends", 8, "expected at least one backend with weight > 0"));
}

TEST(BackendTest, AtLeastOneAndNoDuplicates) {
  LoadResult none =
      Load(RouteSpec("  serviceCluster: public\n  hosts: [a.example.com]\n  backends: []\n"));
  EXPECT_TRUE(HasError(none, "spec.backends", 8, "expected at least 1 item, got 0"));
  LoadResult dup =
      Load(RouteSpec("  serviceCluster: public\n  hosts: [a.example.com]\n  backends:\n"
                     "    - {service: a, port: 80}\n    - {service: a, port: 80, weight: 5}\n"));
  EXPECT_TRUE(HasError(dup, "spec.backends[1]", 10, "got a:80 again (first at spec.backends[0])"));
}

// ---------------------------------------------------------------------- canary

TEST(CanaryTest, RulesNeedACanaryBackend) {
  std::string head =
      "  serviceCluster: public\n  hosts: [a.example.com]\n  backends:\n"
      "    - {service: a, port: 80}\n";
  EXPECT_VALID(
      RouteSpec(head +
                "    - {service: b, port: 80, canary: true}\n"
                "  canary: {header: {name: X-Canary, value: always}, cookie: {name: canary}}\n"));
  LoadResult r = Load(RouteSpec(head + "  canary:\n    header: {name: X-Canary}\n"));
  EXPECT_TRUE(HasError(r, "spec.canary", 10, "expected a backend with canary: true"));
  LoadResult empty =
      Load(RouteSpec(head + "    - {service: b, port: 80, canary: true}\n  canary: {}\n"));
  EXPECT_TRUE(HasError(empty, "spec.canary", 11, "expected at least 1 field"));
}

TEST(CanaryTest, HeaderAndCookieNamesAreTokens) {
  std::string head =
      "  serviceCluster: public\n  hosts: [a.example.com]\n  backends:\n"
      "    - {service: b, port: 80, canary: true}\n";
  LoadResult r = Load(RouteSpec(head + "  canary:\n    header: {name: 'X Canary', value: 'a b'}\n"
                                       "    cookie: {name: 'c:d', value: 'x;y'}\n"));
  EXPECT_TRUE(HasError(r, "spec.canary.header.name", 11, "expected an HTTP token"));
  EXPECT_TRUE(HasError(r, "spec.canary.header.value", 11, "expected a header or cookie value"));
  EXPECT_TRUE(HasError(r, "spec.canary.cookie.name", 12, "expected an HTTP token"));
  EXPECT_TRUE(HasError(r, "spec.canary.cookie.value", 12, "expected a header or cookie value"));
}

TEST(StickyTest, CookieIsAToken) {
  EXPECT_VALID(RouteYaml("  stickySession: {cookie: SG_STICKY}\n"));
  EXPECT_TRUE(HasError(Load(RouteYaml("  stickySession: {cookie: 'a=b'}\n")),
                       "spec.stickySession.cookie", 10, "expected an HTTP token"));
  EXPECT_TRUE(HasError(Load(RouteYaml("  stickySession: {}\n")), "spec.stickySession.cookie", 10,
                       "required field is missing"));
}

// ------------------------------------------------------------------------- TLS

TEST(TlsTest, TerminateNeedsSecret) {
  EXPECT_VALID(RouteYaml("  tls: {mode: terminate, secret: a-tls, redirectHTTP: true}\n"));
  LoadResult r = Load(RouteYaml("  tls:\n    mode: terminate\n    redirectHTTP: true\n"));
  EXPECT_TRUE(HasError(r, "spec.tls.secret", 10, "tls mode terminate needs the Docker secret"));
  EXPECT_TRUE(HasError(Load(RouteYaml("  tls: {secret: x}\n")), "spec.tls.mode", 10,
                       "required field is missing"));
}

TEST(TlsTest, PassthroughForbidsHttpFeatures) {
  EXPECT_VALID(RouteYaml("  tls: {mode: passthrough}\n  path: /\n"));
  LoadResult r =
      Load(RouteSpec("  serviceCluster: public\n  hosts: [a.example.com]\n  backends:\n"
                     "    - {service: a, port: 443, canary: true}\n"
                     "  tls: {mode: passthrough, secret: x}\n"
                     "  path: /api\n"
                     "  rewrite: /\n"
                     "  canary: {cookie: {name: c}}\n"
                     "  stickySession: {cookie: s}\n"));
  EXPECT_TRUE(HasError(r, "spec.tls.secret", 10, "expected no secret with tls mode passthrough"));
  EXPECT_TRUE(HasError(r, "spec.path", 11, "expected no path"));
  EXPECT_TRUE(HasError(r, "spec.rewrite", 12, "expected no rewrite"));
  EXPECT_TRUE(HasError(r, "spec.canary", 13, "expected no header or cookie canary rules"));
  EXPECT_TRUE(HasError(r, "spec.stickySession", 14, "expected no sticky session"));
}

// ------------------------------------------------------------------ vip mode

TEST(VipTest, OwnBackendModeRejectsStickyAndCanaryRules) {
  EXPECT_VALID(RouteYaml("  backendMode: vip\n  websocket: true\n"));
  LoadResult r =
      Load(RouteSpec("  serviceCluster: public\n  hosts: [a.example.com]\n  backends:\n"
                     "    - {service: a, port: 80, canary: true}\n"
                     "  backendMode: vip\n"
                     "  stickySession: {cookie: s}\n"
                     "  canary:\n    header: {name: X-C}\n    cookie: {name: c}\n"));
  EXPECT_TRUE(HasError(r, "spec.stickySession", 11,
                       "sticky sessions need backendMode task, got vip (set on the route)"));
  EXPECT_TRUE(HasError(r, "spec.canary.header", 13, "canary header rules need backendMode task"));
  EXPECT_TRUE(HasError(r, "spec.canary.cookie", 14, "canary cookie rules need backendMode task"));
}

TEST(VipTest, InheritedFromAClusterInTheInput) {
  std::string cluster = ClusterYaml("  backendMode: vip\n", "public");
  LoadResult r = Load(cluster + "---\n" + RouteYaml("  stickySession: {cookie: s}\n"));
  EXPECT_TRUE(HasError(r, "spec.stickySession", 17,
                       "got vip (inherited from ServiceCluster \"public\" at t.yaml:6)"));
  // The route may override its cluster's mode.
  EXPECT_VALID(cluster + "---\n" +
               RouteYaml("  backendMode: task\n  stickySession: {cookie: s}\n"));
  // Another cluster's mode does not matter.
  EXPECT_VALID(ClusterYaml("  backendMode: vip\n", "other") + "---\n" +
               RouteYaml("  stickySession: {cookie: s}\n"));
}

// ---------------------------------------------------- what an engine cannot express

TEST(EngineTest, HaproxyRefusesASendTimeoutLongerThanTheReadTimeout) {
  const std::string haproxy = ClusterYaml("  proxy: {engine: haproxy}\n", "public");
  LoadResult r = Load(haproxy + "---\n" + RouteYaml("  timeouts: {read: 5s, send: 30s}\n"));
  EXPECT_TRUE(HasError(r, "spec.timeouts.send", 17,
                       "expected spec.timeouts.send no longer than spec.timeouts.read on engine "
                       "haproxy (ServiceCluster \"public\" at t.yaml:6): HAProxy has one server "
                       "inactivity timeout for both directions, got send 30s and read 5s"));
  r = Load(haproxy + "---\n" + RouteYaml("  timeouts: {send: 2m}\n"));
  EXPECT_TRUE(HasError(r, "spec.timeouts.send", 17, "got send 2m and read 60s"));
  // A short read alone is fine: the default send is nobody's wish.
  EXPECT_VALID(haproxy + "---\n" + RouteYaml("  timeouts: {read: 1s}\n"));
  // A longer read (long polling) is fine: the send direction waits longer.
  EXPECT_VALID(haproxy + "---\n" + RouteYaml("  timeouts: {read: 5m, send: 10s}\n"));
  // nginx has both.
  EXPECT_VALID(ClusterYaml("  proxy: {engine: nginx}\n", "public") + "---\n" +
               RouteYaml("  timeouts: {read: 5s, send: 30s}\n"));
  // A cluster naming no engine gets haproxy when apply creates it.
  r = Load(ClusterYaml("", "public") + "---\n" + RouteYaml("  timeouts: {read: 5s, send: 30s}\n"));
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(HasError(r, "spec.timeouts.send", 17,
                       "(ServiceCluster \"public\" at t.yaml:4 names no engine, and a new cluster "
                       "gets haproxy; set spec.proxy.engine: nginx to keep nginx)"))
      << (r.diagnostics.empty() ? "" : r.diagnostics[0].message);
}

// ------------------------------------------------------------------- redirects

TEST(RedirectTest, GoodRedirects) {
  EXPECT_VALID(RouteYaml(
      "  redirects:\n    - {from: old.example.com, to: 'https://a.example.com/x?y=1', code: 308}\n"
      "    - {from: '*.old.example.com', to: 'http://a.example.com:8080'}\n"));
}

TEST(RedirectTest, BadRedirects) {
  LoadResult r =
      Load(RouteYaml("  redirects:\n"
                     "    - {from: Old.example.com, to: 'https://a.example.com', code: 303}\n"
                     "    - {from: old.example.com, to: 'ftp://a.example.com'}\n"
                     "    - {from: old2.example.com, to: 'https://a.example.com/a b'}\n"
                     "    - {from: a.example.com, to: 'https://b.example.com'}\n"));
  EXPECT_TRUE(HasError(r, "spec.redirects[0].from", 11, "expected a lowercase host name"));
  EXPECT_TRUE(
      HasError(r, "spec.redirects[0].code", 11, "expected one of: 301, 302, 307, 308; got 303"));
  EXPECT_TRUE(
      HasError(r, "spec.redirects[1].to", 12, "expected an absolute http:// or https:// URL"));
  EXPECT_TRUE(
      HasError(r, "spec.redirects[2].to", 13, "expected an absolute http:// or https:// URL"));
  EXPECT_TRUE(HasError(r, "spec.redirects[3].from", 14, "would loop"));
}

// ------------------------------------------------------------------ rate limit

TEST(RateLimitTest, Bounds) {
  EXPECT_VALID(RouteYaml("  rateLimit: {requestsPerSecond: 1, burst: 0}\n"));
  LoadResult r = Load(RouteYaml("  rateLimit: {requestsPerSecond: 0, burst: -1}\n"));
  EXPECT_TRUE(
      HasError(r, "spec.rateLimit.requestsPerSecond", 10, "expected an integer 1-1000000, got 0"));
  EXPECT_TRUE(HasError(r, "spec.rateLimit.burst", 10, "expected an integer 0-1000000, got -1"));
  EXPECT_TRUE(HasError(Load(RouteYaml("  rateLimit: {burst: 5}\n")),
                       "spec.rateLimit.requestsPerSecond", 10, "required field is missing"));
  EXPECT_TRUE(HasError(Load(RouteYaml("  rateLimit: {requestsPerSecond: 1.5}\n")),
                       "spec.rateLimit.requestsPerSecond", 10,
                       "expected an integer, got number 1.5"));
}

TEST(HealthCheckTest, MaxFails) {
  EXPECT_VALID(RouteYaml("  healthCheck: {maxFails: 0, failTimeout: 1s}\n"));
  EXPECT_TRUE(HasError(Load(RouteYaml("  healthCheck: {maxFails: -1}\n")),
                       "spec.healthCheck.maxFails", 10, "expected an integer 0-1000, got -1"));
}

TEST(RouteUpdatePolicyTest, Order) {
  EXPECT_VALID(RouteYaml("  updatePolicy: {order: stop-first, requireHealthcheck: false}\n"));
  EXPECT_TRUE(HasError(Load(RouteYaml("  updatePolicy: {order: first}\n")),
                       "spec.updatePolicy.order", 10,
                       "expected one of: start-first, stop-first; got \"first\""));
}

// -------------------------------------------------------------- ServiceCluster

TEST(ClusterTest, EnumsAndReplicas) {
  EXPECT_VALID(ClusterYaml(
      "  backendMode: vip\n  proxy: {delivery: rolling, publishMode: ingress, replicas: 0}\n"));
  LoadResult r =
      Load(ClusterYaml("  backendMode: dns\n  proxy:\n    delivery: fast\n"
                       "    publishMode: global\n    replicas: -1\n"
                       "    updatePolicy: {failureAction: retry, parallelism: -1}\n"));
  EXPECT_TRUE(HasError(r, "spec.backendMode", 6, "expected one of: task, vip; got \"dns\""));
  EXPECT_TRUE(HasError(r, "spec.proxy.delivery", 8, "expected one of: hot, rolling"));
  EXPECT_TRUE(HasError(r, "spec.proxy.publishMode", 9, "expected one of: host, ingress"));
  EXPECT_TRUE(HasError(r, "spec.proxy.replicas", 10, "expected an integer 0-1000, got -1"));
  EXPECT_TRUE(HasError(r, "spec.proxy.updatePolicy.failureAction", 11,
                       "expected one of: rollback, pause, continue"));
  EXPECT_TRUE(HasError(r, "spec.proxy.updatePolicy.parallelism", 11, "expected an integer 0-1000"));
}

TEST(ClusterTest, GlobalModeTakesNoReplicas) {
  EXPECT_VALID(ClusterYaml("  proxy: {mode: global}\n"));
  EXPECT_VALID(ClusterYaml("  proxy: {mode: replicated, replicas: 3}\n"));
  LoadResult r = Load(ClusterYaml("  proxy:\n    mode: global\n    replicas: 2\n"));
  EXPECT_TRUE(
      HasError(r, "spec.proxy.replicas", 8,
               "expected no replicas with mode global (one proxy per eligible node), got 2"))
      << Dump(r);
  EXPECT_TRUE(HasError(Load(ClusterYaml("  proxy: {mode: daemon}\n")), "spec.proxy.mode", 6,
                       "expected one of: replicated, global"));
}

TEST(ClusterTest, Ports) {
  EXPECT_VALID(ClusterYaml("  proxy: {ports: {http: 8080, https: 8443}}\n"));
  LoadResult r = Load(ClusterYaml("  proxy:\n    ports: {http: 0, https: 65536}\n"));
  EXPECT_TRUE(HasError(r, "spec.proxy.ports.http", 7, "expected an integer 1-65535, got 0"));
  EXPECT_TRUE(HasError(r, "spec.proxy.ports.https", 7, "expected an integer 1-65535, got 65536"));
  LoadResult same = Load(ClusterYaml("  proxy:\n    ports: {http: 8080, https: 8080}\n"));
  EXPECT_TRUE(
      HasError(same, "spec.proxy.ports.https", 7, "expected a port different from the http port"));
  LoadResult same_default = Load(ClusterYaml("  proxy:\n    ports: {https: 80}\n"));
  EXPECT_TRUE(
      HasError(same_default, "spec.proxy.ports.https", 7, "different from the http port 80"));
}

TEST(ClusterTest, Constraints) {
  EXPECT_VALID(
      ClusterYaml("  proxy:\n    constraints: ['node.labels.a==b', 'node.role != manager']\n"));
  LoadResult r = Load(
      ClusterYaml("  proxy:\n    constraints:\n      - node.role\n      - 'node.role==\"x\"'\n"));
  EXPECT_TRUE(HasError(r, "spec.proxy.constraints[0]", 8, "an == or != comparison"));
  EXPECT_TRUE(HasError(r, "spec.proxy.constraints[1]", 9, "expected a placement constraint"));
}

TEST(ClusterTest, Image) {
  EXPECT_VALID(ClusterYaml("  proxy: {image: 'registry.local:5000/sg/proxy@sha256:0123abcd'}\n"));
  EXPECT_TRUE(HasError(Load(ClusterYaml("  proxy:\n    image: 'proxy latest'\n")),
                       "spec.proxy.image", 7, "expected an image reference"));
}

TEST(ClusterTest, Config) {
  EXPECT_VALID(
      ClusterYaml("  proxy: {config: {workerConnections: 1048576, clientMaxBodySize: 1g}}\n"));
  EXPECT_VALID(
      ClusterYaml("  proxy: {config: {workerConnections: 1, clientMaxBodySize: '4096'}}\n"));
  LoadResult r =
      Load(ClusterYaml("  proxy:\n    config:\n      workerConnections: 0\n"
                       "      clientMaxBodySize: 10mb\n"));
  EXPECT_TRUE(HasError(r, "spec.proxy.config.workerConnections", 8,
                       "expected an integer 1-1048576, got 0"));
  EXPECT_TRUE(HasError(r, "spec.proxy.config.clientMaxBodySize", 9, "expected a size"));
  EXPECT_TRUE(HasError(Load(ClusterYaml("  proxy: {config: {workerConnections: 1048577}}\n")),
                       "spec.proxy.config.workerConnections", 6, "got 1048577"));
  // A plain integer body size is a YAML integer, not the string nginx expects.
  EXPECT_TRUE(HasError(Load(ClusterYaml("  proxy: {config: {clientMaxBodySize: 4096}}\n")),
                       "spec.proxy.config.clientMaxBodySize", 6,
                       "expected a string, got integer 4096"));
}

TEST(ClusterTest, AccessLog) {
  EXPECT_VALID(ClusterYaml("  accessLog: {format: json}\n"));
  EXPECT_VALID(ClusterYaml("  accessLog: {format: combined}\n"));
  // YAML 1.2: a bare off is the string, not false.
  EXPECT_VALID(ClusterYaml("  accessLog: {format: off}\n"));
  EXPECT_VALID(ClusterYaml("  accessLog: {}\n"));
  LoadResult r = Load(ClusterYaml("  backendMode: task\n  accessLog:\n    format: JSON\n"));
  EXPECT_TRUE(HasError(r, "spec.accessLog.format", 8,
                       "expected one of: off, combined, json; got \"JSON\""));
  EXPECT_TRUE(HasError(Load(ClusterYaml("  accessLog: {format: false}\n")), "spec.accessLog.format",
                       6, "expected a string, got boolean false"));
  LoadResult unknown = Load(ClusterYaml("  accessLog:\n    format: json\n    headers: true\n"));
  EXPECT_TRUE(
      HasError(unknown, "spec.accessLog.headers", 8, "unknown field; expected one of: format"));
  EXPECT_TRUE(HasError(Load(ClusterYaml("  accessLog: json\n")), "spec.accessLog", 6,
                       "expected a mapping, got string \"json\""));
}

TEST(ClusterTest, AccessLogDecodes) {
  auto format = [](const std::string& yaml) {
    LoadResult r = Load(yaml);
    EXPECT_TRUE(r.ok()) << Dump(r);
    if (!r.ok() || r.resources.size() != 1 || !r.resources[0].cluster()) {
      return AccessLogFormat::kOff;
    }
    return r.resources[0].cluster()->spec.access_log.format;
  };
  EXPECT_EQ(format(ClusterYaml()), AccessLogFormat::kOff);
  EXPECT_EQ(format(ClusterYaml("  accessLog: {format: off}\n")), AccessLogFormat::kOff);
  EXPECT_EQ(format(ClusterYaml("  accessLog: {format: combined}\n")), AccessLogFormat::kCombined);
  EXPECT_EQ(format(ClusterYaml("  accessLog: {format: json}\n")), AccessLogFormat::kJson);
}

// Lines 1-7 of a Route without backends; `rules` continues its spec at line 8.
std::string RulesYaml(const std::string& rules) {
  return "apiVersion: swarmgate.io/v1alpha1\n"
         "kind: Route\n"
         "metadata:\n"
         "  name: r1\n"
         "spec:\n"
         "  serviceCluster: public\n"
         "  hosts: [a.example.com]\n" +
         rules;
}

TEST(RouteRulesTest, EveryMatchKindIsAccepted) {
  EXPECT_VALID(RulesYaml(
      "  rules:\n"
      "    - matches:\n"
      "        - path: {type: Exact, value: /login}\n"
      "          method: POST\n"
      "        - path: {type: RegularExpression, value: \"/users/[0-9]+(/.*)?\"}\n"
      "          headers:\n"
      "            - {name: X-Version, value: two}\n"
      "            - {type: RegularExpression, name: User-Agent, value: \".*Mobile.*\"}\n"
      "          queryParams:\n"
      "            - {name: tab, value: orders}\n"
      "      backends: [{service: app, port: 8080, weight: 50}, {service: app2, port: 8080}]\n"
      "    - backends: [{service: web, port: 80}]\n"));
}

TEST(RouteRulesTest, DecodesEveryField) {
  LoadResult r =
      Load(RulesYaml("  rules:\n"
                     "    - matches:\n"
                     "        - path: {type: Exact, value: /login}\n"
                     "          method: POST\n"
                     "          headers: [{type: RegularExpression, name: X-A, value: \"a.*\"}]\n"
                     "          queryParams: [{name: q, value: \"1\"}]\n"
                     "      backends: [{service: app, port: 8080, weight: 30}]\n"
                     "    - backends: [{service: web, port: 80}]\n"));
  ASSERT_TRUE(r.ok()) << Dump(r);
  const Route& route = *r.resources[0].route();
  ASSERT_EQ(route.spec.rules.size(), 2u);
  const RouteRule& first = route.spec.rules[0];
  ASSERT_EQ(first.matches.size(), 1u);
  EXPECT_EQ(first.matches[0].path.type, PathMatchType::kExact);
  EXPECT_EQ(first.matches[0].path.value, "/login");
  EXPECT_EQ(first.matches[0].method, "POST");
  ASSERT_EQ(first.matches[0].headers.size(), 1u);
  EXPECT_EQ(first.matches[0].headers[0].type, ValueMatchType::kRegularExpression);
  EXPECT_EQ(first.matches[0].headers[0].name, "X-A");
  EXPECT_EQ(first.matches[0].headers[0].value, "a.*");
  ASSERT_EQ(first.matches[0].query_params.size(), 1u);
  EXPECT_EQ(first.matches[0].query_params[0].type, ValueMatchType::kExact);
  EXPECT_EQ(first.backends[0].weight, 30);
  // A rule without matches has the one default match: PathPrefix /.
  const RouteRule& second = route.spec.rules[1];
  ASSERT_EQ(second.matches.size(), 1u);
  EXPECT_EQ(second.matches[0].path.type, PathMatchType::kPathPrefix);
  EXPECT_EQ(second.matches[0].path.value, "/");
  EXPECT_EQ(second.backends[0].weight, 100);
  EXPECT_EQ(AllBackends(route.spec).size(), 2u);
}

TEST(RouteRulesTest, RulesOrTheShorthandNeverBoth) {
  LoadResult both =
      Load(RouteYaml("  path: /api\n  rules:\n    - backends: [{service: a, port: 1}]\n"));
  EXPECT_TRUE(HasError(both, "spec.backends", 8,
                       "expected either rules or the one-rule shorthand (path, rewrite, backends, "
                       "canary), got both spec.rules and spec.backends"));
  EXPECT_TRUE(HasError(both, "spec.path", 10, "got both spec.rules and spec.path"));
  LoadResult neither = Load(RulesYaml("  websocket: true\n"));
  EXPECT_TRUE(HasError(neither, "spec.backends", 5,
                       "required field is missing: expected backends, or rules"));
  LoadResult passthrough = Load(
      RulesYaml("  tls: {mode: passthrough}\n  rules:\n    - backends: [{service: a, port: 1}]\n"));
  EXPECT_TRUE(HasError(passthrough, "spec.rules", 9,
                       "expected backends instead of rules with tls mode passthrough"));
}

TEST(RouteRulesTest, ValuesAreCheckedByTheirType) {
  LoadResult r =
      Load(RulesYaml("  rules:\n"
                     "    - matches:\n"
                     "        - path: {type: Exact, value: \"/a b\"}\n"
                     "        - path: {type: RegularExpression, value: \"/(a+)+\"}\n"
                     "          headers:\n"
                     "            - {name: X-A, value: \"x<y\"}\n"
                     "            - {type: RegularExpression, name: X-B, value: \"(x\"}\n"
                     "            - {name: x-a, value: y}\n"
                     "          queryParams:\n"
                     "            - {name: \"bad name\", value: v}\n"
                     "          method: get\n"
                     "      backends: [{service: app, port: 8080, weight: 0}]\n"));
  EXPECT_TRUE(HasError(r, "spec.rules[0].matches[0].path.value", 10,
                       "expected a path starting with '/', of printable ASCII without spaces or "
                       "quotes"));
  EXPECT_TRUE(HasError(r, "spec.rules[0].matches[1].path.value", 11,
                       "expected a regular expression without nested unbounded repetition"));
  EXPECT_TRUE(HasError(r, "spec.rules[0].matches[1].headers[0].value", 13,
                       "expected a header or cookie value"));
  EXPECT_TRUE(HasError(r, "spec.rules[0].matches[1].headers[1].value", 14,
                       "expected a regular expression PCRE2 compiles: missing closing "
                       "parenthesis at offset 2, got \"(x\""));
  EXPECT_TRUE(HasError(r, "spec.rules[0].matches[1].headers[2].name", 15,
                       "expected each name once in a match, got \"x-a\" again (first at "
                       "spec.rules[0].matches[1].headers[0])"));
  EXPECT_TRUE(HasError(r, "spec.rules[0].matches[1].queryParams[0].name", 17, "got \"bad name\""));
  EXPECT_TRUE(HasError(r, "spec.rules[0].matches[1].method", 18, "expected one of: GET, HEAD"));
  EXPECT_TRUE(HasError(r, "spec.rules[0].backends", 19,
                       "expected at least one backend with weight > 0, got all weights 0"));
}

TEST(RouteRulesTest, UnknownFieldsAndCanaryAreRefusedInRules) {
  LoadResult r =
      Load(RulesYaml("  rules:\n"
                     "    - matches: [{path: {type: Prefix, value: /x}}]\n"
                     "      backends: [{service: app, port: 8080, canary: true}]\n"
                     "      sessionPersistence: {}\n"));
  EXPECT_TRUE(HasError(r, "spec.rules[0].matches[0].path.type", 9,
                       "expected one of: PathPrefix, Exact, RegularExpression"));
  EXPECT_TRUE(HasError(r, "spec.rules[0].backends[0].canary", 10, "unknown field"));
  EXPECT_TRUE(HasError(r, "spec.rules[0].sessionPersistence", 11, "unknown field"));
}

// ------------------------------------------- rule filters, timeouts and retry

TEST(RouteFiltersTest, EveryFieldDecodes) {
  LoadResult r = Load(RulesYaml(
      "  rules:\n"
      "    - matches:\n"
      "        - path: {type: PathPrefix, value: /api}\n"
      "      filters:\n"
      "        - type: RequestHeaderModifier\n"
      "          requestHeaderModifier:\n"
      "            set: [{name: X-A, value: \"one two\"}]\n"
      "            add: [{name: X-B, value: \"a;b{c}#d%e\"}]\n"
      "            remove: [X-C]\n"
      "        - type: ResponseHeaderModifier\n"
      "          responseHeaderModifier: {remove: [Server]}\n"
      "        - type: URLRewrite\n"
      "          urlRewrite:\n"
      "            hostname: new.example.com\n"
      "            path: {type: ReplacePrefixMatch, replacePrefixMatch: /v2}\n"
      "        - type: RequestMirror\n"
      "          requestMirror: {backend: {service: shadow, port: 9090}, percent: 25}\n"
      "      backends:\n"
      "        - service: a\n"
      "          port: 8080\n"
      "          weight: 50\n"
      "          filters:\n"
      "            - type: RequestHeaderModifier\n"
      "              requestHeaderModifier: {set: [{name: X-Backend, value: a}]}\n"
      "            - type: ResponseHeaderModifier\n"
      "              responseHeaderModifier: {add: [{name: X-From, value: a}]}\n"
      "        - {service: b, port: 8080, weight: 50}\n"
      "      timeouts: {request: 10s, backendRequest: 2s}\n"
      "      retry: {codes: [503, 502], attempts: 2}\n"
      "    - matches: [{path: {type: Exact, value: /old}}]\n"
      "      filters:\n"
      "        - type: RequestRedirect\n"
      "          requestRedirect:\n"
      "            scheme: https\n"
      "            hostname: x.example.com\n"
      "            port: 8443\n"
      "            path: {type: ReplaceFullPath, replaceFullPath: /new}\n"
      "    - matches: [{path: {value: /moved}}]\n"
      "      filters:\n"
      "        - type: RequestRedirect\n"
      "          requestRedirect:\n"
      "            path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}\n"
      "            statusCode: 301\n"
      "      timeouts: {request: 0s}\n"
      "    - matches: [{path: {value: /none}}]\n"
      "      filters:\n"
      "        - {type: RequestMirror, requestMirror: {backend: {service: shadow2, port: 1}}}\n"
      "      retry: {}\n"));
  ASSERT_TRUE(r.ok()) << Dump(r);
  const Route& route = *r.resources[0].route();
  ASSERT_EQ(route.spec.rules.size(), 4u);

  const RouteRule& api = route.spec.rules[0];
  ASSERT_TRUE(api.filters.request_headers);
  ASSERT_EQ(api.filters.request_headers->set.size(), 1u);
  EXPECT_EQ(api.filters.request_headers->set[0].name, "X-A");
  EXPECT_EQ(api.filters.request_headers->set[0].value, "one two");
  ASSERT_EQ(api.filters.request_headers->add.size(), 1u);
  EXPECT_EQ(api.filters.request_headers->add[0].value, "a;b{c}#d%e");
  EXPECT_EQ(api.filters.request_headers->remove, std::vector<std::string>{"X-C"});
  ASSERT_TRUE(api.filters.response_headers);
  EXPECT_TRUE(api.filters.response_headers->set.empty());
  EXPECT_EQ(api.filters.response_headers->remove, std::vector<std::string>{"Server"});
  ASSERT_TRUE(api.filters.url_rewrite);
  EXPECT_EQ(api.filters.url_rewrite->hostname, "new.example.com");
  ASSERT_TRUE(api.filters.url_rewrite->path);
  EXPECT_EQ(api.filters.url_rewrite->path->type, PathModifierType::kReplacePrefixMatch);
  EXPECT_EQ(api.filters.url_rewrite->path->value, "/v2");
  EXPECT_FALSE(api.filters.redirect);
  ASSERT_TRUE(api.filters.mirror);
  EXPECT_EQ(api.filters.mirror->backend.service, "shadow");
  EXPECT_EQ(api.filters.mirror->backend.port, 9090);
  EXPECT_EQ(api.filters.mirror->percent, 25);
  ASSERT_EQ(api.backends.size(), 2u);
  ASSERT_TRUE(api.backends[0].request_headers);
  EXPECT_EQ(api.backends[0].request_headers->set.at(0).name, "X-Backend");
  ASSERT_TRUE(api.backends[0].response_headers);
  EXPECT_EQ(api.backends[0].response_headers->add.at(0).name, "X-From");
  EXPECT_EQ(api.backends[0].response_headers->add.at(0).value, "a");
  EXPECT_FALSE(api.backends[1].request_headers);
  EXPECT_FALSE(api.backends[1].response_headers);
  ASSERT_TRUE(api.timeouts.request && api.timeouts.backend_request);
  EXPECT_EQ(api.timeouts.request->value, std::chrono::seconds(10));
  EXPECT_EQ(api.timeouts.backend_request->value, std::chrono::seconds(2));
  ASSERT_TRUE(api.retry);
  EXPECT_EQ(api.retry->codes, (std::vector<int>{503, 502}));
  EXPECT_EQ(api.retry->attempts, 2);
  EXPECT_FALSE(api.retry->backoff);

  const RouteRule& old = route.spec.rules[1];
  ASSERT_TRUE(old.filters.redirect);
  EXPECT_EQ(old.filters.redirect->scheme, "https");
  EXPECT_EQ(old.filters.redirect->hostname, "x.example.com");
  EXPECT_EQ(old.filters.redirect->port, 8443);
  ASSERT_TRUE(old.filters.redirect->path);
  EXPECT_EQ(old.filters.redirect->path->type, PathModifierType::kReplaceFullPath);
  EXPECT_EQ(old.filters.redirect->path->value, "/new");
  EXPECT_EQ(old.filters.redirect->status_code, 302);  // the default
  EXPECT_TRUE(old.backends.empty());
  EXPECT_FALSE(old.retry);
  EXPECT_FALSE(old.timeouts.request);

  const RouteRule& moved = route.spec.rules[2];
  ASSERT_TRUE(moved.filters.redirect);
  EXPECT_FALSE(moved.filters.redirect->scheme);
  EXPECT_FALSE(moved.filters.redirect->hostname);
  EXPECT_FALSE(moved.filters.redirect->port);
  EXPECT_EQ(moved.filters.redirect->path->type, PathModifierType::kReplacePrefixMatch);
  EXPECT_EQ(moved.filters.redirect->status_code, 301);
  ASSERT_TRUE(moved.timeouts.request);  // 0s: no limit
  EXPECT_EQ(moved.timeouts.request->text, "0s");
  EXPECT_EQ(moved.timeouts.request->value.count(), 0);
  EXPECT_FALSE(moved.timeouts.backend_request);

  // A rule with neither backends nor a redirect (it answers 500).
  const RouteRule& none = route.spec.rules[3];
  EXPECT_TRUE(none.backends.empty());
  EXPECT_FALSE(none.filters.redirect);
  ASSERT_TRUE(none.filters.mirror);
  EXPECT_EQ(none.filters.mirror->percent, 100);  // the default
  ASSERT_TRUE(none.retry);
  EXPECT_EQ(none.retry->attempts, 1);  // the default
  EXPECT_TRUE(none.retry->codes.empty());

  // Mirrors come after every rule backend.
  std::vector<std::string> services;
  for (const Backend* b : AllBackends(route.spec)) services.push_back(b->service);
  EXPECT_EQ(services, (std::vector<std::string>{"a", "b", "shadow", "shadow2"}));
}

TEST(RouteFiltersTest, TypeNamesTheOneFieldItCarriesOncePerRule) {
  LoadResult r =
      Load(RulesYaml("  rules:\n"
                     "    - filters:\n"
                     "        - type: URLRewrite\n"
                     "          urlRewrite: {hostname: a.example.org}\n"
                     "          requestRedirect: {statusCode: 301}\n"
                     "        - type: RequestHeaderModifier\n"
                     "        - type: URLRewrite\n"
                     "          urlRewrite: {hostname: b.example.org}\n"
                     "        - type: Rewrite\n"
                     "      backends: [{service: a, port: 1}]\n"));
  EXPECT_TRUE(HasError(r, "spec.rules[0].filters[0].requestRedirect", 12,
                       "expected only urlRewrite in a filter of type URLRewrite, got "
                       "requestRedirect too"));
  EXPECT_TRUE(HasError(r, "spec.rules[0].filters[1].requestHeaderModifier", 13,
                       "required field is missing: a filter of type RequestHeaderModifier "
                       "carries requestHeaderModifier"));
  EXPECT_TRUE(HasError(r, "spec.rules[0].filters[2].type", 14,
                       "expected each filter type once in a rule, got URLRewrite again (first "
                       "at spec.rules[0].filters[0])"));
  EXPECT_TRUE(HasError(r, "spec.rules[0].filters[3].type", 16,
                       "expected one of: RequestHeaderModifier, ResponseHeaderModifier, "
                       "URLRewrite, RequestRedirect, RequestMirror; got \"Rewrite\""));
  EXPECT_EQ(r.diagnostics.size(), 4u) << Dump(r);
}

TEST(RouteFiltersTest, BackendFiltersAreHeaderModifiersOncePerBackend) {
  LoadResult r = Load(RulesYaml(
      "  rules:\n"
      "    - backends:\n"
      "        - service: a\n"
      "          port: 1\n"
      "          filters:\n"
      "            - {type: RequestHeaderModifier, requestHeaderModifier: {remove: [X-A]}}\n"
      "            - {type: RequestHeaderModifier, requestHeaderModifier: {remove: [X-B]}}\n"
      "        - service: b\n"
      "          port: 1\n"
      "          filters: [{type: URLRewrite, urlRewrite: {hostname: a.example.org}}]\n"
      "        - service: c\n"
      "          port: 1\n"
      "          filters: [{type: ResponseHeaderModifier, responseHeaderModifier: {}}]\n"));
  EXPECT_TRUE(HasError(r, "spec.rules[0].backends[0].filters[1].type", 14,
                       "expected each filter type once in a backend, got RequestHeaderModifier "
                       "again (first at spec.rules[0].backends[0].filters[0])"));
  EXPECT_TRUE(HasError(r, "spec.rules[0].backends[1].filters[0].type", 17,
                       "expected one of: RequestHeaderModifier, ResponseHeaderModifier; got "
                       "\"URLRewrite\""));
  EXPECT_TRUE(HasError(r, "spec.rules[0].backends[1].filters[0].urlRewrite", 17, "unknown field"));
  EXPECT_TRUE(HasError(r, "spec.rules[0].backends[2].filters[0].responseHeaderModifier", 20,
                       "expected at least 1 field, got 0"));
}

TEST(RouteFiltersTest, RedirectExcludesRewriteMirrorAndBackends) {
  LoadResult r = Load(
      RulesYaml("  rules:\n"
                "    - filters:\n"
                "        - {type: URLRewrite, urlRewrite: {hostname: a.example.org}}\n"
                "        - {type: RequestRedirect, requestRedirect: {scheme: https}}\n"
                "    - matches: [{path: {value: /r}}]\n"
                "      filters:\n"
                "        - {type: RequestMirror, requestMirror: {backend: {service: m, port: 1}}}\n"
                "        - {type: RequestRedirect, requestRedirect: {scheme: https}}\n"
                "    - matches: [{path: {value: /s}}]\n"
                "      filters: [{type: RequestRedirect, requestRedirect: {scheme: https}}]\n"
                "      backends: [{service: a, port: 1}, {service: b, port: 1}]\n"));
  EXPECT_TRUE(HasError(r, "spec.rules[0].filters[1].type", 11,
                       "expected either URLRewrite or RequestRedirect in a rule, got both "
                       "(URLRewrite at spec.rules[0].filters[0])"));
  EXPECT_TRUE(HasError(r, "spec.rules[1].filters[1].type", 15,
                       "expected either RequestRedirect or RequestMirror in a rule, got both "
                       "(RequestMirror at spec.rules[1].filters[0])"));
  EXPECT_TRUE(HasError(r, "spec.rules[2].backends", 18,
                       "expected no backends in a rule with a RequestRedirect filter "
                       "(spec.rules[2].filters[0]), which answers every request itself, got 2"));
  EXPECT_EQ(r.diagnostics.size(), 3u) << Dump(r);
}

TEST(RouteFiltersTest, ReplacePrefixMatchNeedsPathPrefixMatches) {
  LoadResult r = Load(
      RulesYaml("  rules:\n"
                "    - matches:\n"
                "        - path: {value: /a}\n"
                "        - path: {type: Exact, value: /b}\n"
                "      filters:\n"
                "        - type: URLRewrite\n"
                "          urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /x}}\n"
                "      backends: [{service: a, port: 1}]\n"
                "    - matches: [{path: {type: RegularExpression, value: \"/c.*\"}}]\n"
                "      filters:\n"
                "        - type: RequestRedirect\n"
                "          requestRedirect:\n"
                "            path:\n"
                "              type: ReplacePrefixMatch\n"
                "              replacePrefixMatch: /y\n"
                "    - filters:\n"
                "        - type: URLRewrite\n"
                "          urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /z}}\n"
                "      backends: [{service: a, port: 1}]\n"));
  EXPECT_TRUE(HasError(r, "spec.rules[0].filters[0].urlRewrite.path.type", 14,
                       "expected ReplacePrefixMatch only in a rule whose matches are all "
                       "PathPrefix (it replaces the prefix the request matched), got "
                       "spec.rules[0].matches[1] of type Exact; use ReplaceFullPath"));
  EXPECT_TRUE(HasError(r, "spec.rules[1].filters[0].requestRedirect.path.type", 21,
                       "got spec.rules[1].matches[0] of type RegularExpression"));
  // The third rule has no matches, which is PathPrefix /.
  EXPECT_EQ(r.diagnostics.size(), 2u) << Dump(r);
}

TEST(RouteFiltersTest, PathTypeNamesItsFieldAndPathsFollowTheGrammar) {
  LoadResult r = Load(
      RulesYaml("  rules:\n"
                "    - filters:\n"
                "        - type: URLRewrite\n"
                "          urlRewrite:\n"
                "            path: {type: ReplaceFullPath, replacePrefixMatch: /x}\n"
                "      backends: [{service: a, port: 1}]\n"
                "    - matches: [{path: {value: /b}}]\n"
                "      filters:\n"
                "        - type: RequestRedirect\n"
                "          requestRedirect:\n"
                "            path: {type: ReplaceFullPath, replaceFullPath: \"/a/../b\"}\n"
                "    - matches: [{path: {value: /c}}]\n"
                "      filters:\n"
                "        - {type: RequestRedirect, requestRedirect: {path: {type: ReplaceFullPath, "
                "replaceFullPath: \"/a b\"}}}\n"));
  EXPECT_TRUE(HasError(r, "spec.rules[0].filters[0].urlRewrite.path.replaceFullPath", 12,
                       "required field is missing: path type ReplaceFullPath takes the new path "
                       "from replaceFullPath"));
  EXPECT_TRUE(HasError(r, "spec.rules[0].filters[0].urlRewrite.path.replacePrefixMatch", 12,
                       "expected only replaceFullPath with path type ReplaceFullPath, got "
                       "replacePrefixMatch"));
  EXPECT_TRUE(HasError(r, "spec.rules[1].filters[0].requestRedirect.path.replaceFullPath", 18,
                       "without '.' or '..' segments, got \"/a/../b\""));
  EXPECT_TRUE(HasError(r, "spec.rules[2].filters[0].requestRedirect.path.replaceFullPath", 21,
                       "expected a URL path starting with '/'"));
}

TEST(RouteFiltersTest, HostnamesAreExactLowercaseNames) {
  const std::string long_label(64, 'a');
  LoadResult r = Load(RulesYaml(
      "  rules:\n"
      "    - filters: [{type: URLRewrite, urlRewrite: {hostname: \"*.example.com\"}}]\n"
      "      backends: [{service: a, port: 1}]\n"
      "    - matches: [{path: {value: /b}}]\n"
      "      filters: [{type: RequestRedirect, requestRedirect: {hostname: Up.example.com}}]\n"
      "    - matches: [{path: {value: /c}}]\n"
      "      filters: [{type: RequestRedirect, requestRedirect: {hostname: " +
      long_label + ".example.com}}]\n"));
  EXPECT_TRUE(HasError(r, "spec.rules[0].filters[0].urlRewrite.hostname", 9,
                       "expected a lowercase host name (RFC 1123 labels of at most 63 letters, "
                       "digits and '-', at most 253 characters) without a wildcard, got "
                       "\"*.example.com\""));
  EXPECT_TRUE(HasError(r, "spec.rules[1].filters[0].requestRedirect.hostname", 12,
                       "without a wildcard, got \"Up.example.com\""));
  // The schema's pattern does not count label lengths; the grammar does.
  EXPECT_TRUE(HasError(r, "spec.rules[2].filters[0].requestRedirect.hostname", 14,
                       "expected a lowercase host name (RFC 1123 labels of at most 63"));
}

TEST(RouteFiltersTest, HeaderNamesAndValues) {
  LoadResult r = Load(
      RulesYaml("  rules:\n"
                "    - filters:\n"
                "        - type: RequestHeaderModifier\n"
                "          requestHeaderModifier:\n"
                "            set:\n"
                "              - {name: Host, value: a.example.com}\n"
                "              - {name: X-A, value: \" lead\"}\n"
                "              - {name: x-b, value: \"it's\"}\n"
                "            add:\n"
                "              - {name: transfer-encoding, value: chunked}\n"
                "              - {name: X-a, value: two}\n"
                "              - {name: X-D, value: \"a$b\"}\n"
                "            remove: [Connection, \"bad name\", X-B, KEEP-ALIVE]\n"
                "        - type: ResponseHeaderModifier\n"
                "          responseHeaderModifier:\n"
                "            set: [{name: HOST, value: x}, {name: X-E, value: \"back`tick\"}]\n"
                "            add: [{name: X-F, value: \"ok \\\"quoted\\\"\"}, {name: X-G, value: "
                "\"tail \"}]\n"
                "      backends: [{service: a, port: 1}]\n"));
  const std::string m = "spec.rules[0].filters[0].requestHeaderModifier";
  EXPECT_TRUE(HasError(r, m + ".set[0].name", 13,
                       "expected a header name other than Host, got \"Host\"; set the Host the "
                       "backend sees with urlRewrite.hostname"));
  EXPECT_TRUE(HasError(r, m + ".set[1].value", 14,
                       "expected a header value of 1-1024 printable ASCII characters without "
                       "quotes, backslashes, '$' or backticks, not starting or ending with a space "
                       "(values are written into nginx.conf and haproxy.cfg), got \" lead\""));
  EXPECT_TRUE(HasError(r, m + ".set[2].value", 15, "got \"it's\""));
  EXPECT_TRUE(HasError(r, m + ".add[0].name", 17,
                       "expected a header name other than the hop-by-hop and framing headers "
                       "Connection, Keep-Alive, Transfer-Encoding, Content-Length, TE, Trailer, "
                       "Upgrade and Proxy-Connection, which the proxies set themselves, got "
                       "\"transfer-encoding\""));
  EXPECT_TRUE(HasError(r, m + ".add[1].name", 18,
                       "expected each header name once in set, add and remove, got \"X-a\" "
                       "again (first at " +
                           m + ".set[1].name)"));
  EXPECT_TRUE(HasError(r, m + ".add[2].value", 19, "got \"a$b\""));
  EXPECT_TRUE(HasError(r, m + ".remove[0]", 20, "hop-by-hop and framing headers"));
  EXPECT_TRUE(HasError(r, m + ".remove[1]", 20, "expected an HTTP token"));
  EXPECT_TRUE(
      HasError(r, m + ".remove[2]", 20, "got \"X-B\" again (first at " + m + ".set[2].name)"));
  EXPECT_TRUE(HasError(r, m + ".remove[3]", 20, "got \"KEEP-ALIVE\""));
  const std::string resp = "spec.rules[0].filters[1].responseHeaderModifier";
  EXPECT_TRUE(HasError(r, resp + ".set[0].name", 23,
                       "expected a header name other than Host, which is a request header, got "
                       "\"HOST\""));
  EXPECT_TRUE(HasError(r, resp + ".set[1].value", 23, "got \"back`tick\""));
  EXPECT_TRUE(HasError(r, resp + ".add[0].value", 24, "got \"ok \\\"quoted\\\"\""));
  EXPECT_TRUE(HasError(r, resp + ".add[1].value", 24, "got \"tail \""));
  EXPECT_EQ(r.diagnostics.size(), 14u) << Dump(r);
}

TEST(RouteFiltersTest, HeaderValueLengthAndTheGrammarBehindTheSchema) {
  EXPECT_VALID(
      RulesYaml("  rules:\n"
                "    - filters:\n"
                "        - type: RequestHeaderModifier\n"
                "          requestHeaderModifier:\n"
                "            set: [{name: X-A, value: \"" +
                std::string(1024, 'v') +
                "\"}]\n"
                "            add: [{name: X-B, value: \"!#%&()*+,-./:;<=>?@[]^_{|}~ x\"}]\n"
                "      backends: [{service: a, port: 1}]\n"));
  LoadResult r =
      Load(RulesYaml("  rules:\n"
                     "    - filters:\n"
                     "        - type: RequestHeaderModifier\n"
                     "          requestHeaderModifier:\n"
                     "            set: [{name: X-A, value: \"" +
                     std::string(1025, 'v') +
                     "\"}]\n"
                     "            add: [{name: X-B, value: \"caf\\u00e9\"}]\n"
                     "      backends: [{service: a, port: 1}]\n"));
  const std::string m = "spec.rules[0].filters[0].requestHeaderModifier";
  EXPECT_TRUE(HasError(r, m + ".set[0].value", 12, "expected at most 1024 characters, got 1025"));
  EXPECT_TRUE(HasError(r, m + ".add[0].value", 13, "expected a header value of 1-1024 printable"));
}

TEST(RouteFiltersTest, MirrorBackendIsCheckedLikeABackend) {
  LoadResult r = Load(
      RulesYaml("  rules:\n"
                "    - filters:\n"
                "        - type: RequestMirror\n"
                "          requestMirror: {backend: {service: \"-bad\", port: 0}, percent: 0}\n"
                "      backends: [{service: a, port: 1}]\n"
                "    - matches: [{path: {value: /b}}]\n"
                "      filters: [{type: RequestMirror, requestMirror: {percent: 101}}]\n"
                "      backends: [{service: a, port: 1}]\n"));
  const std::string m = "spec.rules[0].filters[0].requestMirror";
  EXPECT_TRUE(HasError(r, m + ".backend.service", 11, "expected a Docker"));
  EXPECT_TRUE(HasError(r, m + ".backend.port", 11, "expected an integer 1-65535, got 0"));
  EXPECT_TRUE(HasError(r, m + ".percent", 11, "expected an integer 1-100, got 0"));
  EXPECT_TRUE(HasError(r, "spec.rules[1].filters[0].requestMirror.backend", 14,
                       "required field is missing"));
  EXPECT_TRUE(HasError(r, "spec.rules[1].filters[0].requestMirror.percent", 14,
                       "expected an integer 1-100, got 101"));
}

TEST(RouteFiltersTest, TimeoutsAndRetry) {
  LoadResult r =
      Load(RulesYaml("  rules:\n"
                     "    - backends: [{service: a, port: 1}]\n"
                     "      timeouts: {request: 2s, backendRequest: 5s}\n"
                     "      retry: {codes: [503, 503], attempts: 11, backoff: 100ms}\n"
                     "    - matches: [{path: {value: /b}}]\n"
                     "      backends: [{service: a, port: 1}]\n"
                     "      timeouts: {request: 0s, backendRequest: 5s}\n"
                     "      retry: {codes: [399, 600]}\n"
                     "    - matches: [{path: {value: /c}}]\n"
                     "      backends: [{service: a, port: 1}]\n"
                     "      timeouts: {request: 5x, backendRequest: 0s}\n"
                     "      retry: {attempts: 0}\n"));
  EXPECT_TRUE(HasError(r, "spec.rules[0].timeouts.backendRequest", 10,
                       "expected backendRequest no longer than request (2s): one attempt cannot "
                       "outlast the whole request, got 5s"));
  EXPECT_TRUE(HasError(r, "spec.rules[0].retry.codes[1]", 11,
                       "expected unique items, got 503 again (first at "
                       "spec.rules[0].retry.codes[0])"));
  EXPECT_TRUE(HasError(r, "spec.rules[0].retry.attempts", 11, "expected an integer 0-10, got 11"));
  EXPECT_TRUE(HasError(r, "spec.rules[0].retry.backoff", 11,
                       "expected no backoff: neither nginx nor HAProxy waits between retries; "
                       "remove spec.rules[0].retry.backoff"));
  EXPECT_TRUE(
      HasError(r, "spec.rules[1].retry.codes[0]", 15, "expected an integer 400-599, got 399"));
  EXPECT_TRUE(
      HasError(r, "spec.rules[1].retry.codes[1]", 15, "expected an integer 400-599, got 600"));
  EXPECT_TRUE(HasError(r, "spec.rules[2].timeouts.request", 18, "expected a duration"));
  // A request timeout of 0s sets no limit, so any backendRequest fits.
  EXPECT_EQ(r.diagnostics.size(), 7u) << Dump(r);
}

// What each engine cannot do with filters and retries, when the route's
// cluster is in the same input.
std::string EngineRulesRoute() {
  return RulesYaml(
      "  rules:\n"
      "    - filters:\n"
      "        - type: RequestMirror\n"
      "          requestMirror: {backend: {service: shadow, port: 8080}}\n"
      "      backends:\n"
      "        - {service: a, port: 1}\n"
      "        - {service: b, port: 1, filters: [{type: RequestHeaderModifier, "
      "requestHeaderModifier: {remove: [X-A]}}]}\n"
      "      retry: {codes: [503, 429, 425]}\n");
}

TEST(EngineTest, HaproxyRefusesMirrorsAndCodesItCannotRetry) {
  LoadResult r =
      Load(ClusterYaml("  proxy: {engine: haproxy}\n", "public") + "---\n" + EngineRulesRoute());
  EXPECT_TRUE(HasError(r, "spec.rules[0].filters[0].requestMirror", 18,
                       "expected no RequestMirror filter on engine haproxy (ServiceCluster "
                       "\"public\" at t.yaml:6): HAProxy 2.6 cannot mirror requests; use "
                       "spec.proxy.engine nginx"));
  EXPECT_TRUE(HasError(r, "spec.rules[0].retry.codes[1]", 22,
                       "expected a status HAProxy can retry on (401, 403, 404, 408, 425, 500, "
                       "501, 502, 503, 504) on engine haproxy (ServiceCluster \"public\" at "
                       "t.yaml:6), got 429"));
  // Backend filters in a split are fine on HAProxy.
  EXPECT_EQ(r.diagnostics.size(), 2u) << Dump(r);

  // A cluster naming no engine gets haproxy when apply creates it.
  r = Load(ClusterYaml("", "public") + "---\n" + EngineRulesRoute());
  EXPECT_TRUE(HasError(r, "spec.rules[0].filters[0].requestMirror", 18,
                       "expected no RequestMirror filter on engine haproxy (ServiceCluster "
                       "\"public\" at t.yaml:4 names no engine, and a new cluster gets haproxy; "
                       "set spec.proxy.engine: nginx to keep nginx): HAProxy 2.6 cannot mirror "
                       "requests"));

  EXPECT_VALID(ClusterYaml("  proxy: {engine: haproxy}\n", "public") + "---\n" +
               RulesYaml("  rules:\n"
                         "    - backends:\n"
                         "        - {service: a, port: 1}\n"
                         "        - {service: b, port: 1, filters: [{type: RequestHeaderModifier, "
                         "requestHeaderModifier: {remove: [X-A]}}]}\n"
                         "      retry: {codes: [401, 403, 404, 408, 425, 500, 501, 502, 503, "
                         "504]}\n"));
}

TEST(EngineTest, NginxRefusesCodesItCannotRetryAndFiltersPerBackendOfASplit) {
  LoadResult r =
      Load(ClusterYaml("  proxy: {engine: nginx}\n", "public") + "---\n" + EngineRulesRoute());
  EXPECT_TRUE(HasError(r, "spec.rules[0].retry.codes[2]", 22,
                       "expected a status nginx can retry on (403, 404, 429, 500, 502, 503, 504) "
                       "on engine nginx (ServiceCluster \"public\" at t.yaml:6), got 425"));
  EXPECT_TRUE(HasError(r, "spec.rules[0].backends[1].filters", 21,
                       "expected no backend filters in a rule with 2 backends on engine nginx "
                       "(ServiceCluster \"public\" at t.yaml:6): nginx cannot apply header "
                       "filters per backend of a split; put them on the rule "
                       "(spec.rules[0].filters), or use spec.proxy.engine haproxy"));
  // nginx mirrors.
  EXPECT_EQ(r.diagnostics.size(), 2u) << Dump(r);

  EXPECT_VALID(ClusterYaml("  proxy: {engine: nginx}\n", "public") + "---\n" +
               RulesYaml("  rules:\n"
                         "    - filters:\n"
                         "        - {type: RequestMirror, requestMirror: {backend: {service: m, "
                         "port: 1}, percent: 10}}\n"
                         "      backends:\n"
                         "        - {service: b, port: 1, filters: [{type: RequestHeaderModifier, "
                         "requestHeaderModifier: {remove: [X-A]}}]}\n"
                         "      retry: {codes: [403, 404, 429, 500, 502, 503, 504]}\n"));
  // Without its cluster in the input, the route is not checked against an
  // engine here; the renderer refuses what its engine cannot do.
  EXPECT_VALID(EngineRulesRoute());
}

TEST(RouteFiltersTest, TheSampleLoadsWithItsCluster) {
  const std::string samples = std::string(SG_SOURCE_DIR) + "/crds/samples";
  LoadResult r = LoadPaths({samples + "/servicecluster-public.yaml", samples + "/rules"});
  ASSERT_TRUE(r.ok()) << Dump(r);
  const Route* filters = nullptr;
  for (const Resource& res : r.resources) {
    if (res.route() && res.name == "shop-filters") filters = res.route();
  }
  ASSERT_NE(filters, nullptr) << "crds/samples/rules/route-filters.yaml defines Route shop-filters";
  bool any_filter = false;
  for (const RouteRule& rule : filters->spec.rules) {
    any_filter |= rule.filters.request_headers || rule.filters.url_rewrite || rule.filters.redirect;
  }
  EXPECT_TRUE(any_filter);
}

TEST(ClusterTest, AllowedRoutes) {
  EXPECT_VALID(ClusterYaml("  allowedRoutes: {hosts: [\"*.example.com\", shop.example.org]}\n"));
  EXPECT_VALID(
      ClusterYaml("  allowedRoutes:\n    selector:\n      matchLabels: {team: web}\n"
                  "      matchExpressions:\n        - {key: env, operator: NotIn, values: [dev]}\n"
                  "        - {key: legacy, operator: DoesNotExist}\n"));
  EXPECT_TRUE(HasError(Load(ClusterYaml("  allowedRoutes:\n    hosts: [Shop.example.com]\n")),
                       "spec.allowedRoutes.hosts[0]", 7, "expected a lowercase host name"));
  EXPECT_TRUE(
      HasError(Load(ClusterYaml("  allowedRoutes: {}\n")), "spec.allowedRoutes", 6, "at least 1"));
  LoadResult in =
      Load(ClusterYaml("  allowedRoutes:\n    selector:\n      matchExpressions:\n"
                       "        - key: tier\n          operator: In\n"));
  EXPECT_TRUE(HasError(in, "spec.allowedRoutes.selector.matchExpressions[0].values", 9,
                       "expected at least one value with operator In"));
  LoadResult exists =
      Load(ClusterYaml("  allowedRoutes:\n    selector:\n      matchExpressions:\n"
                       "        - {key: tier, operator: Exists, values: [gold]}\n"));
  EXPECT_TRUE(HasError(exists, "spec.allowedRoutes.selector.matchExpressions[0].values", 9,
                       "expected no values with operator Exists, got 1"));
  LoadResult op =
      Load(ClusterYaml("  allowedRoutes:\n    selector:\n      matchExpressions:\n"
                       "        - {key: tier, operator: in, values: [gold]}\n"));
  EXPECT_TRUE(HasError(op, "spec.allowedRoutes.selector.matchExpressions[0].operator", 9,
                       "expected one of: In, NotIn, Exists, DoesNotExist"));
  LoadResult key =
      Load(ClusterYaml("  allowedRoutes:\n    selector:\n      matchLabels: {\"bad key\": x}\n"));
  EXPECT_TRUE(HasError(key, "spec.allowedRoutes.selector.matchLabels[\"bad key\"]", 8, "got key"));
}

TEST(ClusterTest, DefaultBackend) {
  EXPECT_VALID(ClusterYaml("  defaultBackend: {service: fallback, port: 8080}\n"));
  EXPECT_VALID(ClusterYaml("  defaultBackend: {status: 503}\n"));
  LoadResult both = Load(
      ClusterYaml("  defaultBackend:\n    service: fallback\n    port: 80\n    status: 404\n"));
  EXPECT_TRUE(HasError(both, "spec.defaultBackend.status", 9,
                       "expected either service and port or status, got both"));
  LoadResult no_port = Load(ClusterYaml("  defaultBackend:\n    service: fallback\n"));
  EXPECT_TRUE(HasError(no_port, "spec.defaultBackend.port", 6,
                       "expected the service's container port with service"));
  LoadResult no_service = Load(ClusterYaml("  defaultBackend:\n    port: 80\n"));
  EXPECT_TRUE(
      HasError(no_service, "spec.defaultBackend.service", 6, "expected a service with port"));
  EXPECT_TRUE(HasError(Load(ClusterYaml("  defaultBackend: {status: 600}\n")),
                       "spec.defaultBackend.status", 6, "600"));
  EXPECT_TRUE(HasError(Load(ClusterYaml("  defaultBackend: {service: \"-x\", port: 80}\n")),
                       "spec.defaultBackend.service", 6, "expected"));
}

TEST(ClusterTest, HostPolicyAndDefaultBackendDecode) {
  LoadResult r = Load(
      ClusterYaml("  allowedRoutes:\n    hosts: [\"*.example.com\"]\n    selector:\n"
                  "      matchLabels: {team: web}\n"
                  "      matchExpressions: [{key: env, operator: In, values: [prod, staging]}]\n"
                  "  defaultBackend: {service: fallback, port: 8080}\n"));
  ASSERT_TRUE(r.ok()) << Dump(r);
  ASSERT_EQ(r.resources.size(), 1u);
  const ServiceCluster& c = *r.resources[0].cluster();
  ASSERT_TRUE(c.spec.allowed_routes);
  EXPECT_EQ(c.spec.allowed_routes->hosts, std::vector<std::string>{"*.example.com"});
  ASSERT_TRUE(c.spec.allowed_routes->selector);
  const LabelSelector& s = *c.spec.allowed_routes->selector;
  EXPECT_EQ(s.match_labels.at("team"), "web");
  ASSERT_EQ(s.match_expressions.size(), 1u);
  EXPECT_EQ(s.match_expressions[0].op, LabelRequirement::Operator::kIn);
  EXPECT_EQ(s.match_expressions[0].values, (std::vector<std::string>{"prod", "staging"}));
  ASSERT_TRUE(c.spec.default_backend);
  EXPECT_EQ(c.spec.default_backend->service, "fallback");
  EXPECT_EQ(c.spec.default_backend->port, 8080);

  LoadResult plain = Load(ClusterYaml("  defaultBackend: {status: 503}\n"));
  ASSERT_TRUE(plain.ok()) << Dump(plain);
  const ServiceCluster& p = *plain.resources[0].cluster();
  EXPECT_FALSE(p.spec.allowed_routes);
  ASSERT_TRUE(p.spec.default_backend);
  EXPECT_EQ(p.spec.default_backend->service, "");
  EXPECT_EQ(p.spec.default_backend->status, 503);
}

// ------------------------------------------------------------ cross-document

TEST(CrossDocumentTest, DuplicateResources) {
  LoadResult r = Load(RouteYaml() + "---\n" + RouteYaml("  path: /b\n"));
  EXPECT_TRUE(HasError(r, "metadata.name", 14, "got Route \"r1\" again (first at t.yaml:4)"));
  // Same name, different kinds: fine.
  EXPECT_VALID(RouteYaml("", "x") + "---\n" + ClusterYaml("", "x"));
}

TEST(CrossDocumentTest, RulesSpanFiles) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("sg-crds-cross-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "a.yaml") << RouteYaml("", "shop") << "---\n"
                                << ClusterYaml("  backendMode: vip\n", "public");
  std::ofstream(dir / "b.yaml") << RouteYaml("", "shop") << "---\n"
                                << RouteYaml("  stickySession: {cookie: s}\n", "other");
  LoadResult r = LoadPaths({(dir / "a.yaml").string(), (dir / "b.yaml").string()});
  std::string a = (dir / "a.yaml").string();
  std::string b = (dir / "b.yaml").string();
  EXPECT_TRUE(HasError(r, "metadata.name", 4, "got Route \"shop\" again (first at " + a + ":4)"));
  EXPECT_EQ(r.diagnostics.at(0).file, b);
  EXPECT_TRUE(HasError(r, "spec.hosts[0]", 17, "already claimed by Route \"shop\" at " + a + ":7"));
  EXPECT_TRUE(
      HasError(r, "spec.stickySession", 20, "inherited from ServiceCluster \"public\" at " + a));
  EXPECT_EQ(r.files, 2);
  EXPECT_EQ(r.documents, 4);
  fs::remove_all(dir);
}

TEST(CrossDocumentTest, SameHostAndPathInOneCluster) {
  LoadResult r =
      Load(RouteYaml("", "first") + "---\n" +
           RouteSpec("  serviceCluster: public\n  hosts: [b.example.com, a.example.com]\n"
                     "  backends: [{service: app, port: 80}]\n",
                     "second"));
  EXPECT_TRUE(HasError(
      r, "spec.hosts[1]", 17,
      "got host \"a.example.com\" path \"/\" already claimed by Route \"first\" at t.yaml:7"));
  ASSERT_EQ(r.resources.size(), 1u);
  EXPECT_EQ(r.resources[0].name, "first");
}

TEST(CrossDocumentTest, DifferentPathOrClusterIsFine) {
  EXPECT_VALID(RouteYaml("", "first") + "---\n" + RouteYaml("  path: /other\n", "second"));
  EXPECT_VALID(RouteYaml("", "first") + "---\n" +
               RouteSpec("  serviceCluster: private\n  hosts: [a.example.com]\n"
                         "  backends: [{service: app, port: 80}]\n",
                         "second"));
}

// Host publish mode binds the ports in each node's namespace: Swarm no
// longer keeps two clusters off one node's port, so certain clashes are
// errors here.
TEST(CrossDocumentTest, HostModeClustersSharingAPortOnTheSameNodes) {
  // "b" starts at line 8; its ports are on line 14.
  LoadResult r = Load(ClusterYaml("", "a") + "---\n" +
                      ClusterYaml("  proxy:\n    ports: {http: 8080, https: 443}\n", "b"));
  EXPECT_TRUE(HasError(r, "spec.proxy.ports.https", 14,
                       "got 443, the https port of ServiceCluster \"a\" (at t.yaml:4); one of "
                       "them runs on every node"));
  ASSERT_EQ(r.resources.size(), 1u);
  EXPECT_EQ(r.resources[0].name, "a");

  const std::string edge =
      "  proxy:\n    constraints: [node.labels.edge==true, node.role!=manager]\n";
  const std::string same_edge =
      "  proxy:\n    constraints: [node.role!=manager, node.labels.edge==true]\n";
  LoadResult same = Load(ClusterYaml(edge, "a") + "---\n" + ClusterYaml(same_edge, "b"));
  EXPECT_TRUE(HasError(same, "spec.proxy.ports.http", 14,
                       "got 80, the http port of ServiceCluster \"a\" (at t.yaml:4); both run on "
                       "the nodes of the same constraints"));
}

TEST(CrossDocumentTest, HostPortsOnOtherNodesOrOtherPortsAreFine) {
  EXPECT_VALID(ClusterYaml("  proxy:\n    constraints: [node.labels.edge==a]\n", "a") + "---\n" +
               ClusterYaml("  proxy:\n    constraints: [node.labels.edge==b]\n", "b"));
  EXPECT_VALID(ClusterYaml("", "a") + "---\n" +
               ClusterYaml("  proxy:\n    ports: {http: 8080, https: 8443}\n", "b"));
  EXPECT_VALID(ClusterYaml("  proxy:\n    publishMode: ingress\n", "a") + "---\n" +
               ClusterYaml("  proxy:\n    publishMode: ingress\n    ports: {http: 8080}\n", "b"));
}

// ------------------------------------------------------ no piling of errors

TEST(NoPilingTest, SchemaErrorSuppressesSemanticOnes) {
  LoadResult r = Load(RouteYaml("  path: '/a;b'\n  tls: {mode: passthrough}\n"));
  int on_path = 0;
  for (const Diagnostic& d : r.diagnostics) on_path += d.path == "spec.path";
  EXPECT_EQ(on_path, 1) << Dump(r);
  LoadResult w =
      Load(RouteSpec("  serviceCluster: public\n  hosts: [a.example.com]\n"
                     "  backends: [{service: a, port: 80, weight: '0'}]\n"));
  EXPECT_EQ(w.diagnostics.size(), 1u) << Dump(w);
}

// ------------------------------------------------- client address and middlewares

TEST(IpAccessTest, CidrsAreCheckedWhereTheyAreWritten) {
  EXPECT_VALID(
      RouteYaml("  ipAccess:\n    allow: [10.0.0.0/8, 192.0.2.7, \"2001:db8::/32\"]\n"
                "    deny: [10.1.0.0/16, \"::1\"]\n"));
  LoadResult r =
      Load(RouteYaml("  ipAccess:\n    allow: [10.0.0.0/8, 10.0.0.1/8]\n"
                     "    deny: [300.1.2.3, \"2001:db8::/129\"]\n"));
  EXPECT_TRUE(HasError(r, "spec.ipAccess.allow[1]", 11,
                       "expected a network address with no bits set beyond the prefix /8, got "
                       "\"10.0.0.1/8\""));
  EXPECT_TRUE(HasError(r, "spec.ipAccess.deny[0]", 12,
                       "expected an IPv4 or IPv6 network in CIDR notation"));
  EXPECT_TRUE(HasError(r, "spec.ipAccess.deny[1]", 12,
                       "expected a prefix length of at most 128 for an IPv6 network"));
  EXPECT_TRUE(HasError(Load(RouteYaml("  ipAccess: {allow: [not-an-ip]}\n")),
                       "spec.ipAccess.allow[0]", 10, "expected an IPv4 or IPv6 network"));
  EXPECT_TRUE(HasError(Load(RouteYaml("  ipAccess: {}\n")), "spec.ipAccess", 10, ""));
  EXPECT_TRUE(HasError(Load(RouteYaml("  ipAccess: {allow: [10.0.0.0/8], from: x}\n")),
                       "spec.ipAccess.from", 10, "unknown field"));
}

TEST(ClientAddressTest, TrustedProxiesAreNetworks) {
  EXPECT_VALID(ClusterYaml("  clientAddress: {trustedProxies: [10.0.0.0/24, \"fd00::/8\"]}\n"));
  EXPECT_VALID(ClusterYaml("  clientAddress: {proxyProtocol: true}\n"));
  EXPECT_TRUE(HasError(
      Load(ClusterYaml(
          "  clientAddress:\n    trustedProxies: [10.0.0.0/8]\n    proxyProtocol: true\n")),
      "spec.clientAddress.proxyProtocol", 8, "expected either proxyProtocol or trustedProxies"));
  EXPECT_TRUE(HasError(Load(ClusterYaml("  clientAddress: {trustedProxies: [10.0.0.0/33]}\n")),
                       "spec.clientAddress.trustedProxies[0]", 6,
                       "expected a prefix length of at most 32 for an IPv4 network"));
}

TEST(CorsTest, OriginsMethodsAndHeaders) {
  EXPECT_VALID(RouteYaml(
      "  cors:\n    allowOrigins: [\"https://app.example.com\", \"https://*.example.org\",\n"
      "      \"http://localhost:8080\"]\n    allowMethods: [GET, PUT]\n"
      "    allowHeaders: [Content-Type]\n    exposeHeaders: [X-Total]\n"
      "    allowCredentials: true\n    maxAge: 600\n"));
  EXPECT_VALID(RouteYaml("  cors: {allowOrigins: [\"*\"]}\n"));
  LoadResult r =
      Load(RouteYaml("  cors:\n    allowOrigins: [\"https://a.test/path\"]\n"
                     "    allowMethods: [get]\n    maxAge: 90000\n"));
  EXPECT_TRUE(HasError(r, "spec.cors.allowOrigins[0]", 11, "expected an origin"));
  EXPECT_TRUE(HasError(r, "spec.cors.allowMethods[0]", 12, "expected an HTTP method in capitals"));
  EXPECT_TRUE(HasError(r, "spec.cors.maxAge", 13, "86400"));
  EXPECT_TRUE(HasError(Load(RouteYaml("  cors: {allowOrigins: [\"https://a.test\", \"*\"]}\n")),
                       "spec.cors.allowOrigins[1]", 10,
                       "expected \"*\" alone (it allows every origin), got it among 2 origins"));
  EXPECT_TRUE(HasError(Load(RouteYaml("  cors: {allowMethods: [GET]}\n")), "spec.cors.allowOrigins",
                       10, "required field is missing"));
}

TEST(CompressionTest, TypesAndTheEngineThatCannotSkipSmallResponses) {
  EXPECT_VALID(RouteYaml("  compression: {types: [application/json], minLength: 256}\n"));
  EXPECT_TRUE(HasError(Load(RouteYaml("  compression: {types: [\"text/html; charset=utf-8\"]}\n")),
                       "spec.compression.types[0]", 10, "expected a media type"));
  const std::string haproxy = ClusterYaml("  proxy: {engine: haproxy}\n", "public");
  LoadResult r = Load(haproxy + "---\n" + RouteYaml("  compression: {minLength: 1024}\n"));
  EXPECT_TRUE(HasError(r, "spec.compression.minLength", 17,
                       "expected no minLength on engine haproxy (ServiceCluster \"public\" at "
                       "t.yaml:6): HAProxy 2.6 cannot leave small responses uncompressed"));
  EXPECT_VALID(haproxy + "---\n" + RouteYaml("  compression: {types: [text/plain]}\n"));
  EXPECT_TRUE(
      HasError(Load(ClusterYaml("  proxy: {engine: haproxy}\n  compression: {minLength: 10}\n")),
               "spec.compression.minLength", 7, "expected no minLength on engine haproxy"));
  EXPECT_VALID(ClusterYaml("  proxy: {engine: nginx}\n  compression: {minLength: 10}\n"));
}

TEST(MiddlewareTest, PassthroughRefusesWhatNeedsTheRequest) {
  LoadResult r =
      Load(RouteYaml("  tls: {mode: passthrough}\n  ipAccess: {allow: [10.0.0.0/8]}\n"
                     "  cors: {allowOrigins: [\"*\"]}\n  compression: {}\n"));
  int line = 11;
  for (const char* f : {"spec.ipAccess", "spec.cors", "spec.compression"}) {
    EXPECT_TRUE(
        HasError(r, f, line++, "with tls mode passthrough, which never sees HTTP requests"));
  }
}

}  // namespace
}  // namespace sg::crds
