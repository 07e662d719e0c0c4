#pragma once
// Renders the traffic model into haproxy.cfg. Rendering is a pure function:
// the same model and options give the same bytes whatever the order of the
// model's lists (they are sorted), and the output holds no timestamp or
// generation, so "identical output -> no delivery" holds. The renderer
// decides no policy: it emits each location's BackendSelection as the builder
// resolved it.
//
// Everything travels in the one text: the maps the front-end looks hosts,
// context roots and backends up in are carried inside it as marked comment
// blocks (haproxy_side_files.h), which the check and the proxy agent write
// out beside haproxy.cfg. There are no crt-list or error files. The public listeners are not
// written as ports either: the agent passes them in the environment
// (SG_HTTP_BIND, SG_HTTPS_BIND) as inherited sockets ("fd@N") or addresses
// ("ipv4@0.0.0.0:443"), so a reload never closes them.
//
// Thread-safe: no shared state.

#include <string>
#include <string_view>
#include <vector>

#include "operator/common/result.h"
#include "reconcilers/model/rendered_config.h"
#include "reconcilers/model/traffic_model.h"

namespace sg::haproxy {

// The environment variables holding the public listeners, and the values a
// check can use (`haproxy -c` does not bind).
inline constexpr const char* kHttpBindEnv = "SG_HTTP_BIND";
inline constexpr const char* kHttpsBindEnv = "SG_HTTPS_BIND";

// How one HAProxy process runs: HAProxy-only details that are not traffic
// policy. Relative paths resolve against HAProxy's working directory.
struct RenderOptions {
  // The runtime API socket (servers, maps and certificates change through it
  // without a reload); "expose-fd listeners" lets a reloaded process take
  // the listening sockets over (-x).
  std::string runtime_socket = "haproxy.sock";
  // Access and event logs to `log_target` ("stdout", "stderr" or an address),
  // raw format.
  bool log = true;
  std::string log_target = "stdout";
  // Old processes still serving after a reload are stopped this long after it
  // (long websockets); zero: they finish on their own.
  model::Duration hard_stop_after{0};
  // HAProxy's Prometheus exporter on every address of the task, for the
  // proxies' scrape job (charts/monitoring/prometheus.yml reaches the tasks
  // over the control network); 0: none. Per-backend request, response-code
  // and latency series.
  int metrics_port = 8405;
  // The abstract socket of the TLS-terminating listener that the SNI
  // front-end hands non-passthrough connections to (only with passthrough).
  std::string terminate_socket = "sg-terminate";
  // Backends without servers, of each kind a plain route's backend has (one
  // server; several), that the proxy agent hands to new routes through the
  // runtime API instead of reloading (haproxy_server_changes.h). 0: none, and
  // every new route is a reload.
  int spare_backends = 0;
};

// The prefix of the spare backends' names ("sg:spare:<servers>:<n>"); no
// upstream name has a ':'.
inline constexpr std::string_view kSpareBackendPrefix = "sg:spare:";
// The spare backends the operator and `swarmgate render` ask for, of each
// kind: new routes between two reloads.
inline constexpr int kDefaultSpareBackends = 16;

// The text, and the route of each line: its backends, rate-limit tables,
// ACLs and rules, redirects and passthrough rules. RouteAtLine takes the line
// as HAProxy reports it ("[haproxy.cfg:12]").
using RenderedConfig = model::RenderedConfig;

RenderedConfig RenderHaproxy(const model::TrafficModel& model, const RenderOptions& options);

// RenderHaproxy(...).text, without building the line map.
std::string RenderHaproxyConfig(const model::TrafficModel& model, const RenderOptions& options);

// Certificate paths the rendered config names after `crt` (certs_dir joined),
// sorted and unique. `haproxy -c` loads these files.
std::vector<std::string> CertificateFiles(const model::TrafficModel& model);

// Reports the first model value the renderer would have to neutralise or
// cannot express, naming its route and field: strings that could break out of
// a directive (the API grammars make these unreachable), and key files HAProxy
// 2.6 cannot load next to their certificate (see docs/architecture.md). The
// renderer itself never emits an unsafe string: it replaces the offending
// characters with '_' (see haproxy_writer.h).
sg::Status CheckModel(const model::TrafficModel& model);

// The same for the render options (operator configuration, not API input).
sg::Status CheckRenderOptions(const RenderOptions& options);

}  // namespace sg::haproxy
