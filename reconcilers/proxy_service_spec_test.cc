#include "reconcilers/proxy_service_spec.h"

#include <gtest/gtest.h>

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <string>
#include <vector>

#include "crds/loader.h"
#include "operator/testing/golden_render_checks.h"
#include "sg_build_paths.h"

namespace sg::reconcilers {
namespace {

crds::ServiceCluster Cluster(const std::string& proxy_yaml) {
  std::string yaml =
      "apiVersion: swarmgate.io/v1alpha1\n"
      "kind: ServiceCluster\n"
      "metadata: {name: public}\n"
      "spec:\n"
      "  proxy:\n" +
      std::string(proxy_yaml.find("image:") == std::string::npos
                      ? "    image: swarmgate/proxy:1.0\n"
                      : "") +
      proxy_yaml;
  auto r = crds::LoadText(yaml, "cluster.yaml");
  std::string diags;
  for (const auto& d : r.diagnostics) diags += d.ToString() + "\n";
  EXPECT_TRUE(r.ok()) << diags;
  if (r.resources.empty()) return {};
  return *r.resources.front().cluster();
}

ProxyServiceInputs HotInputs() {
  ProxyServiceInputs in;
  in.network_id = "net-cluster";
  in.control_network_id = "net-control";
  in.operator_url = "http://swarmgate-operator:9090";
  in.token = {"secret-token", "sg-token-public", kTokenSecretTarget};
  return in;
}

ProxyServiceInputs RollingInputs() {
  ProxyServiceInputs in;
  in.network_id = "net-cluster";
  in.config_id = "config-1";
  in.config_name = "sg.proxy.public.0123456789ab";
  return in;
}

rapidjson::Document Parse(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str(), json.size());
  EXPECT_FALSE(d.HasParseError()) << json;
  return d;
}

std::vector<std::string> Strings(const rapidjson::Value& array) {
  std::vector<std::string> out;
  for (const auto& v : array.GetArray()) out.push_back(v.GetString());
  return out;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(ProxyServiceSpec, NameAndOwnerLabels) {
  EXPECT_EQ(ProxyServiceName("public"), "sg-proxy-public");
  EXPECT_EQ(OwnerValue("public"), "cluster/public");
  auto d = Parse(BuildProxyServiceSpec(Cluster(""), HotInputs()));
  EXPECT_STREQ(d["Name"].GetString(), "sg-proxy-public");
  const auto& labels = d["Labels"];
  EXPECT_STREQ(labels[kLabelOwner].GetString(), "cluster/public");
  EXPECT_STREQ(labels[kLabelManagedBy].GetString(), "swarmgate");
  ASSERT_TRUE(labels.HasMember(kLabelSpecHash));
  EXPECT_EQ(std::string(labels[kLabelSpecHash].GetString()).size(), 16u);
}

std::string HashOf(const std::string& spec) {
  auto d = Parse(spec);
  return d["Labels"][kLabelSpecHash].GetString();
}

TEST(ProxyServiceSpec, SpecHashChangesWithTheSpecOnly) {
  const std::string base = BuildProxyServiceSpec(Cluster("    replicas: 2\n"), HotInputs());
  // Deterministic: same inputs, same bytes.
  EXPECT_EQ(BuildProxyServiceSpec(Cluster("    replicas: 2\n"), HotInputs()), base);

  struct Case {
    std::string label;
    std::string proxy_yaml;
    ProxyServiceInputs inputs;
  };
  auto other_net = HotInputs();
  other_net.network_id = "net-other";
  auto with_tls = HotInputs();
  with_tls.tls_secrets.push_back({"s1", "shop-tls", "shop-tls"});
  const std::vector<Case> cases = {
      {"replicas", "    replicas: 3\n", HotInputs()},
      {"image", "    replicas: 2\n    image: swarmgate/proxy:2.0\n", HotInputs()},
      {"constraints", "    replicas: 2\n    constraints: [node.role==worker]\n", HotInputs()},
      {"network", "    replicas: 2\n", other_net},
      {"tls secret", "    replicas: 2\n", with_tls},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.label);
    auto changed = BuildProxyServiceSpec(Cluster(c.proxy_yaml), c.inputs);
    EXPECT_NE(HashOf(changed), HashOf(base));
  }
}

TEST(ProxyServiceSpec, IngressModePublishesThePortsOnAVip) {
  auto d = Parse(BuildProxyServiceSpec(
      Cluster("    publishMode: ingress\n    ports: {http: 8080, https: 8443}\n"), HotInputs()));
  const auto& ep = d["EndpointSpec"];
  EXPECT_STREQ(ep["Mode"].GetString(), "vip");
  const auto& ports = ep["Ports"];
  ASSERT_EQ(ports.Size(), 2u);
  EXPECT_EQ(ports[0]["TargetPort"].GetInt(), 8080);
  EXPECT_EQ(ports[0]["PublishedPort"].GetInt(), 8080);
  EXPECT_EQ(ports[1]["TargetPort"].GetInt(), 8443);
  EXPECT_EQ(ports[1]["PublishedPort"].GetInt(), 8443);
  for (const auto& p : ports.GetArray()) {
    EXPECT_STREQ(p["PublishMode"].GetString(), "ingress");
    EXPECT_STREQ(p["Protocol"].GetString(), "tcp");
  }
  EXPECT_FALSE(d["TaskTemplate"]["ContainerSpec"].HasMember("Mounts"));
  // Routing-mesh clients connect to the proxy's own namespace: kernel defaults.
  EXPECT_FALSE(d["TaskTemplate"]["ContainerSpec"].HasMember("Sysctls"));
}

// Host mode: the proxies publish nothing (so Swarm can start a replacement
// beside the task it replaces) and take the node's ports from the listener
// service through the shared volume.
TEST(ProxyServiceSpec, HostModeProxiesInheritThePortsFromTheListener) {
  auto d = Parse(BuildProxyServiceSpec(
      Cluster("    publishMode: host\n    ports: {http: 8080, https: 8443}\n"), HotInputs()));
  EXPECT_STREQ(d["EndpointSpec"]["Mode"].GetString(), "dnsrr");
  EXPECT_EQ(d["EndpointSpec"]["Ports"].Size(), 0u);
  const auto& container = d["TaskTemplate"]["ContainerSpec"];
  EXPECT_TRUE(Contains(Strings(container["Env"]),
                       std::string("SG_LISTENER_SOCKET=") + kListenerSocketPath));
  ASSERT_EQ(container["Mounts"].Size(), 1u);
  const auto& m = container["Mounts"][0];
  EXPECT_STREQ(m["Type"].GetString(), "volume");
  EXPECT_EQ(std::string(m["Source"].GetString()), ListenerVolumeName("public"));
  EXPECT_STREQ(m["Target"].GetString(), kListenerMountTarget);
  EXPECT_STREQ(m["VolumeOptions"]["Labels"][kLabelOwner].GetString(), "cluster/public");
  // A request on a kept-alive connection to a lost node's task fails after
  // one retransmission, so the engine retries it elsewhere within 2 s.
  EXPECT_STREQ(container["Sysctls"]["net.ipv4.tcp_retries2"].GetString(), "1");
}

// A stopping proxy lingers for a successor on its node, then drains, within
// the stop grace period: the agent's 8 s for the default 10 s (no variable,
// so the spec is as before), less for a shorter period, none below 2 s.
TEST(ProxyServiceSpec, StopLingerFitsTheStopGracePeriod) {
  auto linger_of = [](const std::string& grace, const std::string& more = "") {
    auto d = Parse(BuildProxyServiceSpec(
        Cluster("    publishMode: host\n" +
                (grace.empty() ? "" : "    stopGracePeriod: " + grace + "\n") + more),
        HotInputs()));
    std::string out = "(none)";
    for (const auto& e : Strings(d["TaskTemplate"]["ContainerSpec"]["Env"])) {
      if (e.rfind("SG_STOP_LINGER=", 0) == 0) out = e.substr(15);
    }
    return out;
  };
  EXPECT_EQ(linger_of(""), "(none)");
  EXPECT_EQ(linger_of("10s"), "(none)");
  EXPECT_EQ(linger_of("30s"), "(none)");
  EXPECT_EQ(linger_of("7s"), "5000ms");
  EXPECT_EQ(linger_of("3s"), "1000ms");
  EXPECT_EQ(linger_of("1s"), "0ms");
  // Stop-first: the successor starts once the proxy exited.
  EXPECT_EQ(linger_of("", "    updatePolicy: {order: stop-first}\n"), "0ms");
}

TEST(ProxyServiceSpec, TheEngineAndItsPortsReachTheAgent) {
  auto haproxy = Parse(BuildProxyServiceSpec(
      Cluster("    engine: haproxy\n    ports: {http: 8080, https: 8443}\n"), HotInputs()));
  auto env = Strings(haproxy["TaskTemplate"]["ContainerSpec"]["Env"]);
  EXPECT_TRUE(Contains(env, "SG_ENGINE=haproxy"));
  EXPECT_TRUE(Contains(env, "SG_HTTP_PORT=8080"));
  EXPECT_TRUE(Contains(env, "SG_HTTPS_PORT=8443"));
  // nginx, named or not, keeps the spec it had before engines existed.
  for (const std::string yaml : {"    engine: nginx\n", "    replicas: 2\n"}) {
    auto nginx = Parse(BuildProxyServiceSpec(Cluster(yaml), HotInputs()));
    for (const auto& e : Strings(nginx["TaskTemplate"]["ContainerSpec"]["Env"])) {
      EXPECT_EQ(e.rfind("SG_ENGINE=", 0), std::string::npos) << yaml;
      EXPECT_EQ(e.rfind("SG_HTTP_PORT=", 0), std::string::npos) << yaml;
    }
  }
  EXPECT_EQ(BuildProxyServiceSpec(Cluster("    engine: nginx\n"), HotInputs()),
            BuildProxyServiceSpec(Cluster("    replicas: 2\n"), HotInputs()));
}

TEST(ProxyServiceSpec, GlobalModeRunsOneProxyPerNode) {
  auto global = Parse(BuildProxyServiceSpec(Cluster("    mode: global\n"), HotInputs()));
  EXPECT_TRUE(global["Mode"].HasMember("Global"));
  EXPECT_FALSE(global["Mode"].HasMember("Replicated"));
  auto replicated = Parse(BuildProxyServiceSpec(Cluster("    replicas: 3\n"), HotInputs()));
  EXPECT_EQ(replicated["Mode"]["Replicated"]["Replicas"].GetInt(), 3);
}

TEST(ListenerServiceSpec, GlobalOnTheHostNetworkStopFirstWithTheSharedVolume) {
  auto cluster = Cluster(
      "    ports: {http: 8080, https: 8443}\n"
      "    constraints: [\"node.labels.edge==true\"]\n");
  auto d = Parse(BuildListenerServiceSpec(cluster, "swarmgate/proxy:0.9"));
  EXPECT_EQ(std::string(d["Name"].GetString()), ListenerServiceName("public"));
  EXPECT_STREQ(d["Labels"][kLabelOwner].GetString(), "cluster/public");
  EXPECT_STREQ(d["Labels"][kLabelImage].GetString(), "swarmgate/proxy:0.9");
  EXPECT_TRUE(d["Labels"].HasMember(kLabelSpecHash));
  EXPECT_TRUE(d["Mode"].HasMember("Global"));
  EXPECT_STREQ(d["UpdateConfig"]["Order"].GetString(), "stop-first");
  const auto& container = d["TaskTemplate"]["ContainerSpec"];
  EXPECT_STREQ(container["Image"].GetString(), "swarmgate/proxy:0.9");
  EXPECT_EQ(Strings(container["Command"]),
            (std::vector<std::string>{"/usr/bin/swarmgate", "listen", "--socket",
                                      kListenerSocketPath, "--port", "8080", "--port", "8443"}));
  // Docker must not kill a holder that lingers for its successor.
  EXPECT_GT(container["StopGracePeriod"].GetInt64(), int64_t{kListenerLingerSeconds} * 1000000000);
  EXPECT_EQ(std::string(container["Mounts"][0]["Source"].GetString()),
            ListenerVolumeName("public"));
  EXPECT_EQ(Strings(d["TaskTemplate"]["Placement"]["Constraints"]),
            std::vector<std::string>{"node.labels.edge==true"});
  // The holder binds the ports in the node's namespace: host network, and
  // nothing published by Swarm.
  ASSERT_EQ(d["TaskTemplate"]["Networks"].Size(), 1u);
  EXPECT_STREQ(d["TaskTemplate"]["Networks"][0]["Target"].GetString(), "host");
  EXPECT_EQ(d["EndpointSpec"]["Ports"].Size(), 0u);
}

// The whole spec, reviewed as a file: reconcilers/testdata/listener_service.json.
TEST(ListenerServiceSpec, MatchesTheGoldenFile) {
  auto d =
      Parse(BuildListenerServiceSpec(Cluster("    ports: {http: 8080, https: 8443}\n"
                                             "    constraints: [\"node.labels.edge==true\"]\n"),
                                     "swarmgate/proxy:0.9"));
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  w.SetIndent(' ', 2);
  d.Accept(w);
  testing::ExpectMatchesGoldenFile(
      std::string(buf.GetString(), buf.GetSize()) + "\n",
      std::string(SG_SOURCE_DIR) + "/reconcilers/testdata/listener_service.json", "listener");
}

TEST(ListenerServiceSpec, ProxyImageOrDeliveryChangesLeaveItAlone) {
  auto a = Cluster("    image: swarmgate/proxy:1.0\n");
  auto b =
      Cluster("    image: swarmgate/proxy:2.0\n    delivery: rolling\n    stopGracePeriod: 30s\n");
  // The reconciler passes the image the listener already runs.
  EXPECT_EQ(BuildListenerServiceSpec(a, "swarmgate/proxy:1.0"),
            BuildListenerServiceSpec(b, "swarmgate/proxy:1.0"));
  auto c = Cluster("    ports: {http: 81}\n");
  EXPECT_NE(BuildListenerServiceSpec(a, "swarmgate/proxy:1.0"),
            BuildListenerServiceSpec(c, "swarmgate/proxy:1.0"));
}

TEST(ProxyServiceSpec, UpdateAndRollbackConfig) {
  auto d = Parse(BuildProxyServiceSpec(
      Cluster("    updatePolicy: {order: stop-first, parallelism: 2, delay: 3s,\n"
              "                   failureAction: continue, monitor: 1500ms}\n"),
      HotInputs()));
  const auto& u = d["UpdateConfig"];
  EXPECT_STREQ(u["Order"].GetString(), "stop-first");
  EXPECT_EQ(u["Parallelism"].GetInt(), 2);
  EXPECT_EQ(u["Delay"].GetInt64(), 3000000000LL);
  EXPECT_STREQ(u["FailureAction"].GetString(), "continue");
  EXPECT_EQ(u["Monitor"].GetInt64(), 1500000000LL);
  const auto& r = d["RollbackConfig"];
  EXPECT_STREQ(r["Order"].GetString(), "stop-first");
  EXPECT_EQ(r["Parallelism"].GetInt(), 2);
  EXPECT_STREQ(r["FailureAction"].GetString(), "pause");

  auto defaults = Parse(BuildProxyServiceSpec(Cluster(""), HotInputs()));
  EXPECT_STREQ(defaults["UpdateConfig"]["Order"].GetString(), "start-first");
  EXPECT_STREQ(defaults["UpdateConfig"]["FailureAction"].GetString(), "rollback");
  EXPECT_EQ(defaults["UpdateConfig"]["Monitor"].GetInt64(), 5000000000LL);
}

TEST(ProxyServiceSpec, ConstraintsReplicasAndStopGracePeriod) {
  auto d = Parse(BuildProxyServiceSpec(
      Cluster(
          "    replicas: 4\n"
          "    stopGracePeriod: 25s\n"
          "    constraints: [\"node.labels.swarmgate.ingress==true\", \"node.role!=manager\"]\n"),
      HotInputs()));
  EXPECT_EQ(d["Mode"]["Replicated"]["Replicas"].GetInt(), 4);
  EXPECT_EQ(
      Strings(d["TaskTemplate"]["Placement"]["Constraints"]),
      (std::vector<std::string>{"node.labels.swarmgate.ingress==true", "node.role!=manager"}));
  const auto& cs = d["TaskTemplate"]["ContainerSpec"];
  EXPECT_EQ(cs["StopGracePeriod"].GetInt64(), 25000000000LL);
  EXPECT_STREQ(cs["Image"].GetString(), "swarmgate/proxy:1.0");
}

TEST(ProxyServiceSpec, HotDeliveryJoinsTheControlNetworkWithItsToken) {
  auto d = Parse(BuildProxyServiceSpec(Cluster(""), HotInputs()));
  const auto& tt = d["TaskTemplate"];
  std::vector<std::string> targets;
  for (const auto& n : tt["Networks"].GetArray()) targets.push_back(n["Target"].GetString());
  EXPECT_EQ(targets, (std::vector<std::string>{"net-cluster", "net-control"}));
  // nginx serves no traffic metrics: no alias for Prometheus to find it by.
  EXPECT_FALSE(tt["Networks"][1].HasMember("Aliases"));
  auto haproxy = Parse(BuildProxyServiceSpec(Cluster("    engine: haproxy\n"), HotInputs()));
  const auto& control = haproxy["TaskTemplate"]["Networks"][1];
  EXPECT_STREQ(control["Target"].GetString(), "net-control");
  ASSERT_TRUE(control.HasMember("Aliases"));
  EXPECT_EQ(Strings(control["Aliases"]), std::vector<std::string>{"swarmgate-proxies"});
  const auto& cs = tt["ContainerSpec"];
  auto env = Strings(cs["Env"]);
  EXPECT_TRUE(Contains(env, "SG_OPERATOR_URL=http://swarmgate-operator:9090"));
  EXPECT_TRUE(Contains(env, "SG_CLUSTER=public"));
  EXPECT_TRUE(Contains(env, "SG_TOKEN_FILE=/run/secrets/sg-token"));
  auto command = Strings(cs["Command"]);
  EXPECT_FALSE(Contains(command, "--config-file"));
  ASSERT_EQ(cs["Secrets"].Size(), 1u);
  const auto& token = cs["Secrets"][0];
  EXPECT_STREQ(token["SecretID"].GetString(), "secret-token");
  EXPECT_STREQ(token["SecretName"].GetString(), "sg-token-public");
  EXPECT_STREQ(token["File"]["Name"].GetString(), "sg-token");
  EXPECT_FALSE(cs.HasMember("Configs"));
}

TEST(ProxyServiceSpec, RollingDeliveryMountsTheConfigFile) {
  auto d = Parse(BuildProxyServiceSpec(Cluster("    delivery: rolling\n"), RollingInputs()));
  const auto& tt = d["TaskTemplate"];
  ASSERT_EQ(tt["Networks"].Size(), 1u);
  EXPECT_STREQ(tt["Networks"][0]["Target"].GetString(), "net-cluster");
  const auto& cs = tt["ContainerSpec"];
  auto command = Strings(cs["Command"]);
  auto it = std::find(command.begin(), command.end(), "--config-file");
  ASSERT_NE(it, command.end());
  ASSERT_NE(it + 1, command.end());
  EXPECT_EQ(*(it + 1), "/etc/swarmgate/nginx.conf");
  auto env = Strings(cs["Env"]);
  for (const auto& e : env) EXPECT_NE(e.rfind("SG_OPERATOR_URL=", 0), 0u) << e;
  ASSERT_TRUE(cs.HasMember("Configs"));
  ASSERT_EQ(cs["Configs"].Size(), 1u);
  const auto& config = cs["Configs"][0];
  EXPECT_STREQ(config["ConfigID"].GetString(), "config-1");
  EXPECT_STREQ(config["ConfigName"].GetString(), "sg.proxy.public.0123456789ab");
  EXPECT_STREQ(config["File"]["Name"].GetString(), "/etc/swarmgate/nginx.conf");
  EXPECT_EQ(cs["Secrets"].Size(), 0u);
}

TEST(ProxyServiceSpec, TlsSecretsAreMounted) {
  auto in = HotInputs();
  in.tls_secrets = {{"s1", "a-tls", "a-tls"}, {"s2", "b-tls", "b-tls"}};
  auto d = Parse(BuildProxyServiceSpec(Cluster(""), in));
  const auto& secrets = d["TaskTemplate"]["ContainerSpec"]["Secrets"];
  std::vector<std::string> names;
  for (const auto& s : secrets.GetArray()) {
    names.push_back(std::string(s["SecretName"].GetString()) + "@" + s["SecretID"].GetString() +
                    "->" + s["File"]["Name"].GetString());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"sg-token-public@secret-token->sg-token",
                                             "a-tls@s1->a-tls", "b-tls@s2->b-tls"}));

  auto rolling_in = RollingInputs();
  rolling_in.tls_secrets = in.tls_secrets;
  auto r = Parse(BuildProxyServiceSpec(Cluster("    delivery: rolling\n"), rolling_in));
  EXPECT_EQ(r["TaskTemplate"]["ContainerSpec"]["Secrets"].Size(), 2u);
}

TEST(ProxyServiceSpec, HealthCheckAndInit) {
  auto d = Parse(BuildProxyServiceSpec(Cluster(""), HotInputs()));
  const auto& cs = d["TaskTemplate"]["ContainerSpec"];
  EXPECT_TRUE(cs["Init"].GetBool());
  ASSERT_TRUE(cs.HasMember("Healthcheck"));
  auto test = Strings(cs["Healthcheck"]["Test"]);
  ASSERT_FALSE(test.empty());
  EXPECT_EQ(test.front(), "CMD");
  EXPECT_NE(test.back().find(":8082/healthz"), std::string::npos) << test.back();
  EXPECT_GT(cs["Healthcheck"]["Interval"].GetInt64(), 0);
}

TEST(ProxyServiceSpec, Sha256HexIsHexOfTheDigest) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace sg::reconcilers
