#include "reconcilers/cluster/cluster_reconciler.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "crds/status.h"
#include "operator/runtime/logging.h"
#include "reconcilers/cluster/observe.h"
#include "reconcilers/dataplane/checked_config.h"

namespace sg::reconcilers {
namespace {

// The stored status says Ready=True for generation `generation` of `r`.
bool ReadyAt(const store::StoredResource& r, int64_t generation) {
  if (r.status_json.empty()) return false;
  auto status = crds::DecodeStatus(r.status_json);
  if (!status.ok() || status->observed_generation != generation) return false;
  const auto* ready = status->FindCondition(crds::kConditionReady);
  return ready != nullptr && ready->status == crds::kConditionTrue;
}

std::shared_ptr<spdlog::logger> Log() {
  static auto logger = runtime::NamedLogger("cluster");
  return logger;
}

// Stage timings for the debug log: where a slow pass spends its time.
class StageTimer {
 public:
  void Mark(const char* stage) {
    auto now = std::chrono::steady_clock::now();
    stages_.emplace_back(stage, std::chrono::duration<double>(now - last_).count());
    last_ = now;
  }
  std::string ToString() const {
    std::string out;
    for (const auto& [what, seconds] : stages_) out += fmt::format(" {}={:.3f}", what, seconds);
    return out;
  }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
  std::vector<std::pair<const char*, double>> stages_;
};

bool Rolled(const docker::Service& s) {
  return s.update_state.empty() || s.update_state == "completed";
}

std::vector<store::StoredResource> Stored(const std::vector<store::CachedResource>& rs) {
  std::vector<store::StoredResource> out;
  out.reserve(rs.size());
  for (const auto& r : rs) out.push_back(r.stored);
  return out;
}

// Runs write(0..n-1), a few at a time: a status write is one Docker API
// round trip, and after a bulk apply a pass writes one per route (999 took
// 2 s and more, one after the other, while the next change waited). The
// writes are independent; the first error is returned after all have run.
Status WriteRouteStatuses(size_t n, const std::function<Status(size_t)>& write) {
  constexpr size_t kWriters = 4;
  if (n < 2 * kWriters) {
    for (size_t i = 0; i < n; ++i) {
      if (auto st = write(i); !st.ok()) return st;
    }
    return OkStatus();
  }
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status first = OkStatus();
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) {
      Status st = write(i);
      if (!st.ok()) {
        std::lock_guard<std::mutex> l(mu);
        if (first.ok()) first = st;
      }
    }
  };
  std::vector<std::thread> writers;
  for (size_t t = 1; t < kWriters; ++t) writers.emplace_back(work);
  work();
  for (auto& w : writers) w.join();
  return first;
}

}  // namespace

ClusterReconciler::ClusterReconciler(docker::DockerClient& docker, store::ResourceStore& store,
                                     store::SwarmCache& cache, const dataplane::DataPlanes& planes,
                                     ConfigPublisher& publisher, ClusterIndex& index,
                                     metrics::SwarmgateMetrics& metrics, runtime::Clock& clock,
                                     ClusterReconcilerOptions options)
    : store_(store),
      cache_(cache),
      planes_(planes),
      publisher_(publisher),
      index_(index),
      metrics_(metrics),
      clock_(clock),
      options_(std::move(options)),
      applier_(docker, &cache, publisher,
               ApplyOptions{options_.control_network, options_.operator_url}),
      reporter_(store, &cache, clock) {}

Status ClusterReconciler::Teardown(const std::string& cluster) {
  publisher_.Forget(cluster);
  index_.Remove(cluster);
  for (const char* state : {"desired", "running"}) metrics_.proxy_replicas.Remove({cluster, state});
  for (const char* ready : {"true", "false"}) metrics_.routes.Remove({cluster, ready});
  memories_.With(cluster, [&](ClusterMemory& m) {
    for (const auto& [route, inclusion] : m.included) metrics_.route_ready.Remove({cluster, route});
  });
  memories_.Forget(cluster);
  return applier_.Teardown(cluster);
}

Status ClusterReconciler::CollectGarbage() {
  auto clusters = store_.List(crds::Kind::kServiceCluster);
  if (!clusters.ok()) return clusters.error();
  std::set<std::string> live;
  for (const auto& c : *clusters) live.insert(OwnerValue(c.name));
  auto orphans = applier_.OrphanedClusters(live);
  if (!orphans.ok()) return orphans.error();
  Status result;
  for (const auto& cluster : *orphans) {
    Log()->info("garbage collecting cluster={}", cluster);
    auto st = Teardown(cluster);
    if (!st.ok()) result = st;
  }
  return result;
}

Result<runtime::ReconcileResult> ClusterReconciler::Reconcile(const std::string& key,
                                                              const runtime::Trigger& trigger) {
  const std::string name = key.substr(key.find('/') + 1);
  StageTimer stages;

  // 1. Observe. Before the first relist an empty cache would read as "every
  // cluster deleted".
  if (!cache_.synced()) return Unavailable("cluster/" + name + ": cache not synced yet");
  const ClusterSnapshot snapshot = Observe(cache_, name, options_.control_network);
  if (!snapshot.cluster) {
    auto st = Teardown(name);
    if (!st.ok()) return st.error();
    // Routes of a deleted cluster stop claiming to be served.
    (void)reporter_.ReportClusterNotFound(Stored(snapshot.routes), name);
    return runtime::ReconcileResult{};
  }
  if (!snapshot.cluster->cluster) {
    return InvalidArgument("cluster/" + name + ": stored spec cannot be decoded");
  }
  stages.Mark("observe");

  // 2. Plan, then render and check through the cluster's engine. A route the
  // engine rejects is left out and the rest planned again.
  PlanOptions plan_options{options_.certs_dir};
  ClusterPlan plan = PlanCluster(snapshot, plan_options);
  index_.Set(name, plan.used_services, plan.route_names);
  dataplane::DataPlane* plane = planes_.For(plan.cluster);
  if (!plane) {
    return InvalidArgument("cluster/" + name + ": engine \"" + dataplane::EngineOf(plan.cluster) +
                           "\" is not available");
  }
  const std::string fingerprint = ModelInputFingerprint(plan);
  std::shared_ptr<const dataplane::CheckedConfig> checked =
      memories_.With(name, [&](ClusterMemory& m) {
        return m.model_fingerprint == fingerprint ? m.last_checked : nullptr;
      });
  if (!checked) {
    dataplane::CheckOptions check;
    memories_.With(name, [&](ClusterMemory& m) {
      if (m.last_checked) {
        check.known_good_hash = m.last_checked->hash;
        check.known_good =
            std::shared_ptr<const dataplane::EngineConfig>(m.last_checked, &m.last_checked->config);
      }
    });
    check.on_render = [this](double seconds) {
      metrics_.render_duration_seconds.WithLabels({}).Observe(seconds);
    };
    bool first_build = true;
    auto fresh = dataplane::BuildCheckedConfig(
        [&](const std::map<std::string, std::string>& excluded) {
          if (first_build && excluded.empty()) {
            first_build = false;
            return std::move(plan.built);  // planned already: not built twice
          }
          BuildOptions build = PlanBuildOptions(plan_options, plan);
          build.excluded = excluded;
          return BuildModel(plan.cluster, plan.route_inputs, build);
        },
        *plane, check);
    if (!fresh.ok()) {
      Log()->warn("no valid configuration cluster={} error={}", name, fresh.error().message);
      return Internal("cluster/" + name + ": no valid configuration: " + fresh.error().message);
    }
    for (const auto& [route, message] : fresh->excluded) {
      Log()->warn("engine rejected route cluster={} route={} error={}", name, route, message);
    }
    checked = std::make_shared<const dataplane::CheckedConfig>(std::move(*fresh));
    memories_.With(name, [&](ClusterMemory& m) {
      m.model_fingerprint = fingerprint;
      m.last_checked = checked;
    });
  }
  stages.Mark("plan-render-check");

  // 3. Apply.
  auto applied =
      applier_.Apply(snapshot, plan, checked->config.text,
                     TlsSecretsToMount(snapshot, checked->built.secrets), trigger, clock_.Now());
  if (!applied.ok()) return applied.error();
  stages.Mark("apply");

  // Proxy tasks: running ones are the proxies expected to serve the config.
  // Global mode wants one on every node Swarm gave a task. A proxy on a node
  // Swarm reports lost can neither fetch nor report (nor be reached by
  // clients): it is not waited for, or every route would turn not Ready
  // until Swarm gives up on the node.
  const auto& proxy_spec = plan.cluster.spec.proxy;
  const bool hot = plan.desired.hot;
  std::vector<std::string> running;
  std::set<std::string> proxy_nodes;
  for (const auto& t : snapshot.TasksOf(applied->proxy.id)) {
    if (plan.lost_nodes.count(t.node_id)) continue;
    if (t.desired_state == "running") proxy_nodes.insert(t.node_id);
    if (t.desired_state == "running" && t.state == "running") running.push_back(t.id);
  }
  const int desired = proxy_spec.mode == crds::ProxyMode::kGlobal
                          ? std::max<int>(1, static_cast<int>(proxy_nodes.size()))
                          : proxy_spec.replicas;
  ProxyProgress progress;
  progress.desired = desired;
  progress.running = static_cast<int>(running.size());
  int64_t served = 0;
  if (hot) {
    publisher_.SetExpectedProxies(name, running);
    served = publisher_.ServedGeneration(name);
    progress.converged = progress.running == desired && served >= applied->config_generation;
    progress.progress = "proxies serve configuration generation " + std::to_string(served) +
                        " of " + std::to_string(applied->config_generation);
  } else {
    progress.converged = Rolled(applied->proxy) && progress.running == desired;
    progress.progress =
        "proxy service update state: " +
        (applied->proxy.update_state.empty() ? std::string("none") : applied->proxy.update_state);
    auto converged_after = memories_.With(name, [&](ClusterMemory& m) {
      auto& r = m.rollout;
      if (r.config_name != applied->rolling_config_name) {
        r = {applied->rolling_config_name, trigger.name.empty() ? "resync" : trigger.name,
             trigger.empty() ? clock_.Now() : trigger.time, false};
      }
      std::optional<std::pair<std::string, double>> done;
      if (progress.converged && !r.converged) {
        done.emplace(r.trigger, std::chrono::duration<double>(clock_.Now() - r.since).count());
        r.converged = true;
      }
      return done;
    });
    if (converged_after) {
      metrics_.convergence_seconds.WithLabels({name, converged_after->first})
          .Observe(converged_after->second);
    }
    if (progress.converged) applier_.RemoveStaleRollingConfigs(name, applied->rolling_config_name);
  }

  // 4. Report.
  if (hot && !snapshot.cluster->stored.status_json.empty() && publisher_.AwaitingProxies(name)) {
    // Just started, and not every proxy has been heard from: what they serve
    // is unknown, not "nothing". The statuses written before stay until they
    // are (agents reconnect within about a second); a cluster with none yet
    // gets its first at once.
    Log()->debug("statuses kept until every proxy is heard from cluster={}", name);
    runtime::ReconcileResult wait;
    wait.requeue_after = options_.awaiting_poll;
    return wait;
  }
  auto st =
      reporter_.ReportCluster(snapshot.cluster->stored, progress, plan.default_backend_problem);
  if (!st.ok()) return st.error();
  std::map<std::string, const store::StoredResource*> stored_routes;
  for (const auto& r : snapshot.routes) stored_routes[r.stored.name] = &r.stored;
  int ready_routes = 0, not_ready_routes = 0;
  struct RouteReport {
    const store::StoredResource* stored;
    const RouteOutcome* outcome;
    const std::string* degraded;
    bool live;
  };
  std::vector<RouteReport> reports;
  reports.reserve(checked->built.routes.size());
  for (const auto& [route_name, outcome] : checked->built.routes) {
    const store::StoredResource* r = stored_routes[route_name];
    if (!r) continue;
    // Live once every proxy serves a configuration that includes this
    // version of the route (not merely the cluster's latest one, so a change
    // of one route does not flip every other route's status).
    // A route this process has not seen included yet (it just started or
    // took the lead) whose stored status already says every proxy served
    // this version of it was served before: proxies only move on to
    // configurations that include it, and a new proxy starts with one, so
    // it is live as soon as every expected proxy serves anything. Waiting
    // for the current generation instead would turn it not Ready for as
    // long as a change made during the failover takes to reach the proxies.
    // "Serves anything" is the hub's EveryProxyServes, not a generation: the
    // configuration a proxy serves may be one of the earlier process, which
    // this one's generations do not number (ServedGeneration() counts 0 for
    // it until the proxy reports this process's text).
    bool live = memories_.With(name, [&](ClusterMemory& m) {
      auto& inc = m.included[route_name];
      if (outcome.served && inc.route_generation != r->generation) {
        // Decoding the stored status happens once per route version.
        const bool served_before = hot && ReadyAt(*r, r->generation);
        inc = {r->generation,
               served_before ? kServedBefore : (hot ? applied->config_generation : 0)};
      }
      if (!hot) return progress.converged;
      if (!outcome.served) return false;
      return inc.config_generation == kServedBefore ? publisher_.EveryProxyServes(name)
                                                    : served >= inc.config_generation;
    });
    auto deg = plan.degraded.find(route_name);
    reports.push_back({r, &outcome, deg == plan.degraded.end() ? nullptr : &deg->second, live});
    bool ready = outcome.served && outcome.reason == kReasonReady && live;
    (ready ? ready_routes : not_ready_routes)++;
    metrics_.route_ready.WithLabels({name, route_name}).Set(ready ? 1 : 0);
  }
  if (auto written = WriteRouteStatuses(reports.size(),
                                        [&](size_t i) {
                                          const RouteReport& rr = reports[i];
                                          return reporter_.ReportRoute(*rr.stored, *rr.outcome,
                                                                       rr.degraded, rr.live);
                                        });
      !written.ok()) {
    return written.error();
  }
  memories_.With(name, [&](ClusterMemory& m) {
    // Forget routes that left the cluster.
    // (Every route with a readiness series is in `included`.)
    for (auto it = m.included.begin(); it != m.included.end();) {
      if (checked->built.routes.count(it->first)) {
        ++it;
        continue;
      }
      metrics_.route_ready.Remove({name, it->first});
      it = m.included.erase(it);
    }
  });
  stages.Mark("report");
  if (Log()->should_log(spdlog::level::debug)) {
    Log()->debug("pass cluster={} routes={}{}", name, checked->built.routes.size(),
                 stages.ToString());
  }
  metrics_.proxy_replicas.WithLabels({name, "desired"}).Set(desired);
  metrics_.proxy_replicas.WithLabels({name, "running"}).Set(progress.running);
  metrics_.routes.WithLabels({name, "true"}).Set(ready_routes);
  metrics_.routes.WithLabels({name, "false"}).Set(not_ready_routes);

  runtime::ReconcileResult result;
  if (!progress.converged)
    result.requeue_after = hot ? options_.served_poll : options_.converge_poll;
  return result;
}

}  // namespace sg::reconcilers
