#include "operator/common/exec_config_validator.h"

#include <filesystem>
#include <system_error>
#include <utility>

#include "operator/common/scratch_dir.h"

namespace sg {

ExecConfigValidator::ExecConfigValidator(ConfigCheckCommand command, std::string temp_root)
    : command_(std::move(command)), temp_root_(std::move(temp_root)) {}

Status ExecConfigValidator::Validate(const std::string& config,
                                     const std::map<std::string, std::string>& files) const {
  auto dir = ScratchDir::Create(temp_root_, command_.scratch_prefix);
  if (!dir.ok()) return dir.error();
  const std::string& d = dir->path();
  if (auto st = dir->WriteAll(files); !st.ok()) return st;
  if (command_.side_files) {
    auto carried = command_.side_files(config);
    if (!carried.ok()) return carried.error();
    if (auto st = dir->WriteAll(*carried); !st.ok()) return st;
  }
  if (auto st = dir->Write(command_.config_file, config); !st.ok()) return st;
  for (const std::string& sub : command_.directories) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(d) / sub, ec);
  }
  auto run = RunProcess(command_.argv(d), command_.process);
  if (!run.ok()) return run.error();
  if (run->exit_code == 0) return OkStatus();
  std::string msg = command_.clean_output(run->output, d);
  if (msg.empty()) msg = command_.name + " exited with " + std::to_string(run->exit_code);
  return InvalidArgument(msg);
}

}  // namespace sg
