#include "operator/election/leader_elector.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "operator/common/labels.h"
#include "operator/testing/fake_docker_client.h"

namespace sg::election {
namespace {

using std::chrono::milliseconds;

LeaseOptions Options(const std::string& identity) {
  LeaseOptions o;
  o.identity = identity;
  o.url = "http://" + identity + ":9090";
  o.lease_duration = milliseconds(3000);
  o.renew_deadline = milliseconds(2000);
  o.retry_period = milliseconds(500);
  return o;
}

std::string Label(docker::FakeDockerClient& docker, const char* key) {
  auto c = docker.InspectConfig(kDefaultLeaseName);
  if (!c.ok()) return "<" + c.error().ToString() + ">";
  auto it = c->spec.labels.find(key);
  return it == c->spec.labels.end() ? "<absent>" : it->second;
}

class LeaderElectorTest : public ::testing::Test {
 protected:
  docker::FakeDockerClient docker_;
  runtime::FakeClock clock_;
  LeaderElector a_{docker_, clock_, Options("a")};
  LeaderElector b_{docker_, clock_, Options("b")};
};

TEST_F(LeaderElectorTest, FirstCandidateCreatesTheLeaseAndLeads) {
  EXPECT_TRUE(a_.TryAcquireOrRenew());
  EXPECT_FALSE(b_.TryAcquireOrRenew());
  EXPECT_TRUE(a_.IsLeader());
  EXPECT_FALSE(b_.IsLeader());
  EXPECT_EQ(Label(docker_, kLabelLeaseHolder), "a");
  EXPECT_EQ(Label(docker_, kLabelLeaseUrl), "http://a:9090");
  EXPECT_EQ(Label(docker_, kLabelLeaseDuration), "3000");
  EXPECT_EQ(a_.LeaderUrl(), "http://a:9090");
  EXPECT_EQ(b_.LeaderUrl(), "http://a:9090");
}

TEST_F(LeaderElectorTest, RenewalsKeepTheFollowerOut) {
  ASSERT_TRUE(a_.TryAcquireOrRenew());
  for (int i = 0; i < 20; ++i) {
    clock_.Advance(milliseconds(500));
    ASSERT_TRUE(a_.TryAcquireOrRenew()) << "renewal " << i;
    ASSERT_FALSE(b_.TryAcquireOrRenew()) << "attempt " << i;
  }
  EXPECT_EQ(Label(docker_, kLabelLeaseTransitions), "0");
}

TEST_F(LeaderElectorTest, FollowerTakesAnUnrenewedLeaseOnlyAfterTheLeaseDuration) {
  ASSERT_TRUE(a_.TryAcquireOrRenew());
  ASSERT_FALSE(b_.TryAcquireOrRenew());  // b observes the record now
  // a is gone: no more renewals.
  clock_.Advance(milliseconds(2999));
  EXPECT_FALSE(b_.TryAcquireOrRenew());
  EXPECT_FALSE(a_.IsLeader()) << "a must have stepped down at its renew deadline";
  clock_.Advance(milliseconds(1));
  EXPECT_TRUE(b_.TryAcquireOrRenew());
  EXPECT_EQ(Label(docker_, kLabelLeaseHolder), "b");
  EXPECT_EQ(Label(docker_, kLabelLeaseTransitions), "1");
  // a comes back: it sees b's record and does not lead.
  EXPECT_FALSE(a_.TryAcquireOrRenew());
  EXPECT_EQ(a_.LeaderUrl(), "http://b:9090");
}

TEST_F(LeaderElectorTest, LeaderThatCannotRenewStepsDownBeforeAFollowerMayTakeOver) {
  ASSERT_TRUE(a_.TryAcquireOrRenew());
  ASSERT_FALSE(b_.TryAcquireOrRenew());
  docker_.FailNext("Config", Unavailable("paused"), 1000);
  clock_.Advance(milliseconds(1999));
  EXPECT_TRUE(a_.IsLeader());
  clock_.Advance(milliseconds(1));
  EXPECT_FALSE(a_.IsLeader()) << "the renew deadline passed";
  EXPECT_FALSE(a_.TryAcquireOrRenew());
  EXPECT_EQ(a_.LeaderUrl(), "");
  EXPECT_TRUE(a_.ApiHealthy()) << "answered 2 s ago, within the lease duration";
  clock_.Advance(milliseconds(1000));
  EXPECT_FALSE(a_.TryAcquireOrRenew());
  EXPECT_FALSE(a_.ApiHealthy());
}

TEST_F(LeaderElectorTest, ReleaseLetsTheFollowerTakeOverAtOnce) {
  ASSERT_TRUE(a_.TryAcquireOrRenew());
  ASSERT_FALSE(b_.TryAcquireOrRenew());
  ASSERT_TRUE(a_.Release().ok());
  EXPECT_FALSE(a_.IsLeader());
  EXPECT_EQ(Label(docker_, kLabelLeaseHolder), "");
  EXPECT_TRUE(b_.TryAcquireOrRenew());
  EXPECT_EQ(Label(docker_, kLabelLeaseTransitions), "1");
}

TEST_F(LeaderElectorTest, LosingTheCompareAndSwapDoesNotLead) {
  ASSERT_TRUE(a_.TryAcquireOrRenew());
  ASSERT_TRUE(a_.Release().ok());
  docker_.FailNext("UpdateConfig", Conflict("update out of sequence"));
  EXPECT_FALSE(b_.TryAcquireOrRenew());
  EXPECT_EQ(Label(docker_, kLabelLeaseHolder), "");
  EXPECT_TRUE(b_.TryAcquireOrRenew());
}

TEST_F(LeaderElectorTest, AnotherHoldersRecordEndsLeadershipAtOnce) {
  ASSERT_TRUE(a_.TryAcquireOrRenew());
  // Someone else's write (e.g. after a long stall of a) is the record now.
  auto c = docker_.InspectConfig(kDefaultLeaseName);
  ASSERT_TRUE(c.ok());
  docker::ConfigSpec spec = c->spec;
  spec.labels[kLabelLeaseHolder] = "c";
  ASSERT_TRUE(docker_.UpdateConfig(c->id, c->version, spec).ok());
  EXPECT_FALSE(a_.TryAcquireOrRenew());
  EXPECT_FALSE(a_.IsLeader());
}

TEST_F(LeaderElectorTest, CreateRaceLeavesOneLeader) {
  docker_.FailNext("CreateConfig", Conflict("config swarmgate-leader already exists"));
  EXPECT_FALSE(a_.TryAcquireOrRenew());
  EXPECT_TRUE(b_.TryAcquireOrRenew());
  EXPECT_FALSE(a_.TryAcquireOrRenew());
}

TEST(LeaseOptionsTest, DeadlinesMustNest) {
  LeaseOptions o = Options("a");
  EXPECT_EQ(ValidateLeaseOptions(o), "");
  o.renew_deadline = o.lease_duration;
  EXPECT_NE(ValidateLeaseOptions(o), "");
  o = Options("a");
  o.retry_period = o.renew_deadline;
  EXPECT_NE(ValidateLeaseOptions(o), "");
  o = Options("");
  EXPECT_NE(ValidateLeaseOptions(o), "");
}

TEST(LeaderElectorRunTest, CallbacksFollowLeadershipAndStopReleases) {
  docker::FakeDockerClient docker;
  runtime::RealClock clock;
  std::atomic<int> started{0}, stopped{0};
  LeaseOptions o = Options("a");
  o.retry_period = milliseconds(20);
  o.renew_deadline = milliseconds(200);
  o.lease_duration = milliseconds(300);
  LeaderElector a(docker, clock, o, {[&] { ++started; }, [&] { ++stopped; }});
  runtime::StopSignal stop;
  std::thread run([&] { a.Run(stop); });
  for (int i = 0; i < 500 && started.load() == 0; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(started.load(), 1);
  EXPECT_EQ(stopped.load(), 0);
  stop.Stop();
  run.join();
  EXPECT_EQ(stopped.load(), 1);
  EXPECT_EQ(Label(docker, kLabelLeaseHolder), "");
}

}  // namespace
}  // namespace sg::election
