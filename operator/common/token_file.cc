#include "operator/common/token_file.h"

#include <cctype>
#include <fstream>

namespace sg {

Result<std::string> ReadTokenFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return NotFound("cannot read token file " + path);
  // One byte more than allowed tells an oversized file from one of the limit.
  std::string token(kMaxTokenFileBytes + 1, '\0');
  f.read(token.data(), static_cast<std::streamsize>(token.size()));
  if (f.bad()) return NotFound("cannot read token file " + path);
  token.resize(static_cast<std::size_t>(f.gcount()));
  if (token.size() > kMaxTokenFileBytes) {
    return InvalidArgument("token file " + path + " is larger than " +
                           std::to_string(kMaxTokenFileBytes) + " bytes");
  }
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  if (token.empty()) return InvalidArgument("token file " + path + " is empty");
  return token;
}

}  // namespace sg
