#pragma once
// A ConfigValidator that runs the proxy's own binary on the configuration in
// a private scratch directory (ScratchDir). What differs between proxies (the
// file name, the command line, how its diagnostics read) is a
// ConfigCheckCommand; the engines' validators (ExecNginxValidator,
// ExecHaproxyValidator) only fill one in.
//
// Thread-safety: Validate may be called concurrently; each call has its own
// directory.

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "operator/common/config_validator.h"
#include "operator/common/process.h"
#include "operator/common/result.h"

namespace sg {

// How one proxy's binary checks a configuration file.
struct ConfigCheckCommand {
  // The scratch directory's name prefix ("sg-nginx").
  std::string scratch_prefix;
  // The configuration's file name inside it ("nginx.conf").
  std::string config_file;
  // Directories made inside it before the check runs, failures ignored (the
  // binary reports what it misses).
  std::vector<std::string> directories;
  // Files the configuration carries inside it (name -> content), written
  // beside it; an error refuses the configuration. Empty: none.
  std::function<Result<std::map<std::string, std::string>>(const std::string& config)> side_files;
  // The command line that checks the configuration in directory `dir`.
  std::function<std::vector<std::string>(const std::string& dir)> argv;
  ProcessOptions process;
  // The binary's diagnostics made readable, `dir` + "/" removed from paths;
  // empty when nothing is left.
  std::function<std::string(std::string_view output, std::string_view dir)> clean_output;
  // The check as the error names it when the binary fails without a
  // diagnostic: "<name> exited with N".
  std::string name;
};

class ExecConfigValidator : public ConfigValidator {
 public:
  // `temp_root`: where scratch directories go; empty: $TMPDIR or /tmp.
  ExecConfigValidator(ConfigCheckCommand command, std::string temp_root);
  Status Validate(const std::string& config,
                  const std::map<std::string, std::string>& files) const override;

 private:
  const ConfigCheckCommand command_;
  const std::string temp_root_;
};

}  // namespace sg
