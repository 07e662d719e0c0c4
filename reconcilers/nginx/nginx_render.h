#pragma once
// Internal to the nginx renderer: the state of one render, shared by the files
// that emit each nginx context (nginx_render_*.cc). Use nginx_renderer.h.

#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "reconcilers/model/render_order.h"
#include "reconcilers/model/traffic_model.h"
#include "reconcilers/nginx/nginx_renderer.h"
#include "reconcilers/nginx/nginx_writer.h"

namespace sg::nginx::internal {

using model::BasePath;
using model::JoinCertPath;
using model::LocationLess;
using model::PrecedesMatch;
using model::SortedHosts;
using model::SortedPtrs;
using model::SortedServer;
using model::SortedServers;

// One render of one model. The servers are rendered first, into their own
// buffer, because they register the maps, split_clients and rate-limit zones
// that must precede them in the http block.
//
// Not thread-safe; used once, by one thread.
class ConfigRenderer {
 public:
  ConfigRenderer(const model::TrafficModel& model, const RenderOptions& options);
  // The text and the routes its lines were written for (views into the model).
  std::pair<std::string, std::vector<LineRun>> Render();

 private:
  using Writer = nginx::Writer;

  void SortEverything();

  // nginx_render_main.cc: main, events and http-level settings.
  void RenderMain();
  void RenderHttpSettings();
  void RenderAccessLog();
  // The proxy_set_header lines; with `loc`, its Host rewrite and request
  // header filter replace or drop the defaults they name.
  void RenderProxyHeaders(Writer& o, std::string_view in, bool websocket,
                          const model::Location* loc = nullptr);
  // A map appending `value` to the request's header `name` ("v" alone when
  // the request has none); the variable's name.
  std::string AppendMap(const std::string& name, const std::string& value, std::string_view route);
  // The redirect port suffix (":N", or "" for the scheme's own port) of a
  // request on either scheme, for `port`, or the listener's port when 0.
  std::string RedirectPortVar(int port);

  // nginx_render_upstreams.cc: upstream blocks.
  void RenderUpstreams();
  static void PassiveHealth(Writer& o, const model::Upstream& u);

  // nginx_render_selection.cc: a location's selection as maps and split_clients.
  std::string Target(const model::Location& loc);
  std::string EmitTarget(const model::Location& loc, size_t variant);
  std::string EmitSplit(const std::vector<model::WeightedUpstream>& split, const std::string& key,
                        const std::string& var, std::string_view route);
  void MatchArms(const std::string& value, const std::string& on_match, const std::string& other);
  std::string CookieVar(const std::string& name);
  std::string StickyKeyVar(const std::string& cookie);
  static std::string CookieSuffix(const std::string& name);

  // nginx_render_server.cc: servers, locations, rate-limit zones, redirects.
  void RenderDefaultServers(Writer& o);
  void RenderFallback(Writer& o);
  void RenderStatusServer(Writer& o);
  void RenderServer(Writer& o, const SortedServer& ss);
  // `exact_taken`: an exact location of the prefix's own path exists.
  void RenderLocation(Writer& o, const model::Location& loc, bool exact_taken);
  void LocationBody(Writer& o, const model::Location& loc, const std::string& target,
                    const std::string& zone, std::string_view base, bool exact);
  void LocationDirectives(Writer& o, const model::Location& loc, const std::string& target,
                          const std::string& zone, std::string_view base, bool exact);
  void RenderRedirect(Writer& o, const model::HostRedirect& r);
  // `rewrite` of the prefix `base` into `to` (the whole path when `exact`),
  // with `flag` (" break", or "" to go on to the next rewrite directive).
  static void PrefixRewrite(Writer& o, std::string_view in, std::string_view base,
                            std::string_view to, bool exact, std::string_view flag);
  // A location's redirect filter; `exact`: the location matches `base` alone.
  void LocationRedirect(Writer& o, const model::Location& loc, std::string_view base, bool exact);
  // A location's response header filter (with what add_header there hides).
  void ResponseHeaders(Writer& o, const model::Location& loc);
  // The first directives of a location: its IP access and CORS preflights,
  // both answered in the rewrite phase, before any other `return`.
  void AccessRules(Writer& o, const model::Location& loc);
  // The geo variable of the route's deny (or allow) list: "1" for a client
  // in it.
  std::string IpVar(const model::Location& loc, bool deny);
  // The variable fragment of the route's CORS maps (registered at first use):
  // $sg_cors_F the allowed Origin or "", $sg_cors_pf_F 1 for a preflight of
  // another origin, 2 for one of an allowed origin.
  std::string CorsVars(const model::Location& loc);
  void CorsResponseHeaders(Writer& o, const model::Location& loc);
  static void Compression(Writer& o, const model::Compression& c);
  // The internal location a mirror copies requests to, and the sample
  // variable of its percentage.
  std::string MirrorUri(const model::Mirror& m);
  void RenderMirrorLocations(Writer& o, const SortedServer& ss);
  // The model's upstream of that name, if any.
  const model::Upstream* UpstreamNamed(const std::string& name);
  bool HasServers(const std::string& upstream);
  std::string Zone(const model::Location& loc);
  void HttpsListen(Writer& o, bool default_server);
  void HttpsRedirect(Writer& o);
  void Certificate(Writer& o, const model::TlsCertificate& tls);
  static void ServerNames(Writer& o, const std::vector<std::string_view>& hosts);
  static void RouteComment(Writer& o, const SortedServer& ss);

  // nginx_render_stream.cc: the stream block of TLS passthrough.
  void RenderStream();

  static size_t EstimateServersSize(const model::TrafficModel& m);

  const model::TrafficModel& m_;
  const model::Settings& s_;
  const RenderOptions& options_;
  Writer out_;
  Writer maps_;
  Writer zones_;
  bool passthrough_ = false;
  bool tls_ = false;
  std::vector<SortedServer> servers_;
  std::vector<const model::Upstream*> upstreams_sorted_;
  std::vector<const model::HostRedirect*> redirects_;
  std::vector<const model::PassthroughRoute*> passthrough_sorted_;
  // Keys view model strings, which outlive the renderer.
  std::unordered_map<std::string_view, std::vector<std::pair<const model::Location*, std::string>>>
      selections_;
  std::unordered_map<std::string_view, std::vector<std::pair<int, std::string>>> zone_names_;
  std::unordered_map<std::string, bool> cookie_maps_;
  std::unordered_map<std::string, bool> sticky_maps_;
  std::unordered_map<std::string, std::string> append_maps_;  // "name\nvalue" -> variable
  std::unordered_map<int, std::string> mirror_samples_;       // percent -> variable
  std::unordered_map<int, std::string> redirect_ports_;       // port -> variable
  std::unordered_set<std::string> ip_vars_;                   // geo variables written
  std::unordered_set<std::string> cors_vars_;                 // CORS map fragments written
  // Built at first use; keys view the model's names.
  std::unordered_map<std::string_view, const model::Upstream*> upstream_by_name_;
};

}  // namespace sg::nginx::internal
