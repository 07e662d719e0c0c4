#pragma once
// Helpers shared by the Interlock import tests.

#include <sstream>
#include <string>
#include <vector>

#include "crds/loader.h"

namespace sg::interlock::testing {

// ServiceCluster.spec.defaultBackend comes with its own schema change. Until
// the loader knows the field, the import's output is loaded without it (and
// without a `spec:` it leaves empty); the tests read the field from the YAML.
inline std::string WithoutDefaultBackend(const std::string& yaml) {
  std::vector<std::string> lines;
  std::istringstream in(yaml);
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (line == "  defaultBackend:") {
      inside = true;
      continue;
    }
    if (inside && line.rfind("    ", 0) == 0) continue;
    inside = false;
    lines.push_back(line);
  }
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    bool empty_spec =
        lines[i] == "spec:" && (i + 1 == lines.size() || lines[i + 1].rfind("  ", 0) != 0);
    if (!empty_spec) out += lines[i] + "\n";
  }
  return out;
}

// Loads the import's output: as it is once the loader knows defaultBackend,
// and without that field until then.
inline crds::LoadResult LoadImport(const std::string& yaml) {
  crds::LoadResult load = crds::LoadText(yaml, "import.yaml");
  bool only_default_backend = !load.diagnostics.empty();
  for (const auto& d : load.diagnostics) {
    if (d.path.rfind("spec.defaultBackend", 0) != 0) only_default_backend = false;
  }
  if (only_default_backend) load = crds::LoadText(WithoutDefaultBackend(yaml), "import.yaml");
  return load;
}

}  // namespace sg::interlock::testing
