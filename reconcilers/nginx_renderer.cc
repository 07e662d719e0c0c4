#include "reconcilers/nginx_renderer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sg::nginx {
namespace {

// ---------------------------------------------------------------------------
// Output primitives. Everything is appended to one reserved string: rendering
// 10,000 routes must stay well under 100 ms, so no streams and no regexes.

bool SafeChar(char c, bool quoted) {
  if (c == ' ') return quoted;
  if (c < 0x21 || c > 0x7e) return false;
  switch (c) {
    case '"':
    case '\'':
    case '\\':
    case '$':
      return false;
    case ';':
    case '{':
    case '}':
    case '#':
      return quoted;
    default:
      return true;
  }
}

bool IsSafe(std::string_view s, bool quoted) {
  if (s.empty()) return quoted;
  for (char c : s) {
    if (!SafeChar(c, quoted)) return false;
  }
  return true;
}

class Out {
 public:
  explicit Out(size_t reserve) { s_.reserve(reserve); }

  Out& operator<<(std::string_view v) {
    s_.append(v);
    return *this;
  }
  Out& operator<<(char c) {
    s_.push_back(c);
    return *this;
  }
  Out& operator<<(long long n) {
    fmt::format_int f(n);
    s_.append(f.data(), f.size());
    return *this;
  }
  Out& operator<<(int n) { return *this << static_cast<long long>(n); }

  // A model string as one nginx word; unsafe characters become '_' so that a
  // string can never close a directive or block, start a comment or a variable.
  Out& Tok(std::string_view v) { return Sanitized(v, false); }
  // A model string between double quotes.
  Out& Quoted(std::string_view v) {
    s_.push_back('"');
    Sanitized(v, true);
    s_.push_back('"');
    return *this;
  }

  std::string Take() { return std::move(s_); }
  void Reserve(size_t more) { s_.reserve(s_.size() + more); }
  size_t size() const { return s_.size(); }

 private:
  Out& Sanitized(std::string_view v, bool quoted) {
    if (v.empty() && !quoted) {
      s_.push_back('_');
      return *this;
    }
    for (char c : v) s_.push_back(SafeChar(c, quoted) ? c : '_');
    return *this;
  }

  std::string s_;
};

// Durations in the largest exact unit nginx accepts.
struct Dur {
  Duration d;
};
Out& operator<<(Out& o, Dur d) {
  long long ms = d.d.count();
  if (ms % 1000 == 0) return o << ms / 1000 << 's';
  return o << ms << "ms";
}

struct Size {
  long long bytes;
};
Out& operator<<(Out& o, Size s) {
  if (s.bytes != 0 && s.bytes % (1LL << 20) == 0) return o << s.bytes / (1LL << 20) << 'm';
  if (s.bytes != 0 && s.bytes % 1024 == 0) return o << s.bytes / 1024 << 'k';
  return o << s.bytes;
}

// Variable-name fragment for a route or cookie name. Route names are
// [a-z0-9-], for which '-' -> '_' is one-to-one.
struct Ident {
  std::string_view v;
};
Out& operator<<(Out& o, Ident id) {
  for (char c : id.v) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    o << (alnum ? c : '_');
  }
  return o;
}

std::string SafeToken(std::string_view v) {
  Out o(v.size() + 1);
  o.Tok(v);
  return o.Take();
}

std::string IdentString(std::string_view v) {
  Out o(v.size());
  o << Ident{v};
  return o.Take();
}

bool IsVariableName(std::string_view v) {
  if (v.empty()) return false;
  for (char c : v) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

// Escapes a literal path for use inside a PCRE pattern.
void AppendRegexLiteral(Out& o, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '.':
      case '*':
      case '+':
      case '?':
      case '(':
      case ')':
      case '[':
      case ']':
      case '^':
      case '|':
        o << '\\';
        break;
      default:
        break;
    }
    o << c;
  }
}

size_t NextPow2(size_t n) {
  size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

std::string JoinCertPath(const Settings& s, const std::string& file) {
  if (file.empty() || file[0] == '/' || s.certs_dir.empty()) return file;
  std::string p = s.certs_dir;
  if (p.back() != '/') p.push_back('/');
  return p + file;
}

// Strips trailing slashes: "/api/" and "/api" are one context root; "/" stays "/".
std::string_view BasePath(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return path.empty() ? std::string_view("/") : path;
}

// ---------------------------------------------------------------------------
// Sorted views of the model: render order must not depend on input order.

struct SortedServer {
  const Server* server;
  std::vector<std::string_view> hosts;
  std::vector<const Location*> locations;
};

template <class T, class Less>
std::vector<const T*> SortedPtrs(const std::vector<T>& v, Less less) {
  std::vector<const T*> out;
  out.reserve(v.size());
  for (const T& x : v) out.push_back(&x);
  std::sort(out.begin(), out.end(), [&](const T* a, const T* b) { return less(*a, *b); });
  return out;
}

std::vector<std::string_view> SortedHosts(const std::vector<std::string>& hosts) {
  std::vector<std::string_view> out(hosts.begin(), hosts.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool LocationLess(const Location* a, const Location* b) {
  return std::tie(a->path, a->route) < std::tie(b->path, b->route);
}

std::vector<const UpstreamServer*> SortedServers(const Upstream& u) {
  return SortedPtrs(u.servers, [](const UpstreamServer& a, const UpstreamServer& b) {
    return std::tie(a.address, a.weight) < std::tie(b.address, b.weight);
  });
}

using BackendKey = std::tuple<std::string_view, int, bool>;

std::vector<BackendKey> BackendKeys(const Location& l) {
  std::vector<BackendKey> keys;
  keys.reserve(l.backends.size());
  for (const BackendRef& b : l.backends) keys.emplace_back(b.upstream, b.weight, b.canary);
  std::sort(keys.begin(), keys.end());
  return keys;
}

// Whether two locations (of one route, on different hosts) select backends alike.
bool SameBackends(const Location& a, const Location& b) {
  return a.canary.header_name == b.canary.header_name &&
         a.canary.header_value == b.canary.header_value &&
         a.canary.cookie_name == b.canary.cookie_name &&
         a.canary.cookie_value == b.canary.cookie_value && BackendKeys(a) == BackendKeys(b);
}

// ---------------------------------------------------------------------------

class Renderer {
 public:
  explicit Renderer(const ProxyModel& m)
      : m_(m), s_(m.settings), out_(8192 + 128 * m.upstreams.size()), maps_(1024), zones_(256) {}

  std::string Render() {
    upstreams_.reserve(m_.upstreams.size());
    for (const Upstream& u : m_.upstreams) upstreams_.emplace(u.name, &u);
    SortEverything();

    passthrough_ = false;
    for (const PassthroughRoute* p : passthrough_sorted_) {
      if (!p->upstream.servers.empty() && !p->hosts.empty()) passthrough_ = true;
    }
    tls_ = passthrough_;
    for (const SortedServer& ss : servers_) tls_ = tls_ || ss.server->tls.has_value();
    for (const HostRedirect* r : redirects_) tls_ = tls_ || r->tls.has_value();

    // Servers are rendered first into their own buffer because they register the
    // maps, split_clients and zones that must appear before them.
    Out servers(EstimateServersSize(m_));
    RenderDefaultServers(servers);
    RenderStatusServer(servers);
    for (const SortedServer& ss : servers_) RenderServer(servers, ss);
    for (const HostRedirect* r : redirects_) RenderRedirect(servers, *r);

    RenderMain();
    out_ << "http {\n";
    RenderHttpSettings();
    std::string z = zones_.Take();
    if (!z.empty()) out_ << "\n    # Rate limits, one zone per route.\n" << z;
    RenderUpstreams();
    out_.Reserve(maps_.size() + servers.size() + 256);
    std::string maps = maps_.Take();
    if (!maps.empty())
      out_ << "\n    # Backend selection per route: canary rules, then the weighted split.\n"
           << maps;
    out_ << servers.Take();
    out_ << "}\n";
    if (passthrough_) RenderStream();
    return out_.Take();
  }

 private:
  static size_t EstimateServersSize(const ProxyModel& m) {
    size_t n = 2048 + 256 * m.redirects.size();
    for (const Server& s : m.servers) n += 256 + 512 * s.locations.size();
    return n;
  }

  void SortEverything() {
    servers_.reserve(m_.servers.size());
    for (const Server& s : m_.servers) {
      SortedServer ss{&s, SortedHosts(s.hosts), {}};
      ss.locations.reserve(s.locations.size());
      for (const Location& l : s.locations) ss.locations.push_back(&l);
      std::sort(ss.locations.begin(), ss.locations.end(), LocationLess);
      servers_.push_back(std::move(ss));
    }
    std::sort(servers_.begin(), servers_.end(), [](const SortedServer& a, const SortedServer& b) {
      if (a.hosts != b.hosts) return a.hosts < b.hosts;
      // Identical host lists are a builder bug; still keep the order stable.
      size_t n = std::min(a.locations.size(), b.locations.size());
      for (size_t i = 0; i < n; ++i) {
        if (LocationLess(a.locations[i], b.locations[i])) return true;
        if (LocationLess(b.locations[i], a.locations[i])) return false;
      }
      return a.locations.size() < b.locations.size();
    });
    upstreams_sorted_ = SortedPtrs(
        m_.upstreams, [](const Upstream& a, const Upstream& b) { return a.name < b.name; });
    redirects_ = SortedPtrs(m_.redirects, [](const HostRedirect& a, const HostRedirect& b) {
      return std::tie(a.from_host, a.route, a.to_url) < std::tie(b.from_host, b.route, b.to_url);
    });
    passthrough_sorted_ =
        SortedPtrs(m_.passthrough, [](const PassthroughRoute& a, const PassthroughRoute& b) {
          return std::tie(a.route, a.upstream.name) < std::tie(b.route, b.upstream.name);
        });
  }

  // -- main and http context ------------------------------------------------

  void RenderMain() {
    const RuntimePaths& r = m_.runtime;
    out_ << "# Generated by swarmgate from the routes of one ServiceCluster. Do not edit.\n";
    if (passthrough_) out_ << "load_module " << Tok(r.stream_module) << ";\n";
    if (!r.user.empty()) out_ << "user " << Tok(r.user) << ";\n";
    out_ << "worker_processes ";
    if (s_.worker_processes > 0) {
      out_ << s_.worker_processes;
    } else {
      out_ << "auto";
    }
    out_ << ";\n";
    out_ << "pid " << Tok(r.pid_file) << ";\n";
    out_ << "error_log " << Tok(r.error_log) << ";\n";
    if (!r.daemon) out_ << "daemon off;\n";
    out_ << "\nevents {\n    worker_connections " << s_.worker_connections << ";\n}\n\n";
  }

  void RenderHttpSettings() {
    const RuntimePaths& r = m_.runtime;
    size_t names = 0, longest = 0, variables = 64;
    auto count = [&](std::string_view h) {
      ++names;
      longest = std::max(longest, h.size());
    };
    for (const SortedServer& ss : servers_) {
      for (std::string_view h : ss.hosts) count(h);
      variables += 4 * ss.locations.size();
      for (const Location* l : ss.locations) {
        longest = std::max({longest, l->canary.header_value.size(), l->canary.cookie_value.size()});
      }
    }
    for (const HostRedirect* rd : redirects_) count(rd->from_host);

    out_ << "    default_type text/plain;\n"
            "    server_tokens off;\n";
    out_ << "    keepalive_timeout " << Dur{s_.keepalive_timeout} << ";\n";
    out_ << "    client_max_body_size " << Size{s_.client_max_body_size} << ";\n";
    // Sized from the model so that thousands of hosts and routes never trip
    // nginx's "could not build the ... hash" errors.
    out_ << "    server_names_hash_max_size "
         << static_cast<long long>(NextPow2(std::max<size_t>(1024, 2 * names))) << ";\n";
    out_ << "    server_names_hash_bucket_size "
         << static_cast<long long>(std::max<size_t>(128, NextPow2(longest + 32))) << ";\n";
    out_ << "    variables_hash_max_size "
         << static_cast<long long>(NextPow2(std::max<size_t>(1024, 2 * variables))) << ";\n";
    out_ << "    variables_hash_bucket_size 128;\n";
    out_ << "    map_hash_bucket_size "
         << static_cast<long long>(std::max<size_t>(128, NextPow2(longest + 32))) << ";\n";

    out_ << "\n    # Run-time files, relative to the nginx prefix.\n";
    for (const char* kind : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
      out_ << "    " << kind << "_temp_path ";
      if (!r.temp_dir.empty()) out_ << Tok(r.temp_dir) << '/';
      out_ << kind << "_temp;\n";
    }
    out_ << "\n    log_format sg '$remote_addr - [$time_local] \"$host\" \"$request\" $status "
            "$body_bytes_sent $request_time \"$upstream_addr\" \"$upstream_status\" "
            "$sg_request_id';\n";
    if (r.access_log == "off") {
      out_ << "    access_log off;\n";
    } else {
      out_ << "    access_log " << Tok(r.access_log) << " sg;\n";
    }

    out_ << "\n    map $http_upgrade $connection_upgrade {\n"
            "        default upgrade;\n"
            "        \"\" close;\n"
            "    }\n";
    // Keep the caller's request id so a trace spans the load balancer in front
    // of the proxies; otherwise nginx's random 128-bit $request_id.
    out_ << "    map $http_x_request_id $sg_request_id {\n"
            "        \"\" $request_id;\n"
            "        default $http_x_request_id;\n"
            "    }\n";
    if (passthrough_) {
      // Terminated TLS arrives on the loopback port from the stream front-end;
      // upstreams must see the public port.
      out_ << "    map $server_port $sg_forwarded_port {\n"
           << "        " << s_.tls_internal_port << ' ' << s_.https_port << ";\n"
           << "        default $server_port;\n"
           << "    }\n";
    }

    out_ << "\n    # Upstream requests: HTTP/1.1 with keep-alive. Locations that set any\n"
            "    # proxy_set_header (websockets) repeat the whole list: nginx does not\n"
            "    # merge it with this level.\n";
    RenderProxyHeaders(out_, "    ", false);
    out_ << "    add_header X-Request-Id $sg_request_id always;\n";
    out_ << "    proxy_connect_timeout " << Dur{s_.default_timeouts.connect} << ";\n";
    out_ << "    proxy_read_timeout " << Dur{s_.default_timeouts.read} << ";\n";
    out_ << "    proxy_send_timeout " << Dur{s_.default_timeouts.send} << ";\n";
    // A task that is stopping or gone refuses or times out the connection:
    // nothing was sent yet, so retrying on another task is safe for every method
    // (nginx never resends a non-idempotent request once it was sent). The
    // retry window covers connect attempts only, so a slow backend is not asked
    // again after its read timeout (the client gets 504).
    out_ << "    proxy_next_upstream error timeout http_502 http_503;\n";
    out_ << "    proxy_next_upstream_tries " << s_.next_upstream_tries << ";\n";
    out_ << "    proxy_next_upstream_timeout "
         << Dur{s_.default_timeouts.connect * std::max(1, s_.next_upstream_tries)} << ";\n";
    out_ << "    limit_req_status 429;\n";
    if (tls_) {
      out_ << "\n    ssl_protocols TLSv1.2 TLSv1.3;\n"
              "    ssl_prefer_server_ciphers off;\n"
              "    ssl_session_cache shared:SSL:10m;\n"
              "    ssl_session_timeout 1h;\n";
    }
  }

  void RenderProxyHeaders(Out& o, std::string_view in, bool websocket) {
    o << in << "proxy_http_version 1.1;\n";
    o << in << "proxy_set_header Host $host;\n";
    o << in << "proxy_set_header X-Request-Id $sg_request_id;\n";
    o << in << "proxy_set_header X-Real-IP $remote_addr;\n";
    o << in << "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n";
    o << in << "proxy_set_header X-Forwarded-Proto $scheme;\n";
    o << in << "proxy_set_header X-Forwarded-Host $host;\n";
    o << in << "proxy_set_header X-Forwarded-Port "
      << (passthrough_ ? "$sg_forwarded_port" : "$server_port") << ";\n";
    if (websocket) {
      o << in << "proxy_set_header Upgrade $http_upgrade;\n";
      o << in << "proxy_set_header Connection $connection_upgrade;\n";
    } else {
      o << in << "proxy_set_header Connection \"\";\n";
    }
  }

  // -- upstreams --------------------------------------------------------------

  void RenderUpstreams() {
    bool any = false;
    for (const Upstream* u : upstreams_sorted_) {
      if (!any) {
        out_ << "\n    # Upstreams without endpoints are omitted (nginx rejects an empty\n"
                "    # upstream); their locations answer 503.\n";
        any = true;
      }
      if (u->servers.empty()) {
        out_ << "    # upstream " << Tok(u->name) << ": no endpoints\n";
        continue;
      }
      out_ << "    upstream " << Tok(u->name) << " {\n";
      if (!u->sticky_cookie.empty()) {
        // Sticky sessions without nginx plus: a consistent hash of the session
        // cookie. New clients hash on their request id, which is also the cookie
        // value they receive (see sg_ss_*), so their next requests stay on the
        // same task. When a task goes away only its sessions move (to the next
        // task on the ring); other sessions stay where they are.
        out_ << "        hash " << StickyKeyVar(u->sticky_cookie) << " consistent;\n";
      }
      for (const UpstreamServer* sv : SortedServers(*u)) {
        out_ << "        server " << Tok(sv->address);
        if (sv->weight != 1) out_ << " weight=" << sv->weight;
        PassiveHealth(out_, *u);
        out_ << ";\n";
      }
      if (u->keepalive > 0) out_ << "        keepalive " << u->keepalive << ";\n";
      out_ << "    }\n";
    }
  }

  // nginx's defaults (1 failure, 10s) are left implicit: shorter configs.
  static void PassiveHealth(Out& o, const Upstream& u) {
    if (u.max_fails != 1) o << " max_fails=" << u.max_fails;
    if (u.fail_timeout != Duration{10000}) o << " fail_timeout=" << Dur{u.fail_timeout};
  }

  const Upstream* FindUpstream(const std::string& name) const {
    auto it = upstreams_.find(name);
    return it == upstreams_.end() ? nullptr : it->second;
  }

  // -- cookies ----------------------------------------------------------------

  // The variable holding a cookie's value. Names nginx can spell as a variable
  // use $cookie_NAME; others are extracted from the Cookie header once.
  std::string CookieVar(const std::string& name) {
    if (IsVariableName(name)) return "$cookie_" + name;
    std::string var = "$sg_ckx_" + Hex(name);
    if (cookie_maps_.emplace(var, true).second) {
      maps_ << "    map $http_cookie " << var << " {\n";
      // The cookie name is a literal inside the regex; $1 is its value.
      maps_ << "        \"~(?:^|;)\\s*";
      for (char c : name) {
        if (!SafeChar(c, true) || c == ' ') {
          maps_ << '_';
          continue;
        }
        AppendRegexLiteral(maps_, std::string_view(&c, 1));
      }
      maps_ << "=([^;]*)\" $1;\n        default \"\";\n    }\n";
    }
    return var;
  }

  static std::string Hex(std::string_view v) {
    static const char* kDigits = "0123456789abcdef";
    std::string out;
    out.reserve(v.size() * 2);
    for (unsigned char c : v) {
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 15]);
    }
    return out;
  }

  static std::string CookieSuffix(const std::string& name) {
    return IsVariableName(name) ? "_" + name : "x_" + Hex(name);
  }

  // $sg_sk_NAME: the sticky hash key — the cookie, or for a new client its
  // request id. $sg_ss_NAME: the Set-Cookie value for new clients, empty (no
  // header) for clients that already have the cookie.
  std::string StickyKeyVar(const std::string& cookie) {
    std::string suffix = CookieSuffix(cookie);
    std::string var = "$sg_sk" + suffix;
    if (sticky_maps_.emplace(suffix, true).second) {
      std::string cv = CookieVar(cookie);
      maps_ << "    map " << cv << ' ' << var << " {\n"
            << "        \"\" $request_id;\n"
            << "        default " << cv << ";\n    }\n";
      maps_ << "    map " << cv << " $sg_ss" << suffix << " {\n"
            << "        \"\" \"";
      maps_.Tok(cookie);
      maps_ << "=$request_id; Path=/; HttpOnly; SameSite=Lax\";\n"
            << "        default \"\";\n    }\n";
    }
    return var;
  }

  // -- backend selection ------------------------------------------------------

  struct Choice {
    const BackendRef* ref;
    const Upstream* upstream;
    long long weight;
  };

  // Emits split_clients for `choices` keyed by `key` into variable `var`, or
  // returns the single upstream's name.
  std::string Split(std::vector<Choice> choices, const std::string& key, const std::string& var,
                    std::string_view route) {
    // The name may end up as a map value: sanitise it like any other token.
    if (choices.size() == 1) return SafeToken(choices[0].upstream->name);
    long long total = 0;
    for (const Choice& c : choices) total += c.weight;
    if (total <= 0) {
      for (Choice& c : choices) c.weight = 1;
      total = static_cast<long long>(choices.size());
    }
    // split_clients hashes the key of each request: with $request_id (random per
    // request) every request is split independently by weight, whatever the
    // replica counts. Percentages have two decimals; the last backend takes the
    // rounding remainder through "*". Sticky routes key on the session cookie
    // instead so a session keeps its backend service too.
    maps_ << "    # route " << Tok(route) << "\n";
    maps_ << "    split_clients \"" << key << "\" " << var << " {\n";
    for (size_t i = 0; i < choices.size(); ++i) {
      const Choice& c = choices[i];
      if (i + 1 == choices.size()) {
        maps_ << "        * " << Tok(c.upstream->name) << ";\n";
        break;
      }
      long long bp = c.weight * 10000 / total;  // basis points
      if (bp <= 0) continue;
      maps_ << "        " << bp / 100;
      if (bp % 100 != 0) {
        maps_ << '.' << static_cast<char>('0' + (bp % 100) / 10);
        if (bp % 10 != 0) maps_ << static_cast<char>('0' + bp % 10);
      }
      maps_ << "% " << Tok(c.upstream->name) << ";\n";
    }
    maps_ << "    }\n";
    return var;
  }

  // The session cookie of a location's live sticky backends (they normally
  // share one; if not, the smallest name, so input order does not matter).
  std::string_view StickyCookie(const Location& loc) const {
    std::string_view cookie;
    for (const BackendRef& b : loc.backends) {
      const Upstream* u = FindUpstream(b.upstream);
      if (u == nullptr || u->servers.empty() || u->sticky_cookie.empty()) continue;
      if (cookie.empty() || u->sticky_cookie < cookie) cookie = u->sticky_cookie;
    }
    return cookie;
  }

  // Returns what proxy_pass targets for `loc`: "" (no endpoints: 503), an
  // upstream name, or a "$variable" naming one. Backends without endpoints are
  // left out of the split so their share goes to the others instead of failing;
  // a canary rule without live canaries falls through to the split.
  std::string Target(const Location& loc) {
    // One set of variables per route; a route rendered on several hosts shares it.
    auto& variants = selections_[loc.route];
    for (const auto& [other, target] : variants) {
      if (SameBackends(*other, loc)) return target;
    }
    std::string target = ComputeTarget(loc, variants.size());
    variants.emplace_back(&loc, target);
    return target;
  }

  std::string ComputeTarget(const Location& loc, size_t variant) {
    std::vector<const BackendRef*> refs;
    for (const BackendRef& b : loc.backends) refs.push_back(&b);
    std::sort(refs.begin(), refs.end(), [](const BackendRef* a, const BackendRef* b) {
      return std::tie(a->upstream, a->weight, a->canary) <
             std::tie(b->upstream, b->weight, b->canary);
    });
    std::vector<Choice> live, weighted, canary;
    for (const BackendRef* b : refs) {
      const Upstream* u = FindUpstream(b->upstream);
      if (u == nullptr || u->servers.empty()) continue;
      Choice c{b, u, std::max(0, b->weight)};
      live.push_back(c);
      if (c.weight > 0) weighted.push_back(c);
      if (b->canary) canary.push_back(c);
    }
    if (live.empty()) return "";
    // All weights 0: split evenly. Likewise among canaries, where weight 0 would
    // otherwise mean "header-only canary that the header cannot reach".
    if (weighted.empty()) weighted = live;
    std::vector<Choice> weighted_canary;
    for (const Choice& c : canary) {
      if (c.weight > 0) weighted_canary.push_back(c);
    }
    if (!weighted_canary.empty()) canary = std::move(weighted_canary);

    std::string_view sticky = StickyCookie(loc);
    std::string key = sticky.empty() ? "${request_id}" : StickyKeyVar(std::string(sticky));
    std::string id = IdentString(loc.route);
    std::string v = variant == 0 ? "" : std::to_string(variant + 1);
    std::string normal = Split(weighted, key, "$sg_w" + v + "_" + id, loc.route);

    const CanaryRule& rule = loc.canary;
    bool has_rule = !rule.header_name.empty() || !rule.cookie_name.empty();
    if (!has_rule || canary.empty()) return normal;
    std::string canary_target = Split(canary, key, "$sg_cw" + v + "_" + id, loc.route);
    if (canary_target == normal) return normal;

    std::string next = normal;
    if (!rule.cookie_name.empty()) {
      std::string var = "$sg_c" + v + "_" + id;
      // CookieVar may itself write a map into maps_: call it before streaming.
      std::string cookie_var = CookieVar(rule.cookie_name);
      maps_ << "    # route " << Tok(loc.route) << ": canary cookie " << Tok(rule.cookie_name)
            << "\n";
      maps_ << "    map " << cookie_var << ' ' << var << " {\n";
      MatchArms(rule.cookie_value, canary_target, next);
      next = var;
    }
    if (!rule.header_name.empty()) {
      std::string var = "$sg_h" + v + "_" + id;
      maps_ << "    # route " << Tok(loc.route) << ": canary header " << Tok(rule.header_name)
            << "\n";
      maps_ << "    map $http_";
      for (char c : rule.header_name) {
        maps_ << (c == '-' ? '_' : static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
      }
      maps_ << ' ' << var << " {\n";
      MatchArms(rule.header_value, canary_target, next);
      next = var;
    }
    return next;
  }

  // Map arms: `value` (or, when empty, any non-empty value) -> on_match.
  void MatchArms(const std::string& value, const std::string& on_match, const std::string& other) {
    if (value.empty()) {
      maps_ << "        \"\" " << other << ";\n        default " << on_match << ";\n    }\n";
      return;
    }
    maps_ << "        ";
    // A leading '~' would make the key a regex and the words below are map
    // keywords: nginx takes them literally behind a backslash.
    if (value[0] == '~' || value == "default" || value == "hostnames" || value == "include" ||
        value == "volatile") {
      maps_ << "\"\\";
      maps_.Tok(value);
      maps_ << '"';
    } else {
      maps_.Quoted(value);
    }
    maps_ << ' ' << on_match << ";\n        default " << other << ";\n    }\n";
  }

  // -- servers ----------------------------------------------------------------

  void HttpsListen(Out& o, bool default_server) {
    if (passthrough_) {
      o << "        listen 127.0.0.1:" << s_.tls_internal_port << " ssl proxy_protocol";
    } else {
      o << "        listen " << s_.https_port << " ssl";
    }
    o << (default_server ? " default_server;\n" : ";\n");
    if (passthrough_) {
      // The client address comes from the stream front-end's PROXY header, so
      // logs, X-Forwarded-For and per-client rate limits see the real client.
      o << "        set_real_ip_from 127.0.0.1;\n        real_ip_header proxy_protocol;\n";
    }
  }

  void RenderDefaultServers(Out& o) {
    o << "\n    # Unknown hosts.\n    server {\n";
    o << "        listen " << s_.http_port << " default_server;\n";
    // The https port is listened on even without TLS routes: host-mode
    // proxies inherit it from the listener service, and a configuration
    // without it would close that socket for good at the next reload.
    HttpsListen(o, true);
    // No certificate for unknown names: refuse the handshake.
    o << "        ssl_reject_handshake on;\n";
    o << "        return 404;\n    }\n";
  }

  void RenderStatusServer(Out& o) {
    o << "\n    # Probes of the proxy agent and the task health check.\n    server {\n";
    o << "        listen ";
    if (!s_.status_address.empty()) o.Tok(s_.status_address) << ':';
    o << s_.status_port << ";\n";
    o << "        access_log off;\n"
         "        location = /healthz {\n            return 200 \"ok\\n\";\n        }\n"
         "        location = /nginx_status {\n            stub_status;\n        }\n"
         "        location / {\n            return 404;\n        }\n    }\n";
  }

  void ServerNames(Out& o, const std::vector<std::string_view>& hosts) {
    o << "        server_name";
    for (std::string_view h : hosts) o << ' ' << Tok(h);
    o << ";\n";
  }

  void RouteComment(Out& o, const SortedServer& ss) {
    std::vector<std::string_view> routes;
    for (const Location* l : ss.locations) routes.push_back(l->route);
    std::sort(routes.begin(), routes.end());
    routes.erase(std::unique(routes.begin(), routes.end()), routes.end());
    o << "\n    # " << (routes.size() == 1 ? "route" : "routes");
    for (size_t i = 0; i < routes.size(); ++i) o << (i ? ", " : " ") << Tok(routes[i]);
    o << '\n';
  }

  void Certificate(Out& o, const TlsCertificate& tls) {
    o << "        ssl_certificate " << Tok(JoinCertPath(s_, tls.certificate_file)) << ";\n";
    o << "        ssl_certificate_key " << Tok(JoinCertPath(s_, tls.key_file)) << ";\n";
  }

  void HttpsRedirect(Out& o) {
    o << "        return 301 https://$host";
    if (s_.https_port != 443) o << ':' << s_.https_port;
    o << "$request_uri;\n";
  }

  void RenderServer(Out& o, const SortedServer& ss) {
    const Server& sv = *ss.server;
    if (ss.hosts.empty()) return;
    bool split_http = sv.tls && sv.redirect_http;
    RouteComment(o, ss);
    if (split_http) {
      o << "    server {\n        listen " << s_.http_port << ";\n";
      ServerNames(o, ss.hosts);
      HttpsRedirect(o);
      o << "    }\n";
    }
    o << "    server {\n";
    if (!split_http) o << "        listen " << s_.http_port << ";\n";
    if (sv.tls) HttpsListen(o, false);
    ServerNames(o, ss.hosts);
    if (sv.tls) Certificate(o, *sv.tls);
    bool has_root = false;
    const Location* prev = nullptr;
    for (const Location* l : ss.locations) {
      // Two routes claiming one host+path are resolved by the builder (older
      // wins); a duplicate here would fail `nginx -t`, so keep the first.
      if (prev != nullptr && BasePath(prev->path) == BasePath(l->path)) continue;
      prev = l;
      has_root = has_root || BasePath(l->path) == "/";
      RenderLocation(o, *l);
    }
    if (!has_root) {
      // Without it nginx would look for static files under its prefix.
      o << "        location / {\n            return 404;\n        }\n";
    }
    o << "    }\n";
  }

  void RenderLocation(Out& o, const Location& loc) {
    std::string target = Target(loc);
    std::string zone = target.empty() ? std::string() : Zone(loc);
    std::string_view base = BasePath(loc.path);
    o << "        # route " << Tok(loc.route) << '\n';
    if (base == "/") {
      o << "        location / {\n";
      LocationBody(o, loc, target, zone, base, false);
      o << "        }\n";
      return;
    }
    // "/api" must match "/api" and "/api/..." but not "/apix": an exact location
    // plus a prefix location on "/api/". ^~ keeps any regex location from
    // taking over; among prefixes nginx picks the longest match.
    o << "        location = " << Tok(base) << " {\n";
    LocationBody(o, loc, target, zone, base, true);
    o << "        }\n";
    o << "        location ^~ " << Tok(base) << "/ {\n";
    LocationBody(o, loc, target, zone, base, false);
    o << "        }\n";
  }

  std::string Zone(const Location& loc) {
    const RateLimit& rl = loc.rate_limit;
    if (rl.requests_per_second <= 0) return "";
    auto& variants = zone_names_[loc.route];
    for (const auto& [rps, name] : variants) {
      if (rps == rl.requests_per_second) return name;
    }
    // Route names have no "_", so the rate suffix cannot collide with a name.
    std::string name = "rl_" + loc.route;
    if (!variants.empty()) name += "_" + std::to_string(rl.requests_per_second);
    variants.emplace_back(rl.requests_per_second, name);
    zones_ << "    # route " << Tok(loc.route) << '\n';
    zones_ << "    limit_req_zone $binary_remote_addr zone=" << Tok(name) << ':'
           << Tok(s_.rate_limit_zone_size) << " rate=" << rl.requests_per_second << "r/s;\n";
    return name;
  }

  void LocationBody(Out& o, const Location& loc, const std::string& target, const std::string& zone,
                    std::string_view base, bool exact) {
    constexpr std::string_view in = "            ";
    if (target.empty()) {
      o << in << "return 503;\n";
      return;
    }
    if (!zone.empty()) {
      o << in << "limit_req zone=" << Tok(zone);
      if (loc.rate_limit.burst > 0) o << " burst=" << loc.rate_limit.burst << " nodelay";
      o << ";\n";
    }
    const Timeouts& t = loc.timeouts;
    // Websockets stay open for long idle periods.
    Duration long_idle{3600 * 1000};
    if (t.connect.count() > 0) {
      o << in << "proxy_connect_timeout " << Dur{t.connect} << ";\n";
      o << in << "proxy_next_upstream_timeout "
        << Dur{t.connect * std::max(1, s_.next_upstream_tries)} << ";\n";
    }
    if (t.read.count() > 0 || loc.websocket) {
      o << in << "proxy_read_timeout " << Dur{t.read.count() > 0 ? t.read : long_idle} << ";\n";
    }
    if (t.send.count() > 0 || loc.websocket) {
      o << in << "proxy_send_timeout " << Dur{t.send.count() > 0 ? t.send : long_idle} << ";\n";
    }
    if (loc.websocket) RenderProxyHeaders(o, in, true);
    std::string_view sticky = StickyCookie(loc);
    if (!sticky.empty()) {
      // add_header here hides the http-level one: repeat it.
      o << in << "add_header Set-Cookie $sg_ss" << CookieSuffix(std::string(sticky)) << ";\n";
      o << in << "add_header X-Request-Id $sg_request_id always;\n";
    }
    if (loc.rewrite) {
      std::string_view to = *loc.rewrite;
      if (exact) {
        o << in << "rewrite ^ " << Tok(to) << " break;\n";
      } else {
        o << in << "rewrite ^";
        AppendRegexLiteral(o, base == "/" ? std::string_view() : base);
        o << "/(.*)$ " << Tok(to);
        if (to.empty() || to.back() != '/') o << '/';
        o << "$1 break;\n";
      }
    }
    o << in << "proxy_pass http://";
    if (target[0] == '$') {
      o << target;  // a variable name built here from Ident: safe
    } else {
      o << Tok(target);
    }
    o << ";\n";
  }

  void RenderRedirect(Out& o, const HostRedirect& r) {
    o << "\n    # route " << Tok(r.route) << ": redirect\n    server {\n";
    o << "        listen " << s_.http_port << ";\n";
    if (r.tls) HttpsListen(o, false);
    o << "        server_name " << Tok(r.from_host) << ";\n";
    if (r.tls) Certificate(o, *r.tls);
    // A bare origin ("https://new.example.com" or with a trailing "/") moves a
    // whole site: keep the path and query. A URL with a path is a landing page:
    // send everyone exactly there.
    std::string_view to = r.to_url;
    size_t scheme = to.find("://");
    size_t path = to.find('/', scheme == std::string_view::npos ? 0 : scheme + 3);
    bool bare = path == std::string_view::npos || to.substr(path) == "/";
    if (bare && path != std::string_view::npos) to = to.substr(0, path);
    o << "        return " << r.code << ' ' << Tok(to);
    if (bare) o << "$request_uri";
    o << ";\n    }\n";
  }

  // -- stream (TLS passthrough) -----------------------------------------------

  void RenderStream() {
    size_t longest = 0;
    size_t names = 0;
    for (const PassthroughRoute* p : passthrough_sorted_) {
      for (const std::string& h : p->hosts) {
        longest = std::max(longest, h.size());
        ++names;
      }
    }
    out_ << "\n# TLS passthrough shares the https port with terminated TLS: the front-end\n"
            "# reads the SNI without decrypting and hands the connection, with a PROXY\n"
            "# header carrying the client address, either to the passthrough server or to\n"
            "# the http block's TLS listener.\n";
    out_ << "stream {\n";
    out_ << "    map_hash_max_size "
         << static_cast<long long>(NextPow2(std::max<size_t>(2048, 2 * names))) << ";\n";
    out_ << "    map_hash_bucket_size "
         << static_cast<long long>(std::max<size_t>(128, NextPow2(longest + 32))) << ";\n";
    Out listener(256), upstream(256), upstreams(1024);
    for (const PassthroughRoute* p : passthrough_sorted_) {
      const Upstream& u = p->upstream;
      if (u.servers.empty() || p->hosts.empty()) {
        upstreams << "    # route " << Tok(p->route) << ": no endpoints\n";
        continue;
      }
      std::vector<std::string_view> hosts = SortedHosts(p->hosts);
      listener << "        # route " << Tok(p->route) << '\n';
      upstream << "        # route " << Tok(p->route) << '\n';
      for (std::string_view h : hosts) {
        listener << "        " << Tok(h) << " sg_passthrough;\n";
        upstream << "        " << Tok(h) << ' ' << Tok(u.name) << ";\n";
      }
      upstreams << "    # route " << Tok(p->route) << '\n';
      upstreams << "    upstream " << Tok(u.name) << " {\n";
      for (const UpstreamServer* sv : SortedServers(u)) {
        upstreams << "        server " << Tok(sv->address);
        if (sv->weight != 1) upstreams << " weight=" << sv->weight;
        PassiveHealth(upstreams, u);
        upstreams << ";\n";
      }
      upstreams << "    }\n";
    }
    out_ << "    map $ssl_preread_server_name $sg_tls_listener {\n        hostnames;\n"
         << listener.Take() << "        default sg_terminate;\n    }\n";
    out_ << "    map $ssl_preread_server_name $sg_passthrough_upstream {\n        hostnames;\n"
         << upstream.Take() << "        default \"\";\n    }\n";
    out_ << "    upstream sg_terminate {\n        server 127.0.0.1:" << s_.tls_internal_port
         << ";\n    }\n";
    out_ << "    upstream sg_passthrough {\n        server 127.0.0.1:"
         << s_.passthrough_internal_port << ";\n    }\n";
    out_ << upstreams.Take();
    out_ << "    server {\n        listen " << s_.https_port << ";\n"
         << "        ssl_preread on;\n        proxy_protocol on;\n"
         << "        proxy_pass $sg_tls_listener;\n    }\n";
    out_ << "    server {\n        listen 127.0.0.1:" << s_.passthrough_internal_port
         << " proxy_protocol;\n"
         << "        ssl_preread on;\n"
         << "        proxy_connect_timeout " << Dur{s_.default_timeouts.connect} << ";\n"
         << "        proxy_pass $sg_passthrough_upstream;\n    }\n";
    out_ << "}\n";
  }

  struct TokView {
    std::string_view v;
  };
  friend Out& operator<<(Out& o, TokView t) { return o.Tok(t.v); }
  static TokView Tok(std::string_view v) { return TokView{v}; }

  const ProxyModel& m_;
  const Settings& s_;
  Out out_;
  Out maps_;
  Out zones_;
  bool passthrough_ = false;
  bool tls_ = false;
  std::vector<SortedServer> servers_;
  std::vector<const Upstream*> upstreams_sorted_;
  std::vector<const HostRedirect*> redirects_;
  std::vector<const PassthroughRoute*> passthrough_sorted_;
  // Keys view model strings, which outlive the renderer.
  std::unordered_map<std::string_view, const Upstream*> upstreams_;
  std::unordered_map<std::string_view, std::vector<std::pair<const Location*, std::string>>>
      selections_;
  std::unordered_map<std::string_view, std::vector<std::pair<int, std::string>>> zone_names_;
  std::unordered_map<std::string, bool> cookie_maps_;
  std::unordered_map<std::string, bool> sticky_maps_;
};

}  // namespace

bool IsSafeToken(std::string_view s) { return IsSafe(s, false); }
bool IsSafeQuoted(std::string_view s) { return IsSafe(s, true); }

std::string RenderNginxConfig(const ProxyModel& model) { return Renderer(model).Render(); }

namespace {

class StringChecker {
 public:
  void Token(std::string_view route, std::string_view field, std::string_view v) {
    if (!error_.empty() || IsSafeToken(v)) return;
    error_ =
        fmt::format("route \"{}\": {} \"{}\" cannot be written into nginx.conf", route, field, v);
  }
  void OptionalToken(std::string_view route, std::string_view field, std::string_view v) {
    if (!v.empty()) Token(route, field, v);
  }
  void Quoted(std::string_view route, std::string_view field, std::string_view v) {
    if (!error_.empty() || IsSafeQuoted(v)) return;
    error_ =
        fmt::format("route \"{}\": {} \"{}\" cannot be written into nginx.conf", route, field, v);
  }
  const std::string& error() const { return error_; }

 private:
  std::string error_;
};

}  // namespace

sg::Status CheckModelStrings(const ProxyModel& m) {
  StringChecker c;
  c.Token("", "runtime.pid_file", m.runtime.pid_file);
  c.Token("", "runtime.error_log", m.runtime.error_log);
  c.Token("", "runtime.access_log", m.runtime.access_log);
  c.OptionalToken("", "runtime.temp_dir", m.runtime.temp_dir);
  c.Token("", "runtime.stream_module", m.runtime.stream_module);
  c.OptionalToken("", "runtime.user", m.runtime.user);
  c.OptionalToken("", "settings.status_address", m.settings.status_address);
  c.OptionalToken("", "settings.certs_dir", m.settings.certs_dir);
  c.Token("", "settings.rate_limit_zone_size", m.settings.rate_limit_zone_size);
  auto upstream = [&](std::string_view route, const Upstream& u) {
    c.Token(route, "upstream name", u.name);
    c.OptionalToken(route, "sticky cookie", u.sticky_cookie);
    for (const UpstreamServer& s : u.servers) c.Token(route, "upstream server", s.address);
  };
  for (const Upstream& u : m.upstreams) upstream("", u);
  auto tls = [&](std::string_view route, const std::optional<TlsCertificate>& t) {
    if (!t) return;
    c.Token(route, "certificate", t->certificate_file);
    c.Token(route, "key", t->key_file);
  };
  for (const Server& s : m.servers) {
    std::string_view route = s.locations.empty() ? std::string_view() : s.locations[0].route;
    for (const std::string& h : s.hosts) c.Token(route, "host", h);
    tls(route, s.tls);
    for (const Location& l : s.locations) {
      c.Token(l.route, "route name", l.route);
      c.Token(l.route, "path", l.path);
      if (l.rewrite) c.Token(l.route, "rewrite", *l.rewrite);
      for (const BackendRef& b : l.backends) c.Token(l.route, "backend", b.upstream);
      c.OptionalToken(l.route, "canary header name", l.canary.header_name);
      c.Quoted(l.route, "canary header value", l.canary.header_value);
      c.OptionalToken(l.route, "canary cookie name", l.canary.cookie_name);
      c.Quoted(l.route, "canary cookie value", l.canary.cookie_value);
    }
  }
  for (const HostRedirect& r : m.redirects) {
    c.Token(r.route, "route name", r.route);
    c.Token(r.route, "redirect from", r.from_host);
    c.Token(r.route, "redirect to", r.to_url);
    tls(r.route, r.tls);
  }
  for (const PassthroughRoute& p : m.passthrough) {
    c.Token(p.route, "route name", p.route);
    for (const std::string& h : p.hosts) c.Token(p.route, "host", h);
    upstream(p.route, p.upstream);
  }
  if (!c.error().empty()) return sg::InvalidArgument(c.error());
  return sg::OkStatus();
}

std::vector<std::string> CertificateFiles(const ProxyModel& m) {
  std::vector<std::string> out;
  auto add = [&](const std::optional<TlsCertificate>& t) {
    if (!t) return;
    out.push_back(JoinCertPath(m.settings, t->certificate_file));
    out.push_back(JoinCertPath(m.settings, t->key_file));
  };
  for (const Server& s : m.servers) add(s.tls);
  for (const HostRedirect& r : m.redirects) add(r.tls);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace sg::nginx
