#include "reconcilers/proxy_service_spec.h"

#include <openssl/sha.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace sg::reconcilers {
namespace {

// The ServiceCluster's default proxy stopGracePeriod, and what a stopping
// proxy keeps of it for draining after its linger (`swarmgate proxy
// --stop-linger`, 8 s by default: the two add up to the default period).
constexpr std::chrono::milliseconds kDefaultStopGrace{10000};
constexpr std::chrono::milliseconds kDrainAfterLinger{2000};

using rapidjson::Value;

int64_t Nanos(const crds::Duration& d) { return static_cast<int64_t>(d.value.count()) * 1000000; }

Value Str(const std::string& s, rapidjson::Document::AllocatorType& a) {
  return Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), a);
}

const char* FailureActionName(crds::FailureAction f) {
  switch (f) {
    case crds::FailureAction::kRollback:
      return "rollback";
    case crds::FailureAction::kPause:
      return "pause";
    case crds::FailureAction::kContinue:
      return "continue";
  }
  return "pause";
}

Value UpdateConfig(const crds::ProxyUpdatePolicy& p, bool rollback,
                   rapidjson::Document::AllocatorType& a) {
  Value u(rapidjson::kObjectType);
  u.AddMember("Parallelism", p.parallelism, a);
  u.AddMember("Delay", Nanos(p.delay), a);
  // A failed rollback pauses; a failed update does what the cluster asks.
  u.AddMember("FailureAction",
              rapidjson::StringRef(rollback ? "pause" : FailureActionName(p.failure_action)), a);
  u.AddMember("Monitor", Nanos(p.monitor), a);
  u.AddMember("Order",
              rapidjson::StringRef(p.order == crds::UpdateOrder::kStartFirst ? "start-first"
                                                                             : "stop-first"),
              a);
  return u;
}

Value SecretMount(const SecretRef& s, rapidjson::Document::AllocatorType& a) {
  Value ref(rapidjson::kObjectType);
  Value file(rapidjson::kObjectType);
  file.AddMember("Name", Str(s.target, a), a);
  file.AddMember("UID", "0", a);
  file.AddMember("GID", "0", a);
  file.AddMember("Mode", 0400, a);
  ref.AddMember("File", file, a);
  ref.AddMember("SecretID", Str(s.id, a), a);
  ref.AddMember("SecretName", Str(s.name, a), a);
  return ref;
}

Value OwnerLabels(const std::string& cluster, rapidjson::Document::AllocatorType& a) {
  Value labels(rapidjson::kObjectType);
  labels.AddMember(rapidjson::StringRef(kLabelOwner), Str(OwnerValue(cluster), a), a);
  labels.AddMember(rapidjson::StringRef(kLabelManagedBy), rapidjson::StringRef(kManagedByValue), a);
  return labels;
}

Value ListenerMount(const std::string& cluster, rapidjson::Document::AllocatorType& a) {
  Value m(rapidjson::kObjectType);
  m.AddMember("Type", "volume", a);
  m.AddMember("Source", Str(ListenerVolumeName(cluster), a), a);
  m.AddMember("Target", rapidjson::StringRef(kListenerMountTarget), a);
  Value opts(rapidjson::kObjectType);
  opts.AddMember("Labels", OwnerLabels(cluster, a), a);
  m.AddMember("VolumeOptions", opts, a);
  Value mounts(rapidjson::kArrayType);
  mounts.PushBack(m, a);
  return mounts;
}

Value Constraints(const crds::ProxySpec& proxy, rapidjson::Document::AllocatorType& a) {
  Value placement(rapidjson::kObjectType);
  Value constraints(rapidjson::kArrayType);
  for (const auto& c : proxy.constraints) constraints.PushBack(Str(c, a), a);
  placement.AddMember("Constraints", constraints, a);
  return placement;
}

// {"Target": id} for TaskTemplate.Networks.
Value NetworkAttachment(const std::string& network_id, rapidjson::Document::AllocatorType& a) {
  Value net(rapidjson::kObjectType);
  net.AddMember("Target", Str(network_id, a), a);
  return net;
}

// Restarted whatever ended it, after a second.
Value RestartAlways(rapidjson::Document::AllocatorType& a) {
  Value restart(rapidjson::kObjectType);
  restart.AddMember("Condition", "any", a);
  restart.AddMember("Delay", int64_t{1000000000}, a);
  return restart;
}

// EndpointSpec publishing the http and https ports (`publish_mode` "host" or
// "ingress"), or none when `publish_mode` is null.
Value Endpoint(const crds::ProxySpec& proxy, const char* endpoint_mode, const char* publish_mode,
               rapidjson::Document::AllocatorType& a) {
  Value endpoint(rapidjson::kObjectType);
  endpoint.AddMember("Mode", rapidjson::StringRef(endpoint_mode), a);
  Value ports(rapidjson::kArrayType);
  for (int port : {proxy.ports.http, proxy.ports.https}) {
    if (publish_mode == nullptr) continue;
    Value p(rapidjson::kObjectType);
    p.AddMember("Protocol", "tcp", a);
    p.AddMember("TargetPort", port, a);
    p.AddMember("PublishedPort", port, a);
    p.AddMember("PublishMode", rapidjson::StringRef(publish_mode), a);
    ports.PushBack(p, a);
  }
  endpoint.AddMember("Ports", ports, a);
  return endpoint;
}

std::string Serialize(const Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

// Adds the spec-hash label (a hash of everything else) and serializes.
SealedSpec SealWithHash(rapidjson::Document& d) {
  std::string hash = Sha256Hex(Serialize(d)).substr(0, 16);
  d["Labels"].AddMember(rapidjson::StringRef(kLabelSpecHash), Str(hash, d.GetAllocator()),
                        d.GetAllocator());
  return {Serialize(d), hash};
}

}  // namespace

std::string ProxyServiceName(const std::string& cluster) { return "sg-proxy-" + cluster; }
std::string ListenerServiceName(const std::string& cluster) { return "sg-listen-" + cluster; }
std::string ListenerVolumeName(const std::string& cluster) { return "sg-listen-" + cluster; }

std::string BuildProxyServiceSpec(const crds::ServiceCluster& cluster,
                                  const ProxyServiceInputs& inputs) {
  return BuildProxyService(cluster, inputs).json;
}

std::string BuildListenerServiceSpec(const crds::ServiceCluster& cluster,
                                     const std::string& image) {
  return BuildListenerService(cluster, image).json;
}

bool HasSpecHash(const docker::Service& service, const SealedSpec& spec) {
  auto it = service.labels.find(kLabelSpecHash);
  return it != service.labels.end() && !it->second.empty() && it->second == spec.hash;
}

SealedSpec BuildProxyService(const crds::ServiceCluster& cluster, const ProxyServiceInputs& in) {
  const auto& proxy = cluster.spec.proxy;
  const std::string& name = cluster.metadata.name;
  bool hot = proxy.delivery == crds::Delivery::kHot;
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();

  const bool host_mode = proxy.publish_mode == crds::PublishMode::kHost;
  d.AddMember("Name", Str(ProxyServiceName(name), a), a);
  d.AddMember("Labels", OwnerLabels(name, a), a);

  Value container(rapidjson::kObjectType);
  container.AddMember("Image", Str(proxy.image, a), a);
  Value command(rapidjson::kArrayType);
  command.PushBack("/usr/bin/swarmgate", a).PushBack("proxy", a);
  if (!hot) {
    command.PushBack("--config-file", a).PushBack(rapidjson::StringRef(kProxyConfigPath), a);
  }
  container.AddMember("Command", command, a);
  // The agent supervises nginx; an init process reaps whatever else exits.
  container.AddMember("Init", true, a);
  Value env(rapidjson::kArrayType);
  env.PushBack(Str("SG_CLUSTER=" + name, a), a);
  // Swarm expands the template per task: agents report as their task id.
  env.PushBack("SG_PROXY_ID={{.Task.ID}}", a);
  if (hot) {
    env.PushBack(Str("SG_OPERATOR_URL=" + in.operator_url, a), a);
    env.PushBack(Str(std::string("SG_TOKEN_FILE=/run/secrets/") + kTokenSecretTarget, a), a);
  }
  if (proxy.engine != crds::ProxyEngine::kNginx) {
    // Only for other engines, so a proxy service from before engines existed
    // keeps its spec (and is not rolled by an operator upgrade).
    env.PushBack(Str(std::string("SG_ENGINE=") + crds::ToString(proxy.engine), a), a);
    env.PushBack(Str("SG_HTTP_PORT=" + std::to_string(proxy.ports.http), a), a);
    env.PushBack(Str("SG_HTTPS_PORT=" + std::to_string(proxy.ports.https), a), a);
  }
  if (host_mode) {
    // The node's ports are held by the listener service; the engine inherits them.
    env.PushBack(Str(std::string("SG_LISTENER_SOCKET=") + kListenerSocketPath, a), a);
    // A stopping proxy lingers for a successor on its node (the agent's
    // 8 s), then drains, all within the stop grace period; a shorter period
    // gets a shorter linger, and the default period no variable, so that
    // its proxies' spec stays as it was. Updated stop-first, a proxy's
    // successor starts only once it has exited: no linger.
    const bool stop_first = proxy.update_policy.order == crds::UpdateOrder::kStopFirst;
    if (stop_first || proxy.stop_grace_period.value < kDefaultStopGrace) {
      const auto linger = stop_first ? std::chrono::milliseconds(0)
                                     : std::max(proxy.stop_grace_period.value - kDrainAfterLinger,
                                                std::chrono::milliseconds(0));
      env.PushBack(Str("SG_STOP_LINGER=" + std::to_string(linger.count()) + "ms", a), a);
    }
  }
  container.AddMember("Env", env, a);
  if (host_mode) {
    container.AddMember("Mounts", ListenerMount(name, a), a);
    // A request sent on a kept-alive connection to a task whose node was cut
    // off gets no answer and, by default, no error for about 15 minutes of
    // retransmissions. With one retransmission allowed the kernel gives up
    // at the timer after it, about 1.4 s after the request was sent (the
    // limit counts from the first retransmission: with 2 the connection
    // lasted 3 s, measured), and the engine retries the request on another
    // task within a client's 2 s, before Swarm even notices the node.
    // Only in host mode: the client connections then belong to the
    // listener's network namespace, and only the proxy's own connections (to
    // tasks and to the operator) live in the proxy's, where the sysctl
    // applies. Routing-mesh clients, whose connections are the proxy's own,
    // keep the kernel default.
    Value sysctls(rapidjson::kObjectType);
    sysctls.AddMember("net.ipv4.tcp_retries2", "1", a);
    container.AddMember("Sysctls", sysctls, a);
  }
  // The agent drains nginx on SIGTERM within the grace period.
  container.AddMember("StopGracePeriod", Nanos(proxy.stop_grace_period), a);
  Value health(rapidjson::kObjectType);
  Value test(rapidjson::kArrayType);
  test.PushBack("CMD", a)
      .PushBack("/bin/busybox", a)
      .PushBack("wget", a)
      .PushBack("-q", a)
      .PushBack("-O", a)
      .PushBack("/dev/null", a)
      .PushBack(Str("http://127.0.0.1:" + std::to_string(kProxyStatusPort) + "/healthz", a), a);
  health.AddMember("Test", test, a);
  health.AddMember("Interval", int64_t{1000000000}, a);
  health.AddMember("Timeout", int64_t{2000000000}, a);
  health.AddMember("Retries", 3, a);
  // A new task is healthy once nginx serves the current configuration; before
  // that it may wait for its node's listener and for the operator. Failures
  // in the start period do not count (the first success ends it), so a long
  // one costs nothing, and a short one killed tasks still starting up.
  health.AddMember("StartPeriod", int64_t{60} * 1000000000, a);
  container.AddMember("Healthcheck", health, a);
  Value secrets(rapidjson::kArrayType);
  if (hot && !in.token.id.empty()) secrets.PushBack(SecretMount(in.token, a), a);
  for (const auto& s : in.tls_secrets) secrets.PushBack(SecretMount(s, a), a);
  container.AddMember("Secrets", secrets, a);
  if (!hot && !in.config_id.empty()) {
    Value configs(rapidjson::kArrayType);
    Value ref(rapidjson::kObjectType);
    Value file(rapidjson::kObjectType);
    file.AddMember("Name", rapidjson::StringRef(kProxyConfigPath), a);
    file.AddMember("UID", "0", a);
    file.AddMember("GID", "0", a);
    file.AddMember("Mode", 0444, a);
    ref.AddMember("File", file, a);
    ref.AddMember("ConfigID", Str(in.config_id, a), a);
    ref.AddMember("ConfigName", Str(in.config_name, a), a);
    configs.PushBack(ref, a);
    container.AddMember("Configs", configs, a);
  }

  Value task(rapidjson::kObjectType);
  task.AddMember("ContainerSpec", container, a);
  task.AddMember("Placement", Constraints(proxy, a), a);
  Value networks(rapidjson::kArrayType);
  networks.PushBack(NetworkAttachment(in.network_id, a), a);
  if (hot && !in.control_network_id.empty()) {
    Value control = NetworkAttachment(in.control_network_id, a);
    // Only HAProxy serves traffic metrics; an nginx proxy keeps its spec.
    if (proxy.engine == crds::ProxyEngine::kHaproxy) {
      Value aliases(rapidjson::kArrayType);
      aliases.PushBack(Str(kProxiesAlias, a), a);
      control.AddMember("Aliases", aliases, a);
    }
    networks.PushBack(control, a);
  }
  task.AddMember("Networks", networks, a);
  task.AddMember("RestartPolicy", RestartAlways(a), a);
  d.AddMember("TaskTemplate", task, a);

  Value mode(rapidjson::kObjectType);
  if (proxy.mode == crds::ProxyMode::kGlobal) {
    mode.AddMember("Global", Value(rapidjson::kObjectType), a);
  } else {
    Value replicated(rapidjson::kObjectType);
    replicated.AddMember("Replicas", proxy.replicas, a);
    mode.AddMember("Replicated", replicated, a);
  }
  d.AddMember("Mode", mode, a);
  d.AddMember("UpdateConfig", UpdateConfig(proxy.update_policy, false, a), a);
  d.AddMember("RollbackConfig", UpdateConfig(proxy.update_policy, true, a), a);

  // Host mode publishes through the listener service and needs no VIP; dnsrr
  // also avoids IPVS where the kernel lacks it.
  d.AddMember(
      "EndpointSpec",
      host_mode ? Endpoint(proxy, "dnsrr", nullptr, a) : Endpoint(proxy, "vip", "ingress", a), a);
  return SealWithHash(d);
}

SealedSpec BuildListenerService(const crds::ServiceCluster& cluster, const std::string& image) {
  const auto& proxy = cluster.spec.proxy;
  const std::string& name = cluster.metadata.name;
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("Name", Str(ListenerServiceName(name), a), a);
  Value labels = OwnerLabels(name, a);
  // The image it was created with: a new proxy image must not restart the
  // listeners, so the reconciler keeps this one until something the
  // listener needs changes.
  labels.AddMember(rapidjson::StringRef(kLabelImage), Str(image, a), a);
  d.AddMember("Labels", labels, a);

  Value container(rapidjson::kObjectType);
  container.AddMember("Image", Str(image, a), a);
  Value command(rapidjson::kArrayType);
  command.PushBack("/usr/bin/swarmgate", a)
      .PushBack("listen", a)
      .PushBack("--socket", a)
      .PushBack(rapidjson::StringRef(kListenerSocketPath), a);
  for (int port : {proxy.ports.http, proxy.ports.https}) {
    command.PushBack("--port", a).PushBack(Str(std::to_string(port), a), a);
  }
  container.AddMember("Command", command, a);
  container.AddMember("Init", true, a);
  container.AddMember("Mounts", ListenerMount(name, a), a);
  // A stopping holder lingers until its successor took the sockets over
  // (`swarmgate listen --linger`, left at its default so that the command
  // also runs the listener of an older image); Docker must not kill it
  // first.
  container.AddMember("StopGracePeriod", int64_t{kListenerStopGraceSeconds} * 1000000000, a);

  Value task(rapidjson::kObjectType);
  task.AddMember("ContainerSpec", container, a);
  task.AddMember("Placement", Constraints(proxy, a), a);
  // The node's network namespace: the holder binds the ports itself, so the
  // kernel sockets belong to the node, not to one task's container, and
  // pass from a task to its replacement (listener_holder.h). Ports
  // published by Swarm would be released only when the old task's
  // container is gone, and its replacement could not start before. The
  // engine resolves the predefined network's name.
  Value networks(rapidjson::kArrayType);
  networks.PushBack(NetworkAttachment(kHostNetwork, a), a);
  task.AddMember("Networks", networks, a);
  task.AddMember("RestartPolicy", RestartAlways(a), a);
  d.AddMember("TaskTemplate", task, a);

  Value mode(rapidjson::kObjectType);
  mode.AddMember("Global", Value(rapidjson::kObjectType), a);
  d.AddMember("Mode", mode, a);
  // Stop-first on the rare changes (ports, constraints): the proxies keep
  // the sockets open meanwhile and hand them to the new holder.
  crds::ProxyUpdatePolicy policy;
  policy.order = crds::UpdateOrder::kStopFirst;
  policy.failure_action = crds::FailureAction::kContinue;
  d.AddMember("UpdateConfig", UpdateConfig(policy, false, a), a);

  // No published ports: Swarm no longer sees them (nor their conflicts).
  d.AddMember("EndpointSpec", Endpoint(proxy, "dnsrr", nullptr, a), a);
  return SealWithHash(d);
}

}  // namespace sg::reconcilers
