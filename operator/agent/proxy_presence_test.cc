// ProxyPresence on a real directory: files, freshness and the linger.

#include "operator/agent/proxy_presence.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace sg::agent {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

class ProxyPresenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "sg-presence-XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string dir_;
};

TEST_F(ProxyPresenceTest, CountsOnlyOtherFreshProxies) {
  ProxyPresence old_task(dir_, "task1");
  ProxyPresence new_task(dir_, "task2");
  ASSERT_TRUE(old_task.Announce().ok());
  EXPECT_EQ(old_task.OthersServing(milliseconds(3000)), 0) << "its own file does not count";
  ASSERT_TRUE(new_task.Announce().ok());
  EXPECT_EQ(old_task.OthersServing(milliseconds(3000)), 1);
  EXPECT_EQ(new_task.OthersServing(milliseconds(3000)), 1);
  // A file nobody touched for longer than `fresh`: its proxy died.
  fs::last_write_time(new_task.path(), fs::file_time_type::clock::now() - std::chrono::seconds(10));
  EXPECT_EQ(old_task.OthersServing(milliseconds(3000)), 0);
  ASSERT_TRUE(new_task.Announce().ok());  // touched again
  EXPECT_EQ(old_task.OthersServing(milliseconds(3000)), 1);
}

TEST_F(ProxyPresenceTest, IgnoresOtherFilesOfTheVolume) {
  ProxyPresence p(dir_, "task1");
  { std::ofstream(dir_ + "/sock"); }
  { std::ofstream(dir_ + "/serving"); }
  EXPECT_EQ(p.OthersServing(milliseconds(3000)), 0);
}

TEST_F(ProxyPresenceTest, WithdrawnForGood) {
  ProxyPresence stopping(dir_, "task1");
  ProxyPresence other(dir_, "task2");
  ASSERT_TRUE(stopping.Announce().ok());
  stopping.Withdraw();
  EXPECT_FALSE(fs::exists(stopping.path()));
  // The heartbeat may still run once after the signal: it must not bring
  // the file back.
  ASSERT_TRUE(stopping.Announce().ok());
  EXPECT_FALSE(fs::exists(stopping.path()));
  EXPECT_EQ(other.OthersServing(milliseconds(3000)), 0);
}

TEST_F(ProxyPresenceTest, IdsBecomeFileNames) {
  ProxyPresence p(dir_, "../x/y z");
  ASSERT_TRUE(p.Announce().ok());
  EXPECT_EQ(fs::path(p.path()).parent_path(), fs::path(dir_));
  EXPECT_EQ(fs::path(p.path()).filename(), "serving.___x_y_z");
}

TEST_F(ProxyPresenceTest, AwaitOtherSeesASuccessorOrGivesUp) {
  ProxyPresence stopping(dir_, "task1");
  stopping.Withdraw();
  EXPECT_FALSE(stopping.AwaitOther(milliseconds(200), milliseconds(3000)))
      << "no successor: the linger ends";
  std::atomic<bool> cancel{true};
  EXPECT_FALSE(stopping.AwaitOther(milliseconds(60000), milliseconds(3000), &cancel))
      << "cancelled: returns at once";
  ProxyPresence successor(dir_, "task2");
  ASSERT_TRUE(successor.Announce().ok());
  EXPECT_TRUE(stopping.AwaitOther(milliseconds(60000), milliseconds(3000)));
}

TEST_F(ProxyPresenceTest, AnnounceFailsWhereNothingCanBeWritten) {
  ProxyPresence p(dir_ + "/missing", "task1");
  EXPECT_FALSE(p.Announce().ok());
  EXPECT_EQ(p.OthersServing(milliseconds(3000)), 0);
}

}  // namespace
}  // namespace sg::agent
