#pragma once
// Reading a bearer token from a file: the agents' cluster token and the
// operator's status token, each normally a Docker secret under /run/secrets.
//
// Thread-safety: a free function; safe to call from any thread.

#include <cstddef>
#include <string>

#include "operator/common/result.h"

namespace sg {

// A token file larger than this is refused: a token travels in an HTTP
// header, and a path such as /dev/zero must not be read forever.
inline constexpr std::size_t kMaxTokenFileBytes = 4096;

// The token held by the file at `path`, trailing whitespace (the newline an
// editor or `echo` adds) removed. Errors: NotFound when the file cannot be
// read, InvalidArgument when it is empty (or only whitespace) or larger than
// kMaxTokenFileBytes. Messages name the path, never the content.
Result<std::string> ReadTokenFile(const std::string& path);

}  // namespace sg
