#pragma once
// What the engines' golden-file tests check of every sample model
// (sample_traffic_models.h), whatever the engine: the render equals the
// golden file, and it does not depend on the order of the model's lists.

#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "operator/testing/sample_traffic_models.h"
#include "reconcilers/model/traffic_model.h"

namespace sg::testing {

using RenderFn = std::function<std::string(const model::TrafficModel&)>;

// `got` equals the golden file at `path` (the render of sample
// `case_name`). With SG_UPDATE_GOLDEN=1 the file is rewritten instead and
// the test skipped: review the diff like code.
void ExpectMatchesGoldenFile(const std::string& got, const std::string& path,
                             const std::string& case_name);

// `render` gives the same bytes for `m` twice and for five shuffles of its
// lists.
void ExpectRenderIgnoresInputOrder(const model::TrafficModel& m, const RenderFn& render);

// The test name of a sample model case: its golden file name.
std::string SampleModelTestName(const ::testing::TestParamInfo<samples::SampleModel>& info);

}  // namespace sg::testing
