#pragma once
// Internal to the HAProxy renderer: the state of one render, shared by the
// files that emit each part of haproxy.cfg (haproxy_render_*.cc). Use
// haproxy_renderer.h.

#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "reconcilers/haproxy/haproxy_renderer.h"
#include "reconcilers/haproxy/haproxy_side_files.h"
#include "reconcilers/haproxy/haproxy_writer.h"
#include "reconcilers/model/render_order.h"
#include "reconcilers/model/traffic_model.h"

namespace sg::haproxy::internal {

using model::BasePath;
using model::JoinCertPath;
using model::LocationLess;
using model::SortedHosts;
using model::SortedPtrs;
using model::SortedServers;

// HAProxy 2.6 reads at most 64 words a line: a list longer than this (client
// networks, media types) is split over several lines, whose other words fit
// in the rest.
inline constexpr size_t kListWordsPerLine = 40;

// The words of `list` as " a b c", at most kListWordsPerLine to a chunk: one
// chunk per line.
std::vector<std::string> WordChunks(const std::vector<std::string>& list);

// A virtual host with its hosts, and its locations in match order (longest
// context root first; one location per context root).
struct SortedServer : model::SortedServer {
  std::string id;  // value of txn.sg_srv: "h" + a hash of its host names
  // Routed by rules of its own, in order of precedence, instead of the
  // paths map (some location has another path match or conditions).
  bool by_rules = false;
};

// What a backend adds to its upstream for the locations that use it. Each
// distinct profile of one upstream is its own backend (timeouts are
// per-backend in HAProxy); the first keeps the upstream's name.
struct Profile {
  model::Duration connect{0};  // 0: the defaults section's
  model::Duration server{0};   // 0: the defaults section's
  model::Duration tunnel{0};   // websockets; 0: none
  // The selection's session cookie when the upstream does not insert that
  // cookie itself: the backend sets "<cookie>=<upstream>".
  std::string set_cookie;
  // The location's own retries (a rule's retry policy); unset: the defaults
  // section's.
  std::optional<model::RetryPolicy> retry;
  // Media types gzipped for clients that accept it; unset: none. HAProxy 2.6
  // compresses per proxy section, not per request rule.
  std::optional<std::vector<std::string>> compress_types;

  bool operator==(const Profile& o) const {
    return connect == o.connect && server == o.server && tunnel == o.tunnel &&
           set_cookie == o.set_cookie && retry == o.retry && compress_types == o.compress_types;
  }
};

struct Backend {
  const model::Upstream* upstream;
  Profile profile;
  std::string name;
};

// The rules of locations that render identically (a route on several hosts).
struct Variant {
  const model::Location* location;
  std::string id;  // value of txn.sg_loc: the route, or "route:N"
};

// The lines of a side file being built, and the route of each ("": shared).
struct FileLines {
  std::string content;
  std::vector<std::string_view> routes;
  void Add(const std::string& line, std::string_view route) {
    content += line;
    content += '\n';
    routes.push_back(route);
  }
};

// Whether a TLS certificate's key file needs `ssl-load-extra-del-ext`
// ("x.crt" + "x.key"); keys in the certificate file or in "<cert>.key" do not.
bool KeyNeedsDelExt(const model::TlsCertificate& tls);
// Whether HAProxy 2.6 can load the key of `tls` at all (with `del_ext` set or
// not): in the certificate file, or in the file `ssl-load-extra-files key`
// looks for.
bool KeyLoadable(const model::TlsCertificate& tls, bool del_ext);

// The rules of a header filter in the order the Gateway API applies them
// (remove, set, add); `side` is "http-request" or "http-response", `cond`
// "" or " if <condition>".
void HeaderEditRules(Writer& o, const char* side, const model::HeaderEdit& e,
                     std::string_view cond);

// One render of one model. Parts are written into their own buffers in the
// order their dependencies are known (locations register the variants whose
// rules, backends and tables follow) and joined at the end.
//
// Not thread-safe; used once, by one thread.
class ConfigRenderer {
 public:
  ConfigRenderer(const model::TrafficModel& model, const RenderOptions& options);
  // The text and the routes its lines were written for (views into the model).
  std::pair<std::string, std::vector<LineRun>> Render();

 private:
  void SortEverything();
  void CollectCertificates();

  // Whether the cluster chose an access log format (model::Settings::access_log).
  bool ClusterLog() const { return s_.access_log != model::AccessLogFormat::kOff; }
  // Whether anything is logged: the cluster's access log, or the legacy one
  // of the render options.
  bool Logging() const { return options_.log || ClusterLog(); }
  // Whether load balancers in front name the client (X-Forwarded-For).
  bool TrustsProxies() const { return !s_.trusted_proxies.empty(); }

  // haproxy_render_global.cc: global, defaults, the status front-end.
  void RenderGlobal(Writer& o);
  void RenderDefaults(Writer& o);
  void RenderStatus(Writer& o);
  model::Duration ServerTimeoutDefault() const;

  // haproxy_render_frontend.cc: the HTTP front-end.
  void RenderHttpFrontend(Writer& o);
  // The log-format line of the HTTP front-end, if any.
  void LogFormat(Writer& o);
  // The routing maps and lists (side files) the front-end's rules look up.
  void BuildRoutingFiles();
  // The file's name, registered as a side file; "" when it has no lines.
  std::string AddSideFile(std::string_view stem, std::string_view extension, FileLines lines);
  void HostRules(Writer& o);
  void RedirectRules(Writer& o);
  void LocationRules(Writer& o);
  // The ACLs of a location's match on a host routed by rules.
  void MatchConditions(Writer& o, const model::Location& l);
  void FallbackRules(Writer& o, Writer& use);
  // The backends of `split`'s upstreams for `loc`, in order.
  std::vector<std::string> SplitBackends(const model::Location& loc,
                                         const std::vector<model::WeightedUpstream>& split);
  void VariantRules(Writer& rules, Writer& late, Writer& use, const Variant& v);
  // The request rules of one variant (client address access, CORS
  // preflights, redirect, fixed status, 503, rate limit, sticky cookie,
  // rewrite, canary ACLs); nothing for a plain route.
  void RequestRules(Writer& rules, const Variant& v);
  // The first of them: 403 for clients outside the location's networks, then
  // the allowed CORS origin and the answers to preflights.
  void AccessRules(Writer& o, const std::string& acl, const model::Location& loc);
  // The client's address is rewritten from X-Forwarded-For when the peer is a
  // trusted load balancer.
  void TrustedProxyRules(Writer& o);
  // The rules of one variant that follow the front-end's own header rules,
  // so that they win: its header filters and Host rewrite, its response
  // header filters and its CORS response headers.
  void HeaderRules(Writer& late, const Variant& v);
  void RedirectLocation(Writer& o, const std::string& acl, const model::Location& loc);
  void SelectionRules(Writer& use, const Variant& v);
  void SplitRules(Writer& use, const model::Location& loc, const std::string& cond,
                  const std::vector<model::WeightedUpstream>& split, bool sticky);
  // Rules replacing the prefix `loc.path` of the request path with `to`.
  void RewriteRules(Writer& o, const std::string& loc_acl, const model::Location& loc,
                    std::string_view to);
  void RenderRedirect(Writer& o, const model::HostRedirect& r, const std::string& id);
  const Variant& VariantOf(const model::Location& loc);
  // Whether `v`'s backend comes from the backend map (one upstream, no
  // canary, no session cookie) rather than use_backend rules of its own.
  bool ByMap(const Variant& v) const;

  // haproxy_render_backends.cc: backends and rate-limit tables.
  Profile ProfileOf(const model::Location& loc, const model::Upstream& u) const;
  std::string BackendName(const model::Upstream& u, const Profile& p);
  const model::Upstream& UpstreamNamed(const std::string& name);
  std::string RateTable(const model::Location& loc);
  void RenderBackends(Writer& o);
  void RenderBackend(Writer& o, const Backend& b);
  // The lines of a backend between its name and its servers, for `servers`
  // servers; whether it inserts a session cookie.
  bool BackendSettings(Writer& o, const model::Upstream& u, const Profile& p, size_t servers);
  model::Duration CheckTimeout(const Profile& p) const;
  void RenderSpareBackends(Writer& o);
  void ServerLine(Writer& o, const model::Upstream& u, const model::UpstreamServer& sv,
                  const std::string& name, bool cookie, bool http,
                  const std::string& track = std::string());

  // haproxy_render_tcp.cc: the SNI front-end of TLS passthrough.
  void RenderTcp(Writer& o);

  // Written after everything else as marked comment blocks.
  void RenderSideFiles(Writer& o);

  const model::TrafficModel& m_;
  const model::Settings& s_;
  const RenderOptions& options_;
  bool passthrough_ = false;               // some passthrough route has endpoints and hosts
  bool tls_ = false;                       // some certificate is served (terminated TLS)
  bool del_ext_ = false;                   // ssl-load-extra-del-ext
  bool websocket_ = false;                 // some location is a websocket
  std::vector<std::string> certificates_;  // crt paths, sorted, unique
  std::vector<SortedServer> servers_;
  std::vector<const model::Upstream*> upstreams_sorted_;
  std::vector<const model::HostRedirect*> redirects_;
  std::vector<std::string> redirect_ids_;  // txn.sg_srv of each redirect: "r" + a hash
  std::vector<const model::PassthroughRoute*> passthrough_sorted_;
  std::unordered_map<std::string_view, const model::Upstream*> upstream_by_name_;
  std::deque<model::Upstream> undeclared_;  // named by a selection, not declared
  // Keys view model strings, which outlive the renderer.
  std::deque<Variant> variants_;  // in render order; stable addresses
  std::unordered_map<std::string_view, std::vector<const Variant*>> variants_by_route_;
  std::unordered_map<const model::Upstream*, std::vector<Backend>> backends_;
  std::unordered_map<std::string_view, std::vector<std::pair<int, std::string>>> tables_;
  std::vector<std::pair<const model::Location*, std::string>> table_order_;
  // Health checks shared by address: the first HTTP server (in render order)
  // with an address and check settings checks it; later servers with both the
  // same track it ("backend/server"). Key: address, then the check settings.
  std::unordered_map<std::string, std::string> check_leaders_;
  // Side files (haproxy_side_files.h) and the names the rules use; a name is
  // empty when its file would have no entries.
  std::vector<std::pair<SideFile, std::vector<std::string_view>>> side_files_;  // + line routes
  std::string hosts_map_;       // Host -> txn.sg_srv, every exact host (plain HTTP)
  std::string tls_hosts_map_;   // the same for the hosts served over TLS
  std::string paths_map_;       // "<sg_srv><context root>/" -> txn.sg_loc
  std::string backends_map_;    // txn.sg_loc -> backend, one-upstream locations
  std::string websocket_list_;  // txn.sg_loc of the websocket locations
  std::string https_list_;      // txn.sg_srv of the hosts redirected to HTTPS
};

}  // namespace sg::haproxy::internal
