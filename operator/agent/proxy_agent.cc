#include "operator/agent/proxy_agent.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <thread>
#include <utility>

#include "operator/common/hash.h"
#include "operator/runtime/logging.h"

namespace sg::agent {
namespace {

namespace fs = std::filesystem;

const std::shared_ptr<spdlog::logger>& Log() {
  static const auto logger = runtime::NamedLogger("agent");
  return logger;
}

// A failure always carries a message: an empty one would read as success.
std::string Why(const Status& st) {
  return st.error().message.empty() ? std::string(ErrorCodeName(st.error().code))
                                    : st.error().message;
}

Status WriteFile(const std::string& path, const std::string& content) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(content.data(), static_cast<std::streamsize>(content.size()));
  f.close();
  if (!f) return Internal("cannot write " + path);
  return OkStatus();
}

}  // namespace

ProxyAgent::ProxyAgent(ConfigSource& source, EngineProcess& engine, runtime::Clock& clock,
                       ProxyAgentOptions options)
    : source_(source), engine_(engine), clock_(clock), options_(std::move(options)) {}

ProxyAgent::~ProxyAgent() = default;

void ProxyAgent::Shutdown() {
  stop_.Stop();
  source_.Cancel();
}

std::int64_t ProxyAgent::ServedGeneration() const {
  std::lock_guard<std::mutex> l(mu_);
  return served_generation_;
}

std::string ProxyAgent::LivePath() const {
  return options_.prefix + "/" + engine_.ConfigFileName();
}

int ProxyAgent::Run() {
  std::error_code ec;
  // logs/: nginx's default access and error log paths are relative to the
  // prefix, and a config that omits them must still start.
  fs::create_directories(fs::path(options_.prefix) / "logs", ec);
  if (ec) {
    Log()->error("cannot prepare prefix prefix={} error=\"{}\"", options_.prefix, ec.message());
    return 1;
  }
  Log()->info("proxy agent started prefix={} poll_timeout_s={}", options_.prefix,
              options_.poll_timeout.count());
  std::thread supervisor([this] { Supervise(); });

  runtime::Backoff backoff(options_.fetch_backoff);
  bool outage = false;
  std::int64_t after = 0;  // last generation fetched, applied or rejected
  while (!stop_.IsStopped()) {
    FlushReport();
    auto fetched = source_.Fetch(after, ServingHash(), options_.poll_timeout);
    if (stop_.IsStopped()) break;
    if (!fetched.ok()) {
      if (!outage) {
        Log()->warn(
            "cannot fetch config, serving the last good one served_generation={} "
            "error=\"{}\"",
            ServedGeneration(), fetched.error().message);
        outage = true;
      } else {
        Log()->debug("config fetch failed error=\"{}\"", fetched.error().message);
      }
      if (stop_.WaitFor(clock_, backoff.Next())) break;
      continue;
    }
    if (outage) {
      Log()->info("config source reachable again after_attempts={}", backoff.attempts());
      outage = false;
    }
    backoff.Reset();
    if (!fetched->has_value()) continue;
    const FetchedConfig& config = **fetched;
    // Polling from the fetched (not the served) generation: a rejected
    // configuration is not fetched again until a newer one is published.
    after = config.generation;
    Apply(config);
  }

  supervisor.join();
  {
    std::lock_guard<std::mutex> l(mu_);
    want_running_ = false;
    engine_.Stop(options_.drain_timeout);
  }
  Log()->info("proxy agent stopped served_generation={}", ServedGeneration());
  return 0;
}

void ProxyAgent::Apply(const FetchedConfig& config) {
  std::string error;
  {
    std::lock_guard<std::mutex> l(mu_);
    error = ApplyLocked(config);
  }
  // Reported outside the lock: a slow operator must not hold up the engine.
  QueueReport(config.generation, error.empty(), error);
  FlushReport();
}

std::string ProxyAgent::ApplyLocked(const FetchedConfig& config) {
  if (want_running_ && config.text == running_text_ && engine_.Alive()) {
    // Same text under a new number (e.g. the operator restarted): nothing to
    // reload, only the generation to acknowledge.
    installed_generation_ = config.generation;
    served_generation_ = config.generation;
    Log()->info("config unchanged generation={}", config.generation);
    return "";
  }
  const auto began = clock_.Now();
  applied_at_ = began;
  auto seconds_since = [&](runtime::Clock::TimePoint t) {
    return std::chrono::duration<double>(clock_.Now() - t).count();
  };
  const std::string live = LivePath();
  const std::string next = live + ".next";
  Status st = WriteFile(next, config.text);
  // Files the text names (maps) go beside it first; those of the running and
  // the installed configuration stay, for a reload refused or a restart.
  if (st.ok()) st = engine_.InstallFiles(config.text, {&running_text_, &installed_text_});
  const bool running = want_running_ && engine_.Alive();
  if (st.ok() && running) {
    // Written before the change and moved into place after it, so that a
    // restart of the engine reads what it runs.
    auto in_place = engine_.ApplyInPlace(running_text_, config.text);
    if (in_place.ok() && *in_place && std::rename(next.c_str(), live.c_str()) == 0) {
      installed_text_ = config.text;
      installed_generation_ = config.generation;
      return Served(config, "runtime", fmt::format("change_s={:.3f}", seconds_since(began)));
    }
    if (!in_place.ok()) {
      // Part of it may be in effect: the reload below starts over from the file.
      Log()->warn("runtime change failed, reloading generation={} error=\"{}\"", config.generation,
                  in_place.error().message);
    }
  }
  const auto tested_from = clock_.Now();
  // The operator checked this text with the same engine already; an engine
  // whose failed reload keeps the old configuration serving checks it again
  // as part of the reload, and is tested below only if that fails (for the
  // engine's message). That is one parse of the whole configuration less on
  // every change.
  const bool reload_checks = running && engine_.ReloadKeepsOldOnFailure();
  if (st.ok() && !reload_checks) st = engine_.Test(next);
  const double test_seconds = seconds_since(tested_from);
  if (!st.ok()) {
    std::remove(next.c_str());
    // Point at the file users know: the engine tested it under the temporary name.
    if (!st.error().message.empty()) {
      std::string msg = st.error().message;
      const std::string file = engine_.ConfigFileName();
      for (size_t pos; (pos = msg.find(file + ".next")) != std::string::npos;) {
        msg.replace(pos, file.size() + 5, file);
      }
      st = Error{st.error().code, msg};
    }
    Log()->warn(
        "config rejected, keeping the last good one generation={} served_generation={} "
        "error=\"{}\"",
        config.generation, served_generation_, Why(st));
    return Why(st);
  }
  // rename() is atomic: the engine (a reload, a restart) reads either the old or
  // the new file, never a partial one.
  if (std::rename(next.c_str(), live.c_str()) != 0) {
    std::remove(next.c_str());
    const std::string msg = "cannot move " + next + " into place";
    Log()->error("{} generation={}", msg, config.generation);
    return msg;
  }
  installed_text_ = config.text;
  installed_generation_ = config.generation;
  want_running_ = true;
  const bool reload = engine_.Alive();
  const auto loaded_from = clock_.Now();
  st = reload ? engine_.Reload() : engine_.Start();
  if (!st.ok() && reload_checks && st.error().Is(ErrorCode::kInvalidArgument)) {
    // Still serving the previous configuration: put its file back, so that a
    // restart reads what runs, and say why the new one was refused.
    Status tested = engine_.Test(live);
    const std::string why = tested.ok() ? Why(st) : Why(tested);
    Status restored = WriteFile(next, running_text_);
    if (restored.ok() && std::rename(next.c_str(), live.c_str()) == 0) {
      installed_text_ = running_text_;
      installed_generation_ = served_generation_;
    }
    Log()->warn(
        "config rejected by the reload, keeping the last good one generation={} "
        "served_generation={} error=\"{}\"",
        config.generation, served_generation_, why);
    return why;
  }
  if (!st.ok()) {
    // Installed but not loaded: the supervisor keeps starting the engine and
    // reports the generation once it runs.
    Log()->error("engine {} failed engine={} generation={} error=\"{}\"",
                 reload ? "reload" : "start", engine_.Engine(), config.generation, Why(st));
    return Why(st);
  }
  if (!reload) started_at_ = clock_.Now();
  // Where a slow change spends its time: the engine's own check, then the
  // reload or start until the engine serves the new configuration.
  return Served(config, reload ? "reload" : "start",
                fmt::format("test_s={:.3f} load_s={:.3f} total_s={:.3f}", test_seconds,
                            seconds_since(loaded_from), seconds_since(began)));
}

std::string ProxyAgent::ServingHash() const {
  std::lock_guard<std::mutex> l(mu_);
  return running_hash_;
}

void ProxyAgent::SetRunningLocked(const std::string& text) {
  if (text == running_text_ && !running_hash_.empty()) return;
  running_text_ = text;
  running_hash_ = text.empty() ? std::string() : Sha256Hex(text);
}

std::string ProxyAgent::Served(const FetchedConfig& config, const char* action,
                               const std::string& timings) {
  SetRunningLocked(config.text);
  served_generation_ = config.generation;
  Log()->info("config applied generation={} action={} {}", config.generation, action, timings);
  return "";
}

void ProxyAgent::Supervise() {
  runtime::Backoff backoff(options_.restart_backoff);
  bool was_alive = false;
  runtime::Clock::TimePoint next_try{};
  while (!stop_.WaitFor(clock_, options_.supervise_interval)) {
    bool report = false;
    std::int64_t generation = 0;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (!want_running_) continue;
      const auto now = clock_.Now();
      if (engine_.Alive()) {
        was_alive = true;
        if (now - started_at_ >= options_.stable_after) backoff.Reset();
        ConsolidateLocked(now);
        continue;
      }
      if (was_alive) {
        // Just found dead: wait before restarting, longer if it keeps dying.
        was_alive = false;
        if (now - started_at_ >= options_.stable_after) backoff.Reset();
        next_try = now + backoff.Next();
        Log()->warn("engine is not running, restarting in {}ms",
                    std::chrono::duration_cast<std::chrono::milliseconds>(next_try - now).count());
      }
      if (now < next_try) continue;
      Status st = engine_.Start();
      if (!st.ok()) {
        next_try = now + backoff.Next();
        Log()->error("engine restart failed attempt={} error=\"{}\"", backoff.attempts(),
                     st.error().message);
        continue;
      }
      started_at_ = now;
      was_alive = true;
      SetRunningLocked(installed_text_);
      Log()->info("engine restarted generation={}", installed_generation_);
      if (served_generation_ != installed_generation_) {
        served_generation_ = installed_generation_;
        report = true;
        generation = installed_generation_;
      }
    }
    if (report) {
      QueueReport(generation, true, "");
      FlushReport();
    }
  }
}

void ProxyAgent::ConsolidateLocked(runtime::Clock::TimePoint now) {
  if (!engine_.NeedsConsolidation() || now - applied_at_ < options_.consolidate_after) return;
  if (running_text_ != installed_text_) return;  // the file is not what runs
  // The same configuration, reloaded: with HAProxy's master-worker reload
  // and idle-close-on-response no connection is cut.
  const auto began = clock_.Now();
  Status st = engine_.Reload();
  applied_at_ = clock_.Now();  // a failure is retried after another pause, not at once
  if (!st.ok()) {
    Log()->warn("consolidating reload failed generation={} error=\"{}\"", served_generation_,
                st.error().message);
    return;
  }
  Log()->info("runtime changes consolidated by a reload generation={} load_s={:.3f}",
              served_generation_, std::chrono::duration<double>(clock_.Now() - began).count());
}

void ProxyAgent::QueueReport(std::int64_t generation, bool ok, std::string message) {
  std::lock_guard<std::mutex> l(pending_mu_);
  pending_report_ = PendingReport{generation, ok, std::move(message)};
}

void ProxyAgent::FlushReport() {
  std::lock_guard<std::mutex> send(report_mu_);
  std::optional<PendingReport> r;
  {
    std::lock_guard<std::mutex> l(pending_mu_);
    r = std::move(pending_report_);
    pending_report_.reset();
  }
  if (!r) return;
  Status st = source_.Report(r->generation, r->ok, r->message);
  if (!st.ok()) {
    Log()->debug("report not delivered, will retry generation={} error=\"{}\"", r->generation,
                 st.error().message);
    std::lock_guard<std::mutex> l(pending_mu_);
    if (!pending_report_) pending_report_ = std::move(r);
  }
}

}  // namespace sg::agent
