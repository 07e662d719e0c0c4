#pragma once
// One named spdlog logger per component ("controller", "http", ...), sharing
// the sinks and level of the default logger so main() configures them once.

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace sg::runtime {

// Returns the logger registered under `name`, creating it from the default
// logger on first use. Thread-safe; cache the result in hot paths.
std::shared_ptr<spdlog::logger> NamedLogger(const std::string& name);

}  // namespace sg::runtime
