#pragma once
// Sample traffic models shared by the engines' golden tests: each engine
// renders the same cases (testdata/render/<name>.<ext> beside its renderer),
// so the engines can be compared feature by feature. Test-only (sg_testing).

#include <functional>
#include <random>
#include <string>
#include <vector>

#include "reconcilers/model/traffic_model.h"

namespace sg::samples {

// Builders of model pieces.
model::Upstream Up(std::string name, std::vector<std::string> addresses);
model::Location Loc(std::string route, std::string path, std::vector<model::BackendRef> backends);
model::Server Srv(std::vector<std::string> hosts, std::vector<model::Location> locations);
// {name + ".crt", name + ".key"}.
model::TlsCertificate Cert(const std::string& name);

// The cases, with declared backends and unresolved selections.
model::TrafficModel Empty();
model::TrafficModel OneHost();
model::TrafficModel ContextRoot();
model::TrafficModel LongestPath();
model::TrafficModel WeightedCanary();
model::TrafficModel Sticky();
model::TrafficModel Websocket();
model::TrafficModel TlsTerminate();
model::TrafficModel PassthroughAndTerminate();
model::TrafficModel RateLimitTimeoutsHealth();
model::TrafficModel HostRedirects();
model::TrafficModel NoEndpoints();
model::TrafficModel WildcardHost();
// The cluster's access log (model::Settings::access_log) over routes with a
// context root, a rewrite, no endpoints and host redirects (combined), and
// over TLS termination and passthrough (json).
model::TrafficModel AccessLogCombined();
model::TrafficModel AccessLogJson();
model::TrafficModel DefaultBackend();
model::TrafficModel DefaultStatus();
model::TrafficModel RulesPaths();
model::TrafficModel RulesConditions();
// Rule filters on both engines: header filters, URL rewrites, redirects, a
// rule without backends, timeouts, retries, per-backend header filters on a
// rule with one backend.
model::TrafficModel RulesFilters();
// Trusted proxies, IP allow and deny lists, CORS and compression.
model::TrafficModel Middlewares();
// PassthroughAndTerminate behind a TCP balancer (the PROXY protocol).
model::TrafficModel ProxyProtocol();
model::TrafficModel ProxyProtocolTerminate();

struct SampleModel {
  const char* name;                            // golden file name without extension
  std::function<model::TrafficModel()> build;  // declared backends; selections unset
};

// Every case above, by name.
const std::vector<SampleModel>& SampleModels();

// The model as the builder hands it over: every selection resolved.
model::TrafficModel Resolved(model::TrafficModel m);

// Two routes for the data-plane tests: "shop" (one upstream r.shop.0 with
// one server, optionally TLS with certificate and key "shop-tls" under
// /run/secrets) and "blog" (no backend). Selections resolved.
model::TrafficModel ShopAndBlogModel(bool tls);

// `n` routes on their own hosts, each a weighted canary over two upstreams
// (every third with a header rule, every fifth rate limited): the renderers'
// benchmarks and checker timings. Selections not resolved.
model::TrafficModel ManyRoutesModel(int n);

// The best of `runs` timings of `fn`, in milliseconds (benchmarks print it).
double BestMilliseconds(int runs, const std::function<void()>& fn);

// Shuffles every list of the model (renders must not depend on input order).
void ShuffleModelLists(model::TrafficModel& m, std::mt19937& rng);

}  // namespace sg::samples
