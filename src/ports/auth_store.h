#pragma once
// Outbound port of src/auth: where users, sessions, API tokens and the audit trail are kept
// across restarts. src/auth keeps everything it needs in memory and writes each change through
// this port when one is given; a store adapter (src/store) implements it. The records hold only
// hashes of secrets (Argon2id strings, SHA-256 digests, SIP HA1 values), never a password, a
// session id or a token secret. Implementations must be thread-safe: src/auth calls them from
// whichever I/O thread handled the request, while holding its own lock, so they must not call
// back into src/auth.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "domain/user.h"

namespace parley::ports {

struct UserRecord {
  uint64_t id = 0;  // > 0, never reused
  std::string login;
  std::string display_name;
  std::vector<Role> roles;
  std::string team;   // team name, "" for none
  std::string agent;  // agent id, "" for none
  bool disabled = false;
  std::string password_hash;  // libsodium crypto_pwhash_str (Argon2id) string; "" = no password
  // SIP digest credentials, separate from the web password: lower-case hex HA1 =
  // H(login ":" realm ":" sip password) for MD5 and SHA-256 (RFC 8760); "" = none.
  std::string sip_realm;
  std::string sip_ha1_md5;
  std::string sip_ha1_sha256;
  TimePoint created{};
  TimePoint updated{};
  bool operator==(const UserRecord&) const = default;
};

struct SessionRecord {
  std::string id_hash;  // lower-case hex SHA-256 of the session id
  uint64_t user_id = 0;
  TimePoint created{};
  TimePoint last_seen{};
  std::string client_address;
  bool operator==(const SessionRecord&) const = default;
};

struct TokenRecord {
  std::string prefix;       // public part of the token, unique
  std::string secret_hash;  // lower-case hex SHA-256 of the secret part
  uint64_t user_id = 0;
  Role scope = Role::kWallboard;  // the token acts with this one role
  std::string description;
  TimePoint created{};
  std::optional<TimePoint> expires;
  std::optional<TimePoint> last_used;
  bool operator==(const TokenRecord&) const = default;
};

enum class AuditOutcome : uint8_t { kOk, kDenied, kFailed };

// Who did what to what, and whether it worked. Never holds a secret.
struct AuditRecord {
  uint64_t sequence = 0;  // 1, 2, ... in the order appended
  TimePoint at{};
  std::string actor;   // login name, "token:<prefix>", or "(unknown)"
  std::string action;  // e.g. "login", "user.create", "contacts.export"
  std::string target;  // what was acted on, e.g. "user:bob", "contact:42"
  AuditOutcome outcome = AuditOutcome::kOk;
  std::string detail;  // free text, e.g. client address or a deny reason
  bool operator==(const AuditRecord&) const = default;
};

// Receives every audit record once, in sequence order.
class AuditSink {
 public:
  virtual ~AuditSink() = default;
  virtual Status AppendAudit(const AuditRecord& record) = 0;
};

class AuthStore {
 public:
  virtual ~AuthStore() = default;
  // Insert or replace by id (users), by id_hash (sessions), by prefix (tokens).
  virtual Status PutUser(const UserRecord& user) = 0;
  virtual Status DeleteUser(uint64_t id) = 0;
  virtual Status PutSession(const SessionRecord& session) = 0;
  virtual Status DeleteSession(const std::string& id_hash) = 0;
  virtual Status PutToken(const TokenRecord& token) = 0;
  virtual Status DeleteToken(const std::string& prefix) = 0;
  // Everything stored, for loading at startup.
  virtual Result<std::vector<UserRecord>> LoadUsers() = 0;
  virtual Result<std::vector<SessionRecord>> LoadSessions() = 0;
  virtual Result<std::vector<TokenRecord>> LoadTokens() = 0;
};

using AuthStorePtr = std::unique_ptr<AuthStore>;
using AuditSinkPtr = std::unique_ptr<AuditSink>;

}  // namespace parley::ports
