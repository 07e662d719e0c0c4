#include "operator/runtime/logging.h"

#include <mutex>

namespace sg::runtime {

std::shared_ptr<spdlog::logger> NamedLogger(const std::string& name) {
  // spdlog's registry is thread-safe, but get-then-register is not atomic:
  // serialize our own creations and tolerate a logger registered elsewhere.
  static std::mutex mu;
  std::lock_guard<std::mutex> g(mu);
  if (auto existing = spdlog::get(name)) return existing;
  auto logger = spdlog::default_logger()->clone(name);
  try {
    spdlog::register_logger(logger);
  } catch (const spdlog::spdlog_ex&) {
    if (auto existing = spdlog::get(name)) return existing;
  }
  return logger;
}

}  // namespace sg::runtime
