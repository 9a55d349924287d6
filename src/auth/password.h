#pragma once
// Web passwords: Argon2id through libsodium's crypto_pwhash_str, whose output string carries the
// algorithm, limits and salt, so a stored hash verifies even after the limits change and
// NeedsRehash says when to upgrade it (at the next successful login). Immutable after
// construction; thread-safe. Hashing costs what the limits say (INTERACTIVE: about 75 ms and
// 64 MiB), so it never runs on the core loop.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace parley::auth {

struct PasswordLimits {
  uint64_t opslimit = 0;
  size_t memlimit = 0;
  // crypto_pwhash_OPSLIMIT_INTERACTIVE / MEMLIMIT_INTERACTIVE: the default.
  static PasswordLimits Interactive();
  // crypto_pwhash_OPSLIMIT_MODERATE / MEMLIMIT_MODERATE.
  static PasswordLimits Moderate();
  // crypto_pwhash_OPSLIMIT_MIN / MEMLIMIT_MIN: fast and weak, for tests only.
  static PasswordLimits ForTests();
};

struct PasswordPolicy {
  size_t min_length = 10;
  size_t max_length = 1024;  // bounds the work an attacker can make one login cost
};

class PasswordHasher {
 public:
  explicit PasswordHasher(PasswordLimits limits = PasswordLimits::Interactive(),
                          PasswordPolicy policy = {});

  // InvalidArgument when the password breaks the policy (the message gives the rule, never the
  // password) or equals the login name.
  Status CheckPolicy(std::string_view password, std::string_view login) const;
  // The crypto_pwhash_str string (starts "$argon2id$"). Internal when memory is short.
  Result<std::string> Hash(std::string_view password) const;
  // True when `password` matches `hash`; false for any malformed hash. The comparison inside
  // libsodium is constant-time.
  bool Verify(std::string_view hash, std::string_view password) const;
  // True when `hash` was made with other limits or another algorithm than this hasher's.
  bool NeedsRehash(std::string_view hash) const;

  const PasswordLimits& limits() const { return limits_; }
  const PasswordPolicy& policy() const { return policy_; }

 private:
  PasswordLimits limits_;
  PasswordPolicy policy_;
};

// A readable random password for a new or reset account: 16 characters from an alphabet
// without look-alikes (about 92 bits), from the operating system's CSPRNG.
std::string GenerateReadablePassword();

}  // namespace parley::auth
