#pragma once
// Reading a whole file in tests: golden files and the logs of the processes
// the tests start.

#include <string>

namespace sg::testing {

// The bytes of `path`; "" when it cannot be read.
std::string FileContents(const std::string& path);

}  // namespace sg::testing
