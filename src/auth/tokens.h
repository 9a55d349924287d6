#pragma once
// API tokens for integrations: "<prefix>.<secret>", where the prefix ("pt_" and 16 hex digits)
// is public and names the token, and the secret is 256 random bits in base64url. Only SHA-256 of
// the secret is kept, so checking a token costs one SHA-256 and a constant-time compare
// (sodium_memcmp), not a slow password hash: a random 256-bit secret needs no stretching. A token
// acts with one role (its scope), which its user must hold, and may expire. Revocation takes
// effect on the next request. Time comes from the `now` arguments. Thread-safe.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/mutex.h"
#include "base/status.h"
#include "base/time.h"
#include "domain/user.h"
#include "ports/auth_store.h"

namespace parley::auth {

struct IssuedToken {
  std::string prefix;
  std::string token;  // the whole "<prefix>.<secret>": shown once to its owner, never stored
};

// A token without its secret, for listings and exports.
struct TokenView {
  std::string prefix;
  uint64_t user_id = 0;
  Role scope = Role::kWallboard;
  std::string description;
  TimePoint created{};
  std::optional<TimePoint> expires;
  std::optional<TimePoint> last_used;
  bool operator==(const TokenView&) const = default;
};

class TokenStore {
 public:
  // `store` (may be null) must outlive this.
  explicit TokenStore(ports::AuthStore* store = nullptr);

  Status Load();

  // A new token for `user_id` acting as `scope`. The caller checks that the user holds the
  // role (the Authenticator does).
  Result<IssuedToken> Issue(uint64_t user_id, Role scope, std::string description,
                            std::optional<TimePoint> expires, TimePoint now);
  // The token's record for a presented "<prefix>.<secret>", its last-used time updated.
  // PermissionDenied ("invalid or expired API token") for a malformed, unknown, wrong, expired
  // or revoked token: one message for all, so it reveals nothing.
  Result<TokenView> Authenticate(std::string_view token, TimePoint now);
  // NotFound when there is no such prefix.
  Status Revoke(std::string_view prefix);
  size_t RevokeUser(uint64_t user_id);
  std::vector<TokenView> List(std::optional<uint64_t> user_id = std::nullopt) const;

 private:
  ports::AuthStore* const store_;
  mutable Mutex mu_;
  std::map<std::string, ports::TokenRecord, std::less<>> tokens_ PARLEY_GUARDED_BY(mu_);
};

}  // namespace parley::auth
