#include "operator/common/process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

namespace sg {
namespace {

using namespace std::chrono_literals;

constexpr const char* kSh = "/bin/sh";

TEST(RunProcessTest, CollectsStdoutAndStderrInOrderAndTheExitCode) {
  auto r = RunProcess({kSh, "-c", "echo out; echo err >&2; echo again; exit 3"}, 10s);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->term_signal, 0);
  EXPECT_EQ(r->output, "out\nerr\nagain\n");
  EXPECT_FALSE(r->truncated);
  EXPECT_FALSE(r->Succeeded());
}

TEST(RunProcessTest, PassesArgumentsVerbatim) {
  auto r = RunProcess({kSh, "-c", "printf '%s|' \"$@\"", "sh", "a b", "", "$HOME", "'q'"}, 10s);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_TRUE(r->Succeeded());
  EXPECT_EQ(r->output, "a b||$HOME|'q'|");
}

TEST(RunProcessTest, AddsAndReplacesEnvironmentVariables) {
  setenv("SG_PROCESS_TEST_KEPT", "kept", 1);
  setenv("SG_PROCESS_TEST_REPLACED", "old", 1);
  ProcessOptions options;
  options.environment = {"SG_PROCESS_TEST_REPLACED=new", "SG_PROCESS_TEST_ADDED=added"};
  auto r = RunProcess({kSh, "-c",
                       "echo \"$SG_PROCESS_TEST_KEPT $SG_PROCESS_TEST_REPLACED "
                       "$SG_PROCESS_TEST_ADDED\"; env | grep -c '^SG_PROCESS_TEST_REPLACED='"},
                      options);
  unsetenv("SG_PROCESS_TEST_KEPT");
  unsetenv("SG_PROCESS_TEST_REPLACED");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->output, "kept new added\n1\n");
}

TEST(RunProcessTest, StdinIsEmpty) {
  auto r = RunProcess({kSh, "-c", "cat; echo done"}, 10s);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->output, "done\n");
}

TEST(RunProcessTest, MissingProgramIsInternalWithTheReason) {
  auto r = RunProcess({"/nonexistent/program", "x"}, 10s);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().Is(ErrorCode::kInternal));
  EXPECT_NE(r.error().message.find("cannot run /nonexistent/program"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("No such file"), std::string::npos) << r.error().message;
}

TEST(RunProcessTest, NoPathLookup) {
  auto r = RunProcess({"sh", "-c", "true"}, 10s);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().Is(ErrorCode::kInternal));
}

TEST(RunProcessTest, EmptyArgvIsInvalid) {
  auto r = RunProcess({}, 10s);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().Is(ErrorCode::kInvalidArgument));
}

TEST(RunProcessTest, ExitCode127OfTheProgramItselfIsAnExitCode) {
  auto r = RunProcess({kSh, "-c", "exit 127"}, 10s);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->exit_code, 127);
}

TEST(RunProcessTest, TimeoutKillsTheProcess) {
  const auto start = std::chrono::steady_clock::now();
  auto r = RunProcess({kSh, "-c", "echo started; exec sleep 30"}, 300ms);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().Is(ErrorCode::kUnavailable));
  EXPECT_NE(r.error().message.find("did not finish in time"), std::string::npos);
  EXPECT_LT(took, 10s);
}

TEST(RunProcessTest, TimeoutAlsoCoversAProcessThatClosedItsOutput) {
  const auto start = std::chrono::steady_clock::now();
  auto r = RunProcess({kSh, "-c", "exec >/dev/null 2>&1; exec sleep 30"}, 300ms);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().Is(ErrorCode::kUnavailable));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST(RunProcessTest, ReportsTheTerminatingSignal) {
  auto r = RunProcess({kSh, "-c", "kill -TERM $$"}, 10s);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->exit_code, -1);
  EXPECT_EQ(r->term_signal, SIGTERM);
}

TEST(RunProcessTest, OutputBeyondTheLimitIsDroppedButDrained) {
  ProcessOptions options;
  options.timeout = 10s;
  options.max_output_bytes = 10;
  // 200 KB: more than a pipe holds, so the child would block if the rest
  // were not read.
  auto r = RunProcess({kSh, "-c",
                       "i=0; while [ $i -lt 2000 ]; do "
                       "echo 0123456789012345678901234567890123456789"
                       "012345678901234567890123456789012345678901234567890123456789;"
                       " i=$((i+1)); done"},
                      options);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->output, "0123456789");
  EXPECT_TRUE(r->truncated);
}

TEST(RunProcessTest, ChildStartsWithAnEmptySignalMaskAndNoExtraDescriptors) {
  // Block SIGTERM here as a process that takes its signals with sigwait
  // does, and leave a descriptor open without close-on-exec.
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigset_t old;
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &term, &old), 0);
  // High enough not to collide with what the child opens itself.
  const int opened = open("/dev/null", O_RDONLY);
  ASSERT_GE(opened, 0);
  const int leaked = fcntl(opened, F_DUPFD, 100);
  close(opened);
  ASSERT_GE(leaked, 100);
  auto r = RunProcess({kSh, "-c",
                       "grep '^SigBlk' /proc/self/status | tr -d ' \\t'; "
                       "ls /proc/self/fd | sort -n | tr '\\n' ' '"},
                      10s);
  close(leaked);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_NE(r->output.find("SigBlk:0000000000000000"), std::string::npos) << r->output;
  // 0-2 and the descriptor `ls` opens on /proc/self/fd.
  EXPECT_EQ(r->output.find(" " + std::to_string(leaked) + " "), std::string::npos) << r->output;
  EXPECT_NE(r->output.find("0 1 2 "), std::string::npos) << r->output;
}

TEST(RunProcessTest, ConcurrentCallsKeepTheirOwnOutput) {
  constexpr int kThreads = 8;
  std::vector<std::thread> threads;
  std::vector<std::string> outputs(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([i, &outputs] {
      auto r = RunProcess({kSh, "-c", "echo $0", std::to_string(i)}, 10s);
      outputs[static_cast<size_t>(i)] = r.ok() ? r->output : r.error().ToString();
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ(outputs[static_cast<size_t>(i)], std::to_string(i) + "\n");
  }
}

}  // namespace
}  // namespace sg
