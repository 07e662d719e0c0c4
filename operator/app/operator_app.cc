#include "operator/app/operator_app.h"

#include <malloc.h>

#include <unistd.h>

#include <csignal>
#include <random>
#include <set>
#include <thread>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "crds/kind.h"
#include "crds/status.h"
#include "operator/app/advertise_url.h"
#include "operator/app/change_router.h"
#include "operator/app/status_routes.h"
#include "operator/app/task_poller.h"
#include "operator/delivery/config_hub.h"
#include "operator/docker/engine_client.h"
#include "operator/election/fenced_docker_client.h"
#include "operator/election/leader_elector.h"
#include "operator/http/http_server.h"
#include "operator/http/observability_routes.h"
#include "operator/metrics/registry.h"
#include "operator/metrics/swarmgate_metrics.h"
#include "operator/runtime/backoff.h"
#include "operator/runtime/clock.h"
#include "operator/runtime/controller.h"
#include "operator/runtime/logging.h"
#include "operator/store/resource_store.h"
#include "operator/store/swarm_cache.h"
#include "reconcilers/cluster/cluster_reconciler.h"
#include "reconcilers/dataplane/data_planes.h"
#include "reconcilers/dataplane/haproxy_data_plane.h"
#include "reconcilers/dataplane/nginx_data_plane.h"
#include "reconcilers/lost_nodes.h"
#include "reconcilers/nginx_check.h"
#include "reconcilers/route/route_reconciler.h"

namespace sg::app {
namespace {

// Hands the memory a cluster pass freed back to the system. A pass over
// 10,000 routes allocates tens of megabytes for a moment (the config list,
// the model, the rendered text); glibc keeps freed memory in its arenas, and
// the operator's resident size then grows with every worker thread that
// once held a large pass.
class TrimAfterPass final : public runtime::Reconciler {
 public:
  explicit TrimAfterPass(runtime::Reconciler& inner) : inner_(inner) {}
  Result<runtime::ReconcileResult> Reconcile(const std::string& key,
                                             const runtime::Trigger& trigger) override {
    auto result = inner_.Reconcile(key, trigger);
    malloc_trim(0);
    return result;
  }

 private:
  runtime::Reconciler& inner_;
};

void AddString(rapidjson::Value& obj, const char* key, const std::string& v,
               rapidjson::Document::AllocatorType& a) {
  obj.AddMember(rapidjson::StringRef(key), rapidjson::Value(v.c_str(), a), a);
}

// Passes keys to the reconciler only while this operator leads; a follower
// drops them (its queues still fill from the watchers, which keeps its cache
// warm, and the new leader's first act is a full resync).
class LeaderOnly final : public runtime::Reconciler {
 public:
  LeaderOnly(runtime::Reconciler& inner, const election::LeaderElector& elector)
      : inner_(inner), elector_(elector) {}
  Result<runtime::ReconcileResult> Reconcile(const std::string& key,
                                             const runtime::Trigger& trigger) override {
    if (!elector_.IsLeader()) return runtime::ReconcileResult{};
    return inner_.Reconcile(key, trigger);
  }

 private:
  runtime::Reconciler& inner_;
  const election::LeaderElector& elector_;
};

// The hub behind the reconcilers' publishing seam. A pass that was under way
// when leadership ended publishes nothing.
class HubPublisher : public reconcilers::ConfigPublisher {
 public:
  HubPublisher(delivery::ConfigHub& hub, const election::LeaderElector& elector)
      : hub_(hub), elector_(elector) {}
  int64_t Publish(const std::string& cluster, const std::string& text, const std::string& trigger,
                  TimePoint t) override {
    if (!elector_.IsLeader()) return hub_.Generation(cluster);
    return hub_.Publish(cluster, text, trigger, t);
  }
  void SetToken(const std::string& cluster, const std::string& digest) override {
    hub_.SetToken(cluster, digest);
  }
  void SetExpectedProxies(const std::string& cluster, std::vector<std::string> ids) override {
    hub_.SetExpectedProxies(cluster, std::move(ids));
  }
  int64_t ServedGeneration(const std::string& cluster) override {
    return hub_.ServedGeneration(cluster);
  }
  int64_t CurrentGeneration(const std::string& cluster) override {
    return hub_.Generation(cluster);
  }
  bool AwaitingProxies(const std::string& cluster) override {
    return hub_.AwaitingProxies(cluster);
  }
  bool EveryProxyServes(const std::string& cluster) override {
    return hub_.EveryProxyServes(cluster);
  }
  void Forget(const std::string& cluster) override { hub_.Forget(cluster); }

 private:
  delivery::ConfigHub& hub_;
  const election::LeaderElector& elector_;
};

std::string HostName() {
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) != 0) return "";
  return host;
}

// Unique among the replicas: Swarm names a task's host after its container.
std::string DefaultIdentity() {
  const std::string host = HostName();
  std::random_device rd;
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "%08x", rd());
  return (host.empty() ? std::string("operator") : host) + "-" + suffix;
}

// GET /v1/leader: whether this replica leads and where the leader is.
http::Response LeaderJson(const election::LeaderElector& elector) {
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("leader", elector.IsLeader(), a);
  AddString(d, "identity", elector.options().identity, a);
  AddString(d, "leaderUrl", elector.LeaderUrl(), a);
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  d.Accept(w);
  return http::Response::Json(200, std::string(buf.GetString(), buf.GetSize()));
}

// GET /v1/status: every resource with its stored status, and the proxies'
// generations — what `swarmgate get`, dashboards and the status page read.
http::Response StatusJson(store::ResourceStore& store, delivery::ConfigHub& hub) {
  auto all = store.List(std::nullopt);
  if (!all.ok()) return http::Response::Json(503, "{\"error\":\"docker unavailable\"}");
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  rapidjson::Value clusters(rapidjson::kArrayType), routes(rapidjson::kArrayType);
  for (const auto& r : *all) {
    rapidjson::Value item(rapidjson::kObjectType);
    AddString(item, "name", r.name, a);
    item.AddMember("generation", r.generation, a);
    AddString(item, "created", r.created_at, a);
    rapidjson::Document spec(&a);
    spec.Parse(r.data.c_str());
    if (!spec.HasParseError()) item.AddMember("resource", rapidjson::Value(spec, a), a);
    rapidjson::Document status(&a);
    if (!r.status_json.empty()) status.Parse(r.status_json.c_str());
    if (!r.status_json.empty() && !status.HasParseError()) {
      item.AddMember("status", rapidjson::Value(status, a), a);
    }
    if (r.kind == crds::Kind::kServiceCluster) {
      item.AddMember("configGeneration", hub.Generation(r.name), a);
      item.AddMember("servedGeneration", hub.ServedGeneration(r.name), a);
      rapidjson::Value proxies(rapidjson::kArrayType);
      for (const auto& p : hub.ProxyStates(r.name)) {
        rapidjson::Value px(rapidjson::kObjectType);
        AddString(px, "id", p.id, a);
        px.AddMember("expected", p.expected, a);
        px.AddMember("generation", p.generation, a);
        px.AddMember("ok", p.last_ok, a);
        AddString(px, "error", p.last_error, a);
        proxies.PushBack(px, a);
      }
      item.AddMember("proxies", proxies, a);
      clusters.PushBack(item, a);
    } else {
      routes.PushBack(item, a);
    }
  }
  d.AddMember("clusters", clusters, a);
  d.AddMember("routes", routes, a);
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  d.Accept(w);
  return http::Response::Json(200, std::string(buf.GetString(), buf.GetSize()));
}

// A route whose status is current and Ready, and that enforces no update
// policy, has nothing for the route reconciler to do.
bool RouteNeedsOwnPass(const store::CachedResource& c) {
  const store::StoredResource& r = c.stored;
  if (!c.route || c.route->spec.update_policy) return true;
  if (r.status_json.empty()) return true;
  auto status = crds::DecodeStatus(r.status_json);
  if (!status.ok() || status->observed_generation < r.generation) return true;
  const auto* ready = status->FindCondition(crds::kConditionReady);
  return !ready || ready->status != crds::kConditionTrue;
}

}  // namespace

int RunOperator(const OperatorOptions& options) {
  // Few arenas: the operator's threads mostly wait on Docker, and one arena
  // per thread multiplies the memory a large pass leaves behind.
  mallopt(M_ARENA_MAX, 2);
  auto log = runtime::NamedLogger("operator");

  // Signals are taken by sigwait in this thread only; every thread started
  // below inherits the blocked mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  metrics::Registry registry;
  metrics::SwarmgateMetrics metrics(registry);
  runtime::RealClock clock;

  docker::EngineClientOptions client_options;
  client_options.observer = [&metrics](std::string_view method, std::string_view endpoint, int code,
                                       double seconds) {
    metrics.docker_api_request_duration_seconds
        .WithLabels({std::string(method), std::string(endpoint), std::to_string(code)})
        .Observe(seconds);
  };
  auto docker = docker::EngineClient::ConnectFromFlag(options.docker_host, client_options);
  if (!docker.ok()) {
    log->error("cannot use Docker error={}", docker.error().message);
    return 3;
  }
  auto& engine = **docker;
  log->info("connected docker={}", engine.endpoint().url);

  // The lease has its own connection with deadlines under the renew
  // deadline: a stalled API must end leadership on time, not after the
  // default 30 s request timeout.
  docker::EngineClientOptions lease_client_options = client_options;
  lease_client_options.transport.connect_timeout = options.renew_deadline;
  lease_client_options.transport.request_timeout = options.renew_deadline;
  auto lease_docker =
      docker::EngineClient::ConnectFromFlag(options.docker_host, lease_client_options);
  if (!lease_docker.ok()) {
    log->error("cannot use Docker error={}", lease_docker.error().message);
    return 3;
  }
  election::LeaseOptions lease;
  lease.lease_name = options.lease_name;
  lease.identity = options.identity.empty() ? DefaultIdentity() : options.identity;
  lease.lease_duration = options.lease_duration;
  lease.renew_deadline = options.renew_deadline;
  lease.retry_period = options.retry_period;
  if (auto invalid = election::ValidateLeaseOptions(lease); !invalid.empty()) {
    log->error("invalid lease settings error=\"{}\"", invalid);
    return 2;
  }
  // Set below, before the elector runs; called on its watcher thread.
  std::function<void()> on_started_leading, on_stopped_leading;
  election::LeaderElector elector(**lease_docker, clock, lease,
                                  {[&] { on_started_leading(); }, [&] { on_stopped_leading(); }});
  // Only the leader writes: every write of the store and the reconcilers
  // goes through the fence.
  election::FencedDockerClient client(engine, [&elector] { return elector.IsLeader(); });

  store::ResourceStore store(client);
  store::SwarmCache cache(client, store);
  nginx::ExecNginxValidator validator(options.nginx_binary);
  nginx::RenderOptions nginx_paths;
  nginx_paths.pid_file = "nginx.pid";
  nginx_paths.access_log = "off";
  nginx_paths.stream_module = options.stream_module;
  dataplane::NginxDataPlane nginx_plane(validator, nginx_paths);
  haproxy::ExecHaproxyValidator haproxy_validator(options.haproxy_binary);
  haproxy::RenderOptions haproxy_options;
  // The proxies' access logs would cost more than the traffic metrics say.
  haproxy_options.log = false;
  haproxy_options.spare_backends = haproxy::kDefaultSpareBackends;
  dataplane::HaproxyDataPlane haproxy_plane(haproxy_validator, haproxy_options);
  dataplane::DataPlanes planes;
  planes.Register(nginx_plane);
  planes.Register(haproxy_plane);
  delivery::ConfigHub hub(clock, metrics);
  HubPublisher publisher(hub, elector);
  reconcilers::ClusterIndex index;

  reconcilers::ClusterReconcilerOptions cluster_options;
  cluster_options.control_network = options.control_network;
  cluster_options.operator_url = options.operator_url;
  reconcilers::ClusterReconciler cluster_reconciler(client, store, cache, planes, publisher, index,
                                                    metrics, clock, cluster_options);
  runtime::ControllerOptions cluster_ctl_options;
  cluster_ctl_options.name = "servicecluster";
  cluster_ctl_options.workers = options.workers;
  TrimAfterPass trimmed_cluster_reconciler(cluster_reconciler);
  LeaderOnly leading_cluster_reconciler(trimmed_cluster_reconciler, elector);
  runtime::Controller clusters(cluster_ctl_options, leading_cluster_reconciler, clock, metrics);
  // Every proxy serves the cluster's newest configuration: its pass reports
  // that now rather than at its next poll. No trigger, as for the poll: it
  // changes nothing of the cluster's own.
  hub.SetOnServed([&clusters](const std::string& cluster) {
    clusters.Enqueue("cluster/" + cluster, runtime::Trigger{});
  });

  reconcilers::RouteReconciler route_reconciler(
      client, store, index, clock,
      [&clusters](const std::string& cluster, const runtime::Trigger& t) {
        clusters.Enqueue("cluster/" + cluster, t);
      },
      &cache);
  runtime::ControllerOptions route_ctl_options;
  route_ctl_options.name = "route";
  route_ctl_options.workers = options.workers;
  LeaderOnly leading_route_reconciler(route_reconciler, elector);
  runtime::Controller routes(route_ctl_options, leading_route_reconciler, clock, metrics);

  std::atomic<bool> synced{false};
  std::atomic<bool> docker_ok{true};
  // Clusters are always resynced (their pass covers every route's data
  // plane). Routes need their own pass only when they are not known good:
  // enqueueing thousands of healthy routes every period would queue fresh
  // changes behind them.
  // The cache is relisted first, so every pass of the resync reads what the
  // Swarm holds now.
  // A follower only keeps its cache current, for a quick takeover.
  auto enqueue_all = [&](const runtime::Trigger& t, bool all_routes) -> Status {
    if (auto st = cache.Relist(); !st.ok()) return st;
    if (!elector.IsLeader()) return OkStatus();
    for (const auto& r : cache.Resources(std::nullopt)) {
      if (r.stored.kind == crds::Kind::kServiceCluster) {
        clusters.Enqueue("cluster/" + r.stored.name, t);
      } else if (all_routes || RouteNeedsOwnPass(r)) {
        routes.Enqueue("route/" + r.stored.name, t);
      }
    }
    return OkStatus();
  };

  runtime::StopSignal stop;
  ChangeRouter* router_ptr = nullptr;  // set below; the poller only calls it from Run()
  TaskPoller task_poller(client, clock, [&](const std::string& service) {
    router_ptr->OnTasksChanged(service, clock.Now());
  });
  task_poller.SetOnListing([&cache](const std::vector<docker::Service>& services,
                                    const std::vector<docker::Task>& tasks) {
    cache.ReplaceServicesAndTasks(services, tasks);
  });
  ChangeSinks sinks;
  sinks.route = [&](const std::string& n, const runtime::Trigger& t) {
    routes.Enqueue("route/" + n, t);
  };
  sinks.cluster = [&](const std::string& n, const runtime::Trigger& t) {
    clusters.Enqueue("cluster/" + n, t);
  };
  sinks.all_clusters = [&](const runtime::Trigger& t) {
    for (const auto& r : cache.Resources(crds::Kind::kServiceCluster)) {
      clusters.Enqueue("cluster/" + r.stored.name, t);
    }
  };
  sinks.service_changed = [&](const std::string& n) { task_poller.MarkHot(n); };
  ChangeRouter event_router(index, sinks);
  router_ptr = &event_router;

  http::ServerOptions server_options;
  server_options.listen = options.listen;
  server_options.threads = 4;
  http::HttpServer server(server_options);
  http::RegisterObservabilityRoutes(server, registry, [&]() -> Status {
    if (!docker_ok.load() || !elector.ApiHealthy()) return Unavailable("docker unreachable");
    if (!synced.load()) return Unavailable("initial sync not done");
    return OkStatus();
  });
  // A follower holds no configurations: it sends agents to the leader.
  hub.SetGate([&elector](const http::Request& req) -> std::optional<http::Response> {
    if (elector.IsLeader()) return std::nullopt;
    const std::string url = elector.LeaderUrl();
    if (url.empty()) {
      http::Response r = http::Response::Text(503, "no leader elected yet\n");
      r.headers.emplace_back("Retry-After", "1");
      return r;
    }
    http::Response r = http::Response::Text(307, "the leader is at " + url + "\n");
    r.headers.emplace_back("Location", url + req.target);
    return r;
  });
  hub.RegisterRoutes(server);
  RegisterStatusRoutes(
      server, options.status_auth, [&](const http::Request&) { return StatusJson(store, hub); },
      [&](const http::Request&) { return LeaderJson(elector); });
  if (auto st = server.Start(); !st.ok()) {
    log->error("cannot listen address={} error={}", options.listen, st.error().message);
    return 1;
  }
  log->info("listening address={} port={} status_auth={}", options.listen, server.port(),
            options.status_auth ? "bearer" : "none");

  // A new leader starts as a freshly started operator would: an empty hub
  // that recognises what the agents serve (so statuses and convergence
  // carry over), and a full resync. One that stops leading answers its
  // waiting agents at once, so they find the new leader.
  on_started_leading = [&] {
    metrics.leader.WithLabels({}).Set(1);
    metrics.leader_transitions_total.WithLabels({}).Inc();
    hub.Reset(http::Response::Text(503, "leadership changed\n"));
    cluster_reconciler.ForgetMemories();
    if (auto st = enqueue_all({"resync", clock.Now()}, true); !st.ok()) {
      log->warn("resync after taking the lead failed error={}", st.error().ToString());
    }
  };
  on_stopped_leading = [&] {
    metrics.leader.WithLabels({}).Set(0);
    metrics.leader_transitions_total.WithLabels({}).Inc();
    hub.Reset(http::Response::Text(503, "this operator stopped leading\n"));
  };
  metrics.leader.WithLabels({}).Set(0);

  clusters.Start();
  routes.Start();

  // Where agents reach this replica while it leads: given, or its task's
  // address on the control network (listed once the task runs), or, outside
  // Swarm, the operator URL.
  elector.SetUrl(options.operator_url);
  std::thread lead([&] {
    if (!options.advertise_url.empty()) {
      elector.SetUrl(options.advertise_url);
    } else {
      for (int i = 0; i < 20 && !stop.IsStopped(); ++i) {
        auto url = AdvertiseUrlOfTask(engine, HostName(), options.control_network, server.port());
        if (url.ok()) {
          elector.SetUrl(*url);
          break;
        }
        log->info("own task address not found yet error={}", url.error().ToString());
        if (stop.WaitFor(clock, std::chrono::milliseconds(500))) break;
      }
    }
    log->info("leader election lease={} identity={} url={}", options.lease_name, lease.identity,
              elector.LeaderUrl().empty() ? options.operator_url : elector.LeaderUrl());
    elector.Run(stop);
  });

  // Event watcher: resume with `since` after a reconnect so nothing is missed.
  std::thread events([&] {
    auto elog = runtime::NamedLogger("events");
    runtime::Backoff backoff;
    std::atomic<bool> cancel{false};
    std::string since;
    std::thread canceller([&] {
      while (!stop.WaitFor(clock, std::chrono::milliseconds(200))) {
      }
      cancel = true;
    });
    while (!stop.IsStopped()) {
      docker::EventOptions eo;
      eo.filters = {{"type", {"service", "network", "config", "secret", "node"}}};
      eo.since = since;
      auto st = client.StreamEvents(
          eo,
          [&](const docker::Event& e) {
            backoff.Reset();
            docker_ok = true;
            if (e.time_nano > 0) {
              since = std::to_string(e.time_nano / 1000000000) + "." +
                      std::to_string(e.time_nano % 1000000000);
            }
            // The cache first: the keys the router enqueues read it.
            cache.OnEvent(e);
            event_router.OnEvent(e, clock.Now());
            return true;
          },
          cancel);
      if (stop.IsStopped()) break;
      if (!st.ok()) {
        docker_ok = false;
        elog->warn("event stream ended error={}", st.error().ToString());
      }
      if (since.empty()) {
        since = std::to_string(
            std::chrono::duration_cast<std::chrono::seconds>(clock.WallNow().time_since_epoch())
                .count());
      }
      // Anything missed while disconnected is caught by the replay of
      // `since`; a resync covers the rest.
      (void)enqueue_all({"resync", clock.Now()}, true);
      if (stop.WaitFor(clock, backoff.Next())) break;
    }
    canceller.join();
  });

  std::thread tasks([&] { task_poller.Run(stop); });

  // Lost nodes: Swarm marks a manager unreachable with no event, and a
  // worker down only after its heartbeats stop for several seconds; every
  // change of the lost set takes their tasks out of (or back into) every
  // cluster's configuration. Followers keep their listing current too.
  std::thread nodes([&] {
    auto nlog = runtime::NamedLogger("nodes");
    std::set<std::string> lost = reconcilers::LostNodes(*cache.Nodes());
    while (!stop.WaitFor(clock, std::chrono::seconds(1))) {
      if (auto st = cache.PollNodes(); !st.ok()) {
        nlog->debug("node listing failed error={}", st.error().ToString());
        continue;
      }
      std::set<std::string> now_lost = reconcilers::LostNodes(*cache.Nodes());
      if (now_lost == lost) continue;
      nlog->info("lost nodes changed lost={} before={}", now_lost.size(), lost.size());
      lost = std::move(now_lost);
      sinks.all_clusters({"task", clock.Now()});
    }
  });

  // Initial sync, then periodic resync with garbage collection.
  std::thread resync([&] {
    auto rlog = runtime::NamedLogger("resync");
    while (!stop.IsStopped()) {
      auto st = enqueue_all({"resync", clock.Now()}, !synced.load());
      if (st.ok()) {
        docker_ok = true;
        synced = true;
        if (elector.IsLeader()) {
          auto gc = cluster_reconciler.CollectGarbage();
          if (!gc.ok()) rlog->warn("garbage collection error={}", gc.error().ToString());
        }
      } else {
        docker_ok = false;
        rlog->warn("resync failed error={}", st.error().ToString());
      }
      if (stop.WaitFor(clock, synced ? options.resync : std::chrono::milliseconds(1000))) break;
    }
  });

  int sig = 0;
  sigwait(&signals, &sig);
  log->info("shutting down signal={}", sig);
  stop.Stop();
  // The lease is released first, so a follower takes over while this one
  // winds down.
  lead.join();
  resync.join();
  nodes.join();
  tasks.join();
  events.join();
  routes.Stop();
  clusters.Stop();
  server.Stop();
  log->info("stopped");
  return 0;
}

}  // namespace sg::app
