// sg_e2e_harness: the library end-to-end tests use against the namespace-node
// Swarm that e2e/cluster brings up.
//
// The tests never start the cluster themselves: `e2e/cluster up` (or e2e/run)
// does, and the tests read what it recorded in the state dir ($SG_E2E_STATE,
// default <repo>/.e2e; file cluster.env). Everything here is synchronous and
// bounded in time, so a broken cluster makes a test fail with a message
// rather than hang.
//
// Typical test:
//
//   auto cluster = sg::e2e::Cluster::Load();           // or FAIL with the reason
//   ASSERT_TRUE(cluster.ok()) << cluster.error;
//   sg::e2e::Resources res(*cluster);                  // removes what it tracks
//   std::string net = res.Network(sg::e2e::UniqueName("net"));
//   std::string svc = res.Service(sg::e2e::UniqueName("echo"),
//       "--replicas 3 --network " + net + " swarmgate/echo:dev");
//   auto w = sg::e2e::WaitUntil("3 tasks running", std::chrono::seconds(30),
//       [&](std::string& observed) { ... return done; });
//   ASSERT_TRUE(w.ok) << w.message;
//   auto r = sg::e2e::HttpGet(cluster->node(2).addr, 18080, "/", "shop.example.com");
//
// Thread-safety: free functions are safe to call from several threads;
// Cluster is immutable after Load(); Resources is not thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sg::e2e {

using Duration = std::chrono::milliseconds;

// ------------------------------------------------------------------ shell

struct ShResult {
  int exit_code = -1;  // -1 when the command could not run or timed out
  bool timed_out = false;
  std::string out;  // stdout
  std::string err;  // stderr
  bool ok() const { return exit_code == 0 && !timed_out; }
  // "exit N: <stderr>" or "timed out", for assertion messages.
  std::string Describe() const;
};

// Runs `bash -c cmd`, capturing stdout and stderr. On timeout the whole
// process group is killed (SIGTERM, then SIGKILL after 2 s).
ShResult Sh(const std::string& cmd, Duration timeout = std::chrono::seconds(120));

// Single-quotes `s` for bash.
std::string ShellQuote(const std::string& s);

// Trims trailing whitespace/newlines.
std::string TrimRight(std::string s);

// Splits on '\n', dropping empty lines.
std::vector<std::string> Lines(const std::string& s);

// ------------------------------------------------------------------ cluster

struct Node {
  int index = 0;         // 1-based, node 1 is the first manager
  std::string addr;      // address on the host bridge, reachable from the host
  std::string sock;      // dockerd unix socket path
  std::string hostname;  // Swarm node hostname
  std::string log;       // dockerd log file
  std::string docker_host() const { return "unix://" + sock; }
};

// The repository root (compiled in) and the state dir.
std::string SourceDir();
std::string StateDir();

class Cluster {
 public:
  // Reads <state>/cluster.env and checks node 1's daemon answers. On failure
  // `error` says what is missing and how to bring a cluster up.
  struct Loaded;
  static Loaded Load();

  const std::vector<Node>& nodes() const { return nodes_; }
  const Node& node(int index) const { return nodes_.at(index - 1); }
  int size() const { return static_cast<int>(nodes_.size()); }
  int managers() const { return managers_; }
  const std::string& host_addr() const { return host_addr_; }

  // `docker -H <node socket> ARGS` (ARGS is shell text, quote user values
  // with ShellQuote).
  ShResult Docker(const std::string& args, int node = 1,
                  Duration timeout = std::chrono::seconds(60)) const;

  // Swarm node hostname -> index, for mapping task placement to nodes.
  std::optional<int> IndexOfHostname(const std::string& hostname) const;

 private:
  std::vector<Node> nodes_;
  int managers_ = 1;
  std::string host_addr_;
};

struct Cluster::Loaded {
  std::optional<Cluster> cluster;
  std::string error;
  bool ok() const { return cluster.has_value(); }
  const Cluster* operator->() const { return &*cluster; }
  const Cluster& operator*() const { return *cluster; }
};

// ------------------------------------------------------------------ capabilities

struct Capabilities {
  bool ipvs = false;
  std::string ipvs_reason;  // why (not) available, for GTEST_SKIP messages
};

// Runs `e2e/cluster caps` (the single source of truth) and parses it.
Capabilities DetectCapabilities();

// ------------------------------------------------------------------ http

struct HttpResponse {
  int status = 0;  // 0 when no response
  std::string body;
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string error;                           // transport error, empty when a response arrived
  bool ok() const { return error.empty() && status >= 200 && status < 300; }
  std::string Describe() const;  // "200 <body prefix>" or the error
};

struct HttpRequest {
  std::string method = "GET";
  std::string addr;  // IPv4/IPv6 literal or hostname
  int port = 80;
  std::string target = "/";
  std::string host;  // Host header; defaults to addr:port
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  Duration timeout = std::chrono::seconds(3);  // whole exchange
  // Sent as it is before the request: a PROXY protocol header, as a load
  // balancer in front of the proxies would send it.
  std::string proxy_header;
};

HttpResponse Http(const HttpRequest& req);
HttpResponse HttpGet(const std::string& addr, int port, const std::string& target = "/",
                     const std::string& host = "", Duration timeout = std::chrono::seconds(3));
HttpResponse HttpPost(const std::string& addr, int port, const std::string& target,
                      const std::string& body, const std::string& host = "",
                      Duration timeout = std::chrono::seconds(3));

// Returns the string value of a top-level JSON field ("" when absent), e.g.
// JsonField(echo_body, "slot").
std::string JsonField(const std::string& json, const std::string& field);

// ------------------------------------------------------------------ waiting

struct WaitResult {
  bool ok = false;
  std::string observed;  // what the predicate last reported
  Duration elapsed{0};
  std::string message;  // on timeout: "timed out after Xs waiting for WHAT; last observed: ..."
};

// Polls `predicate` every `interval` until it returns true or `deadline`
// passes. The predicate describes what it saw in `observed`, which the
// result carries (and which is printed to stderr on timeout).
WaitResult WaitUntil(const std::string& what, Duration deadline,
                     const std::function<bool(std::string& observed)>& predicate,
                     Duration interval = std::chrono::milliseconds(250));

// ------------------------------------------------------------------ names

// "<prefix>-<6 random lowercase alphanumerics>", unique per process run and
// valid as a Swarm service/network/config name and a swarmgate resource name.
std::string UniqueName(const std::string& prefix);

// A TCP port in [lo, hi) not handed out before by this process.
int UniquePort(int lo = 20000, int hi = 30000);

// ------------------------------------------------------------------ cleanup

// Tracks Swarm objects a test creates and removes them when destroyed, in
// dependency order: services (then waits, bounded, for their tasks to go),
// configs and secrets, networks. Removal errors are printed, not thrown.
class Resources {
 public:
  explicit Resources(const Cluster& cluster) : cluster_(cluster) {}
  ~Resources();
  Resources(const Resources&) = delete;
  Resources& operator=(const Resources&) = delete;

  // Create-and-track functions; `args` is shell text placed before the
  // name/image. On failure they return "" and put the reason in last_error().
  std::string Network(const std::string& name, const std::string& args = "-d overlay --attachable");
  std::string Service(const std::string& name, const std::string& args_and_image);
  std::string Config(const std::string& name, const std::string& data);

  // Track objects created elsewhere.
  void TrackService(const std::string& name) { services_.push_back(name); }
  void TrackNetwork(const std::string& name) { networks_.push_back(name); }
  void TrackConfig(const std::string& name) { configs_.push_back(name); }
  void TrackSecret(const std::string& name) { secrets_.push_back(name); }

  // Removes everything now (the destructor then has nothing to do).
  void Cleanup();
  const std::string& last_error() const { return last_error_; }

 private:
  const Cluster& cluster_;
  std::vector<std::string> services_, networks_, configs_, secrets_;
  std::string last_error_;
};

// ------------------------------------------------------------------ swarm queries

struct TaskInfo {
  std::string id;
  std::string name;                // service.slot ({{.Task.Name}} is name + "." + id)
  std::string node;                // hostname of the node
  int node_index = 0;              // 1-based, 0 if unknown
  std::string state;               // current state, e.g. "running"
  std::vector<std::string> addrs;  // IPs on the requested network (no prefix length)
};

// Running tasks of `service`, with their addresses on `network` ("" = none).
std::vector<TaskInfo> RunningTasks(const Cluster& c, const std::string& service,
                                   const std::string& network = "");

}  // namespace sg::e2e
