// Randomized property test over validate -> build -> render -> `nginx -t` and
// `haproxy -c`: every resource the API accepts must render configurations that
// the real nginx and HAProxy accept, and every string carrying a character that could break out
// of an nginx directive must be rejected by validation. Seeded, so a failure
// is reproducible: the seed is printed and SG_PROPERTY_SEED replays it.

#include <unistd.h>

#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "crds/loader.h"
#include "reconcilers/dataplane/proxy_data_plane.h"
#include "reconcilers/haproxy/haproxy_renderer.h"
#include "reconcilers/haproxy_check.h"
#include "reconcilers/model/model_builder.h"
#include "reconcilers/nginx/nginx_renderer.h"
#include "reconcilers/nginx_check.h"

namespace sg::reconcilers {
namespace {

// Characters nginx.conf gives meaning to, and other bytes no grammar allows.
const std::vector<std::string> kHostile = {";",  "{",
                                           "}",  "#",
                                           "\"", "'",
                                           "$",  "\\",
                                           "\n", "\r",
                                           "\t", std::string(1, '\0'),
                                           " ",  "\xc3\xa9" /* é */,
                                           "`",  "<",
                                           ">"};

class Gen {
 public:
  explicit Gen(uint64_t seed) : rng_(seed) {}

  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool Chance(int percent) { return Int(1, 100) <= percent; }
  template <class T>
  const T& Pick(const std::vector<T>& v) {
    return v[static_cast<size_t>(Int(0, static_cast<int>(v.size()) - 1))];
  }

  std::string Label() {
    static const std::string chars = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::string s(1, chars[static_cast<size_t>(Int(0, 25))]);
    int n = Int(0, 8);
    for (int i = 0; i < n; ++i) s += chars[static_cast<size_t>(Int(0, 35))];
    return s;
  }
  std::string Host() {
    std::string h = (Chance(15) ? "*." : "") + Label();
    int parts = Int(1, 3);
    for (int i = 0; i < parts; ++i) h += "." + Label();
    return h;
  }
  std::string Path() {
    if (Chance(30)) return "/";
    std::string p;
    int segs = Int(1, 3);
    for (int i = 0; i < segs; ++i) p += "/" + Label();
    if (Chance(10)) p += "/";
    return p;
  }
  std::string Token() {
    static const std::vector<std::string> names = {"X-Canary",  "x-beta",     "Canary_Group",
                                                   "SG_STICKY", "session-id", "B"};
    return Pick(names);
  }
  // A case poisons at most one of its strings: the `target`-th one offered.
  void StartCase() {
    slot_ = 0;
    target_ = Chance(40) ? Int(0, 8) : -1;
  }
  // Poisons the targeted string with one hostile character; reports whether it did.
  std::string MaybeHostile(std::string s, bool* poisoned) {
    return MaybeHostileOf(std::move(s), poisoned, kHostile);
  }
  // Patterns admit most punctuation: only what no pattern may hold.
  std::string MaybeHostilePattern(std::string s, bool* poisoned) {
    static const std::vector<std::string> kNever = {
        "\"", "'", " ", "\n", "\t", std::string(1, '\0'), "\xc3\xa9"};
    return MaybeHostileOf(std::move(s), poisoned, kNever);
  }
  std::string Pattern() {
    static const std::vector<std::string> kPatterns = {
        "/users/[0-9]+",     "/a/.*",       "/(x|y)/z", "/static/.*\\.(css|js)",
        "/v[12]/[a-z]{2,4}", "/#$;{}<>`/x", "/p\\d+"};
    return Pick(kPatterns);
  }
  std::string MaybeHostileOf(std::string s, bool* poisoned, const std::vector<std::string>& bad) {
    if (slot_++ != target_) return s;
    *poisoned = true;
    size_t at = static_cast<size_t>(Int(0, static_cast<int>(s.size())));
    return s.insert(at, Pick(bad));
  }

 private:
  std::mt19937_64 rng_;
  int slot_ = 0;
  int target_ = -1;
};

// A YAML double-quoted scalar holding exactly `s`.
std::string Q(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

struct Case {
  std::string yaml;
  bool poisoned = false;
};

Case MakeCase(Gen& g, int index) {
  Case c;
  g.StartCase();
  std::string cluster = "c" + std::to_string(index);
  c.yaml =
      "apiVersion: swarmgate.io/v1alpha1\nkind: ServiceCluster\nmetadata: {name: " + cluster +
      "}\nspec:\n  proxy:\n    ports: {http: " + std::to_string(g.Int(1024, 30000)) +
      ", https: " + std::to_string(g.Int(30001, 60000)) +
      "}\n    config: {workerConnections: " + std::to_string(g.Int(16, 8192)) +
      ", clientMaxBodySize: " + g.Pick(std::vector<std::string>{"1m", "10m", "512k", "\"0\""}) +
      "}\n" + g.Pick(std::vector<std::string>{"", "    engine: nginx\n", "    engine: haproxy\n"}) +
      g.Pick(std::vector<std::string>{"", "  accessLog: {format: off}\n",
                                      "  accessLog: {format: combined}\n",
                                      "  accessLog: {format: json}\n"}) +
      g.Pick(std::vector<std::string>{"", "  defaultBackend: {service: fallback, port: 8080}\n",
                                      "  defaultBackend: {status: 503}\n",
                                      "  defaultBackend: {status: 418}\n"}) +
      (g.Chance(20) ? "  allowedRoutes: {hosts: [\"*.com\", \"*.net\"], selector: {matchLabels: "
                      "{team: web}}}\n"
                    : "");
  int routes = g.Int(1, 6);
  for (int r = 0; r < routes; ++r) {
    std::string y = "---\napiVersion: swarmgate.io/v1alpha1\nkind: Route\nmetadata: {name: r" +
                    std::to_string(r) + "}\nspec:\n  serviceCluster: " + cluster + "\n";
    bool passthrough = g.Chance(10);
    std::string host = g.MaybeHostile(g.Host(), &c.poisoned);
    y += "  hosts: [" + Q(host) + "]\n";
    const bool rules = !passthrough && g.Chance(30);
    if (rules) {
      // HTTPRoute-style rules: every path match kind, headers, query
      // parameters and methods (the last three on HAProxy only).
      y += "  rules:\n";
      for (int r = g.Int(1, 3); r > 0; --r) {
        y += "    - matches:\n";
        for (int m = g.Int(1, 2); m > 0; --m) {
          int kind = g.Int(0, 2);
          std::string value = kind == 2 ? g.MaybeHostilePattern(g.Pattern(), &c.poisoned)
                                        : g.MaybeHostile(g.Path(), &c.poisoned);
          y += "        - path: {type: " +
               std::string(kind == 0   ? "PathPrefix"
                           : kind == 1 ? "Exact"
                                       : "RegularExpression") +
               ", value: " + Q(value) + "}\n";
          if (g.Chance(30)) {
            y += "          headers: [{name: " + Q(g.MaybeHostile(g.Token(), &c.poisoned)) +
                 ", value: " + Q(g.MaybeHostile("v" + g.Label(), &c.poisoned)) + "}";
            if (g.Chance(50)) {
              y += ", {type: RegularExpression, name: x-re, value: " +
                   Q(g.MaybeHostilePattern("a.*[0-9]", &c.poisoned)) + "}";
            }
            y += "]\n";
          }
          if (g.Chance(20)) {
            y += "          queryParams: [{name: " + Q(g.Token()) +
                 ", value: " + Q(g.MaybeHostile(g.Label(), &c.poisoned)) + "}]\n";
          }
          if (g.Chance(20))
            y += "          method: " + g.Pick(std::vector<std::string>{"GET", "POST"}) + "\n";
        }
        // Filters: header filters both ways (hostile values too), a URL
        // rewrite, a redirect instead of backends, or no backends at all.
        const int action = g.Int(0, 9);
        std::string filters;
        if (g.Chance(40)) {
          filters +=
              "        - type: RequestHeaderModifier\n          requestHeaderModifier: "
              "{set: [{name: " +
              Q(g.MaybeHostile(g.Token(), &c.poisoned)) +
              ", value: " + Q(g.MaybeHostile("v " + g.Label() + "%;{}#", &c.poisoned)) +
              "}], add: [{name: x-add, value: " + Q(g.Label()) + "}], remove: [x-remove]}\n";
        }
        if (g.Chance(30)) {
          filters +=
              "        - type: ResponseHeaderModifier\n          responseHeaderModifier: "
              "{set: [{name: x-set, value: " +
              Q(g.MaybeHostile(g.Label(), &c.poisoned)) +
              "}], add: [{name: x-add, value: a}], remove: [server]}\n";
        }
        if (action == 0) {
          filters +=
              "        - type: RequestRedirect\n          requestRedirect: {scheme: " +
              g.Pick(std::vector<std::string>{"http", "https"}) +
              ", hostname: " + Q(g.MaybeHostile(g.Host(), &c.poisoned)) +
              ", port: " + std::to_string(g.Int(1, 65535)) + ", path: {type: ReplaceFullPath, " +
              "replaceFullPath: " + Q(g.MaybeHostile(g.Path(), &c.poisoned)) + "}, statusCode: " +
              g.Pick(std::vector<std::string>{"301", "302", "303", "307", "308"}) + "}\n";
        } else if (action == 1) {
          filters += "        - type: URLRewrite\n          urlRewrite: {hostname: " +
                     Q(g.MaybeHostile(g.Host(), &c.poisoned)) +
                     ", path: {type: ReplaceFullPath, replaceFullPath: " +
                     Q(g.MaybeHostile(g.Path(), &c.poisoned)) + "}}\n";
        } else if (action == 2 && g.Chance(50)) {
          filters +=
              "        - type: RequestMirror\n          requestMirror: {backend: "
              "{service: shadow, port: 8080}, percent: " +
              std::to_string(g.Int(1, 100)) + "}\n";
        }
        if (!filters.empty()) y += "      filters:\n" + filters;
        if (g.Chance(20)) {
          y += "      timeouts: {request: " + std::to_string(g.Int(0, 30)) +
               "s, backendRequest: " + std::to_string(g.Int(0, 1)) + "s}\n";
        }
        if (g.Chance(20)) y += "      retry: {codes: [502, 503], attempts: 2}\n";
        if (action == 0 || action == 3) continue;  // a redirect, or 500
        y += "      backends: [{service: " + Q(g.MaybeHostile("svc-" + g.Label(), &c.poisoned)) +
             ", port: " + std::to_string(g.Int(1, 65535));
        if (g.Chance(20)) {
          y += ", filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: "
               "x-backend, value: " +
               Q(g.MaybeHostile(g.Label(), &c.poisoned)) + "}]}}]";
        }
        y += "}]\n";
      }
    }
    if (!passthrough && !rules) {
      std::string path = g.MaybeHostile(g.Path(), &c.poisoned);
      y += "  path: " + Q(path) + "\n";
      if (g.Chance(30)) y += "  rewrite: " + Q(g.MaybeHostile(g.Path(), &c.poisoned)) + "\n";
    }
    int backends = rules ? 0 : g.Int(1, 3);
    bool canary_backend = false;
    if (!rules) y += "  backends:\n";
    for (int b = 0; b < backends; ++b) {
      bool canary = b > 0 && g.Chance(50);
      canary_backend = canary_backend || canary;
      y += "    - {service: " + Q(g.MaybeHostile("svc-" + g.Label(), &c.poisoned)) +
           ", port: " + std::to_string(g.Int(1, 65535)) +
           ", weight: " + std::to_string(b == 0 ? g.Int(1, 100) : g.Int(0, 100)) +
           (canary ? ", canary: true" : "") + "}\n";
    }
    if (passthrough) {
      y += "  tls: {mode: passthrough}\n";
    } else {
      if (canary_backend && g.Chance(60)) {
        y += "  canary:\n    header: {name: " + Q(g.MaybeHostile(g.Token(), &c.poisoned)) +
             ", value: " + Q(g.MaybeHostile("always", &c.poisoned)) + "}\n";
        if (g.Chance(50)) y += "    cookie: {name: " + Q(g.Token()) + "}\n";
      }
      if (g.Chance(20)) {
        y += "  tls: {mode: terminate, secret: " +
             Q(g.MaybeHostile("tls-" + g.Label(), &c.poisoned)) +
             ", redirectHTTP: " + (g.Chance(50) ? "true" : "false") + "}\n";
      }
      if (g.Chance(25))
        y += "  stickySession: {cookie: " + Q(g.MaybeHostile(g.Token(), &c.poisoned)) + "}\n";
      if (g.Chance(25)) y += "  websocket: true\n";
      if (g.Chance(30))
        y += "  timeouts: {connect: 2s, read: " + std::to_string(g.Int(1, 120)) + "s}\n";
      if (g.Chance(25)) {
        y += "  rateLimit: {requestsPerSecond: " + std::to_string(g.Int(1, 1000)) +
             ", burst: " + std::to_string(g.Int(0, 100)) + "}\n";
      }
      if (g.Chance(20)) {
        y += "  redirects: [{from: " + Q(g.Host()) + ", to: " +
             Q(g.MaybeHostile("https://" + g.Host() + (g.Chance(50) ? "/landing" : ""),
                              &c.poisoned)) +
             ", code: 301}]\n";
      }
      if (g.Chance(20))
        y += "  healthCheck: {maxFails: " + std::to_string(g.Int(1, 9)) + ", failTimeout: 5s}\n";
    }
    c.yaml += y;
  }
  return c;
}

// The first line whose route comment or upstream name ("r.X.N") names a
// route other than the one the line map gives it; "" when none.
template <class Rendered>
std::string LineRouteMismatchOf(const Rendered& r, const BuildResult& built) {
  std::istringstream in(r.text);
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    std::string got = r.RouteAtLine(++n);
    std::vector<std::string> named;
    if (size_t p = line.find("# route "); p != std::string::npos) {
      named.push_back(line.substr(p + 8, line.find_first_of(" :;,", p + 8) - p - 8));
    }
    for (const auto& [route, outcome] : built.routes) {
      // "r.ROUTE.<digit>" as a word of its own: host labels start with a letter.
      std::string prefix = "r." + route + ".";
      for (size_t p = line.find(prefix); p != std::string::npos; p = line.find(prefix, p + 1)) {
        char before = p == 0 ? ' ' : line[p - 1];
        size_t after = p + prefix.size();
        if ((before == ' ' || before == '/') && after < line.size() && line[after] >= '0' &&
            line[after] <= '9') {
          named.push_back(route);
          break;
        }
      }
    }
    for (const std::string& want : named) {
      if (want != got) {
        return "line " + std::to_string(n) + " \"" + line + "\" is attributed to \"" + got +
               "\", not \"" + want + "\"";
      }
    }
  }
  return "";
}

std::string LineRouteMismatch(const nginx::RenderedConfig& r, const BuildResult& built) {
  return LineRouteMismatchOf(r, built);
}

std::string HaproxyLineRouteMismatch(const haproxy::RenderedConfig& r, const BuildResult& built) {
  return LineRouteMismatchOf(r, built);
}

TEST(RenderProperty, AcceptedInputRendersAConfigNginxAccepts) {
  uint64_t seed = 20261124;
  if (const char* s = std::getenv("SG_PROPERTY_SEED")) seed = std::strtoull(s, nullptr, 10);
  int cases = 80;
  if (const char* n = std::getenv("SG_PROPERTY_CASES")) cases = std::atoi(n);
  std::cout << "seed=" << seed << " cases=" << cases << "\n";
  Gen g(seed);
  auto cert = nginx::GenerateSelfSignedCertificate();
  ASSERT_TRUE(cert.ok()) << cert.error().message;
  nginx::ExecNginxValidator validator;
  haproxy::ExecHaproxyValidator haproxy_validator;
  bool have_haproxy = access("/usr/sbin/haproxy", X_OK) == 0;
  if (!have_haproxy) std::cout << "/usr/sbin/haproxy is not installed: haproxy -c skipped\n";
  int accepted = 0, rejected = 0;
  for (int i = 0; i < cases; ++i) {
    Case c = MakeCase(g, i);
    auto loaded = crds::LoadText(c.yaml, "case-" + std::to_string(i) + ".yaml");
    if (c.poisoned) {
      EXPECT_FALSE(loaded.ok()) << "hostile input was accepted (seed " << seed << ", case " << i
                                << "):\n"
                                << c.yaml;
      ++rejected;
      continue;
    }
    if (!loaded.ok()) {
      // Clean input may still be rejected (e.g. a host+path conflict between
      // two generated routes): fine, as long as the reason is a diagnostic.
      if (std::getenv("SG_PROPERTY_VERBOSE")) {
        for (const auto& d : loaded.diagnostics) std::cout << d.ToString() << "\n";
      }
      ++rejected;
      continue;
    }
    ++accepted;
    const crds::ServiceCluster* cluster = nullptr;
    std::vector<RouteInput> routes;
    for (const auto& r : loaded.resources) {
      if (r.cluster()) cluster = r.cluster();
    }
    ASSERT_NE(cluster, nullptr);
    int ip = 2;
    for (const auto& r : loaded.resources) {
      if (!r.route()) continue;
      RouteInput in;
      in.route = std::make_shared<const crds::Route>(*r.route());
      in.created_at = std::to_string(routes.size());
      for (const crds::Backend* backend : crds::AllBackends(in.route->spec)) {
        ResolvedBackend rb;
        int n = g.Int(0, 3);  // some backends have no endpoints: 503
        for (int k = 0; k < n; ++k) {
          rb.endpoints.push_back(
              {"10.9.0." + std::to_string(ip++ % 250 + 2), backend->port, "t", 1, "n"});
        }
        in.backends.push_back(rb);
      }
      routes.push_back(std::move(in));
    }
    BuildOptions options;
    options.certs_dir = "certs";
    // The default backend service, when named, has 0-2 tasks.
    for (int k = g.Int(0, 2); k > 0; --k) {
      options.default_backend.endpoints.push_back(
          {"10.9.1." + std::to_string(k), 8080, "t", 1, "n"});
    }
    auto built = BuildModel(*cluster, routes, options);
    EXPECT_TRUE(nginx::CheckModelStrings(built.model).ok()) << c.yaml;
    // What nginx cannot express is refused naming a route; the engine's
    // check then leaves that route out and renders the rest.
    BuildResult nginx_built = built;
    for (int refused = 0; refused < 16; ++refused) {
      Status expressible = nginx::CheckModel(nginx_built.model);
      if (expressible.ok()) break;
      std::string route = dataplane::RouteOfMessage(expressible.error().message);
      ASSERT_NE(route, "") << expressible.error().message;
      options.excluded[route] = expressible.error().message;
      nginx_built = BuildModel(*cluster, routes, options);
    }
    options.excluded.clear();
    ASSERT_TRUE(nginx::CheckModel(nginx_built.model).ok()) << c.yaml;
    nginx::RenderedConfig rendered = nginx::RenderNginx(nginx_built.model, nginx::RenderOptions{});
    const std::string& text = rendered.text;
    EXPECT_EQ(LineRouteMismatch(rendered, nginx_built), "") << c.yaml;
    auto files =
        nginx::PlaceholderCertificateFiles(nginx::CertificateFiles(nginx_built.model), *cert);
    auto st = validator.Validate(text, files);
    std::string context;
    if (!st.ok()) {
      // The lines around the one nginx names, to see what was rendered.
      auto pos = st.error().message.rfind(".conf:");
      int line = pos == std::string::npos ? 0 : std::atoi(st.error().message.c_str() + pos + 6);
      std::istringstream in(text);
      std::string l;
      for (int n = 1; std::getline(in, l); ++n) {
        if (n >= line - 6 && n <= line + 2) context += std::to_string(n) + ": " + l + "\n";
      }
    }
    EXPECT_TRUE(st.ok()) << context << "nginx -t rejected an accepted input (seed " << seed
                         << ", case " << i << "): " << (st.ok() ? "" : st.error().message) << "\n"
                         << c.yaml;

    // The same model through the HAProxy engine, which refuses other
    // routes (mirrors).
    for (int refused = 0; refused < 16; ++refused) {
      Status expressible = haproxy::CheckModel(built.model);
      if (expressible.ok()) break;
      std::string route = dataplane::RouteOfMessage(expressible.error().message);
      ASSERT_NE(route, "") << expressible.error().message;
      options.excluded[route] = expressible.error().message;
      built = BuildModel(*cluster, routes, options);
    }
    ASSERT_TRUE(haproxy::CheckModel(built.model).ok()) << c.yaml;
    haproxy::RenderedConfig hr = haproxy::RenderHaproxy(built.model, haproxy::RenderOptions{});
    EXPECT_EQ(HaproxyLineRouteMismatch(hr, built), "") << c.yaml;
    if (!have_haproxy) continue;
    std::map<std::string, std::string> hfiles;
    for (const std::string& f : haproxy::CertificateFiles(built.model)) {
      hfiles[f] = cert->certificate_pem + cert->key_pem;
    }
    auto hst = haproxy_validator.Validate(hr.text, hfiles);
    std::string hcontext;
    if (!hst.ok()) {
      int line = haproxy::HaproxyErrorLine(hst.error().message);
      std::istringstream in(hr.text);
      std::string l;
      for (int n = 1; std::getline(in, l); ++n) {
        if (n >= line - 6 && n <= line + 2) hcontext += std::to_string(n) + ": " + l + "\n";
      }
    }
    EXPECT_TRUE(hst.ok()) << hcontext << "haproxy -c rejected an accepted input (seed " << seed
                          << ", case " << i << "): " << (hst.ok() ? "" : hst.error().message)
                          << "\n"
                          << c.yaml;
  }
  std::cout << "accepted=" << accepted << " rejected=" << rejected << "\n";
  // The generator must exercise both sides.
  EXPECT_GT(accepted, cases / 4);
  EXPECT_GT(rejected, 0);
}

}  // namespace
}  // namespace sg::reconcilers
