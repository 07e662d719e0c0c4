#include "reconcilers/haproxy/haproxy_side_files.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sg::haproxy {
namespace {

TEST(HaproxySideFilesTest, EmbeddedFilesComeBackAsWritten) {
  const std::vector<SideFile> files = {
      {SideFileName("sg-hosts", "map", "a.example.com s1\nb.example.com s2\n"),
       "a.example.com s1\nb.example.com s2\n"},
      {"sg-empty-line.lst", "x\n\ny\n"},
      {"sg-nothing.lst", ""},
  };
  std::string config = "global\n    maxconn 10\n";
  for (const SideFile& f : files) AppendSideFile(f, &config);
  config += "# an ordinary comment\n#@ not part of any file\n";
  auto parsed = SideFiles(config);
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(*parsed, files) << config;
}

TEST(HaproxySideFilesTest, NameCarriesAHashOfTheContent) {
  EXPECT_EQ(SideFileName("sg-hosts", "map", "a s1\n"), SideFileName("sg-hosts", "map", "a s1\n"));
  EXPECT_NE(SideFileName("sg-hosts", "map", "a s1\n"), SideFileName("sg-hosts", "map", "a s2\n"));
  EXPECT_TRUE(IsSideFileName(SideFileName("sg-hosts", "map", "a s1\n")));
}

TEST(HaproxySideFilesTest, NamesThatLeaveTheDirectoryAreRefusedWithTheirLine) {
  for (const char* bad : {"../etc/passwd", "a/b.map", ".hidden", "", "a b"}) {
    std::string config = "global\n#@file " + std::string(bad) + "\n#@ x\n";
    auto parsed = SideFiles(config);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_NE(parsed.error().message.find("haproxy.cfg:2"), std::string::npos)
        << parsed.error().message;
  }
  auto twice = SideFiles("#@file a.map\n#@ x\n#@file a.map\n");
  EXPECT_FALSE(twice.ok());
}

TEST(HaproxySideFilesTest, TextWithoutBlocksHasNoFiles) {
  auto parsed = SideFiles("global\n# comment\n    #@ indented\n");
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->empty());
}

}  // namespace
}  // namespace sg::haproxy
