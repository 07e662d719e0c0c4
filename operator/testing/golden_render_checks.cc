#include "operator/testing/golden_render_checks.h"

#include <cstdlib>
#include <fstream>
#include <random>

#include "operator/testing/file_contents.h"

namespace sg::testing {

void ExpectMatchesGoldenFile(const std::string& got, const std::string& path,
                             const std::string& case_name) {
  const char* update = std::getenv("SG_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << got;
    GTEST_SKIP() << "rewrote " << path;
  }
  std::string want = FileContents(path);
  ASSERT_FALSE(want.empty()) << path << " is missing; run with SG_UPDATE_GOLDEN=1";
  EXPECT_EQ(got, want) << "render of " << case_name << " differs from " << path;
}

void ExpectRenderIgnoresInputOrder(const model::TrafficModel& m, const RenderFn& render) {
  std::string first = render(m);
  EXPECT_EQ(first, render(m));
  std::mt19937 rng(42);
  for (int i = 0; i < 5; ++i) {
    model::TrafficModel p = m;
    samples::ShuffleModelLists(p, rng);
    EXPECT_EQ(first, render(p)) << "permutation " << i;
  }
}

std::string SampleModelTestName(const ::testing::TestParamInfo<samples::SampleModel>& info) {
  return info.param.name;
}

}  // namespace sg::testing
