// `swarmgate render -f FILE... --cluster NAME`: the configuration a cluster's
// engine would get (nginx.conf or haproxy.cfg), offline. Task addresses come only from
// --endpoints (without them every upstream answers 503); the output is deterministic (the
// renderer is a pure function).
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "crds/loader.h"
#include "operator/cli/cli.h"
#include "operator/cli/commands.h"
#include "operator/cli/exit_codes.h"
#include "operator/interlock/label_plan.h"
#include "reconcilers/dataplane/checked_config.h"
#include "reconcilers/dataplane/data_planes.h"
#include "reconcilers/dataplane/haproxy_data_plane.h"
#include "reconcilers/dataplane/nginx_data_plane.h"
#include "reconcilers/model/model_builder.h"
#include "reconcilers/nginx/nginx_renderer.h"
#include "reconcilers/nginx_check.h"

namespace po = boost::program_options;

namespace sg::cli {
namespace {

int RunRender(const Args& args, CliContext& ctx) {
  std::vector<std::string> files;
  std::string cluster_name, certs_dir = "/run/secrets";
  std::vector<std::string> endpoint_args;
  bool check = false;
  po::options_description desc("render: print a cluster's proxy configuration, offline");
  desc.add_options()("filename,f", po::value<std::vector<std::string>>(&files)->composing(),
                     "file, directory or - (repeatable); must contain the ServiceCluster")(
      "cluster", po::value<std::string>(&cluster_name), "the ServiceCluster to render")(
      "certs-dir", po::value<std::string>(&certs_dir),
      "where the proxy finds TLS secrets (default /run/secrets)")(
      "endpoints", po::value<std::vector<std::string>>(&endpoint_args)->composing(),
      "SERVICE=IP[,IP...]: the task addresses of a service (repeatable); offline, a backend "
      "has none unless given here")(
      "check", po::bool_switch(&check),
      "also run the engine's check on it, `nginx -t` or `haproxy -c` (TLS certificates "
      "replaced by placeholders)");
  AddGlobalOptions(desc, ctx);
  const char* usage =
      "swarmgate render -f FILE... --cluster NAME [--endpoints SERVICE=IP,...] [--check]";
  auto parsed = ParseArgs(args, desc, nullptr, usage, ctx);
  if (parsed.help) return kExitOk;
  if (!parsed.ok) return kExitUsage;
  if (files.empty() || cluster_name.empty()) {
    ctx.err << "error: render needs -f and --cluster\nUsage: " << usage << "\n";
    return kExitUsage;
  }
  std::map<std::string, std::vector<std::string>> endpoints;
  for (const std::string& e : endpoint_args) {
    const size_t eq = e.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == e.size()) {
      ctx.err << "error: --endpoints: expected SERVICE=IP[,IP...], got \"" << e << "\"\n";
      return kExitUsage;
    }
    // Comma-separated, trimmed, empty items dropped: as Interlock's labels.
    const auto ips = interlock::detail::SplitList(e.substr(eq + 1));
    auto& known = endpoints[e.substr(0, eq)];
    known.insert(known.end(), ips.begin(), ips.end());
  }
  auto loaded = crds::LoadPaths(files);
  for (const auto& d : loaded.diagnostics) ctx.err << d.ToString() << "\n";
  if (!loaded.ok()) return kExitInvalid;

  const crds::ServiceCluster* cluster = nullptr;
  std::vector<reconcilers::RouteInput> routes;
  for (const auto& r : loaded.resources) {
    if (r.cluster() && r.name == cluster_name) cluster = r.cluster();
  }
  if (!cluster) {
    ctx.err << "error: ServiceCluster \"" << cluster_name << "\" is not in the input\n";
    return kExitInvalid;
  }
  for (const auto& r : loaded.resources) {
    if (!r.route() || r.route()->spec.service_cluster != cluster_name) continue;
    reconcilers::RouteInput in;
    in.route = std::make_shared<const crds::Route>(*r.route());
    in.generation = 1;
    // Input order stands in for age: the earlier document keeps a contested host.
    char order[16];
    snprintf(order, sizeof(order), "%08d", static_cast<int>(routes.size()));
    in.created_at = order;
    for (const crds::Backend* backend : crds::AllBackends(in.route->spec)) {
      const crds::Backend& b = *backend;
      reconcilers::ResolvedBackend resolved;
      auto it = endpoints.find(b.service);
      if (it != endpoints.end()) {
        for (const std::string& ip : it->second) {
          reconcilers::Endpoint e;
          e.ip = ip;
          e.port = b.port;
          resolved.endpoints.push_back(std::move(e));
        }
      }
      in.backends.push_back(std::move(resolved));
    }
    routes.push_back(std::move(in));
  }
  reconcilers::BuildOptions options;
  options.certs_dir = certs_dir;
  nginx::RenderOptions render;
  render.access_log = "off";
  nginx::ExecNginxValidator nginx_validator;
  dataplane::NginxDataPlane nginx_plane(nginx_validator, render);
  haproxy::ExecHaproxyValidator haproxy_validator;
  // As the operator renders it: without access logs, like nginx's above.
  haproxy::RenderOptions haproxy_render;
  haproxy_render.log = false;
  haproxy_render.spare_backends = haproxy::kDefaultSpareBackends;
  dataplane::HaproxyDataPlane haproxy_plane(haproxy_validator, haproxy_render);
  dataplane::DataPlanes planes;
  planes.Register(nginx_plane);
  planes.Register(haproxy_plane);
  dataplane::DataPlane* plane = planes.For(*cluster);
  if (!plane) {
    ctx.err << "error: engine \"" << dataplane::EngineOf(*cluster) << "\" is not available\n";
    return kExitInvalid;
  }
  auto build = [&](const std::map<std::string, std::string>& excluded) {
    reconcilers::BuildOptions o = options;
    o.excluded = excluded;
    return reconcilers::BuildModel(*cluster, routes, o);
  };
  std::string text;
  reconcilers::BuildResult built;
  if (check) {
    // The operator's own sequence: a route the engine rejects is named and left out.
    auto checked = dataplane::BuildCheckedConfig(build, *plane);
    if (!checked.ok()) {
      ctx.err << "error: " << checked.error().message << "\n";
      return kExitInvalid;
    }
    for (const auto& [name, message] : checked->excluded) {
      ctx.err << "error: route/" << name << ": " << plane->Engine() << ": " << message << "\n";
    }
    if (!checked->excluded.empty()) return kExitInvalid;
    text = std::move(checked->config.text);
    built = std::move(checked->built);
  } else {
    built = build({});
    text = plane->Render(built.model).text;
  }
  for (const auto& [name, outcome] : built.routes) {
    if (!outcome.served) {
      ctx.err << "warning: route/" << name << " left out: " << outcome.reason << ": "
              << outcome.message << "\n";
    }
  }
  ctx.out << text;
  return kExitOk;
}

}  // namespace

void RegisterRenderCommand() {
  RegisterCommand("render",
                  "print a cluster's proxy configuration offline: render -f FILE --cluster NAME",
                  RunRender);
}

}  // namespace sg::cli
