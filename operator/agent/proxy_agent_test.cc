#include "operator/agent/proxy_agent.h"

#include "operator/common/hash.h"

#include "operator/agent/nginx_process.h"

#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace sg::agent {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr auto kDeadline = 15s;

template <class Pred>
bool Eventually(Pred pred) {
  const auto end = std::chrono::steady_clock::now() + kDeadline;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return pred();
}

std::string ReadAll(const fs::path& p) {
  std::ifstream f(p);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// A source fed by the test: Fetch() returns queued answers in order and
// otherwise waits (as a long-poll would) until one is queued or it is
// cancelled. Records every `after` and report.
class FakeSource : public ConfigSource {
 public:
  struct Reported {
    std::int64_t generation;
    bool ok;
    std::string message;
  };

  void Push(Result<std::optional<FetchedConfig>> r) {
    std::lock_guard<std::mutex> l(mu_);
    answers_.push_back(std::move(r));
    cv_.notify_all();
  }
  void PushConfig(std::int64_t gen, std::string text) {
    Push(std::optional<FetchedConfig>(FetchedConfig{gen, std::move(text)}));
  }
  void FailReports(int n) {
    std::lock_guard<std::mutex> l(mu_);
    fail_reports_ = n;
  }

  Result<std::optional<FetchedConfig>> Fetch(std::int64_t after, const std::string& serving,
                                             std::chrono::seconds) override {
    std::unique_lock<std::mutex> l(mu_);
    afters_.push_back(after);
    servings_.push_back(serving);
    cv_.wait(l, [&] { return cancelled_ || !answers_.empty(); });
    if (cancelled_) return Unavailable("cancelled");
    auto r = std::move(answers_.front());
    answers_.pop_front();
    ++fetches_;
    return r;
  }
  Status Report(std::int64_t generation, bool ok, const std::string& message) override {
    std::lock_guard<std::mutex> l(mu_);
    if (fail_reports_ > 0) {
      --fail_reports_;
      return Unavailable("operator down");
    }
    reports_.push_back({generation, ok, message});
    return OkStatus();
  }
  void Cancel() override {
    std::lock_guard<std::mutex> l(mu_);
    cancelled_ = true;
    cv_.notify_all();
  }

  std::vector<Reported> reports() {
    std::lock_guard<std::mutex> l(mu_);
    return reports_;
  }
  std::vector<std::int64_t> afters() {
    std::lock_guard<std::mutex> l(mu_);
    return afters_;
  }
  std::vector<std::string> servings() {
    std::lock_guard<std::mutex> l(mu_);
    return servings_;
  }
  int fetches() {
    std::lock_guard<std::mutex> l(mu_);
    return fetches_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Result<std::optional<FetchedConfig>>> answers_;
  std::vector<Reported> reports_;
  std::vector<std::int64_t> afters_;
  std::vector<std::string> servings_;
  int fetches_ = 0;
  int fail_reports_ = 0;
  bool cancelled_ = false;
};

// nginx as a few flags. The agent calls it under its own mutex; the test
// reads and flips flags from its thread, hence the lock.
class FakeNginx : public EngineProcess {
 public:
  std::string Engine() const override { return "nginx"; }
  std::string ConfigFileName() const override { return "nginx.conf"; }
  Status Test(const std::string& config_file) override {
    std::lock_guard<std::mutex> l(mu_);
    tested_.push_back(ReadAll(config_file));
    if (ReadAll(config_file).find("invalid") != std::string::npos) {
      return InvalidArgument("[emerg] unknown directive \"invalid\" in nginx.conf.next:1");
    }
    return OkStatus();
  }
  Status Start() override {
    std::lock_guard<std::mutex> l(mu_);
    ++starts_;
    if (fail_starts_ > 0) {
      --fail_starts_;
      return Unavailable("nginx exited at start (exit_code=1)");
    }
    alive_ = true;
    return OkStatus();
  }
  Status Reload() override {
    std::lock_guard<std::mutex> l(mu_);
    if (!alive_) return Unavailable("not running");
    if (reload_checks_ && ReadAll(live_).find("invalid") != std::string::npos) {
      return InvalidArgument("kept its old configuration");
    }
    if (fail_reloads_ > 0) {
      --fail_reloads_;
      return Unavailable("nginx kept its old configuration");
    }
    ++reloads_;
    diverged_ = false;
    return OkStatus();
  }
  // A text starting "runtime:" is taken in place, one starting
  // "runtime-fails:" is refused half-way; anything else needs a reload.
  Result<bool> ApplyInPlace(const std::string& from, const std::string& to) override {
    std::lock_guard<std::mutex> l(mu_);
    (void)from;
    if (to.rfind("runtime-fails:", 0) == 0) return Internal("refused");
    if (to.rfind("runtime-route:", 0) == 0) {
      // Taken at run time, laid out otherwise than a reload would.
      ++in_place_;
      diverged_ = true;
      return true;
    }
    if (to.rfind("runtime:", 0) != 0) return false;
    ++in_place_;
    return true;
  }
  bool NeedsConsolidation() const override {
    std::lock_guard<std::mutex> l(mu_);
    return diverged_;
  }
  void Stop(std::chrono::milliseconds drain) override {
    std::lock_guard<std::mutex> l(mu_);
    if (alive_) ++stops_;
    last_drain_ = drain;
    alive_ = false;
  }
  bool Alive() override {
    std::lock_guard<std::mutex> l(mu_);
    return alive_;
  }
  pid_t Pid() const override { return 0; }
  bool ReloadKeepsOldOnFailure() const override { return reload_checks_; }

  // Like HAProxy: a reload of the file at `live` that does not load keeps
  // the old configuration serving.
  void ReloadChecks(const std::string& live) {
    std::lock_guard<std::mutex> l(mu_);
    reload_checks_ = true;
    live_ = live;
  }
  void Crash() {
    std::lock_guard<std::mutex> l(mu_);
    alive_ = false;
  }
  void FailStarts(int n) {
    std::lock_guard<std::mutex> l(mu_);
    fail_starts_ = n;
  }
  void FailReloads(int n) {
    std::lock_guard<std::mutex> l(mu_);
    fail_reloads_ = n;
  }
  int starts() {
    std::lock_guard<std::mutex> l(mu_);
    return starts_;
  }
  int reloads() {
    std::lock_guard<std::mutex> l(mu_);
    return reloads_;
  }
  int stops() {
    std::lock_guard<std::mutex> l(mu_);
    return stops_;
  }
  int in_place() {
    std::lock_guard<std::mutex> l(mu_);
    return in_place_;
  }
  std::chrono::milliseconds last_drain() {
    std::lock_guard<std::mutex> l(mu_);
    return last_drain_;
  }
  std::size_t tests() {
    std::lock_guard<std::mutex> l(mu_);
    return tested_.size();
  }

 private:
  mutable std::mutex mu_;
  bool alive_ = false;
  bool diverged_ = false;
  int starts_ = 0, reloads_ = 0, stops_ = 0, fail_starts_ = 0, fail_reloads_ = 0, in_place_ = 0;
  std::chrono::milliseconds last_drain_{-1};
  std::vector<std::string> tested_;
  bool reload_checks_ = false;
  std::string live_;
};

class ProxyAgentTest : public ::testing::Test {
 protected:
  ProxyAgentTest() {
    std::string templ = (fs::temp_directory_path() / "sg-agent-XXXXXX").string();
    EXPECT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    options_.prefix = dir_ + "/prefix";  // created by the agent
    options_.supervise_interval = 2ms;
    options_.fetch_backoff = {1ms, 5ms, 2.0, 0.0};
    options_.restart_backoff = {1ms, 5ms, 2.0, 0.0};
    options_.drain_timeout = 1234ms;
  }
  ~ProxyAgentTest() override {
    StopAgent();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void StartAgent() {
    agent_ = std::make_unique<ProxyAgent>(source_, nginx_, clock_, options_);
    thread_ = std::thread([this] { exit_code_ = agent_->Run(); });
  }
  void StopAgent() {
    if (!agent_) return;
    agent_->Shutdown();
    thread_.join();
    agent_.reset();
  }
  std::string Live() { return ReadAll(options_.prefix + "/nginx.conf"); }
  bool Reported(std::int64_t gen, bool ok) {
    for (const auto& r : source_.reports()) {
      if (r.generation == gen && r.ok == ok) return true;
    }
    return false;
  }

  std::string dir_;
  ProxyAgentOptions options_;
  runtime::RealClock clock_;
  FakeSource source_;
  FakeNginx nginx_;
  std::unique_ptr<ProxyAgent> agent_;
  std::thread thread_;
  int exit_code_ = -1;
};

TEST_F(ProxyAgentTest, NginxStartsOnlyAfterFirstConfig) {
  StartAgent();
  source_.Push(std::optional<FetchedConfig>());  // long-poll timed out
  source_.Push(std::optional<FetchedConfig>());
  ASSERT_TRUE(Eventually([&] { return source_.afters().size() >= 3; }));
  EXPECT_EQ(nginx_.starts(), 0);
  EXPECT_EQ(source_.afters(), (std::vector<std::int64_t>{0, 0, 0}));

  source_.PushConfig(1, "conf1");
  ASSERT_TRUE(Eventually([&] { return Reported(1, true); }));
  EXPECT_EQ(nginx_.starts(), 1);
  EXPECT_EQ(nginx_.reloads(), 0);
  EXPECT_EQ(Live(), "conf1");
  EXPECT_FALSE(fs::exists(options_.prefix + "/nginx.conf.next"));
  EXPECT_EQ(agent_->ServedGeneration(), 1);
  ASSERT_TRUE(Eventually([&] { return source_.afters().size() >= 4; }));
  EXPECT_EQ(source_.afters().back(), 1);
}

// How a second configuration is taken: tested and reloaded; in place,
// neither tested nor reloaded; or, when the in-place change fails, tested
// and reloaded after all. In every case it is live on disk too, for the next
// restart of the engine.
struct SecondConfig {
  const char* text;
  int in_place;
  int reloads;
  std::size_t tests;
};

class ProxyAgentSecondConfigTest : public ProxyAgentTest,
                                   public ::testing::WithParamInterface<SecondConfig> {};

TEST_P(ProxyAgentSecondConfigTest, IsReloadedOrTakenInPlace) {
  const SecondConfig& c = GetParam();
  StartAgent();
  source_.PushConfig(1, "conf1");
  source_.PushConfig(2, c.text);
  ASSERT_TRUE(Eventually([&] { return Reported(2, true); }));
  EXPECT_EQ(nginx_.starts(), 1);
  EXPECT_EQ(nginx_.in_place(), c.in_place);
  EXPECT_EQ(nginx_.reloads(), c.reloads);
  EXPECT_EQ(nginx_.tests(), c.tests);
  EXPECT_EQ(Live(), c.text);
  EXPECT_FALSE(fs::exists(options_.prefix + "/nginx.conf.next"));
  EXPECT_EQ(agent_->ServedGeneration(), 2);
}

INSTANTIATE_TEST_SUITE_P(Agent, ProxyAgentSecondConfigTest,
                         ::testing::Values(SecondConfig{"conf2", 0, 1, 2},
                                           SecondConfig{"runtime:conf2", 1, 0, 1},
                                           SecondConfig{"runtime-fails:conf2", 0, 1, 2}));

// Routes taken at run time are laid out in spare backends: once changes
// pause, the same file is reloaded, which gives them their own.
TEST_F(ProxyAgentTest, RuntimeRoutesAreConsolidatedByAReloadOnceChangesPause) {
  options_.consolidate_after = 50ms;
  StartAgent();
  source_.PushConfig(1, "conf1");
  source_.PushConfig(2, "runtime-route:conf2");
  ASSERT_TRUE(Eventually([&] { return Reported(2, true); }));
  EXPECT_EQ(nginx_.in_place(), 1);
  ASSERT_TRUE(Eventually([&] { return nginx_.reloads() == 1; })) << "reloads=" << nginx_.reloads();
  EXPECT_FALSE(nginx_.NeedsConsolidation());
  EXPECT_EQ(Live(), "runtime-route:conf2");
  EXPECT_EQ(agent_->ServedGeneration(), 2);
}

// Each long-poll names what the engine serves, so that an operator that
// restarted recognises it.
TEST_F(ProxyAgentTest, PollsNameTheHashOfWhatIsServed) {
  StartAgent();
  source_.PushConfig(1, "conf1");
  ASSERT_TRUE(Eventually([&] { return Reported(1, true) && source_.servings().size() >= 2; }));
  const auto servings = source_.servings();
  EXPECT_EQ(servings.front(), "");
  EXPECT_EQ(servings.back(), Sha256Hex("conf1"));
}

TEST_F(ProxyAgentTest, ATextTheEngineRefusedToReloadIsReloadedWhenSentAgain) {
  StartAgent();
  source_.PushConfig(1, "conf1");
  ASSERT_TRUE(Eventually([&] { return Reported(1, true); }));
  nginx_.FailReloads(1);
  source_.PushConfig(2, "conf2");
  ASSERT_TRUE(Eventually([&] { return Reported(2, false); }));
  // The same text again (the operator restarted): not acknowledged as
  // served without a reload, since the engine still runs conf1.
  source_.PushConfig(3, "conf2");
  ASSERT_TRUE(Eventually([&] { return Reported(3, true); }));
  EXPECT_EQ(nginx_.reloads(), 1);
  EXPECT_EQ(agent_->ServedGeneration(), 3);
}

TEST_F(ProxyAgentTest, RejectedConfigKeepsLastGoodOne) {
  StartAgent();
  source_.PushConfig(1, "conf1");
  source_.PushConfig(2, "invalid");
  ASSERT_TRUE(Eventually([&] { return Reported(2, false); }));
  const auto reports = source_.reports();
  EXPECT_NE(reports.back().message.find("unknown directive"), std::string::npos);
  EXPECT_EQ(Live(), "conf1");
  EXPECT_EQ(nginx_.reloads(), 0);
  EXPECT_EQ(agent_->ServedGeneration(), 1);
  // It polls past the rejected generation instead of fetching it again.
  ASSERT_TRUE(Eventually([&] { return source_.afters().size() >= 3; }));
  EXPECT_EQ(source_.afters()[2], 2);
  EXPECT_FALSE(fs::exists(options_.prefix + "/nginx.conf.next"));
}

TEST_F(ProxyAgentTest, AnEngineWhoseReloadChecksIsNotTestedBeforeReloading) {
  nginx_.ReloadChecks(options_.prefix + "/nginx.conf");
  StartAgent();
  source_.PushConfig(1, "conf1");
  ASSERT_TRUE(Eventually([&] { return Reported(1, true); }));
  EXPECT_EQ(nginx_.tests(), 1u);  // the first start is tested
  source_.PushConfig(2, "conf2");
  ASSERT_TRUE(Eventually([&] { return Reported(2, true); }));
  EXPECT_EQ(nginx_.tests(), 1u);
  EXPECT_EQ(nginx_.reloads(), 1);

  // Refused by the reload: tested then for the engine's message, the file
  // of the configuration that serves is put back.
  source_.PushConfig(3, "invalid");
  ASSERT_TRUE(Eventually([&] { return Reported(3, false); }));
  EXPECT_NE(source_.reports().back().message.find("unknown directive"), std::string::npos)
      << source_.reports().back().message;
  EXPECT_EQ(Live(), "conf2");
  EXPECT_EQ(agent_->ServedGeneration(), 2);
  source_.PushConfig(4, "conf4");
  ASSERT_TRUE(Eventually([&] { return Reported(4, true); }));
  EXPECT_EQ(Live(), "conf4");
  EXPECT_EQ(nginx_.reloads(), 2);
}

TEST_F(ProxyAgentTest, SameTextUnderNewGenerationIsOnlyAcknowledged) {
  StartAgent();
  source_.PushConfig(5, "conf");
  source_.PushConfig(1, "conf");  // e.g. the operator restarted
  ASSERT_TRUE(Eventually([&] { return Reported(1, true); }));
  EXPECT_EQ(nginx_.starts(), 1);
  EXPECT_EQ(nginx_.reloads(), 0);
  EXPECT_EQ(nginx_.tests(), 1u);
  EXPECT_EQ(agent_->ServedGeneration(), 1);
}

TEST_F(ProxyAgentTest, SourceErrorsAreRetried) {
  StartAgent();
  source_.Push(Unavailable("connection refused"));
  source_.Push(Unavailable("connection refused"));
  source_.Push(InvalidArgument("HTTP 401"));
  source_.PushConfig(1, "conf1");
  ASSERT_TRUE(Eventually([&] { return Reported(1, true); }));
  EXPECT_EQ(source_.fetches(), 4);
}

TEST_F(ProxyAgentTest, LostReportIsResent) {
  // Fails when applied and again at the next poll's flush.
  source_.FailReports(2);
  StartAgent();
  source_.PushConfig(1, "conf1");
  ASSERT_TRUE(Eventually([&] { return source_.afters().size() >= 2; }));
  EXPECT_FALSE(Reported(1, true));
  source_.Push(std::optional<FetchedConfig>());  // next poll flushes it first
  ASSERT_TRUE(Eventually([&] { return Reported(1, true); }));
}

TEST_F(ProxyAgentTest, DeadNginxIsRestarted) {
  StartAgent();
  source_.PushConfig(1, "conf1");
  ASSERT_TRUE(Eventually([&] { return Reported(1, true); }));
  nginx_.FailStarts(2);
  nginx_.Crash();
  ASSERT_TRUE(Eventually([&] { return nginx_.starts() == 4 && nginx_.Alive(); }));
}

TEST_F(ProxyAgentTest, FailedFirstStartIsRetriedAndReported) {
  nginx_.FailStarts(1);
  StartAgent();
  source_.PushConfig(1, "conf1");
  ASSERT_TRUE(Eventually([&] { return Reported(1, false); }));
  ASSERT_TRUE(Eventually([&] { return Reported(1, true); }));
  EXPECT_EQ(agent_->ServedGeneration(), 1);
}

TEST_F(ProxyAgentTest, ShutdownDrainsNginx) {
  StartAgent();
  source_.PushConfig(1, "conf1");
  ASSERT_TRUE(Eventually([&] { return nginx_.Alive(); }));
  StopAgent();
  EXPECT_EQ(exit_code_, 0);
  EXPECT_EQ(nginx_.stops(), 1);
  EXPECT_EQ(nginx_.last_drain(), 1234ms);
  EXPECT_FALSE(nginx_.Alive());
}

TEST_F(ProxyAgentTest, ShutdownBeforeAnyConfig) {
  StartAgent();
  ASSERT_TRUE(Eventually([&] { return source_.afters().size() == 1; }));
  StopAgent();
  EXPECT_EQ(exit_code_, 0);
  EXPECT_EQ(nginx_.starts(), 0);
}

TEST(StaticFileSourceTest, ServesFileAndNoticesChanges) {
  const fs::path file = fs::temp_directory_path() / ("sg-static-" + std::to_string(getpid()));
  { std::ofstream(file) << "one"; }
  runtime::RealClock clock;
  StaticFileSource source(file.string(), clock);
  auto r = source.Fetch(0, "", 0s);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->generation, 1);
  EXPECT_EQ((*r)->text, "one");
  r = source.Fetch(1, "", 0s);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
  { std::ofstream(file) << "two"; }
  r = source.Fetch(1, "", 0s);
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->generation, 2);
  EXPECT_EQ((*r)->text, "two");
  fs::remove(file);
  EXPECT_FALSE(source.Fetch(2, "", 0s).ok());
}

TEST(NginxDirectivesTest, MainContextOnly) {
  const std::string conf = R"(# daemon on;
worker_processes auto;
pid "run/nginx.pid";
events { worker_connections 64; }
http {
  server { listen 80; location / { return 200 "a;b{c}"; } }
  map $x ${y}z { default 1; }
}
daemon off;
)";
  const auto d = MainDirectives(conf);
  EXPECT_EQ(d.at("worker_processes"), "auto");
  EXPECT_EQ(d.at("pid"), "\"run/nginx.pid\"");
  EXPECT_EQ(d.at("daemon"), "off");
  EXPECT_EQ(d.count("listen"), 0u);
  EXPECT_EQ(d.count("return"), 0u);
  EXPECT_EQ(GlobalDirectivesFor(conf), "");
  EXPECT_EQ(GlobalDirectivesFor("events {}\n"), "daemon off; pid nginx.pid;");
  EXPECT_EQ(GlobalDirectivesFor("daemon off;\nevents {}\n"), "pid nginx.pid;");
}

TEST(HttpUrlTest, Parse) {
  auto ep = ParseHttpUrl("http://swarmgate-operator:9090");
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->host, "swarmgate-operator");
  EXPECT_EQ(ep->port, 9090);
  EXPECT_EQ(ep->base_path, "");
  ep = ParseHttpUrl("http://[::1]:81/base/");
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->host, "::1");
  EXPECT_EQ(ep->port, 81);
  EXPECT_EQ(ep->base_path, "/base");
  ep = ParseHttpUrl("http://op");
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->port, 80);
  EXPECT_FALSE(ParseHttpUrl("https://op:1").ok());
  EXPECT_FALSE(ParseHttpUrl("http://op:99999").ok());
  EXPECT_FALSE(ParseHttpUrl("http://:80").ok());
  EXPECT_EQ(QueryEscape("a b/c"), "a%20b%2Fc");
}

}  // namespace
}  // namespace sg::agent
