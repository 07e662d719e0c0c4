#pragma once
// Standard base64 (RFC 4648, with padding), the encoding Docker uses for
// config and secret data on the wire.

#include <string>
#include <string_view>

#include "operator/common/result.h"

namespace sg::docker {

std::string Base64Encode(std::string_view bytes);
// Accepts padded or unpadded input; ignores ASCII whitespace (line breaks).
// Any other character outside the alphabet is InvalidArgument.
Result<std::string> Base64Decode(std::string_view text);

}  // namespace sg::docker
