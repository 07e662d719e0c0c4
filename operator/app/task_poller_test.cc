#include "operator/app/task_poller.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "operator/testing/fake_docker_client.h"

namespace sg::app {
namespace {

docker::Task MakeTask(const std::string& id, const std::string& state,
                      const std::string& desired = "running", const std::string& ip = "") {
  docker::Task t;
  t.id = id;
  t.state = state;
  t.desired_state = desired;
  if (!ip.empty()) t.networks.push_back({"net", "sg-public", {ip + "/24"}});
  return t;
}

class TaskPollerTest : public ::testing::Test {
 protected:
  TaskPollerTest() {
    shop_ = CreateService("shop");
    web_ = CreateService("web");
    docker_.SetTasks(shop_, {MakeTask("s1", "running", "running", "10.0.1.2"),
                             MakeTask("s2", "running", "running", "10.0.1.3")});
    docker_.SetTasks(web_, {MakeTask("w1", "running")});
  }

  std::string CreateService(const std::string& name) {
    auto id = docker_.CreateService(R"({"Name":")" + name +
                                    R"(","TaskTemplate":{"ContainerSpec":{"Image":"x"}}})");
    EXPECT_TRUE(id.ok());
    return id.ok() ? *id : "";
  }

  std::vector<std::string> Poll() {
    auto r = poller_.PollOnce();
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    if (!r.ok()) return {};
    auto names = *r;
    std::sort(names.begin(), names.end());
    return names;
  }

  docker::FakeDockerClient docker_;
  runtime::FakeClock clock_;
  TaskPoller poller_{docker_, clock_, [](const std::string&) {}};
  std::string shop_, web_;
};

TEST_F(TaskPollerTest, FirstPollIsTheBaseline) {
  EXPECT_TRUE(Poll().empty());
  EXPECT_TRUE(Poll().empty());
}

TEST_F(TaskPollerTest, ChangesReportTheServiceName) {
  struct Case {
    std::string label;
    std::vector<docker::Task> shop_tasks;
  };
  const std::vector<Case> cases = {
      {"state change",
       {MakeTask("s1", "failed", "running", "10.0.1.2"),
        MakeTask("s2", "running", "running", "10.0.1.3")}},
      {"new task",
       {MakeTask("s1", "running", "running", "10.0.1.2"),
        MakeTask("s2", "running", "running", "10.0.1.3"),
        MakeTask("s3", "starting", "running", "10.0.1.4")}},
      {"removed task", {MakeTask("s1", "running", "running", "10.0.1.2")}},
      {"desired state change",
       {MakeTask("s1", "running", "shutdown", "10.0.1.2"),
        MakeTask("s2", "running", "running", "10.0.1.3")}},
      {"address change",
       {MakeTask("s1", "running", "running", "10.0.1.9"),
        MakeTask("s2", "running", "running", "10.0.1.3")}},
      {"every task gone", {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.label);
    docker_.SetTasks(shop_, {MakeTask("s1", "running", "running", "10.0.1.2"),
                             MakeTask("s2", "running", "running", "10.0.1.3")});
    Poll();  // whatever the previous case left, this is the new reference
    docker_.SetTasks(shop_, c.shop_tasks);
    EXPECT_EQ(Poll(), std::vector<std::string>{"shop"});
    // Reported once: the next poll sees no change.
    EXPECT_TRUE(Poll().empty());
  }
}

TEST_F(TaskPollerTest, UnchangedTasksReportNothing) {
  Poll();
  // Same tasks, set again in another order.
  docker_.SetTasks(shop_, {MakeTask("s2", "running", "running", "10.0.1.3"),
                           MakeTask("s1", "running", "running", "10.0.1.2")});
  EXPECT_TRUE(Poll().empty());
}

TEST_F(TaskPollerTest, SeveralServicesChangeAtOnce) {
  Poll();
  docker_.SetTasks(shop_, {MakeTask("s1", "running", "running", "10.0.1.2")});
  docker_.SetTasks(web_, {MakeTask("w1", "complete", "shutdown"), MakeTask("w2", "running")});
  EXPECT_EQ(Poll(), (std::vector<std::string>{"shop", "web"}));
}

TEST_F(TaskPollerTest, FirstTaskAfterAnEmptyBaselineIsAChange) {
  docker::FakeDockerClient empty;
  TaskPoller poller(empty, clock_, [](const std::string&) {});
  auto first = poller.PollOnce();
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->empty());
  auto id =
      empty.CreateService(R"({"Name":"late","TaskTemplate":{"ContainerSpec":{"Image":"x"}}})");
  ASSERT_TRUE(id.ok());
  empty.SetTasks(*id, {MakeTask("l1", "running")});
  auto second = poller.PollOnce();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, std::vector<std::string>{"late"});
}

TEST_F(TaskPollerTest, ListErrorIsReturnedAndKeepsTheBaseline) {
  Poll();
  docker_.FailNext("ListTasks", Unavailable("engine down"));
  auto failed = poller_.PollOnce();
  ASSERT_FALSE(failed.ok());
  EXPECT_TRUE(failed.error().Is(ErrorCode::kUnavailable));
  docker_.SetTasks(web_, {MakeTask("w1", "failed")});
  EXPECT_EQ(Poll(), std::vector<std::string>{"web"});
}

}  // namespace
}  // namespace sg::app
