#include "operator/common/token_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace sg {
namespace {

namespace fs = std::filesystem;

class TokenFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("sg-token-file-test-" + std::to_string(::getpid()) + "-" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& text) {
    const fs::path p = dir_ / "token";
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }

  fs::path dir_;
};

TEST_F(TokenFileTest, TrimsTheTrailingNewline) {
  auto t = ReadTokenFile(Write("s3cret\n"));
  ASSERT_TRUE(t.ok()) << t.error().ToString();
  EXPECT_EQ(*t, "s3cret");
  EXPECT_EQ(*ReadTokenFile(Write("s3cret\r\n \t")), "s3cret");
  EXPECT_EQ(*ReadTokenFile(Write("s3cret")), "s3cret");
}

TEST_F(TokenFileTest, EmptyFileIsAnErrorNamingThePath) {
  for (const char* text : {"", "\n", " \r\n\t"}) {
    const std::string path = Write(text);
    auto t = ReadTokenFile(path);
    ASSERT_FALSE(t.ok()) << "content " << ::testing::PrintToString(std::string(text));
    EXPECT_EQ(t.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(t.error().message, "token file " + path + " is empty");
  }
}

TEST_F(TokenFileTest, MissingFileIsNotFound) {
  const std::string path = (dir_ / "nope").string();
  auto t = ReadTokenFile(path);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(t.error().message, "cannot read token file " + path);
}

TEST_F(TokenFileTest, OversizedFileIsRefusedWithoutItsContent) {
  auto at_limit = ReadTokenFile(Write(std::string(kMaxTokenFileBytes, 'a')));
  ASSERT_TRUE(at_limit.ok()) << at_limit.error().ToString();
  EXPECT_EQ(at_limit->size(), kMaxTokenFileBytes);
  auto over = ReadTokenFile(Write(std::string(kMaxTokenFileBytes + 1, 'b')));
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(over.error().message.find("bbbb"), std::string::npos) << over.error().message;
}

}  // namespace
}  // namespace sg
