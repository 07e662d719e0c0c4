#include "operator/common/scratch_dir.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace sg {
namespace {

namespace fs = std::filesystem;

std::string Read(const std::string& path) {
  std::ifstream f(path);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

TEST(ScratchDirTest, WritesBelowItselfAndIsRemovedWithEverything) {
  std::string path;
  {
    auto dir = ScratchDir::Create("", "sg-scratch-test");
    ASSERT_TRUE(dir.ok()) << dir.error().ToString();
    path = dir->path();
    EXPECT_NE(fs::path(path).filename().string().find("sg-scratch-test-"), std::string::npos);
    ASSERT_TRUE(dir->Write("a.conf", "one").ok());
    ASSERT_TRUE(dir->WriteAll({{"certs/x.pem", "two"}, {"b/c/d.txt", "three"}}).ok());
    EXPECT_EQ(Read(path + "/a.conf"), "one");
    EXPECT_EQ(Read(path + "/certs/x.pem"), "two");
    EXPECT_EQ(Read(path + "/b/c/d.txt"), "three");
    ScratchDir moved = std::move(*dir);
    EXPECT_EQ(moved.path(), path);
  }
  EXPECT_FALSE(fs::exists(path));
}

TEST(ScratchDirTest, RefusesPathsOutsideItself) {
  auto dir = ScratchDir::Create("", "sg-scratch-test");
  ASSERT_TRUE(dir.ok());
  for (const std::string bad : {"/etc/passwd", "../escape", "a/../../escape", ""}) {
    Status st = dir->Write(bad, "x");
    ASSERT_FALSE(st.ok()) << bad;
    EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(dir->WriteAll({{"ok.txt", "x"}, {"../bad", "y"}}).ok());
  EXPECT_TRUE(IsRelativeInside("a/b"));
  EXPECT_FALSE(IsRelativeInside("a/../../b"));
}

TEST(ScratchDirTest, MissingRootIsAnError) {
  auto dir = ScratchDir::Create("/nonexistent-sg-root", "x");
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.error().message.find("/nonexistent-sg-root"), std::string::npos);
}

}  // namespace
}  // namespace sg
