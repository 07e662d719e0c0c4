#include "reconcilers/nginx_check.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>

namespace sg::nginx {
namespace {

namespace fs = std::filesystem;

struct ProcessResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr interleaved
};

// Runs argv[0] with argv, collecting its output; kills it after `timeout`.
sg::Result<ProcessResult> RunProcess(const std::vector<std::string>& args,
                                     std::chrono::milliseconds timeout) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return sg::Internal(std::string("pipe: ") + strerror(errno));
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return sg::Internal(std::string("fork: ") + strerror(errno));
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);

  ProcessResult result;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      timed_out = r == 0;
      break;
    }
    ssize_t n = read(fds[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.output.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) return sg::Unavailable(args[0] + " did not finish in time");
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
    if (result.exit_code == 127 && result.output.empty()) {
      return sg::Internal("cannot run " + args[0]);
    }
  }
  return result;
}

// A private directory removed on scope exit.
class TempDir {
 public:
  static sg::Result<TempDir> Create(const std::string& root) {
    std::string base = root;
    if (base.empty()) {
      const char* env = std::getenv("TMPDIR");
      base = env != nullptr && *env != '\0' ? env : "/tmp";
    }
    std::string templ = base + "/sg-nginx-XXXXXX";
    if (mkdtemp(templ.data()) == nullptr) {
      return sg::Internal("mkdtemp in " + base + ": " + strerror(errno));
    }
    return TempDir(templ);
  }
  TempDir(TempDir&& o) noexcept : path_(std::exchange(o.path_, std::string())) {}
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir& operator=(TempDir&&) = delete;
  ~TempDir() {
    if (path_.empty()) return;
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string p) : path_(std::move(p)) {}
  std::string path_;
};

sg::Status WriteFile(const fs::path& path, const std::string& content) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return sg::Internal("mkdir " + path.parent_path().string() + ": " + ec.message());
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(content.data(), static_cast<std::streamsize>(content.size()));
  f.close();
  if (!f) return sg::Internal("cannot write " + path.string());
  return sg::OkStatus();
}

sg::Result<std::string> ReadFile(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return sg::Internal("cannot read " + path.string());
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// Keeps nginx's diagnostics, drops its "test failed" epilogue, and makes paths
// relative to the temporary prefix so messages are stable and readable.
std::string CleanNginxOutput(std::string out, const std::string& dir) {
  std::string prefix = dir + "/";
  for (size_t pos; (pos = out.find(prefix)) != std::string::npos;) out.erase(pos, prefix.size());
  std::string cleaned;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line.find("test failed") != std::string::npos ||
        line.find("syntax is ok") != std::string::npos) {
      continue;
    }
    if (line.rfind("nginx: ", 0) == 0) line.erase(0, 7);
    // "2026/01/02 03:04:05 [emerg] 123#123: msg" -> "[emerg] msg"
    if (line.size() > 20 && line[4] == '/' && line[7] == '/' && line[19] == ' ') {
      size_t level_end = line.find("] ", 20);
      size_t msg = level_end == std::string::npos ? level_end : line.find(": ", level_end);
      if (msg != std::string::npos) line = line.substr(20, level_end - 19) + line.substr(msg + 1);
    }
    if (!cleaned.empty()) cleaned += "; ";
    cleaned += line;
  }
  return cleaned;
}

bool IsRelativeInside(const std::string& p) {
  if (p.empty() || p[0] == '/') return false;
  for (const auto& part : fs::path(p)) {
    if (part == "..") return false;
  }
  return true;
}

}  // namespace

ExecNginxValidator::ExecNginxValidator(std::string nginx_binary, std::string temp_root)
    : nginx_(std::move(nginx_binary)), temp_root_(std::move(temp_root)) {}

sg::Status ExecNginxValidator::Validate(const std::string& config,
                                        const std::map<std::string, std::string>& files) const {
  auto dir = TempDir::Create(temp_root_);
  if (!dir.ok()) return dir.error();
  const std::string& d = dir->path();
  for (const auto& [name, content] : files) {
    if (!IsRelativeInside(name)) {
      return sg::Internal("validation file \"" + name + "\" is not a relative path");
    }
    if (auto st = WriteFile(fs::path(d) / name, content); !st.ok()) return st;
  }
  if (auto st = WriteFile(fs::path(d) / "nginx.conf", config); !st.ok()) return st;
  // nginx -t opens the error log named at build time before it reads the
  // config; -e stderr avoids /var/log. The temp dirs of the config must exist.
  std::error_code ec;
  fs::create_directories(fs::path(d) / "logs", ec);
  auto run =
      RunProcess({nginx_, "-t", "-q", "-p", d + "/", "-c", d + "/nginx.conf", "-e", "stderr"},
                 std::chrono::seconds(30));
  if (!run.ok()) return run.error();
  if (run->exit_code == 0) return sg::OkStatus();
  std::string msg = CleanNginxOutput(run->output, d);
  if (msg.empty()) msg = "nginx -t exited with " + std::to_string(run->exit_code);
  return sg::InvalidArgument(msg);
}

sg::Status FakeNginxValidator::Validate(const std::string& config,
                                        const std::map<std::string, std::string>&) const {
  std::lock_guard<std::mutex> lock(mu_);
  configs_.push_back(config);
  return result_;
}

void FakeNginxValidator::SetResult(sg::Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  result_ = std::move(status);
}

std::vector<std::string> FakeNginxValidator::configs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return configs_;
}

sg::Result<SelfSignedCertificate> GenerateSelfSignedCertificate(const std::string& openssl_binary) {
  auto dir = TempDir::Create("");
  if (!dir.ok()) return dir.error();
  std::string cert = dir->path() + "/cert.pem";
  std::string key = dir->path() + "/key.pem";
  auto run = RunProcess({openssl_binary, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj",
                         "/CN=placeholder", "-days", "1", "-keyout", key, "-out", cert},
                        std::chrono::seconds(30));
  if (!run.ok()) return run.error();
  if (run->exit_code != 0) return sg::Internal("openssl req failed: " + run->output);
  SelfSignedCertificate out;
  auto c = ReadFile(cert);
  if (!c.ok()) return c.error();
  auto k = ReadFile(key);
  if (!k.ok()) return k.error();
  out.certificate_pem = std::move(*c);
  out.key_pem = std::move(*k);
  return out;
}

std::map<std::string, std::string> PlaceholderCertificateFiles(
    const std::vector<std::string>& paths, const SelfSignedCertificate& cert) {
  std::map<std::string, std::string> files;
  for (const std::string& p : paths) files[p] = cert.certificate_pem + cert.key_pem;
  return files;
}

}  // namespace sg::nginx
