#include "reconcilers/model/model_builder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "crds/loader.h"

namespace sg::reconcilers {
namespace {

std::string Diagnostics(const crds::LoadResult& r) {
  std::string out;
  for (const auto& d : r.diagnostics) out += d.ToString() + "\n";
  return out;
}

crds::ServiceCluster Cluster(const std::string& proxy_yaml = "") {
  std::string yaml =
      "apiVersion: swarmgate.io/v1alpha1\n"
      "kind: ServiceCluster\n"
      "metadata: {name: public}\n"
      "spec:\n"
      "  proxy:\n"
      "    replicas: 2\n" +
      proxy_yaml;
  auto r = crds::LoadText(yaml, "cluster.yaml");
  EXPECT_TRUE(r.ok()) << Diagnostics(r);
  if (r.resources.empty()) return {};
  return *r.resources.front().cluster();
}

// A route of cluster "public"; `spec_yaml` holds the fields after serviceCluster.
crds::Route Route(const std::string& name, const std::string& spec_yaml) {
  std::string yaml =
      "apiVersion: swarmgate.io/v1alpha1\n"
      "kind: Route\n"
      "metadata: {name: " +
      name +
      "}\n"
      "spec:\n"
      "  serviceCluster: public\n" +
      spec_yaml;
  auto r = crds::LoadText(yaml, name + ".yaml");
  EXPECT_TRUE(r.ok()) << Diagnostics(r);
  if (r.resources.empty()) return {};
  return *r.resources.front().route();
}

ResolvedBackend Backend(std::vector<std::string> ips, int port = 8080) {
  ResolvedBackend b;
  int n = 0;
  for (auto& ip : ips) b.endpoints.push_back({ip, port, "task" + std::to_string(++n), n, "node"});
  return b;
}

RouteInput Input(crds::Route route, std::string created_at,
                 std::vector<ResolvedBackend> backends = {}) {
  RouteInput in;
  if (backends.empty()) {
    for (size_t i = 0; i < crds::AllBackends(route.spec).size(); ++i) {
      backends.push_back(Backend({"10.0.1." + std::to_string(10 + i)}));
    }
  }
  in.route = std::make_shared<const crds::Route>(std::move(route));
  in.generation = 1;
  in.created_at = std::move(created_at);
  in.backends = std::move(backends);
  return in;
}

std::string PlainSpec(const std::string& host, const std::string& path = "/") {
  return "  hosts: [" + host + "]\n  path: " + path +
         "\n  backends: [{service: web, port: 8080}]\n";
}

const model::Server* FindServer(const model::TrafficModel& m, const std::string& host) {
  for (const auto& s : m.servers) {
    if (std::find(s.hosts.begin(), s.hosts.end(), host) != s.hosts.end()) return &s;
  }
  return nullptr;
}

const model::Upstream* FindUpstream(const model::TrafficModel& m, const std::string& name) {
  for (const auto& u : m.upstreams) {
    if (u.name == name) return &u;
  }
  return nullptr;
}

struct ConflictCase {
  std::string label;
  std::string a_created, b_created;
  std::string winner, loser;
};

TEST(ModelBuilder, HostPathConflictOlderRouteKeepsIt) {
  const std::vector<ConflictCase> cases = {
      {"a older", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", "a", "b"},
      {"b older", "2024-01-03T00:00:00Z", "2024-01-02T00:00:00Z", "b", "a"},
      {"same age, name decides", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z", "a", "b"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.label);
    // Input order must not matter: pass the newer one first.
    std::vector<RouteInput> routes = {
        Input(Route("b", PlainSpec("shop.example.com", "/api")), c.b_created),
        Input(Route("a", PlainSpec("shop.example.com", "/api")), c.a_created),
    };
    auto built = BuildModel(Cluster(), routes, {});
    const auto& win = built.routes.at(c.winner);
    const auto& lose = built.routes.at(c.loser);
    EXPECT_TRUE(win.served);
    EXPECT_EQ(win.reason, kReasonReady);
    EXPECT_FALSE(lose.served);
    EXPECT_EQ(lose.reason, kReasonConflict);
    EXPECT_NE(lose.message.find("\"" + c.winner + "\""), std::string::npos) << lose.message;
    const auto* server = FindServer(built.model, "shop.example.com");
    ASSERT_NE(server, nullptr);
    ASSERT_EQ(server->locations.size(), 1u);
    EXPECT_EQ(server->locations[0].route, c.winner);
  }
}

TEST(ModelBuilder, AgeComparesTimesNotStrings) {
  // Docker drops trailing zeros of the fraction of a second.
  struct Case {
    std::string older, newer;
  };
  const std::vector<Case> cases = {
      {"2024-01-01T00:00:05.12Z", "2024-01-01T00:00:05.5Z"},
      {"2024-01-01T00:00:05.1Z", "2024-01-01T00:00:05.12Z"},
      {"2024-01-01T00:00:05Z", "2024-01-01T00:00:05.1Z"},
      {"2024-01-01T00:00:05.999999999Z", "2024-01-01T00:00:06Z"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.older + " < " + c.newer);
    // Names chosen so that the name tie-break would pick the wrong one.
    auto built = BuildModel(Cluster(),
                            {Input(Route("a-newer", PlainSpec("shop.example.com")), c.newer),
                             Input(Route("b-older", PlainSpec("shop.example.com")), c.older)},
                            {});
    EXPECT_TRUE(built.routes.at("b-older").served);
    EXPECT_EQ(built.routes.at("a-newer").reason, kReasonConflict);
  }
}

TEST(ModelBuilder, SameHostDifferentPathsDoNotConflict) {
  auto built = BuildModel(Cluster(),
                          {Input(Route("a", PlainSpec("shop.example.com", "/api")), "1"),
                           Input(Route("b", PlainSpec("shop.example.com", "/web")), "2")},
                          {});
  EXPECT_EQ(built.routes.at("a").reason, kReasonReady);
  EXPECT_EQ(built.routes.at("b").reason, kReasonReady);
  const auto* server = FindServer(built.model, "shop.example.com");
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(server->locations.size(), 2u);
}

TEST(ModelBuilder, PassthroughAndTerminateOnOneHostConflict) {
  const std::string terminate =
      PlainSpec("secure.example.com") + "  tls: {mode: terminate, secret: secure-tls}\n";
  const std::string passthrough = PlainSpec("secure.example.com") + "  tls: {mode: passthrough}\n";
  struct Case {
    std::string label;
    std::string older_spec, newer_spec;
  };
  for (const auto& c : std::vector<Case>{{"terminate first", terminate, passthrough},
                                         {"passthrough first", passthrough, terminate}}) {
    SCOPED_TRACE(c.label);
    auto built = BuildModel(Cluster(),
                            {Input(Route("older", c.older_spec), "2024-01-01T00:00:00Z"),
                             Input(Route("newer", c.newer_spec), "2024-01-02T00:00:00Z")},
                            {});
    EXPECT_TRUE(built.routes.at("older").served);
    EXPECT_FALSE(built.routes.at("newer").served);
    EXPECT_EQ(built.routes.at("newer").reason, kReasonConflict);
    EXPECT_NE(built.routes.at("newer").message.find("\"older\""), std::string::npos);
  }
}

TEST(ModelBuilder, TwoTerminateRoutesShareTheServerOfTheirHost) {
  const std::string tls = "  tls: {mode: terminate, secret: shop-tls, redirectHTTP: true}\n";
  auto built = BuildModel(Cluster(),
                          {Input(Route("api", PlainSpec("shop.example.com", "/api") + tls), "1"),
                           Input(Route("web", PlainSpec("shop.example.com", "/") + tls), "2")},
                          {});
  EXPECT_EQ(built.routes.at("api").reason, kReasonReady);
  EXPECT_EQ(built.routes.at("web").reason, kReasonReady);
  ASSERT_EQ(built.model.servers.size(), 1u);
  const auto& server = built.model.servers[0];
  ASSERT_TRUE(server.tls.has_value());
  EXPECT_EQ(server.tls->certificate_file, "shop-tls");
  EXPECT_EQ(server.tls->key_file, "shop-tls");
  EXPECT_TRUE(server.redirect_http);
  EXPECT_EQ(server.locations.size(), 2u);
  EXPECT_EQ(built.secrets, std::vector<std::string>{"shop-tls"});
}

TEST(ModelBuilder, BackendProblemsKeepTheRouteServedWithTheReason) {
  struct Case {
    std::string label;
    ResolvedBackend backend;
    std::string reason;
    std::string message_part;
  };
  ResolvedBackend not_found;
  not_found.problem = BackendProblem::kNotFound;
  not_found.message = "service \"web\" not found";
  ResolvedBackend not_attached;
  not_attached.problem = BackendProblem::kNotAttached;
  not_attached.message = "service \"web\" is not attached to network \"sg-public\"";
  ResolvedBackend all_lost;
  all_lost.on_lost_nodes = 2;
  const std::vector<Case> cases = {
      {"missing", not_found, kReasonBackendNotFound, "not found"},
      {"not attached", not_attached, kReasonBackendNotAttached, "not attached"},
      {"no endpoints", ResolvedBackend{}, kReasonNoEndpoints, "503"},
      // Tasks on lost nodes are gone as if none ran, and the message says why.
      {"every task on a lost node", all_lost, kReasonNoEndpoints,
       "on a node Swarm reports down or unreachable (2): requests get 503"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.label);
    auto built = BuildModel(Cluster(),
                            {Input(Route("r", PlainSpec("a.example.com")), "1", {c.backend})}, {});
    const auto& out = built.routes.at("r");
    EXPECT_TRUE(out.served);
    EXPECT_EQ(out.reason, c.reason);
    EXPECT_NE(out.message.find(c.message_part), std::string::npos) << out.message;
    EXPECT_TRUE(out.endpoints.empty());
    // The location still exists and its upstream has no server: nginx answers 503.
    const auto* u = FindUpstream(built.model, UpstreamName("r", 0));
    ASSERT_NE(u, nullptr);
    EXPECT_TRUE(u->servers.empty());
    const auto* server = FindServer(built.model, "a.example.com");
    ASSERT_NE(server, nullptr);
    EXPECT_TRUE(server->locations.at(0).selection.split.empty());
  }
}

// A route that sets no timeout and no health check gets the values the
// engines have as defaults: no timeout of its own in the configuration (on
// HAProxy its backend then has the settings of a spare backend), and a task
// is skipped after its first failed connect, which takes at most 1 s.
TEST(ModelBuilder, RouteDefaultsAreTheEngineDefaults) {
  auto built = BuildModel(Cluster(), {Input(Route("r", PlainSpec("a.example.com")), "1")}, {});
  const auto* server = FindServer(built.model, "a.example.com");
  ASSERT_NE(server, nullptr);
  const model::Timeouts& t = server->locations.at(0).timeouts;
  const model::Timeouts& defaults = built.model.settings.default_timeouts;
  EXPECT_EQ(t.connect, defaults.connect);
  EXPECT_EQ(t.read, defaults.read);
  EXPECT_EQ(t.send, defaults.send);
  EXPECT_EQ(defaults.connect, model::Duration(1000));
  const auto* u = FindUpstream(built.model, UpstreamName("r", 0));
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->max_fails, 1);
  EXPECT_EQ(u->fail_timeout, model::Upstream{}.fail_timeout);
}

TEST(ModelBuilder, BackendProblemNamesTheBackendIndex) {
  ResolvedBackend missing;
  missing.problem = BackendProblem::kNotFound;
  missing.message = "service \"v2\" not found";
  auto route = Route("r",
                     "  hosts: [a.example.com]\n"
                     "  backends: [{service: v1, port: 80}, {service: v2, port: 80}]\n");
  auto built = BuildModel(Cluster(), {Input(route, "1", {Backend({"10.0.0.5"}, 80), missing})}, {});
  const auto& out = built.routes.at("r");
  EXPECT_EQ(out.reason, kReasonBackendNotFound);
  EXPECT_NE(out.message.find("backends[1]"), std::string::npos) << out.message;
  EXPECT_EQ(out.endpoints, std::vector<std::string>{"10.0.0.5:80"});
}

TEST(ModelBuilder, MissingSecretLeavesTheRouteOut) {
  auto in = Input(Route("secure", PlainSpec("secure.example.com") +
                                      "  tls: {mode: terminate, secret: secure-tls}\n"),
                  "1");
  in.secret_found = false;
  auto built =
      BuildModel(Cluster(), {in, Input(Route("plain", PlainSpec("p.example.com")), "2")}, {});
  const auto& out = built.routes.at("secure");
  EXPECT_FALSE(out.served);
  EXPECT_EQ(out.reason, kReasonSecretNotFound);
  EXPECT_NE(out.message.find("secure-tls"), std::string::npos) << out.message;
  EXPECT_EQ(FindServer(built.model, "secure.example.com"), nullptr);
  EXPECT_TRUE(built.secrets.empty());
  EXPECT_TRUE(built.routes.at("plain").served);
}

TEST(ModelBuilder, ExcludedRouteIsInvalidConfigWithNginxMessage) {
  BuildOptions options;
  options.excluded["bad"] = "[emerg] unknown directive in nginx.conf:42";
  auto built = BuildModel(Cluster(),
                          {Input(Route("bad", PlainSpec("bad.example.com")), "1"),
                           Input(Route("good", PlainSpec("good.example.com")), "2")},
                          options);
  const auto& bad = built.routes.at("bad");
  EXPECT_FALSE(bad.served);
  EXPECT_EQ(bad.reason, kReasonInvalidConfig);
  EXPECT_EQ(bad.message.rfind("nginx rejected this route: ", 0), 0u) << bad.message;
  EXPECT_NE(bad.message.find("unknown directive in nginx.conf:42"), std::string::npos)
      << bad.message;
  EXPECT_EQ(FindServer(built.model, "bad.example.com"), nullptr);
  EXPECT_EQ(FindUpstream(built.model, UpstreamName("bad", 0)), nullptr);
  EXPECT_TRUE(built.routes.at("good").served);
  // An excluded route claims nothing: a newer route may take its host.
  auto again = BuildModel(Cluster(),
                          {Input(Route("bad", PlainSpec("x.example.com")), "1"),
                           Input(Route("next", PlainSpec("x.example.com")), "2")},
                          options);
  EXPECT_EQ(again.routes.at("next").reason, kReasonReady);
}

TEST(ModelBuilder, ExcludedRouteNamesTheClustersEngine) {
  BuildOptions options;
  options.excluded["bad"] = "[ALERT] parsing [haproxy.cfg:42]";
  crds::ServiceCluster cluster = Cluster();
  cluster.spec.proxy.engine = crds::ProxyEngine::kHaproxy;
  auto built =
      BuildModel(cluster, {Input(Route("bad", PlainSpec("bad.example.com")), "1")}, options);
  EXPECT_EQ(built.routes.at("bad").message,
            "haproxy rejected this route: [ALERT] parsing [haproxy.cfg:42]");
}

TEST(ModelBuilder, RouteFieldsAreMappedIntoTheModel) {
  auto route = Route("shop",
                     "  hosts: [shop.example.com]\n"
                     "  path: /api\n"
                     "  rewrite: /\n"
                     "  backends:\n"
                     "    - {service: shop-v1, port: 8080, weight: 90}\n"
                     "    - {service: shop-v2, port: 8080, weight: 10, canary: true}\n"
                     "  canary:\n"
                     "    header: {name: X-Canary, value: always}\n"
                     "    cookie: {name: canary}\n"
                     "  stickySession: {cookie: SG_STICKY}\n"
                     "  websocket: true\n"
                     "  timeouts: {connect: 2s, read: 30s, send: 45s}\n"
                     "  healthCheck: {maxFails: 5, failTimeout: 20s}\n"
                     "  rateLimit: {requestsPerSecond: 100, burst: 200}\n");
  auto built = BuildModel(
      Cluster(), {Input(route, "1", {Backend({"10.0.1.3", "10.0.1.2"}), Backend({"10.0.1.9"})})},
      {});
  const auto& out = built.routes.at("shop");
  EXPECT_EQ(out.reason, kReasonReady);
  EXPECT_EQ(out.endpoints,
            (std::vector<std::string>{"10.0.1.3:8080", "10.0.1.2:8080", "10.0.1.9:8080"}));

  const auto* server = FindServer(built.model, "shop.example.com");
  ASSERT_NE(server, nullptr);
  EXPECT_FALSE(server->tls.has_value());
  ASSERT_EQ(server->locations.size(), 1u);
  const auto& loc = server->locations[0];
  EXPECT_EQ(loc.route, "shop");
  EXPECT_EQ(loc.path, "/api");
  EXPECT_EQ(loc.rewrite, std::optional<std::string>("/"));
  ASSERT_EQ(loc.backends.size(), 2u);
  EXPECT_EQ(loc.backends[0].upstream, UpstreamName("shop", 0));
  EXPECT_EQ(loc.backends[0].weight, 90);
  EXPECT_FALSE(loc.backends[0].canary);
  EXPECT_EQ(loc.backends[1].upstream, UpstreamName("shop", 1));
  EXPECT_EQ(loc.backends[1].weight, 10);
  EXPECT_TRUE(loc.backends[1].canary);
  EXPECT_EQ(loc.canary.header_name, "X-Canary");
  EXPECT_EQ(loc.canary.header_value, "always");
  EXPECT_EQ(loc.canary.cookie_name, "canary");
  EXPECT_EQ(loc.canary.cookie_value, "");
  // The policy is decided here: 90/10 by request, canary requests to v2, and
  // the session cookie keys the split.
  using Split = std::vector<model::WeightedUpstream>;
  EXPECT_EQ(loc.selection.split,
            (Split{{UpstreamName("shop", 0), 9000}, {UpstreamName("shop", 1), 1000}}));
  EXPECT_EQ(loc.selection.canary_split, (Split{{UpstreamName("shop", 1), 10000}}));
  EXPECT_EQ(loc.selection.sticky_cookie, "SG_STICKY");
  EXPECT_TRUE(loc.websocket);
  EXPECT_EQ(loc.timeouts.connect, model::Duration(2000));
  EXPECT_EQ(loc.timeouts.read, model::Duration(30000));
  EXPECT_EQ(loc.timeouts.send, model::Duration(45000));
  EXPECT_EQ(loc.rate_limit.requests_per_second, 100);
  EXPECT_EQ(loc.rate_limit.burst, 200);

  const auto* u0 = FindUpstream(built.model, UpstreamName("shop", 0));
  ASSERT_NE(u0, nullptr);
  ASSERT_EQ(u0->servers.size(), 2u);
  EXPECT_EQ(u0->servers[0].address, "10.0.1.3:8080");
  EXPECT_EQ(u0->servers[1].address, "10.0.1.2:8080");
  EXPECT_EQ(u0->max_fails, 5);
  EXPECT_EQ(u0->fail_timeout, model::Duration(20000));
  EXPECT_EQ(u0->sticky_cookie, "SG_STICKY");
  EXPECT_EQ(u0->route, "shop");
  const auto* u1 = FindUpstream(built.model, UpstreamName("shop", 1));
  ASSERT_NE(u1, nullptr);
  ASSERT_EQ(u1->servers.size(), 1u);
  EXPECT_EQ(u1->servers[0].address, "10.0.1.9:8080");
}

TEST(ModelBuilder, DefaultsLeaveOptionalFeaturesOff) {
  auto built = BuildModel(Cluster(), {Input(Route("r", PlainSpec("a.example.com")), "1")}, {});
  const auto* server = FindServer(built.model, "a.example.com");
  ASSERT_NE(server, nullptr);
  const auto& loc = server->locations.at(0);
  EXPECT_FALSE(loc.rewrite.has_value());
  EXPECT_FALSE(loc.websocket);
  EXPECT_EQ(loc.rate_limit.requests_per_second, 0);
  EXPECT_TRUE(loc.canary.header_name.empty());
  EXPECT_TRUE(loc.canary.cookie_name.empty());
  const auto* u = FindUpstream(built.model, UpstreamName("r", 0));
  ASSERT_NE(u, nullptr);
  EXPECT_TRUE(u->sticky_cookie.empty());
}

TEST(ModelBuilder, MiddlewaresReachEveryLocationOfTheRoute) {
  auto cluster = Cluster(
      "  clientAddress: {trustedProxies: [10.0.0.0/24]}\n"
      "  compression: {types: [application/json]}\n");
  std::string spec = PlainSpec("a.example.com") +
                     "  ipAccess: {allow: [10.1.0.0/16], deny: [10.1.2.0/24]}\n"
                     "  cors:\n    allowOrigins: [\"https://*.example.org\"]\n"
                     "    exposeHeaders: [X-Total]\n    allowCredentials: true\n    maxAge: 60\n";
  auto built = BuildModel(
      cluster,
      {Input(Route("r", spec), "1"),
       Input(Route("own", PlainSpec("b.example.com") + "  compression: {types: [text/css], "
                                                       "minLength: 100}\n"),
             "2"),
       Input(Route("off", PlainSpec("c.example.com") + "  compression: {enabled: false}\n"), "3")},
      {});
  EXPECT_EQ(built.model.settings.trusted_proxies, std::vector<std::string>{"10.0.0.0/24"});
  const auto* a = FindServer(built.model, "a.example.com");
  ASSERT_NE(a, nullptr);
  const model::Location& loc = a->locations.at(0);
  EXPECT_EQ(loc.ip_access.allow, std::vector<std::string>{"10.1.0.0/16"});
  EXPECT_EQ(loc.ip_access.deny, std::vector<std::string>{"10.1.2.0/24"});
  ASSERT_TRUE(loc.cors.has_value());
  EXPECT_EQ(loc.cors->origins, std::vector<std::string>{"https://*.example.org"});
  // The schema's default methods.
  EXPECT_EQ(loc.cors->methods, (std::vector<std::string>{"GET", "HEAD", "POST"}));
  EXPECT_EQ(loc.cors->expose_headers, std::vector<std::string>{"X-Total"});
  EXPECT_TRUE(loc.cors->credentials);
  EXPECT_EQ(loc.cors->max_age, 60);
  // The cluster's compression, for a route that sets none.
  ASSERT_TRUE(loc.compression.has_value());
  EXPECT_EQ(loc.compression->types, std::vector<std::string>{"application/json"});
  EXPECT_EQ(loc.compression->min_length, -1);
  const auto* b = FindServer(built.model, "b.example.com");
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->locations.at(0).compression.has_value());
  EXPECT_EQ(b->locations.at(0).compression->types, std::vector<std::string>{"text/css"});
  EXPECT_EQ(b->locations.at(0).compression->min_length, 100);
  EXPECT_FALSE(b->locations.at(0).cors.has_value());
  EXPECT_TRUE(b->locations.at(0).ip_access.empty());
  const auto* c = FindServer(built.model, "c.example.com");
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->locations.at(0).compression.has_value());
}

TEST(ModelBuilder, PassthroughRouteIsRoutedBySni) {
  auto route = Route("db",
                     "  hosts: [db.example.com]\n"
                     "  backends: [{service: a, port: 5432}, {service: b, port: 5432}]\n"
                     "  tls: {mode: passthrough}\n");
  auto built = BuildModel(
      Cluster(), {Input(route, "1", {Backend({"10.0.2.1"}, 5432), Backend({"10.0.2.2"}, 5432)})},
      {});
  EXPECT_TRUE(built.routes.at("db").served);
  EXPECT_TRUE(built.model.servers.empty());
  EXPECT_TRUE(built.secrets.empty());
  ASSERT_EQ(built.model.passthrough.size(), 1u);
  const auto& p = built.model.passthrough[0];
  EXPECT_EQ(p.route, "db");
  EXPECT_EQ(p.hosts, std::vector<std::string>{"db.example.com"});
  ASSERT_EQ(p.upstream.servers.size(), 2u);
  EXPECT_EQ(p.upstream.servers[0].address, "10.0.2.1:5432");
  EXPECT_EQ(p.upstream.servers[1].address, "10.0.2.2:5432");
  ASSERT_EQ(p.selection.split.size(), 1u);
  EXPECT_EQ(p.selection.split[0].upstream, UpstreamName("db", 0));
  EXPECT_EQ(p.selection.split[0].basis_points, 10000);
  EXPECT_EQ(p.upstream.route, "db");

  // Without endpoints the passthrough route is not served by the proxies.
  auto dead =
      BuildModel(Cluster(), {Input(route, "1", {ResolvedBackend{}, ResolvedBackend{}})}, {});
  ASSERT_EQ(dead.model.passthrough.size(), 1u);
  EXPECT_TRUE(dead.model.passthrough[0].selection.split.empty());
}

TEST(ModelBuilder, SelectionSkipsBackendsWithoutEndpointsOnEveryHost) {
  auto route = Route("shop",
                     "  hosts: [a.example.com, b.example.com]\n"
                     "  backends:\n"
                     "    - {service: v1, port: 80, weight: 50}\n"
                     "    - {service: v2, port: 80, weight: 50}\n"
                     "    - {service: v3, port: 80, weight: 0, canary: true}\n"
                     "  canary:\n"
                     "    header: {name: X-Canary}\n");
  // v1 has no task: its share goes to v2; the canary has none either, so the
  // header rule falls through to the split.
  auto built = BuildModel(
      Cluster(), {Input(route, "1", {ResolvedBackend{}, Backend({"10.0.0.2"}), ResolvedBackend{}})},
      {});
  for (const char* host : {"a.example.com", "b.example.com"}) {
    SCOPED_TRACE(host);
    const auto* server = FindServer(built.model, host);
    ASSERT_NE(server, nullptr);
    const auto& sel = server->locations.at(0).selection;
    ASSERT_EQ(sel.split.size(), 1u);
    EXPECT_EQ(sel.split[0].upstream, UpstreamName("shop", 1));
    EXPECT_EQ(sel.split[0].basis_points, 10000);
    EXPECT_TRUE(sel.canary_split.empty());
    EXPECT_TRUE(sel.sticky_cookie.empty());
  }
}

TEST(ModelBuilder, TlsSecretsAreListedSortedAndUnique) {
  auto tls = [](const std::string& secret) {
    return "  tls: {mode: terminate, secret: " + secret + "}\n";
  };
  auto built =
      BuildModel(Cluster(),
                 {Input(Route("z", PlainSpec("z.example.com") + tls("zeta-tls")), "1"),
                  Input(Route("a", PlainSpec("a.example.com") + tls("alpha-tls")), "2"),
                  Input(Route("b", PlainSpec("a.example.com", "/b") + tls("alpha-tls")), "3"),
                  Input(Route("p", PlainSpec("p.example.com")), "4")},
                 {});
  EXPECT_EQ(built.secrets, (std::vector<std::string>{"alpha-tls", "zeta-tls"}));
  const auto* z = FindServer(built.model, "z.example.com");
  ASSERT_NE(z, nullptr);
  ASSERT_TRUE(z->tls.has_value());
  EXPECT_EQ(z->tls->certificate_file, "zeta-tls");
  const auto* p = FindServer(built.model, "p.example.com");
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(p->tls.has_value());
}

TEST(ModelBuilder, RedirectsAreMapped) {
  auto route = Route("r", PlainSpec("new.example.com") +
                              "  redirects: [{from: old.example.com, to: "
                              "\"https://new.example.com\", code: 308}]\n");
  auto built = BuildModel(Cluster(), {Input(route, "1")}, {});
  ASSERT_EQ(built.model.redirects.size(), 1u);
  EXPECT_EQ(built.model.redirects[0].from_host, "old.example.com");
  EXPECT_EQ(built.model.redirects[0].to_url, "https://new.example.com");
  EXPECT_EQ(built.model.redirects[0].code, 308);
}

TEST(ModelBuilder, ClusterSettingsAreMapped) {
  auto cluster = Cluster(
      "    ports: {http: 8080, https: 8443}\n"
      "    config: {workerConnections: 1024, keepaliveTimeout: 30s, clientMaxBodySize: 2m}\n");
  BuildOptions options;
  options.certs_dir = "/run/secrets";
  auto built = BuildModel(cluster, {}, options);
  const auto& s = built.model.settings;
  EXPECT_EQ(s.http_port, 8080);
  EXPECT_EQ(s.https_port, 8443);
  EXPECT_EQ(s.worker_connections, 1024);
  EXPECT_EQ(s.keepalive_timeout, model::Duration(30000));
  EXPECT_EQ(s.client_max_body_size, 2LL << 20);
  EXPECT_EQ(s.certs_dir, "/run/secrets");
  EXPECT_TRUE(built.routes.empty());
  EXPECT_TRUE(built.model.servers.empty());
}

TEST(ModelBuilder, AccessLogFormatIsMapped) {
  EXPECT_EQ(BuildModel(Cluster(), {}, {}).model.settings.access_log, model::AccessLogFormat::kOff);
  EXPECT_EQ(
      BuildModel(Cluster("  accessLog: {format: combined}\n"), {}, {}).model.settings.access_log,
      model::AccessLogFormat::kCombined);
  EXPECT_EQ(BuildModel(Cluster("  accessLog: {format: json}\n"), {}, {}).model.settings.access_log,
            model::AccessLogFormat::kJson);
}

TEST(ModelBuilder, RoutesOutsideTheHostPolicyOrSelectorAreNotAllowed) {
  auto cluster = Cluster(
      "  allowedRoutes:\n    hosts: [\"*.example.com\"]\n"
      "    selector: {matchLabels: {team: web}}\n");
  auto labelled = [](crds::Route r) {
    r.metadata.labels["team"] = "web";
    return r;
  };
  auto built = BuildModel(
      cluster,
      {Input(labelled(Route("inside", PlainSpec("shop.example.com"))), "2024-01-01T00:00:01Z"),
       Input(labelled(Route("outside", PlainSpec("shop.example.org"))), "2024-01-01T00:00:02Z"),
       Input(Route("unlabelled", PlainSpec("blog.example.com")), "2024-01-01T00:00:03Z")},
      {});
  EXPECT_TRUE(built.routes.at("inside").served);
  EXPECT_EQ(built.routes.at("inside").reason, kReasonReady);
  const RouteOutcome& outside = built.routes.at("outside");
  EXPECT_FALSE(outside.served);
  EXPECT_EQ(outside.reason, kReasonNotAllowed);
  EXPECT_EQ(outside.message,
            "host \"shop.example.org\" is outside the hosts of ServiceCluster \"public\" "
            "(spec.allowedRoutes.hosts: *.example.com)");
  EXPECT_TRUE(outside.endpoints.empty());
  const RouteOutcome& unlabelled = built.routes.at("unlabelled");
  EXPECT_EQ(unlabelled.reason, kReasonNotAllowed);
  EXPECT_EQ(unlabelled.message,
            "ServiceCluster \"public\" admits only routes with labels team=web "
            "(spec.allowedRoutes.selector)");
  EXPECT_NE(FindServer(built.model, "shop.example.com"), nullptr);
  EXPECT_EQ(FindServer(built.model, "shop.example.org"), nullptr);
  EXPECT_EQ(FindServer(built.model, "blog.example.com"), nullptr);
}

TEST(ModelBuilder, ANotAllowedRouteClaimsNothing) {
  // The refused older route must not keep its host+path from a newer one.
  auto cluster = Cluster("  allowedRoutes: {hosts: [shop.example.com]}\n");
  crds::Route old_route = Route("old", PlainSpec("shop.example.com"));
  old_route.spec.hosts.push_back("shop.example.org");
  auto built =
      BuildModel(cluster,
                 {Input(old_route, "2024-01-01T00:00:01Z"),
                  Input(Route("new", PlainSpec("shop.example.com")), "2024-01-01T00:00:02Z")},
                 {});
  EXPECT_EQ(built.routes.at("old").reason, kReasonNotAllowed);
  EXPECT_EQ(built.routes.at("new").reason, kReasonReady);
}

TEST(ModelBuilder, WithoutADefaultBackendUnclaimedRequestsGet404) {
  auto built = BuildModel(Cluster(), {}, {});
  EXPECT_FALSE(built.model.fallback.location);
  EXPECT_EQ(built.model.fallback.status, 404);
  EXPECT_EQ(FindUpstream(built.model, kDefaultBackendUpstream), nullptr);
}

TEST(ModelBuilder, ADefaultStatusIsMapped) {
  auto built = BuildModel(Cluster("  defaultBackend: {status: 503}\n"), {}, {});
  EXPECT_FALSE(built.model.fallback.location);
  EXPECT_EQ(built.model.fallback.status, 503);
}

TEST(ModelBuilder, ADefaultBackendServiceBecomesTheFallbackUpstream) {
  BuildOptions options;
  options.default_backend = Backend({"10.0.9.2", "10.0.9.1"}, 8081);
  auto built =
      BuildModel(Cluster("  defaultBackend: {service: fallback, port: 8081}\n"), {}, options);
  ASSERT_TRUE(built.model.fallback.location);
  const model::Upstream* u = FindUpstream(built.model, kDefaultBackendUpstream);
  ASSERT_NE(u, nullptr);
  ASSERT_EQ(u->servers.size(), 2u);
  EXPECT_EQ(u->servers[0].address, "10.0.9.2:8081");
  EXPECT_EQ(u->max_fails, 1);
  const auto& split = built.model.fallback.location->selection.split;
  ASSERT_EQ(split.size(), 1u);
  EXPECT_EQ(split[0].upstream, kDefaultBackendUpstream);
  EXPECT_EQ(split[0].basis_points, 10000);
}

TEST(ModelBuilder, ADefaultBackendWithoutTasksAnswers503) {
  BuildOptions options;
  options.default_backend.problem = BackendProblem::kNotFound;
  options.default_backend.message = "service \"fallback\" not found";
  auto built =
      BuildModel(Cluster("  defaultBackend: {service: fallback, port: 8081}\n"), {}, options);
  ASSERT_TRUE(built.model.fallback.location);
  EXPECT_TRUE(built.model.fallback.location->selection.split.empty());
}

const std::string kRules =
    "  hosts: [shop.example.com]\n"
    "  rules:\n"
    "    - matches:\n"
    "        - path: {type: Exact, value: /login}\n"
    "          method: POST\n"
    "        - headers: [{name: X-Version, value: two}]\n"
    "      backends: [{service: v2, port: 8080}]\n"
    "    - backends: [{service: v1, port: 8080, weight: 90}, {service: v3, port: 8080, "
    "weight: 10}]\n";

TEST(ModelBuilder, RulesBecomeOneLocationPerMatchWithTheirRulesBackends) {
  auto built = BuildModel(Cluster(), {Input(Route("shop", kRules), "2024-01-01T00:00:01Z")}, {});
  ASSERT_EQ(built.routes.at("shop").reason, kReasonReady) << built.routes.at("shop").message;
  const model::Server* s = FindServer(built.model, "shop.example.com");
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->locations.size(), 3u);
  const model::Location& login = s->locations[0];
  EXPECT_EQ(login.path, "/login");
  EXPECT_EQ(login.path_match, model::PathMatch::kExact);
  EXPECT_EQ(login.method, "POST");
  EXPECT_EQ(login.match_field, "spec.rules[0].matches[0]");
  ASSERT_EQ(login.selection.split.size(), 1u);
  EXPECT_EQ(login.selection.split[0].upstream, "r.shop.0-0");
  const model::Location& version = s->locations[1];
  EXPECT_EQ(version.path, "/");
  EXPECT_EQ(version.path_match, model::PathMatch::kPrefix);
  ASSERT_EQ(version.headers.size(), 1u);
  EXPECT_EQ(version.headers[0], (model::ValueMatch{"X-Version", "two", false}));
  EXPECT_EQ(version.rank, login.rank);
  const model::Location& rest = s->locations[2];
  EXPECT_TRUE(rest.headers.empty());
  EXPECT_EQ(rest.rank, login.rank + 1);
  ASSERT_EQ(rest.selection.split.size(), 2u);
  EXPECT_EQ(rest.selection.split[0].upstream, "r.shop.1-0");
  EXPECT_EQ(rest.selection.split[0].basis_points, 9000);
  EXPECT_EQ(rest.selection.split[1].upstream, "r.shop.1-1");
  EXPECT_NE(FindUpstream(built.model, "r.shop.1-1"), nullptr);
}

TEST(ModelBuilder, EqualMatchesConflictAndOthersShareTheHost) {
  // The older route keeps a match; a newer route with the same match is a
  // Conflict; a plain prefix claims host+path like the shorthand does.
  const std::string same =
      "  hosts: [shop.example.com]\n"
      "  rules:\n"
      "    - matches: [{headers: [{name: x-version, value: two}]}]\n"
      "      backends: [{service: other, port: 8080}]\n";
  const std::string different =
      "  hosts: [shop.example.com]\n"
      "  rules:\n"
      "    - matches: [{headers: [{name: X-Version, value: three}]}]\n"
      "      backends: [{service: other, port: 8080}]\n";
  auto built =
      BuildModel(Cluster(),
                 {Input(Route("shop", kRules), "2024-01-01T00:00:01Z"),
                  Input(Route("same", same), "2024-01-01T00:00:02Z"),
                  Input(Route("different", different), "2024-01-01T00:00:03Z"),
                  Input(Route("plain", PlainSpec("shop.example.com")), "2024-01-01T00:00:04Z")},
                 {});
  EXPECT_EQ(built.routes.at("same").reason, kReasonConflict);
  EXPECT_EQ(built.routes.at("same").message, "host+path already claimed by older route \"shop\"");
  EXPECT_EQ(built.routes.at("different").reason, kReasonReady);
  EXPECT_EQ(built.routes.at("plain").reason, kReasonConflict);
  const model::Server* s = FindServer(built.model, "shop.example.com");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->locations.size(), 4u);
  // The newer route ranks after every rule of the older one.
  EXPECT_GT(s->locations.back().rank, s->locations[2].rank);
}

// A rule's filters, timeouts and retries reach each of its locations; a
// mirror gets an upstream of its own outside every split; a rule without
// backends answers 500, and a route of redirects needs no endpoints.
TEST(ModelBuilder, RuleFiltersTimeoutsAndRetriesReachTheLocations) {
  crds::Route route = Route(
      "app",
      "  hosts: [app.example.com]\n"
      "  timeouts: {read: 30s}\n"
      "  rules:\n"
      "    - matches: [{path: {value: /api}}, {path: {value: /v1}}]\n"
      "      filters:\n"
      "        - {type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: X-A, value: "
      "one}], add: [{name: X-B, value: two}], remove: [X-C]}}\n"
      "        - {type: ResponseHeaderModifier, responseHeaderModifier: {remove: [Server]}}\n"
      "        - {type: URLRewrite, urlRewrite: {hostname: in.example.com, path: {type: "
      "ReplacePrefixMatch, replacePrefixMatch: /v2}}}\n"
      "        - {type: RequestMirror, requestMirror: {backend: {service: shadow, port: 9090}, "
      "percent: 10}}\n"
      "      timeouts: {request: 5s}\n"
      "      retry: {codes: [503], attempts: 3}\n"
      "      backends: [{service: web, port: 8080, filters: [{type: RequestHeaderModifier, "
      "requestHeaderModifier: {set: [{name: X-Backend, value: web}]}}]}]\n"
      "    - matches: [{path: {type: Exact, value: /old}}]\n"
      "      filters: [{type: RequestRedirect, requestRedirect: {scheme: https, path: {type: "
      "ReplaceFullPath, replaceFullPath: /new}, statusCode: 308}}]\n"
      "    - matches: [{path: {value: /none}}]\n"
      "    - matches: [{path: {value: /slow}}]\n"
      "      timeouts: {request: 0s}\n"
      "      backends: [{service: web, port: 8080}]\n"
      "    - matches: [{path: {value: /fast}}]\n"
      "      timeouts: {request: 0s, backendRequest: 2s}\n"
      "      backends: [{service: web, port: 8080}]\n");
  auto built = BuildModel(Cluster(), {Input(route, "1")}, {});
  const model::Server* s = FindServer(built.model, "app.example.com");
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->locations.size(), 6u);
  const model::Location& api = s->locations[0];
  EXPECT_EQ(api.path, "/api");
  EXPECT_EQ(api.request_headers.set,
            (std::vector<std::pair<std::string, std::string>>{{"X-A", "one"}}));
  EXPECT_EQ(api.request_headers.add,
            (std::vector<std::pair<std::string, std::string>>{{"X-B", "two"}}));
  EXPECT_EQ(api.request_headers.remove, std::vector<std::string>{"X-C"});
  EXPECT_EQ(api.response_headers.remove, std::vector<std::string>{"Server"});
  EXPECT_EQ(api.rewrite_host, "in.example.com");
  EXPECT_EQ(api.rewrite, "/v2");
  EXPECT_FALSE(api.rewrite_full_path);
  ASSERT_TRUE(api.mirror);
  EXPECT_EQ(api.mirror->upstream, "r.app.0-m");
  EXPECT_EQ(api.mirror->percent, 10);
  EXPECT_EQ(api.request_timeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(api.timeouts.read, std::chrono::milliseconds(5000));  // capped by the request
  ASSERT_TRUE(api.retry);
  EXPECT_EQ(api.retry->codes, std::vector<int>{503});
  EXPECT_EQ(api.retry->attempts, 3);
  ASSERT_EQ(api.selection.split.size(), 1u);
  EXPECT_EQ(api.selection.split[0].upstream, "r.app.0-0");
  EXPECT_EQ(s->locations[1].path, "/v1");
  EXPECT_EQ(s->locations[1].mirror, api.mirror);
  const model::Upstream* web = FindUpstream(built.model, "r.app.0-0");
  ASSERT_NE(web, nullptr);
  EXPECT_EQ(web->request_headers.set,
            (std::vector<std::pair<std::string, std::string>>{{"X-Backend", "web"}}));
  const model::Upstream* shadow = FindUpstream(built.model, "r.app.0-m");
  ASSERT_NE(shadow, nullptr);
  EXPECT_EQ(shadow->servers.size(), 1u);

  const model::Location& old = s->locations[2];
  ASSERT_TRUE(old.redirect);
  EXPECT_EQ(old.redirect->scheme, "https");
  EXPECT_EQ(old.redirect->full_path, "/new");
  EXPECT_EQ(old.redirect->code, 308);
  EXPECT_TRUE(old.selection.split.empty());
  EXPECT_EQ(s->locations[3].fixed_status, 500);
  EXPECT_FALSE(s->locations[2].fixed_status);
  // request: 0s lifts the read timeout too, unless one attempt has its own.
  EXPECT_EQ(s->locations[4].timeouts.read, std::chrono::hours(24));
  EXPECT_EQ(s->locations[4].request_timeout.count(), 0);
  EXPECT_EQ(s->locations[5].timeouts.read, std::chrono::milliseconds(2000));
  EXPECT_EQ(built.routes["app"].reason, kReasonReady);

  crds::Route moved = Route("moved",
                            "  hosts: [moved.example.com]\n"
                            "  rules:\n"
                            "    - filters: [{type: RequestRedirect, requestRedirect: {hostname: "
                            "app.example.com}}]\n");
  built = BuildModel(Cluster(), {Input(moved, "1")}, {});
  EXPECT_EQ(built.routes["moved"].reason, kReasonReady) << built.routes["moved"].message;
}

}  // namespace
}  // namespace sg::reconcilers
