#include "operator/testing/file_contents.h"

#include <fstream>
#include <sstream>

namespace sg::testing {

std::string FileContents(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace sg::testing
