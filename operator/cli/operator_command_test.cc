// `swarmgate operator` flags that are refused before anything connects:
// the status token file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "operator/cli/cli.h"
#include "operator/cli/exit_codes.h"
#include "operator/common/scratch_dir.h"

namespace sg::cli {
namespace {

namespace fs = std::filesystem;

struct CliRun {
  int code = -1;
  std::string out;
  std::string err;
};

std::ostream& operator<<(std::ostream& os, const CliRun& r) {
  return os << "exit " << r.code << "\n--- stdout:\n" << r.out << "--- stderr:\n" << r.err;
}

class OperatorCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RegisterOperatorCommand();  // main() registers it in the binary
    auto scratch =
        ScratchDir::Create(fs::temp_directory_path().string(), "sg-operator-command-test");
    ASSERT_TRUE(scratch.ok()) << scratch.error().ToString();
    scratch_.emplace(std::move(*scratch));
    dir_ = scratch_->path();
  }

  std::string Write(const std::string& file, const std::string& text) {
    const fs::path p = dir_ / file;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }

  // `swarmgate operator ARGS` against an endpoint that does not exist: a run
  // that got past the flags would fail on it, naming it.
  static CliRun Operator(std::vector<std::string> args) {
    args.insert(args.begin(), {"swarmgate", "operator"});
    args.insert(args.end(), {"--docker-host", "unix:///nonexistent.sock"});
    std::istringstream in;
    std::ostringstream out, err;
    CliRun r;
    r.code = RunCli(args, in, out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  std::optional<ScratchDir> scratch_;  // removed with the fixture
  fs::path dir_;
};

TEST_F(OperatorCommandTest, EmptyStatusTokenFileStopsTheStart) {
  for (const char* text : {"", "\n"}) {
    const std::string path = Write("token", text);
    CliRun r = Operator({"--status-token-file", path});
    EXPECT_EQ(r.code, kExitInvalid) << r;
    EXPECT_EQ(r.err, "error: --status-token-file: token file " + path + " is empty\n") << r;
  }
}

TEST_F(OperatorCommandTest, MissingStatusTokenFileStopsTheStart) {
  const std::string path = (dir_ / "absent").string();
  CliRun r = Operator({"--status-token-file=" + path});
  EXPECT_EQ(r.code, kExitInvalid) << r;
  EXPECT_EQ(r.err, "error: --status-token-file: cannot read token file " + path + "\n") << r;
}

TEST_F(OperatorCommandTest, TokenNoHeaderCouldCarryStopsTheStartWithoutShowingIt) {
  const std::string path = Write("token", "two secret words\n");
  CliRun r = Operator({"--status-token-file", path});
  EXPECT_EQ(r.code, kExitInvalid) << r;
  EXPECT_NE(r.err.find("token file " + path + ": "), std::string::npos) << r;
  EXPECT_NE(r.err.find("visible ASCII"), std::string::npos) << r;
  EXPECT_EQ(r.err.find("secret"), std::string::npos) << r;
}

TEST_F(OperatorCommandTest, StatusTokenFileWithoutAValueIsAUsageError) {
  CliRun r = Operator({"--status-token-file"});
  EXPECT_EQ(r.code, kExitUsage) << r;
  EXPECT_FALSE(r.err.empty()) << r;
}

// What a stack file sets instead of the flag (charts/swarmgate/status-token.yml).
TEST_F(OperatorCommandTest, TheVariableNamesTheFileWhenTheFlagDoesNot) {
  const std::string empty = Write("empty", "");
  const std::string absent = (dir_ / "absent").string();
  ASSERT_EQ(::setenv("SWARMGATE_STATUS_TOKEN_FILE", empty.c_str(), 1), 0);
  CliRun from_env = Operator({});
  // The flag wins over the variable.
  CliRun from_flag = Operator({"--status-token-file", absent});
  ::unsetenv("SWARMGATE_STATUS_TOKEN_FILE");
  EXPECT_EQ(from_env.code, kExitInvalid) << from_env;
  EXPECT_EQ(from_env.err, "error: SWARMGATE_STATUS_TOKEN_FILE: token file " + empty + " is empty\n")
      << from_env;
  EXPECT_EQ(from_flag.code, kExitInvalid) << from_flag;
  EXPECT_EQ(from_flag.err, "error: --status-token-file: cannot read token file " + absent + "\n")
      << from_flag;
}

TEST_F(OperatorCommandTest, HelpNamesTheFlag) {
  std::istringstream in;
  std::ostringstream out, err;
  EXPECT_EQ(RunCli({"swarmgate", "operator", "--help"}, in, out, err), kExitOk) << err.str();
  EXPECT_NE(out.str().find("--status-token-file"), std::string::npos) << out.str();
}

}  // namespace
}  // namespace sg::cli
