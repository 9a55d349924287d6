#pragma once
// Web sessions. A session id is 256 random bits from the CSPRNG, given to the browser once (in
// the cookie) and kept here only as its SHA-256, so a copy of the store lets nobody log in.
// A session ends when idle longer than `idle`, when older than `absolute`, at logout, or when
// its user's sessions are revoked (password change, disable, role change): at once, since every
// request looks the session up. Time comes from the `now` arguments. Thread-safe.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/mutex.h"
#include "base/status.h"
#include "base/time.h"
#include "ports/auth_store.h"

namespace parley::auth {

struct SessionPolicy {
  Duration idle = Seconds(30 * 60);
  Duration absolute = Seconds(12 * 3600);
  std::string cookie_name = "parley_session";
};

struct CookieOptions {
  bool secure = true;  // false only for plain-HTTP development on loopback
  std::string path = "/";
};

// A Set-Cookie header value: "<name>=<value>; Path=/; Max-Age=N; HttpOnly; SameSite=Strict"
// plus "; Secure" when `options.secure`. A max_age of 0 deletes the cookie.
std::string SetCookieValue(std::string_view name, std::string_view value, Duration max_age,
                           const CookieOptions& options);

// What a newly created session hands to the browser. `id` is the secret: put it in the cookie
// and nowhere else (never in a log or a URL).
struct NewSession {
  std::string id;
  std::string set_cookie;  // the Set-Cookie value carrying `id`
  TimePoint expires{};     // absolute expiry
};

// A live session as a request sees it. No id: the handler never needs it back.
struct SessionInfo {
  uint64_t user_id = 0;
  TimePoint created{};
  TimePoint last_seen{};
  std::string id_hash;  // for audit and targeted revocation (not a secret)
};

class SessionStore {
 public:
  // `store` (may be null) must outlive this.
  explicit SessionStore(SessionPolicy policy = {}, CookieOptions cookie = {},
                        ports::AuthStore* store = nullptr);

  Status Load(TimePoint now);  // from the store, dropping expired ones

  Result<NewSession> Create(uint64_t user_id, std::string_view client_address, TimePoint now);
  // The session for a cookie value, its idle timer restarted; NotFound ("session expired or
  // unknown") when there is none or it has expired (an expired one is removed).
  Result<SessionInfo> Validate(std::string_view id, TimePoint now);
  // The same for the id's hash (Sha256Hex of the cookie value), for a caller that keeps it.
  Result<SessionInfo> ValidateHash(std::string_view id_hash, TimePoint now);
  // Logout: the session stops working at once. Removing an unknown id is not an error.
  void Revoke(std::string_view id);
  void RevokeByHash(std::string_view id_hash);
  // Every session of a user (password change, disabled account). Returns how many.
  size_t RevokeUser(uint64_t user_id);
  // Drops expired sessions; returns how many.
  size_t Expire(TimePoint now);
  size_t size() const;

  // The Set-Cookie value that clears the cookie (for logout responses).
  std::string ClearCookie() const;
  const SessionPolicy& policy() const { return policy_; }

 private:
  bool Expired(const ports::SessionRecord& s, TimePoint now) const;
  void Drop(const std::string& id_hash) PARLEY_REQUIRES(mu_);

  SessionPolicy policy_;
  CookieOptions cookie_;
  ports::AuthStore* const store_;
  mutable Mutex mu_;
  std::map<std::string, ports::SessionRecord, std::less<>> sessions_ PARLEY_GUARDED_BY(mu_);
};

}  // namespace parley::auth
