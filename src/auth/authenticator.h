#pragma once
// Authenticator: logging in, and turning a session cookie or an API token into a Principal.
// It ties the user directory, sessions, tokens, the login throttle and the audit log together
// and owns none of them.
//
// Login answers every bad credential the same way: unknown login name, wrong password, account
// without a password and disabled account all give PermissionDenied with kLoginFailed, after an
// Argon2id verification (against a dummy hash when there is no real one), so neither the answer
// nor its timing tells which it was. Refusals by the throttle say when to retry; since the
// throttle tracks names whether or not they exist, that reveals nothing either.
//
// Thread-safe (each part is); Login costs one Argon2id verification, so call it off the core loop.

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "auth/audit.h"
#include "auth/password.h"
#include "auth/permissions.h"
#include "auth/sessions.h"
#include "auth/throttle.h"
#include "auth/tokens.h"
#include "auth/users.h"
#include "base/status.h"
#include "base/time.h"

namespace parley::auth {

inline constexpr std::string_view kLoginFailed = "invalid login name or password";

struct LoginSuccess {
  NewSession session;
  Principal principal;
};

// For /metrics.
struct LoginCounters {
  uint64_t attempts = 0;
  uint64_t successes = 0;
  uint64_t failures = 0;             // bad credentials (any kind)
  uint64_t throttled = 0;            // refused by rate limit or lockout
  uint64_t lockouts = 0;             // lockouts started
  uint64_t dummy_verifications = 0;  // failures verified against the dummy hash
  uint64_t rehashes = 0;             // hashes upgraded to the current limits at login
};

class Authenticator {
 public:
  // All parts must outlive the Authenticator. Computes the dummy hash (one Argon2id hash).
  Authenticator(UserDirectory& users, SessionStore& sessions, TokenStore& tokens,
                const PasswordHasher& hasher, LoginThrottle& throttle, AuditLog& audit);

  // PermissionDenied(kLoginFailed) for bad credentials; Unavailable("too many login attempts;
  // try again in N s") when throttled or locked out. Audits the outcome.
  Result<LoginSuccess> Login(std::string_view login, std::string_view password,
                             std::string_view client_address, TimePoint now);
  // Ends the session at once (audited when it existed).
  void Logout(std::string_view session_id, TimePoint now);

  // The principal behind a session cookie or an API token; NotFound / PermissionDenied when
  // none is valid. A disabled user's sessions and tokens stop working at once.
  Result<Principal> FromSession(std::string_view session_id, TimePoint now);
  // The same for the session id's hash (Sha256Hex), which a connection may keep between its
  // requests: every check but the hashing is made again.
  Result<Principal> FromSessionHash(std::string_view id_hash, TimePoint now);
  Result<Principal> FromToken(std::string_view token, TimePoint now);

  // Issues a token for `user_id` acting as `scope`: `who` needs tokens.manage for that user, and
  // the user must hold `scope`. Audited.
  Result<IssuedToken> IssueToken(const Principal& who, uint64_t user_id, Role scope,
                                 std::string description, std::optional<TimePoint> expires,
                                 TimePoint now);
  Status RevokeToken(const Principal& who, std::string_view prefix, TimePoint now);

  // Sets a user's web password (users.manage, or the user itself) and ends the user's sessions.
  Status SetPassword(const Principal& who, uint64_t user_id, std::string_view password,
                     TimePoint now);
  // Disables or enables a user (users.manage); disabling ends its sessions and tokens.
  Status SetDisabled(const Principal& who, uint64_t user_id, bool disabled, TimePoint now);

  // Ends a lockout of `login` early (users.manage).
  Status Unlock(const Principal& who, std::string_view login, TimePoint now);

  LoginCounters counters() const;

 private:
  static Principal PrincipalOf(const ports::UserRecord& user);

  UserDirectory& users_;
  SessionStore& sessions_;
  TokenStore& tokens_;
  const PasswordHasher& hasher_;
  LoginThrottle& throttle_;
  AuditLog& audit_;
  const std::string dummy_hash_;  // of a random password nobody knows

  std::atomic<uint64_t> attempts_{0}, successes_{0}, failures_{0}, throttled_{0}, lockouts_{0},
      dummy_verifications_{0}, rehashes_{0};
};

}  // namespace parley::auth
