#pragma once
// The few cryptographic primitives src/auth needs, over libsodium (and OpenSSL for MD5, which
// libsodium lacks and SIP digest still requires). Stateless and thread-safe. Randomness here is
// the operating system's CSPRNG (randombytes_buf), never parley::Random, which is predictable
// by design.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace parley::auth {

// Initialises libsodium once per process; every function below calls it. Thread-safe.
void EnsureSodium();

using Sha256Digest = std::array<uint8_t, 32>;

Sha256Digest Sha256(std::string_view data);
// Lower-case hex of SHA-256 / MD5 of `data`. Md5Hex returns "" where OpenSSL refuses MD5
// (FIPS mode); an empty HA1 never verifies.
std::string Sha256Hex(std::string_view data);
std::string Md5Hex(std::string_view data);
// HMAC-SHA-256 of `data` under `key` (any length).
Sha256Digest HmacSha256(std::string_view key, std::string_view data);

// `n` bytes from the CSPRNG.
std::string RandomBytes(size_t n);

std::string HexEncode(std::string_view bytes);
// URL- and cookie-safe base64 without padding (RFC 4648 section 5).
std::string Base64UrlEncode(std::string_view bytes);

// Compares in time that depends only on the lengths, never on where the contents differ
// (sodium_memcmp). Inputs of different lengths compare unequal.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Overwrites the string's bytes with zeros (sodium_memzero, not optimised away), then clears it.
void Wipe(std::string* s);

}  // namespace parley::auth
