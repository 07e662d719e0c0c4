#include "operator/delivery/config_hub.h"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <set>
#include <utility>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include "operator/common/hash.h"
#include "operator/http/bearer_auth.h"
#include "operator/runtime/logging.h"

namespace sg::delivery {
namespace {

// A raw SHA-256 digest (32 bytes).
using Digest = std::string;
constexpr std::size_t kDigestSize = 32;

const std::shared_ptr<spdlog::logger>& Log() {
  static const auto logger = runtime::NamedLogger("delivery");
  return logger;
}

bool ParseDigest(const std::string& hex, Digest* out) {
  auto bytes = HexDecode(hex);
  if (!bytes || bytes->size() != kDigestSize) return false;
  *out = std::move(*bytes);
  return true;
}

// Strict non-negative decimal; rejects signs, spaces and overflow.
bool ParseNonNegative(const std::string& s, std::int64_t* out) {
  if (s.empty() || s.size() > 18) return false;
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

http::Response ConfigResponse(std::int64_t generation, const std::string& text) {
  http::Response r = http::Response::Text(200, text);
  r.headers.emplace_back(kGenerationHeader, std::to_string(generation));
  return r;
}

http::Response NotModified(std::int64_t generation) {
  http::Response r;
  r.status = 304;
  r.headers.emplace_back(kGenerationHeader, std::to_string(generation));
  return r;
}

// Triggers DESIGN.md section 4 allows; used to drop a forgotten cluster's
// convergence series even if this process never observed one of them.
const std::vector<std::string>& KnownTriggers() {
  static const std::vector<std::string> kTriggers = {"route", "servicecluster", "service", "task",
                                                     "resync"};
  return kTriggers;
}

}  // namespace

struct ConfigHub::Waiter {
  std::int64_t after = 0;
  http::Responder responder;
};

struct ConfigHub::Cluster {
  struct PendingTrigger {
    std::string trigger;
    runtime::Clock::TimePoint time;
  };
  struct Proxy {
    ProxyState state;
    bool reported = false;
    // It serves some configuration: it polled saying which (one of an
    // earlier operator process, perhaps) or reported serving one.
    bool serves = false;
    // Identity of the last report, to tell a repeated report (a heartbeat or
    // a retry) from a new reload when counting reloads.
    std::int64_t last_report_generation = 0;
    runtime::Clock::TimePoint last_report_steady{};
  };

  std::int64_t generation = 0;
  // Shared so that answering many waiters does not copy under the lock.
  std::shared_ptr<const std::string> config;
  std::string config_sha256;  // of *config
  bool token_set = false;
  Digest token_digest;
  // Generations not yet served by every expected proxy -> earliest trigger.
  std::map<std::int64_t, PendingTrigger> pending;
  std::set<std::string> expected;
  std::map<std::string, Proxy> proxies;
  std::vector<Waiter> waiters;
  std::set<std::string> triggers_seen;  // convergence series to drop on Forget
};

ConfigHub::ConfigHub(runtime::Clock& clock, metrics::SwarmgateMetrics& metrics,
                     ConfigHubOptions options)
    : clock_(clock), metrics_(metrics), options_(options), started_(clock.Now()) {}

ConfigHub::~ConfigHub() = default;

std::int64_t ConfigHub::Publish(const std::string& cluster, const std::string& config_text,
                                const std::string& trigger,
                                runtime::Clock::TimePoint trigger_time) {
  std::vector<Waiter> to_answer;
  std::shared_ptr<const std::string> config;
  std::int64_t generation = 0;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto& slot = clusters_[cluster];
    if (!slot) slot = std::make_unique<Cluster>();
    Cluster& c = *slot;
    if (c.config && *c.config == config_text) {
      // The change is already part of the current generation: if that is
      // still on its way, converge from the earliest change it carries.
      auto it = c.pending.find(c.generation);
      if (it != c.pending.end() && trigger_time < it->second.time) {
        it->second = {trigger, trigger_time};
      }
      return c.generation;
    }
    generation = ++c.generation;
    c.config = std::make_shared<const std::string>(config_text);
    c.config_sha256 = Sha256Hex(config_text);
    config = c.config;
    c.pending[generation] = {trigger, trigger_time};
    while (c.pending.size() > options_.max_pending_generations) {
      Log()->debug("convergence not tracked cluster={} generation={} reason=too-many-pending",
                   cluster, c.pending.begin()->first);
      c.pending.erase(c.pending.begin());
    }
    metrics_.proxy_config_generation.WithLabels({cluster}).Set(static_cast<double>(generation));
    std::vector<Waiter> keep;
    for (Waiter& w : c.waiters) {
      if (!w.responder.Pending()) continue;
      (w.after != generation ? to_answer : keep).push_back(std::move(w));
    }
    c.waiters = std::move(keep);
  }
  Log()->info("config published cluster={} generation={} trigger={} bytes={} waiting_agents={}",
              cluster, generation, trigger, config_text.size(), to_answer.size());
  if (!to_answer.empty()) {
    const http::Response response = ConfigResponse(generation, *config);
    for (Waiter& w : to_answer) w.responder.Respond(response);
  }
  return generation;
}

void ConfigHub::SetToken(const std::string& cluster, const std::string& token_sha256_hex) {
  std::lock_guard<std::mutex> l(mu_);
  auto& slot = clusters_[cluster];
  if (!slot) slot = std::make_unique<Cluster>();
  Digest d;
  if (!ParseDigest(token_sha256_hex, &d)) {
    Log()->error("invalid token hash, agents locked out cluster={} hash_length={}", cluster,
                 token_sha256_hex.size());
    slot->token_set = false;
    return;
  }
  slot->token_set = true;
  slot->token_digest = std::move(d);
}

void ConfigHub::RemoveSeriesLocked(const std::string& name, Cluster& c) {
  std::set<std::string> triggers = std::move(c.triggers_seen);
  triggers.insert(KnownTriggers().begin(), KnownTriggers().end());
  metrics_.proxy_config_generation.Remove({name});
  metrics_.proxy_reloads_total.Remove({name, "success"});
  metrics_.proxy_reloads_total.Remove({name, "failure"});
  for (const std::string& t : triggers) metrics_.convergence_seconds.Remove({name, t});
}

void ConfigHub::SetGate(Gate gate) {
  auto shared = std::make_shared<const Gate>(std::move(gate));
  std::lock_guard<std::mutex> l(mu_);
  gate_ = std::move(shared);
}

std::optional<http::Response> ConfigHub::GateAnswer(const http::Request& req) const {
  std::shared_ptr<const Gate> gate;
  {
    std::lock_guard<std::mutex> l(mu_);
    gate = gate_;
  }
  if (!gate || !*gate) return std::nullopt;
  return (*gate)(req);
}

void ConfigHub::Reset(const http::Response& answer_to_waiters) {
  std::vector<Waiter> waiters;
  std::vector<std::string> names;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& [name, c] : clusters_) {
      names.push_back(name);
      for (Waiter& w : c->waiters) waiters.push_back(std::move(w));
      RemoveSeriesLocked(name, *c);
    }
    clusters_.clear();
    started_ = clock_.Now();
  }
  Log()->info("hub reset clusters={} waiting_agents={}", names.size(), waiters.size());
  for (Waiter& w : waiters) w.responder.Respond(answer_to_waiters);
}

void ConfigHub::Forget(const std::string& cluster) {
  std::vector<Waiter> waiters;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = clusters_.find(cluster);
    if (it == clusters_.end()) return;
    waiters = std::move(it->second->waiters);
    RemoveSeriesLocked(cluster, *it->second);
    clusters_.erase(it);
  }
  Log()->info("cluster forgotten cluster={} waiting_agents={}", cluster, waiters.size());
  for (Waiter& w : waiters) w.responder.Respond(http::Response::Text(404, "unknown cluster\n"));
}

void ConfigHub::SetExpectedProxies(const std::string& cluster, std::vector<std::string> proxy_ids) {
  std::lock_guard<std::mutex> l(mu_);
  auto& slot = clusters_[cluster];
  if (!slot) slot = std::make_unique<Cluster>();
  Cluster& c = *slot;
  c.expected = std::set<std::string>(std::make_move_iterator(proxy_ids.begin()),
                                     std::make_move_iterator(proxy_ids.end()));
  const auto now = clock_.Now();
  for (auto it = c.proxies.begin(); it != c.proxies.end();) {
    Cluster::Proxy& p = it->second;
    p.state.expected = c.expected.count(it->first) > 0;
    // A proxy that reports before the reconciler lists its task is kept; one
    // whose task is gone disappears once it has been silent for a while.
    const bool stale = !p.reported || now - p.last_report_steady > options_.forget_unexpected_after;
    if (!p.state.expected && stale) {
      it = c.proxies.erase(it);
    } else {
      ++it;
    }
  }
  for (const std::string& id : c.expected) {
    auto& p = c.proxies[id];
    p.state.id = id;
    p.state.expected = true;
  }
  CheckConvergence(cluster, c);
}

void ConfigHub::SetOnServed(std::function<void(const std::string& cluster)> on_served) {
  on_served_ = std::move(on_served);
}

Status ConfigHub::Report(const std::string& cluster, const std::string& proxy_id,
                         std::int64_t generation, bool ok, const std::string& message) {
  bool now_served = false;
  Status st = ReportLocked(cluster, proxy_id, generation, ok, message, &now_served);
  if (now_served && on_served_) on_served_(cluster);
  return st;
}

Status ConfigHub::ReportLocked(const std::string& cluster, const std::string& proxy_id,
                               std::int64_t generation, bool ok, const std::string& message,
                               bool* now_served) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = clusters_.find(cluster);
  if (it == clusters_.end()) return NotFound("unknown cluster \"" + cluster + "\"");
  Cluster& c = *it->second;
  const std::int64_t served_before = ServedLocked(c);
  Cluster::Proxy& p = c.proxies[proxy_id];
  p.state.id = proxy_id;
  p.state.expected = c.expected.count(proxy_id) > 0;
  const bool repeat = p.reported && p.last_report_generation == generation && p.state.last_ok == ok;
  p.reported = true;
  p.last_report_generation = generation;
  p.last_report_steady = clock_.Now();
  p.state.last_report = clock_.WallNow();
  p.state.last_ok = ok;
  if (ok) {
    p.serves = true;
    p.state.generation = generation;
    if (generation >= p.state.failed_generation) {
      p.state.last_error.clear();
      p.state.failed_generation = 0;
    }
  } else {
    p.state.last_error = message;
    p.state.failed_generation = generation;
  }
  if (!repeat) {
    metrics_.proxy_reloads_total.WithLabels({cluster, ok ? "success" : "failure"}).Inc();
    if (ok) {
      Log()->debug("proxy serves config cluster={} proxy={} generation={}", cluster, proxy_id,
                   generation);
    } else {
      Log()->warn("proxy rejected config cluster={} proxy={} generation={} error=\"{}\"", cluster,
                  proxy_id, generation, message);
    }
  }
  if (ok) CheckConvergence(cluster, c);
  *now_served = served_before < c.generation && ServedLocked(c) >= c.generation;
  return OkStatus();
}

bool ConfigHub::RecogniseLocked(const std::string& name, Cluster& c, const std::string& proxy,
                                std::int64_t after, const std::string& serving, bool first_contact,
                                std::vector<Waiter>* renumbered_waiters) {
  if (c.generation == 0) return false;
  const bool same_text = serving == c.config_sha256;
  // An agent of an earlier operator process: generations continue from its
  // number (also when that number is this process's current one for another
  // text). Entries of generations this process published before hearing
  // from it were superseded before any proxy saw them.
  if (after > c.generation || (first_contact && !same_text && after == c.generation)) {
    const std::int64_t renumbered = same_text ? after : after + 1;
    std::optional<Cluster::PendingTrigger> current;
    if (auto it = c.pending.find(c.generation); it != c.pending.end() && !same_text) {
      current = it->second;
    }
    c.pending.clear();
    if (current) c.pending[renumbered] = *current;
    Log()->info("generation continues from an agent cluster={} proxy={} was={} now={} serves_it={}",
                name, proxy, c.generation, renumbered, same_text);
    c.generation = renumbered;
    metrics_.proxy_config_generation.WithLabels({name}).Set(static_cast<double>(renumbered));
    // Agents waiting under the old number fetch the text under the new one
    // now rather than at the end of their long-poll.
    std::vector<Waiter> keep;
    for (Waiter& w : c.waiters) {
      if (!w.responder.Pending()) continue;
      (w.after != renumbered ? *renumbered_waiters : keep).push_back(std::move(w));
    }
    c.waiters = std::move(keep);
  }
  if (!same_text || after != c.generation) return false;
  Cluster::Proxy& p = c.proxies[proxy];
  if (p.reported && p.state.last_ok && p.state.generation == c.generation) return false;
  // It serves the current text under its number: as good as its report.
  const std::int64_t served_before = ServedLocked(c);
  p.reported = true;
  p.last_report_generation = c.generation;
  p.last_report_steady = clock_.Now();
  p.state.last_report = clock_.WallNow();
  p.state.last_ok = true;
  p.state.generation = c.generation;
  p.state.last_error.clear();
  p.state.failed_generation = 0;
  CheckConvergence(name, c);
  return served_before < c.generation && ServedLocked(c) >= c.generation;
}

bool ConfigHub::AwaitingProxies(const std::string& cluster) const {
  std::lock_guard<std::mutex> l(mu_);
  if (clock_.Now() - started_ > options_.agent_grace) return false;
  auto it = clusters_.find(cluster);
  if (it == clusters_.end()) return true;
  const Cluster& c = *it->second;
  for (const std::string& id : c.expected) {
    auto p = c.proxies.find(id);
    if (p == c.proxies.end()) return true;
    if (!p->second.reported && p->second.state.last_poll == runtime::Clock::WallTimePoint{}) {
      return true;
    }
  }
  return false;
}

bool ConfigHub::EveryProxyServes(const std::string& cluster) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = clusters_.find(cluster);
  if (it == clusters_.end() || it->second->expected.empty()) return false;
  const Cluster& c = *it->second;
  return std::all_of(c.expected.begin(), c.expected.end(), [&](const std::string& id) {
    auto p = c.proxies.find(id);
    return p != c.proxies.end() && p->second.serves;
  });
}

std::int64_t ConfigHub::ServedLocked(const Cluster& c) const {
  if (c.expected.empty()) return 0;
  std::int64_t served = -1;
  for (const std::string& id : c.expected) {
    auto it = c.proxies.find(id);
    std::int64_t g = 0;
    // A generation above the current one was served before an operator
    // restart and says nothing about what this process published.
    if (it != c.proxies.end() && it->second.reported &&
        it->second.state.generation <= c.generation) {
      g = it->second.state.generation;
    }
    served = served < 0 ? g : std::min(served, g);
  }
  return std::max<std::int64_t>(served, 0);
}

void ConfigHub::CheckConvergence(const std::string& name, Cluster& c) {
  const std::int64_t served = ServedLocked(c);
  if (served <= 0) return;
  const auto now = clock_.Now();
  while (!c.pending.empty() && c.pending.begin()->first <= served) {
    const auto& [generation, pending] = *c.pending.begin();
    const double seconds = std::max(0.0, std::chrono::duration<double>(now - pending.time).count());
    metrics_.convergence_seconds.WithLabels({name, pending.trigger}).Observe(seconds);
    c.triggers_seen.insert(pending.trigger);
    Log()->info("converged cluster={} generation={} trigger={} seconds={:.3f}", name, generation,
                pending.trigger, seconds);
    c.pending.erase(c.pending.begin());
  }
}

std::int64_t ConfigHub::Generation(const std::string& cluster) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = clusters_.find(cluster);
  return it == clusters_.end() ? 0 : it->second->generation;
}

std::int64_t ConfigHub::ServedGeneration(const std::string& cluster) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = clusters_.find(cluster);
  return it == clusters_.end() ? 0 : ServedLocked(*it->second);
}

std::vector<ProxyState> ConfigHub::ProxyStates(const std::string& cluster) const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<ProxyState> out;
  auto it = clusters_.find(cluster);
  if (it == clusters_.end()) return out;
  for (const auto& [id, p] : it->second->proxies) out.push_back(p.state);
  return out;
}

std::size_t ConfigHub::WaitingAgents(const std::string& cluster) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = clusters_.find(cluster);
  if (it == clusters_.end()) return 0;
  return static_cast<std::size_t>(
      std::count_if(it->second->waiters.begin(), it->second->waiters.end(),
                    [](const Waiter& w) { return w.responder.Pending(); }));
}

void ConfigHub::RegisterRoutes(http::HttpServer& server) {
  server.HandleAsync("GET", kConfigPath, [this](const http::Request& req, http::Responder r) {
    HandleConfig(req, std::move(r));
  });
  server.Handle("POST", kReportPath,
                [this](const http::Request& req) { return HandleReport(req); });
}

ConfigHub::Cluster* ConfigHub::Authorize(const http::Request& req, const std::string& cluster,
                                         http::Response* denial) {
  auto it = clusters_.find(cluster);
  if (it == clusters_.end()) {
    *denial = http::Response::Text(404, "unknown cluster\n");
    return nullptr;
  }
  Cluster& c = *it->second;
  const std::string token = http::BearerToken(req);
  const char* reason = nullptr;
  if (token.empty()) {
    reason = "missing-token";
  } else if (!c.token_set) {
    reason = "no-token-registered";
  } else if (!ConstantTimeEquals(Sha256(token), c.token_digest)) {
    reason = "token-mismatch";
  }
  if (reason != nullptr) {
    Log()->info("agent request refused cluster={} remote={} reason={}", cluster, req.remote_address,
                reason);
    *denial = http::Response::Text(401, "unauthorized\n");
    denial->headers.emplace_back("WWW-Authenticate", "Bearer");
    return nullptr;
  }
  return &c;
}

void ConfigHub::HandleConfig(const http::Request& req, http::Responder responder) {
  if (auto answer = GateAnswer(req)) {
    responder.Respond(std::move(*answer));
    return;
  }
  const std::string cluster = req.Query("cluster").value_or("");
  if (cluster.empty()) {
    responder.Respond(http::Response::Text(400, "query parameter cluster is required\n"));
    return;
  }
  std::int64_t after = 0;
  if (auto a = req.Query("after"); a && !a->empty() && !ParseNonNegative(*a, &after)) {
    responder.Respond(http::Response::Text(400, "after must be a non-negative integer\n"));
    return;
  }
  std::chrono::seconds wait = options_.default_wait;
  if (auto w = req.Query("wait"); w && !w->empty()) {
    std::string digits = *w;
    if (digits.back() == 's') digits.pop_back();  // "30s" as well as "30"
    std::int64_t secs = 0;
    if (!ParseNonNegative(digits, &secs)) {
      responder.Respond(http::Response::Text(400, "wait must be a number of seconds\n"));
      return;
    }
    wait = std::min(std::chrono::seconds(secs), options_.max_wait);
  }
  const std::string proxy = req.Query("proxy").value_or("");
  const std::string serving = req.Query("serving").value_or("");

  http::Response answer;
  std::shared_ptr<const std::string> config;
  std::int64_t generation = 0;
  bool now_served = false;
  std::vector<Waiter> renumbered;  // answered with the text once the lock is released
  std::shared_ptr<const std::string> current;
  {
    std::unique_lock<std::mutex> l(mu_);
    Cluster* c = Authorize(req, cluster, &answer);
    if (c == nullptr) {
      l.unlock();
      responder.Respond(std::move(answer));
      return;
    }
    // Whether the agent serves another text than the current one under the
    // current number: generations of two operator processes can meet on one
    // number for different texts (an agent that fetched a number from one
    // and another agent that renumbered the next one's text onto it). Such
    // an agent is answered at once, unless it rejected this very text.
    bool other_text = false;
    if (!proxy.empty()) {
      auto& p = c->proxies[proxy];
      const bool first_contact =
          !p.reported && p.state.last_poll == runtime::Clock::WallTimePoint{};
      p.state.id = proxy;
      p.state.expected = c->expected.count(proxy) > 0;
      p.state.last_poll = clock_.WallNow();
      if (!serving.empty()) {
        p.serves = true;
        now_served =
            RecogniseLocked(cluster, *c, proxy, after, serving, first_contact, &renumbered);
        other_text = c->generation > 0 && serving != c->config_sha256 &&
                     p.state.failed_generation != c->generation;
      }
    }
    generation = c->generation;
    current = c->config;
    if (generation > 0 && (generation != after || other_text)) {
      config = c->config;
    } else {
      // Drop waiters whose deadline passed or whose agent went away.
      c->waiters.erase(std::remove_if(c->waiters.begin(), c->waiters.end(),
                                      [](const Waiter& w) { return !w.responder.Pending(); }),
                       c->waiters.end());
      responder.SetDeadline(wait, NotModified(generation));
      c->waiters.push_back(Waiter{after, responder});
    }
  }
  if (now_served && on_served_) on_served_(cluster);
  if (!renumbered.empty()) {
    const http::Response response = ConfigResponse(generation, *current);
    for (Waiter& w : renumbered) w.responder.Respond(response);
  }
  if (!config) return;
  Log()->debug("config sent cluster={} proxy={} after={} generation={}", cluster, proxy, after,
               generation);
  responder.Respond(ConfigResponse(generation, *config));
}

http::Response ConfigHub::HandleReport(const http::Request& req) {
  if (auto answer = GateAnswer(req)) return std::move(*answer);
  rapidjson::Document doc;
  doc.Parse(req.body.c_str(), req.body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return http::Response::Text(400, "body must be a JSON object\n");
  }
  auto str = [&](const char* name, std::string* out) {
    auto m = doc.FindMember(name);
    if (m == doc.MemberEnd() || !m->value.IsString()) return false;
    out->assign(m->value.GetString(), m->value.GetStringLength());
    return true;
  };
  std::string cluster, proxy, message;
  if (!str("cluster", &cluster) || cluster.empty() || !str("proxy", &proxy) || proxy.empty()) {
    return http::Response::Text(400, "cluster and proxy are required strings\n");
  }
  auto gen = doc.FindMember("generation");
  auto ok = doc.FindMember("ok");
  if (gen == doc.MemberEnd() || !gen->value.IsInt64() || gen->value.GetInt64() < 0 ||
      ok == doc.MemberEnd() || !ok->value.IsBool()) {
    return http::Response::Text(400, "generation (integer) and ok (boolean) are required\n");
  }
  if (doc.HasMember("message") && !str("message", &message)) {
    return http::Response::Text(400, "message must be a string\n");
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    http::Response denial;
    if (Authorize(req, cluster, &denial) == nullptr) return denial;
  }
  // The cluster may be forgotten between the check and the report: 404 then.
  Status st = Report(cluster, proxy, gen->value.GetInt64(), ok->value.GetBool(), message);
  if (!st.ok()) return http::Response::Text(404, "unknown cluster\n");
  http::Response r;
  r.status = 204;
  return r;
}

}  // namespace sg::delivery
