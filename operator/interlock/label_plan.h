#pragma once
// Interlock labels of one service, parsed into a plan for its route, and the
// string helpers the converter shares with it. Internal to the converter.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "operator/interlock/converter.h"

namespace sg::interlock::detail {

inline constexpr const char* kPrefix = "com.docker.lb.";
inline constexpr size_t kMaxName = 40;
// The label `docker stack deploy` puts on the services (and networks) of a
// stack: the stack's name.
inline constexpr const char* kStackNamespaceLabel = "com.docker.stack.namespace";
// The overlay network UCP creates for Interlock's own services.
inline constexpr const char* kInterlockNetwork = "ucp-interlock";
// Interlock's nginx answered its redirects with 302 Moved Temporarily and no
// label changes the code; swarmgate's own default is 301.
inline constexpr int kInterlockRedirectCode = 302;

struct Tls {
  std::string mode;  // terminate | passthrough
  std::string secret;
  bool redirect_http = false;
  bool operator==(const Tls& o) const {
    return std::tie(mode, secret, redirect_http) == std::tie(o.mode, o.secret, o.redirect_http);
  }
};

struct Redirect {
  std::string from, to;
  int code = kInterlockRedirectCode;
  bool operator==(const Redirect& o) const {
    return std::tie(from, to, code) == std::tie(o.from, o.to, o.code);
  }
};

struct Plan {
  std::string service;
  std::optional<uint64_t> replicas;
  std::string cluster;
  std::vector<std::string> hosts;  // empty: a default backend without a route
  int port = 0;
  std::string path = "/";
  bool rewrite = false;
  std::optional<Tls> tls;
  std::string sticky;
  std::string backend_mode;
  std::vector<std::string> websocket_paths;
  std::vector<Redirect> redirects;
  std::string network;
  // The networks the service is attached to (ServiceInput::networks); empty
  // when unknown.
  std::vector<std::string> attached_networks;
  // com.docker.lb.default_backend=true: the service answers the requests no
  // route of its cluster claims.
  bool default_backend = false;
  std::vector<std::string> notes;  // comments for the route document

  // What must agree for two services to share one Route.
  auto RouteSettings() const {
    return std::tie(rewrite, tls, sticky, backend_mode, websocket_paths, redirects);
  }
};

struct ParseOutcome {
  std::optional<Plan> plan;
  std::string skip_reason;  // set when plan is empty
};

std::string Trim(const std::string& s);
std::string Lower(std::string s);
std::vector<std::string> SplitList(const std::string& s);
std::string Join(const std::vector<std::string>& v, const std::string& sep);
std::string Shown(const std::string& v);
std::string CommentText(const std::string& s);
std::string Scalar(const std::string& s);
std::optional<bool> ParseBool(const std::string& raw);
std::optional<int> ParsePort(const std::string& raw);
std::string UnmappedReason(const std::string& key);
std::optional<std::string> RedirectSourceHost(const std::string& raw);
// A com.docker.lb.* key (prefix removed) the import translates.
bool IsMappedLabel(const std::string& key);
// The network com.docker.lb.network means for this service: `network`, or
// STACK_network when only that one is attached (a stack file's name).
std::string ResolveStackNetwork(const std::string& network, const ServiceInput& svc);
ParseOutcome Skip(const std::string& label, const std::string& value, const std::string& why);
ParseOutcome ParseService(const ServiceInput& svc,
                          const std::map<std::string, std::string>& lb,  // prefix removed
                          const ConvertOptions& options);

}  // namespace sg::interlock::detail
