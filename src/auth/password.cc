#include "auth/password.h"

#include <sodium.h>

#include "auth/crypto.h"

namespace parley::auth {

PasswordLimits PasswordLimits::Interactive() {
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}
PasswordLimits PasswordLimits::Moderate() {
  return {crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE};
}
PasswordLimits PasswordLimits::ForTests() {
  return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};
}

PasswordHasher::PasswordHasher(PasswordLimits limits, PasswordPolicy policy)
    : limits_(limits), policy_(policy) {
  EnsureSodium();
}

Status PasswordHasher::CheckPolicy(std::string_view password, std::string_view login) const {
  if (password.size() < policy_.min_length) {
    return InvalidArgument("the password is too short; use at least " +
                           std::to_string(policy_.min_length) + " characters");
  }
  if (password.size() > policy_.max_length) {
    return InvalidArgument("the password is too long; use at most " +
                           std::to_string(policy_.max_length) + " characters");
  }
  if (password == login) return InvalidArgument("the password must differ from the login name");
  return Status::Ok();
}

Result<std::string> PasswordHasher::Hash(std::string_view password) const {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), limits_.opslimit,
                        limits_.memlimit) != 0) {
    return Internal("password hashing failed (out of memory?)");
  }
  return std::string(out);
}

bool PasswordHasher::Verify(std::string_view hash, std::string_view password) const {
  // crypto_pwhash_str_verify reads a NUL-terminated string of at most STRBYTES - 1 characters.
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
  const std::string h(hash);
  return crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
}

bool PasswordHasher::NeedsRehash(std::string_view hash) const {
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return true;
  const std::string h(hash);
  return crypto_pwhash_str_needs_rehash(h.c_str(), limits_.opslimit, limits_.memlimit) != 0;
}

std::string GenerateReadablePassword() {
  static constexpr std::string_view kAlphabet =
      "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  // randombytes_uniform draws without the modulo bias of `byte % 55` (log2(55^16) ~ 92 bits).
  EnsureSodium();
  std::string out;
  for (int i = 0; i < 16; ++i) {
    out += kAlphabet[randombytes_uniform(static_cast<uint32_t>(kAlphabet.size()))];
  }
  return out;
}

}  // namespace parley::auth
