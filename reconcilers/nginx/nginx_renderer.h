#pragma once
// Renders the traffic model into nginx.conf. Rendering is a pure function: the
// same model and options give the same bytes whatever the order of the model's
// lists (they are sorted), and the output holds no timestamp or generation, so
// "identical output -> no delivery" holds. The renderer decides no policy: it
// emits each location's BackendSelection as the builder resolved it.
//
// Thread-safe: no shared state.

#include <string>
#include <vector>

#include "operator/common/result.h"
#include "reconcilers/model/rendered_config.h"
#include "reconcilers/model/traffic_model.h"

namespace sg::nginx {

// How one nginx process runs: nginx-only details that are not traffic policy.
// Relative paths resolve against the nginx prefix (-p) and, for certificates,
// against the directory of nginx.conf, so one rendered file works both in a
// proxy task and in a temporary directory for `nginx -t`.
struct RenderOptions {
  std::string user;  // empty: no `user` directive (the proxy runs unprivileged)
  std::string pid_file = "nginx.pid";
  std::string error_log = "stderr";
  // The access log of a cluster that asks for none (model::AccessLogFormat::kOff)
  // in the `sg` format; "off": none (the operator's choice).
  std::string access_log = "/dev/stdout";
  // Where the access log a cluster asks for goes: the engine's standard
  // output, which the agent passes on to the task's, so `docker service logs`
  // shows it.
  std::string access_log_target = "/dev/stdout";
  // Client bodies and proxy buffers spill to <temp_dir>/<kind>_temp; nginx
  // creates the last path element only, so temp_dir must exist. Empty: the prefix.
  std::string temp_dir;
  // Loaded only when TLS passthrough needs the stream module.
  std::string stream_module = "/usr/lib/nginx/modules/ngx_stream_module.so";
  bool daemon = false;  // the agent supervises nginx in the foreground
};

// The text, and the route of each line's directive: its upstreams, maps,
// split_clients, zones, servers, locations, redirects and stream map entries.
// RouteAtLine takes the line as nginx reports it ("... in nginx.conf:12").
using RenderedConfig = model::RenderedConfig;

RenderedConfig RenderNginx(const model::TrafficModel& model, const RenderOptions& options);

// RenderNginx(...).text, without building the line map.
std::string RenderNginxConfig(const model::TrafficModel& model, const RenderOptions& options);

// Certificate and key paths the rendered config reads, as written in it
// (certs_dir joined), sorted and unique. `nginx -t` needs these files to exist.
std::vector<std::string> CertificateFiles(const model::TrafficModel& model);

// Reports the first model string the renderer would have to neutralise, naming
// its route and field. The API grammars make this unreachable; builders call it
// as defence in depth to mark the route Degraded instead of serving a mangled
// config. The renderer itself never emits an unsafe string: it replaces the
// offending characters with '_' (see nginx_writer.h).
sg::Status CheckModelStrings(const model::TrafficModel& model);

// What nginx cannot express, naming the route and the field: a location
// matched on headers, query parameters or the method (nginx chooses a
// location by path alone). Thread-safe.
sg::Status CheckModel(const model::TrafficModel& model);

// The same for the render options (operator configuration, not API input).
sg::Status CheckRenderOptions(const RenderOptions& options);

}  // namespace sg::nginx
