#pragma once
// UserDirectory: the users, in memory, written through to a ports::AuthStore when one is given.
// Web passwords are kept only as Argon2id strings and SIP passwords only as digest HA1 values;
// neither ever leaves this class except to the store and to the Authenticator (FindByLogin).
// UserView is the form for the API and exports: it has no secrets. Thread-safe: every method
// takes the directory's lock, and holds it while writing through to the store.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/mutex.h"
#include "auth/password.h"
#include "base/status.h"
#include "base/time.h"
#include "domain/routing.h"
#include "domain/user.h"
#include "ports/auth_store.h"

namespace parley::auth {

// The fields of a user an administrator sets (no secrets).
struct UserProfile {
  std::string login;
  std::string display_name;  // "" = the login
  std::vector<Role> roles;   // at least one
  std::string team;          // team name or ""
  std::string agent;         // agent id or ""
};

// A user without its secrets: what the API returns and exports.
struct UserView {
  uint64_t id = 0;
  std::string login;
  std::string display_name;
  std::vector<Role> roles;
  std::string team;
  std::string agent;
  bool disabled = false;
  bool has_password = false;
  bool has_sip_credentials = false;
  TimePoint created{};
  TimePoint updated{};
  bool operator==(const UserView&) const = default;
};
UserView ViewOf(const ports::UserRecord& user);

class UserDirectory {
 public:
  // `hasher` and `store` (may be null) must outlive the directory.
  explicit UserDirectory(const PasswordHasher& hasher, ports::AuthStore* store = nullptr);

  // Replaces the in-memory users with the store's. Internal when the store fails.
  Status Load();

  // InvalidArgument for a bad login name or no role; Conflict for a login already taken.
  Result<uint64_t> Create(const UserProfile& profile, TimePoint now);
  Status Update(uint64_t id, const UserProfile& profile, TimePoint now);
  Status SetDisabled(uint64_t id, bool disabled, TimePoint now);
  // Checks the policy, hashes (slow: see PasswordHasher) and stores.
  Status SetPassword(uint64_t id, std::string_view password, TimePoint now);
  // Stores an already computed hash (the Authenticator's rehash on login).
  Status SetPasswordHash(uint64_t id, std::string hash, TimePoint now);
  // The SIP digest password, separate from the web password: stores HA1 for MD5 and SHA-256 of
  // (login, realm, password) and forgets the password.
  Status SetSipPassword(uint64_t id, std::string_view realm, std::string_view password,
                        TimePoint now);
  Status Remove(uint64_t id);

  // Full records, secrets included: for src/auth's own checks only.
  std::optional<ports::UserRecord> FindByLogin(std::string_view login) const;
  std::optional<ports::UserRecord> FindById(uint64_t id) const;

  std::optional<UserView> View(uint64_t id) const;
  std::vector<UserView> List() const;  // by login

  // Makes the directory agree with the configuration's `users:` (team and agent indices are
  // resolved in `routing`): creates missing users (without a password), updates the profile of
  // existing ones. Users not in the configuration (created through the API) are kept.
  struct SyncResult {
    size_t created = 0;
    size_t updated = 0;
  };
  Result<SyncResult> SyncFromConfig(const std::vector<UserDef>& users, const RoutingConfig& routing,
                                    TimePoint now);

 private:
  Status CheckProfile(const UserProfile& profile) const;
  // Writes `user` to the store (if any) and then to memory.
  Status Put(ports::UserRecord user) PARLEY_REQUIRES(mu_);
  ports::UserRecord* Get(uint64_t id) PARLEY_REQUIRES(mu_);

  const PasswordHasher& hasher_;
  ports::AuthStore* const store_;
  mutable Mutex mu_;
  std::map<uint64_t, ports::UserRecord> users_ PARLEY_GUARDED_BY(mu_);
  std::map<std::string, uint64_t, std::less<>> by_login_ PARLEY_GUARDED_BY(mu_);
  uint64_t next_id_ PARLEY_GUARDED_BY(mu_) = 1;
};

}  // namespace parley::auth
