#include "operator/docker/wire_format.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

namespace sg::docker {
namespace {

// ---- answers captured from dockerd 20.10.24 (API 1.41)

constexpr char kConfigList[] =
    R"([{"ID":"en5osq2485soe7eibiv8v8f5v","Version":{"Index":11},)"
    R"("CreatedAt":"2026-11-24T19:52:15.733452635Z","UpdatedAt":"2026-11-24T19:52:15.733452635Z",)"
    R"("Spec":{"Name":"probe-cfg","Labels":{"a":"b"},"Data":"aGkK"}}])";

constexpr char kService[] =
    R"({"ID":"i364d1yi3g7tymcvo69s4xwpr","Version":{"Index":16},)"
    R"("CreatedAt":"2026-11-24T19:52:15.759556898Z","UpdatedAt":"2026-11-24T19:52:15.761007464Z",)"
    R"("Spec":{"Name":"probe-svc","Labels":{"team":"web"},"TaskTemplate":{"ContainerSpec":{)"
    R"("Image":"busybox-sg:test","Args":["sleep","3600"],"Init":false,)"
    R"("Healthcheck":{"Test":["CMD-SHELL","true"]},"DNSConfig":{},"Isolation":"default"},)"
    R"("Resources":{"Limits":{},"Reservations":{}},"Placement":{},)"
    R"("Networks":[{"Target":"5sass6qi2ts9noy5cbey4z00r"}],"ForceUpdate":0,"Runtime":"container"},)"
    R"("Mode":{"Replicated":{"Replicas":3}},"EndpointSpec":{"Mode":"vip"}},)"
    R"("Endpoint":{"Spec":{"Mode":"vip"},"VirtualIPs":[{"NetworkID":"5sass6qi2ts9noy5cbey4z00r",)"
    R"("Addr":"10.0.1.2/24"}]},"UpdateStatus":{"State":"updating",)"
    R"("StartedAt":"2026-11-24T19:53:09.222998979Z","Message":"update in progress"}})";

constexpr char kTaskList[] =
    R"([{"ID":"nquhedajxgxd9vh3kbcolm2zv","Version":{"Index":22},)"
    R"("CreatedAt":"2026-11-24T19:52:15.760029837Z","UpdatedAt":"2026-11-24T19:52:46.572569984Z",)"
    R"("Labels":{},"Spec":{"ContainerSpec":{"Image":"busybox-sg:test"},"ForceUpdate":0},)"
    R"("ServiceID":"i364d1yi3g7tymcvo69s4xwpr","Slot":1,"NodeID":"nzfhf1gs4pag1bixgoplgjlc2",)"
    R"("Status":{"Timestamp":"2026-11-24T19:52:46.48220254Z","State":"running","Message":"started",)"
    R"("ContainerStatus":{"ContainerID":"d8383d06f43994ebdca68a8cee5b7e979427c2aa3f28057feb42a0bfbc3a2c6f",)"
    R"("PID":9988,"ExitCode":0},"PortStatus":{}},"DesiredState":"running",)"
    R"("NetworksAttachments":[{"Network":{"ID":"5sass6qi2ts9noy5cbey4z00r","Version":{"Index":13},)"
    R"("Spec":{"Name":"probe-net","Labels":{},"DriverConfiguration":{"Name":"overlay"},)"
    R"("Attachable":true,"Scope":"swarm"}},"Addresses":["10.0.1.3/24"]}]}])";

constexpr char kEventLine[] =
    R"({"Type":"config","Action":"create","Actor":{"ID":"oddef9gnps1w9kk4rh63h9f2m",)"
    R"("Attributes":{"name":"abc-one"}},"scope":"swarm","time":1795550402,)"
    R"("timeNano":1795550402753025305})";

constexpr char kNetwork[] =
    R"({"Name":"probe-net","Id":"5sass6qi2ts9noy5cbey4z00r","Created":"2026-11-24T19:52:15.916814844Z",)"
    R"("Scope":"swarm","Driver":"overlay","EnableIPv6":false,"IPAM":{"Driver":"default",)"
    R"("Options":null,"Config":[{"Subnet":"10.0.1.0/24","Gateway":"10.0.1.1"}]},"Internal":false,)"
    R"("Attachable":true,"Ingress":false,"Labels":{"swarmgate.io/managed-by":"swarmgate"}})";

constexpr char kNodeList[] =
    R"([{"ID":"nzfhf1gs4pag1bixgoplgjlc2","Version":{"Index":19},)"
    R"("Spec":{"Labels":{"swarmgate.io/ingress":"true"},"Role":"manager","Availability":"active"},)"
    R"("Description":{"Hostname":"vm","Platform":{"Architecture":"x86_64","OS":"linux"}},)"
    R"("Status":{"State":"ready","Addr":"127.0.0.1"},)"
    R"("ManagerStatus":{"Leader":true,"Reachability":"reachable","Addr":"127.0.0.1:2377"}}])";

constexpr char kVersion[] =
    R"({"Platform":{"Name":""},"Version":"20.10.24+dfsg1","ApiVersion":"1.41",)"
    R"("MinAPIVersion":"1.12","GitCommit":"5d6db84","Os":"linux","Arch":"amd64"})";

TEST(WireFormatTest, ParsesConfigList) {
  auto configs = ParseConfigList(kConfigList);
  ASSERT_TRUE(configs.ok()) << configs.error().ToString();
  ASSERT_EQ(configs->size(), 1u);
  const Config& c = configs->front();
  EXPECT_EQ(c.id, "en5osq2485soe7eibiv8v8f5v");
  EXPECT_EQ(c.version, 11u);
  EXPECT_EQ(c.created_at, "2026-11-24T19:52:15.733452635Z");
  EXPECT_EQ(c.spec.name, "probe-cfg");
  EXPECT_EQ(c.spec.labels, (Labels{{"a", "b"}}));
  EXPECT_EQ(c.spec.data, "hi\n");
}

TEST(WireFormatTest, ParsesServiceWithVipsAndUpdateStatus) {
  auto s = ParseService(kService);
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  EXPECT_EQ(s->id, "i364d1yi3g7tymcvo69s4xwpr");
  EXPECT_EQ(s->version, 16u);
  EXPECT_EQ(s->name, "probe-svc");
  EXPECT_EQ(s->labels, (Labels{{"team", "web"}}));
  EXPECT_EQ(s->update_state, "updating");
  ASSERT_EQ(s->virtual_ips.size(), 1u);
  EXPECT_EQ(s->virtual_ips[0].network_id, "5sass6qi2ts9noy5cbey4z00r");
  EXPECT_EQ(s->virtual_ips[0].addr, "10.0.1.2/24");
  EXPECT_EQ(s->replicas, 3u);
  EXPECT_FALSE(s->global);
  EXPECT_TRUE(s->has_healthcheck);
  EXPECT_EQ(s->network_targets, std::vector<std::string>{"5sass6qi2ts9noy5cbey4z00r"});
  // spec_json is the Spec object, ready to edit and resend.
  rapidjson::Document spec;
  spec.Parse(s->spec_json.c_str());
  ASSERT_FALSE(spec.HasParseError());
  EXPECT_STREQ(spec["Name"].GetString(), "probe-svc");
  EXPECT_STREQ(spec["TaskTemplate"]["ContainerSpec"]["Image"].GetString(), "busybox-sg:test");
  EXPECT_FALSE(spec.HasMember("Endpoint"));
}

TEST(WireFormatTest, ServiceSpecFieldEdgeCases) {
  Service s;
  ASSERT_TRUE(
      ParseServiceSpecFields(
          R"({"Name":"g","Mode":{"Global":{}},"TaskTemplate":{"ContainerSpec":)"
          R"({"Image":"x","Healthcheck":{"Test":["NONE"]}}},"Networks":[{"Target":"old"}]})",
          &s)
          .ok());
  EXPECT_EQ(s.name, "g");
  EXPECT_EQ(s.replicas, 0u);
  EXPECT_TRUE(s.global);
  EXPECT_FALSE(s.has_healthcheck);  // ["NONE"] disables the image's check
  EXPECT_EQ(s.network_targets, std::vector<std::string>{"old"});
  EXPECT_TRUE(s.secret_names.empty());
  EXPECT_FALSE(s.publishes_host_ports);
  EXPECT_FALSE(ParseServiceSpecFields("[1]", &s).ok());
  EXPECT_FALSE(ParseServiceSpecFields("{", &s).ok());
}

TEST(WireFormatTest, ServiceSpecSecretsAndHostPorts) {
  Service s;
  ASSERT_TRUE(ParseServiceSpecFields(
                  R"({"Name":"p","TaskTemplate":{"ContainerSpec":{"Image":"x","Secrets":[)"
                  R"({"SecretName":"shop-tls","SecretID":"a"},{"SecretName":"sg-token-p"}]}},)"
                  R"("EndpointSpec":{"Ports":[{"TargetPort":80,"PublishMode":"ingress"},)"
                  R"({"TargetPort":443,"PublishMode":"host"}]}})",
                  &s)
                  .ok());
  EXPECT_EQ(s.secret_names, (std::vector<std::string>{"shop-tls", "sg-token-p"}));
  EXPECT_TRUE(s.publishes_host_ports);
  ASSERT_TRUE(
      ParseServiceSpecFields(
          R"({"Name":"p","EndpointSpec":{"Ports":[{"TargetPort":80,"PublishMode":"ingress"}]}})",
          &s)
          .ok());
  EXPECT_TRUE(s.secret_names.empty());
  EXPECT_FALSE(s.publishes_host_ports);
}

TEST(WireFormatTest, ParsesTaskWithNetworksAttachments) {
  auto tasks = ParseTaskList(kTaskList);
  ASSERT_TRUE(tasks.ok()) << tasks.error().ToString();
  ASSERT_EQ(tasks->size(), 1u);
  const Task& t = tasks->front();
  EXPECT_EQ(t.id, "nquhedajxgxd9vh3kbcolm2zv");
  EXPECT_EQ(t.version, 22u);
  EXPECT_EQ(t.service_id, "i364d1yi3g7tymcvo69s4xwpr");
  EXPECT_EQ(t.node_id, "nzfhf1gs4pag1bixgoplgjlc2");
  EXPECT_EQ(t.slot, 1);
  EXPECT_EQ(t.desired_state, "running");
  EXPECT_EQ(t.state, "running");
  EXPECT_EQ(t.message, "started");
  EXPECT_EQ(t.error, "");
  EXPECT_EQ(t.container_id, "d8383d06f43994ebdca68a8cee5b7e979427c2aa3f28057feb42a0bfbc3a2c6f");
  ASSERT_EQ(t.networks.size(), 1u);
  EXPECT_EQ(t.networks[0].network_id, "5sass6qi2ts9noy5cbey4z00r");
  EXPECT_EQ(t.networks[0].network_name, "probe-net");
  EXPECT_EQ(t.networks[0].addresses, std::vector<std::string>{"10.0.1.3/24"});
}

TEST(WireFormatTest, ParsesEventLine) {
  auto e = ParseEvent(kEventLine);
  ASSERT_TRUE(e.ok()) << e.error().ToString();
  EXPECT_EQ(e->type, "config");
  EXPECT_EQ(e->action, "create");
  EXPECT_EQ(e->actor_id, "oddef9gnps1w9kk4rh63h9f2m");
  EXPECT_EQ(e->attributes.at("name"), "abc-one");
  EXPECT_EQ(e->scope, "swarm");
  EXPECT_EQ(e->time, 1795550402);
  EXPECT_EQ(e->time_nano, 1795550402753025305);
}

TEST(WireFormatTest, ParsesLegacyContainerEventFields) {
  auto e = ParseEvent(R"({"status":"start","id":"abc","Type":"container","time":5})");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->action, "start");
  EXPECT_EQ(e->actor_id, "abc");
}

TEST(WireFormatTest, ParsesNetworkNodeVersion) {
  auto n = ParseNetwork(kNetwork);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->id, "5sass6qi2ts9noy5cbey4z00r");
  EXPECT_EQ(n->name, "probe-net");
  EXPECT_EQ(n->driver, "overlay");
  EXPECT_EQ(n->scope, "swarm");
  EXPECT_TRUE(n->attachable);
  EXPECT_EQ(n->labels.at("swarmgate.io/managed-by"), "swarmgate");

  auto nodes = ParseNodeList(kNodeList);
  ASSERT_TRUE(nodes.ok());
  ASSERT_EQ(nodes->size(), 1u);
  EXPECT_EQ((*nodes)[0].hostname, "vm");
  EXPECT_EQ((*nodes)[0].role, "manager");
  EXPECT_EQ((*nodes)[0].availability, "active");
  EXPECT_EQ((*nodes)[0].state, "ready");
  EXPECT_EQ((*nodes)[0].addr, "127.0.0.1");
  EXPECT_EQ((*nodes)[0].manager_reachability, "reachable");
  EXPECT_EQ((*nodes)[0].labels.at("swarmgate.io/ingress"), "true");
  EXPECT_EQ((*nodes)[0].version, 19u);
  EXPECT_NE((*nodes)[0].spec_json.find("\"Role\":\"manager\""), std::string::npos);

  auto v = ParseVersion(kVersion);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->version, "20.10.24+dfsg1");
  EXPECT_EQ(v->api_version, "1.41");
  EXPECT_EQ(v->min_api_version, "1.12");
  EXPECT_EQ(v->os, "linux");
  EXPECT_EQ(v->arch, "amd64");
}

// What the cluster pass reads to tell a lost node: Status.State of every
// node, ManagerStatus.Reachability of managers (workers have none).
TEST(WireFormatTest, ParsesNodeStateAndManagerReachability) {
  constexpr char kNodes[] =
      R"([{"ID":"w1","Spec":{"Role":"worker","Availability":"active"},)"
      R"("Status":{"State":"down","Message":"heartbeat failure","Addr":"10.0.0.3"}},)"
      R"({"ID":"m2","Spec":{"Role":"manager","Availability":"active"},)"
      R"("Status":{"State":"ready","Addr":"10.0.0.2"},)"
      R"("ManagerStatus":{"Reachability":"unreachable","Addr":"10.0.0.2:2377"}}])";
  auto nodes = ParseNodeList(kNodes);
  ASSERT_TRUE(nodes.ok()) << nodes.error().ToString();
  ASSERT_EQ(nodes->size(), 2u);
  EXPECT_EQ((*nodes)[0].id, "w1");
  EXPECT_EQ((*nodes)[0].state, "down");
  EXPECT_EQ((*nodes)[0].manager_reachability, "");
  EXPECT_EQ((*nodes)[1].id, "m2");
  EXPECT_EQ((*nodes)[1].state, "ready");
  EXPECT_EQ((*nodes)[1].manager_reachability, "unreachable");
}

TEST(WireFormatTest, EmptyAndBrokenLists) {
  EXPECT_TRUE(ParseConfigList("[]")->empty());
  EXPECT_TRUE(ParseTaskList("null")->empty());
  auto broken = ParseConfigList("[{");
  ASSERT_FALSE(broken.ok());
  EXPECT_TRUE(broken.error().Is(ErrorCode::kInternal));
  EXPECT_FALSE(ParseConfigList("{}").ok());
  // Data that is not base64 is an engine bug we report, not hide.
  EXPECT_FALSE(ParseConfig(R"({"ID":"x","Spec":{"Name":"n","Data":"!!"}})").ok());
}

TEST(WireFormatTest, CreatedIdBothSpellings) {
  EXPECT_EQ(*ParseCreatedId(R"({"ID":"abc"})"), "abc");
  EXPECT_EQ(*ParseCreatedId(R"({"Id":"net1","Warning":""})"), "net1");
  EXPECT_FALSE(ParseCreatedId(R"({"Warnings":null})").ok());
}

TEST(WireFormatTest, EncodesFilters) {
  Filters f{{"label", {"swarmgate.io/kind=route", "swarmgate.io/name"}}, {"name", {"sg."}}};
  EXPECT_EQ(EncodeFiltersJson(f),
            R"({"label":["swarmgate.io/kind=route","swarmgate.io/name"],"name":["sg."]})");
  EXPECT_EQ(FiltersQuery({{"label", {"a=b"}}}), "filters=%7B%22label%22%3A%5B%22a%3Db%22%5D%7D");
  EXPECT_EQ(FiltersQuery({}), "");
  EXPECT_EQ(EncodeFiltersJson({{"label", {"quote\"d"}}}), R"({"label":["quote\"d"]})");
}

TEST(WireFormatTest, UrlEncode) {
  EXPECT_EQ(UrlEncode("sg.route.shop-1_x~"), "sg.route.shop-1_x~");
  EXPECT_EQ(UrlEncode("a b/c?d&e=f"), "a%20b%2Fc%3Fd%26e%3Df");
  EXPECT_EQ(UrlEncode("\xc3\xa9"), "%C3%A9");
}

TEST(WireFormatTest, RequestBodies) {
  rapidjson::Document d;
  d.Parse(
      ConfigSpecJson({"sg.route.shop.1", {{"swarmgate.io/kind", "route"}}, "{\"a\":1}"}).c_str());
  EXPECT_STREQ(d["Name"].GetString(), "sg.route.shop.1");
  EXPECT_STREQ(d["Labels"]["swarmgate.io/kind"].GetString(), "route");
  EXPECT_STREQ(d["Data"].GetString(), "eyJhIjoxfQ==");

  d.Parse(NetworkCreateJson({"sg-public", "overlay", true, {}}).c_str());
  EXPECT_STREQ(d["Driver"].GetString(), "overlay");
  EXPECT_TRUE(d["Attachable"].GetBool());
  EXPECT_TRUE(d["CheckDuplicate"].GetBool());
}

TEST(WireFormatTest, ApiVersionComparison) {
  EXPECT_TRUE(ApiVersionAtLeast("1.41", 1, 41));
  EXPECT_TRUE(ApiVersionAtLeast("1.43", 1, 41));
  EXPECT_TRUE(ApiVersionAtLeast("2.0", 1, 41));
  EXPECT_FALSE(ApiVersionAtLeast("1.40", 1, 41));
  EXPECT_FALSE(ApiVersionAtLeast("1.4", 1, 41));
  EXPECT_FALSE(ApiVersionAtLeast("", 1, 41));
  EXPECT_FALSE(ApiVersionAtLeast("garbage", 1, 41));
}

TEST(WireFormatTest, MapsHttpErrors) {
  const std::string ep = "unix:///var/run/docker.sock";
  struct Case {
    int status;
    const char* body;
    ErrorCode code;
  };
  const Case cases[] = {
      {404, R"({"message":"config nope not found"})", ErrorCode::kNotFound},
      {409, R"({"message":"rpc error: code = AlreadyExists desc = config x already exists"})",
       ErrorCode::kConflict},
      {500, R"({"message":"rpc error: code = Unknown desc = update out of sequence"})",
       ErrorCode::kConflict},
      {500, R"({"message":"network nonexist not found"})", ErrorCode::kNotFound},
      {400,
       R"({"message":"rpc error: code = InvalidArgument desc = only updates to Labels are allowed"})",
       ErrorCode::kInvalidArgument},
      {403, R"({"message":"forbidden"})", ErrorCode::kInvalidArgument},
      {500, R"({"message":"rpc error: code = Unavailable desc = no leader"})",
       ErrorCode::kUnavailable},
      {503, R"({"message":"This node is not a swarm manager."})", ErrorCode::kUnavailable},
      {302, "", ErrorCode::kInternal},
  };
  for (const auto& c : cases) {
    Error e = MapHttpError(c.status, c.body, "GET /v1.41/x", ep);
    EXPECT_EQ(e.code, c.code) << c.status << " " << c.body;
  }
  // Docker's own message is kept verbatim for the caller.
  EXPECT_EQ(MapHttpError(404, R"({"message":"config nope not found"})", "GET /x", ep).message,
            "config nope not found");
  Error unavailable = MapHttpError(503, R"({"message":"This node is not a swarm manager."})",
                                   "GET /v1.41/configs", ep);
  EXPECT_EQ(unavailable.message,
            "Docker at unix:///var/run/docker.sock answered 503 to GET /v1.41/configs: This node "
            "is not a swarm manager.");
  // A non-JSON body (a proxy in between) still shows up.
  EXPECT_EQ(MapHttpError(502, "Bad Gateway\n", "GET /x", ep).message,
            "Docker at unix:///var/run/docker.sock answered 502 to GET /x: Bad Gateway");
}

}  // namespace
}  // namespace sg::docker
