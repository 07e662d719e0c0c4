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

// nginx -t opens the error log named at build time before it reads the
// config; -e stderr avoids /var/log. The temp dirs of the config must exist.
sg::ConfigCheckCommand NginxCheck(std::string nginx) {
  sg::ConfigCheckCommand check;
  check.scratch_prefix = "sg-nginx";
  check.config_file = "nginx.conf";
  check.directories = {"logs"};
  check.argv = [nginx = std::move(nginx)](const std::string& d) {
    const std::string conf = d + "/nginx.conf";
    return std::vector<std::string>{nginx, "-t", "-q", "-p", d + "/", "-c", conf, "-e", "stderr"};
  };
  check.process.timeout = std::chrono::seconds(30);
  check.clean_output = sg::CleanNginxOutput;
  check.name = "nginx -t";
  return check;
}

}  // namespace

ExecNginxValidator::ExecNginxValidator(std::string nginx_binary, std::string temp_root)
    : ExecConfigValidator(NginxCheck(std::move(nginx_binary)), std::move(temp_root)) {}

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
