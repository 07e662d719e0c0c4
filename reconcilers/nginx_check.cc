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

#include "operator/common/nginx_output.h"
#include "operator/common/process.h"
#include "operator/common/scratch_dir.h"

namespace sg::nginx {
namespace {

namespace fs = std::filesystem;

sg::Result<std::string> ReadFile(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return sg::Internal("cannot read " + path.string());
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace

ExecNginxValidator::ExecNginxValidator(std::string nginx_binary, std::string temp_root)
    : nginx_(std::move(nginx_binary)), temp_root_(std::move(temp_root)) {}

sg::Status ExecNginxValidator::Validate(const std::string& config,
                                        const std::map<std::string, std::string>& files) const {
  auto dir = sg::ScratchDir::Create(temp_root_, "sg-nginx");
  if (!dir.ok()) return dir.error();
  const std::string& d = dir->path();
  if (auto st = dir->WriteAll(files); !st.ok()) return st;
  if (auto st = dir->Write("nginx.conf", config); !st.ok()) return st;
  // nginx -t opens the error log named at build time before it reads the
  // config; -e stderr avoids /var/log. The temp dirs of the config must exist.
  std::error_code ec;
  fs::create_directories(fs::path(d) / "logs", ec);
  auto run =
      sg::RunProcess({nginx_, "-t", "-q", "-p", d + "/", "-c", d + "/nginx.conf", "-e", "stderr"},
                     std::chrono::seconds(30));
  if (!run.ok()) return run.error();
  if (run->exit_code == 0) return sg::OkStatus();
  std::string msg = CleanNginxOutput(run->output, d);
  if (msg.empty()) msg = "nginx -t exited with " + std::to_string(run->exit_code);
  return sg::InvalidArgument(msg);
}

sg::Result<SelfSignedCertificate> GenerateSelfSignedCertificate(const std::string& openssl_binary) {
  auto dir = sg::ScratchDir::Create("", "sg-nginx");
  if (!dir.ok()) return dir.error();
  std::string cert = dir->path() + "/cert.pem";
  std::string key = dir->path() + "/key.pem";
  auto run =
      sg::RunProcess({openssl_binary, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj",
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
