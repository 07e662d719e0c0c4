#include "operator/agent/proxy_presence.h"

#include <filesystem>
#include <fstream>
#include <string_view>
#include <thread>
#include <utility>

namespace sg::agent {
namespace {

namespace fs = std::filesystem;
constexpr std::string_view kPrefix = "serving.";

std::string FileSafe(const std::string& id) {
  std::string out;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    out += ok ? c : '_';
  }
  return out.empty() ? "_" : out;
}

}  // namespace

ProxyPresence::ProxyPresence(std::string dir, const std::string& id)
    : dir_(std::move(dir)), path_(dir_ + "/" + std::string(kPrefix) + FileSafe(id)) {}

Status ProxyPresence::Announce() {
  std::lock_guard<std::mutex> lock(mu_);
  if (withdrawn_) return OkStatus();
  std::error_code ec;
  if (fs::exists(path_, ec)) {
    fs::last_write_time(path_, fs::file_time_type::clock::now(), ec);
    if (!ec) return OkStatus();
  }
  std::ofstream out(path_, std::ios::trunc);
  if (!out) return Unavailable("cannot write " + path_);
  return OkStatus();
}

void ProxyPresence::Withdraw() {
  std::lock_guard<std::mutex> lock(mu_);
  withdrawn_ = true;
  std::error_code ec;
  fs::remove(path_, ec);
}

int ProxyPresence::OthersServing(std::chrono::milliseconds fresh) const {
  std::error_code ec;
  const auto now = fs::file_time_type::clock::now();
  int n = 0;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.compare(0, kPrefix.size(), kPrefix) != 0 || it->path().string() == path_) continue;
    std::error_code tec;
    const auto touched = fs::last_write_time(it->path(), tec);
    if (!tec && now - touched <= fresh) ++n;
  }
  return n;
}

bool ProxyPresence::AwaitOther(std::chrono::milliseconds linger, std::chrono::milliseconds fresh,
                               const std::atomic<bool>* cancel) const {
  const auto deadline = std::chrono::steady_clock::now() + linger;
  for (;;) {
    if (OthersServing(fresh) > 0) return true;
    if ((cancel && cancel->load()) || std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace sg::agent
