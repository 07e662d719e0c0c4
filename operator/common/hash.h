#pragma once
// Hex encoding, SHA-256 digests and random tokens: the one implementation
// behind spec hashes, config names, token digests and generated secrets.
//
// Thread-safety: every function is safe to call from any thread.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "operator/common/result.h"

namespace sg {

// Lower-case hex of every byte of `data` ("\x01\xab" -> "01ab").
std::string HexEncode(std::string_view data);

// The bytes of an even-length hex string (either case); nullopt for anything
// else.
std::optional<std::string> HexDecode(std::string_view hex);

// The SHA-256 digest of `data`: 32 raw bytes.
std::string Sha256(std::string_view data);

// Lower-case hex SHA-256 of `data` (64 characters).
std::string Sha256Hex(std::string_view data);

// Whether `a` and `b` hold the same bytes, in a time that depends on their
// length only, never on where they first differ: the one comparison of
// secrets' digests (agent and status tokens), so a client cannot learn a
// digest byte by byte from response times. Different lengths answer false
// at once; callers compare fixed-size digests, whose length is no secret.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// `bytes` bytes from the OpenSSL CSPRNG as lower-case hex (2 * bytes
// characters). Internal if the generator fails (it is not seeded).
Result<std::string> RandomHexToken(std::size_t bytes = 32);

// URL percent-encoding of a path segment or query value: RFC 3986 unreserved
// characters (A-Z a-z 0-9 - . _ ~) are kept, every other byte becomes %XX
// (upper-case hex).
std::string PercentEncode(std::string_view value);

}  // namespace sg
