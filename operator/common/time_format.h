#pragma once
// Timestamps as status conditions and Docker write them.

#include <chrono>
#include <string>

namespace sg {

// "2026-11-24T20:58:08Z" (UTC, whole seconds).
std::string FormatRfc3339(std::chrono::system_clock::time_point t);

}  // namespace sg
