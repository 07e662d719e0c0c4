#include "crds/types.h"

#include "crds/grammar.h"

namespace sg::crds {

Duration Duration::Parse(std::string_view text) {
  Duration d;
  d.text = std::string(text);
  d.value = ParseDuration(text).value_or(std::chrono::milliseconds(0));
  return d;
}

const char* ToString(BackendMode v) { return v == BackendMode::kTask ? "task" : "vip"; }
const char* ToString(ProxyMode v) { return v == ProxyMode::kGlobal ? "global" : "replicated"; }
const char* ToString(Delivery v) { return v == Delivery::kHot ? "hot" : "rolling"; }
const char* ToString(ProxyEngine v) { return v == ProxyEngine::kHaproxy ? "haproxy" : "nginx"; }
const char* ToString(PublishMode v) { return v == PublishMode::kHost ? "host" : "ingress"; }
const char* ToString(UpdateOrder v) {
  return v == UpdateOrder::kStartFirst ? "start-first" : "stop-first";
}
const char* ToString(FailureAction v) {
  switch (v) {
    case FailureAction::kRollback:
      return "rollback";
    case FailureAction::kPause:
      return "pause";
    case FailureAction::kContinue:
      return "continue";
  }
  return "rollback";
}
const char* ToString(TlsMode v) { return v == TlsMode::kTerminate ? "terminate" : "passthrough"; }
const char* ToString(AccessLogFormat v) {
  switch (v) {
    case AccessLogFormat::kOff:
      return "off";
    case AccessLogFormat::kCombined:
      return "combined";
    case AccessLogFormat::kJson:
      return "json";
  }
  return "off";
}

std::vector<const Backend*> AllBackends(const RouteSpec& spec) {
  std::vector<const Backend*> out;
  for (const Backend& b : spec.backends) out.push_back(&b);
  for (const RouteRule& r : spec.rules) {
    for (const Backend& b : r.backends) out.push_back(&b);
  }
  for (const RouteRule& r : spec.rules) {
    if (r.filters.mirror) out.push_back(&r.filters.mirror->backend);
  }
  return out;
}

const char* ToString(PathMatchType v) {
  switch (v) {
    case PathMatchType::kPathPrefix:
      return "PathPrefix";
    case PathMatchType::kExact:
      return "Exact";
    case PathMatchType::kRegularExpression:
      return "RegularExpression";
  }
  return "PathPrefix";
}

BackendMode EffectiveBackendMode(const Route& route, const ServiceCluster* cluster) {
  if (route.spec.backend_mode) return *route.spec.backend_mode;
  if (cluster) return cluster->spec.backend_mode;
  return BackendMode::kTask;
}

}  // namespace sg::crds
