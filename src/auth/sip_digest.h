#pragma once
// SIP digest authentication (RFC 2617 / RFC 7616 semantics as SIP uses them, RFC 8760 for
// SHA-256): the stored secret is HA1 = H(username ":" realm ":" password), never the password.
// Nonces carry their issue time and an HMAC under a per-process key, so a nonce we did not issue
// is rejected and an old one is reported stale (the client retries with the same credentials,
// without asking its user). SipGuard bans an address for a while after repeated failures.
// ComputeHa1, DigestResponse and VerifyDigest are pure; NonceIssuer is immutable after
// construction; SipGuard is thread-safe.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "auth/mutex.h"
#include "base/time.h"
#include "ports/auth_store.h"

namespace parley::auth {

enum class DigestAlgorithm : uint8_t { kMd5, kSha256 };
// "MD5", "SHA-256" as in the WWW-Authenticate / Authorization headers.
std::string_view DigestAlgorithmName(DigestAlgorithm a);
// Accepts "MD5", "SHA-256" (case-insensitive); an absent algorithm means MD5 (pass "").
std::optional<DigestAlgorithm> ParseDigestAlgorithm(std::string_view name);

// Lower-case hex H(username ":" realm ":" password).
std::string ComputeHa1(DigestAlgorithm a, std::string_view username, std::string_view realm,
                       std::string_view password);

// The fields of an Authorization header that the verification needs.
struct DigestCredentials {
  std::string username;
  std::string realm;
  std::string nonce;
  std::string uri;
  std::string response;  // hex, as sent
  DigestAlgorithm algorithm = DigestAlgorithm::kMd5;
  std::string qop;     // "auth" or "" (RFC 2069 compatibility); "auth-int" is not supported
  std::string cnonce;  // with qop
  std::string nc;      // with qop: 8 hex digits
};

// The expected response for `c` and the request method given HA1 (hex). With qop=auth:
// H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" H(method ":" uri)); without qop:
// H(HA1 ":" nonce ":" H(method ":" uri)). "" for an unsupported qop.
std::string DigestResponse(const DigestCredentials& c, std::string_view method,
                           std::string_view ha1_hex);

// True when `c.response` equals the expected response (compared in constant time, case
// of the hex ignored). Does not check the nonce: see NonceIssuer.
bool VerifyDigest(const DigestCredentials& c, std::string_view method, std::string_view ha1_hex);

enum class NonceCheck : uint8_t { kValid, kStale, kInvalid };

class NonceIssuer {
 public:
  // `key`: secret bytes (32 recommended; see RandomBytes). `lifetime`: how long a nonce is
  // accepted before it is stale.
  NonceIssuer(std::string key, Duration lifetime = Seconds(300));
  // 16 hex digits of the issue time (microseconds) followed by 32 hex digits of
  // HMAC-SHA-256(key, time || realm), truncated.
  std::string Issue(std::string_view realm, TimePoint now) const;
  // kInvalid when malformed, for another realm, or not ours; kStale when older than the
  // lifetime (or from the future by more than a second).
  NonceCheck Check(std::string_view nonce, std::string_view realm, TimePoint now) const;

 private:
  std::string Mac(uint64_t issued, std::string_view realm) const;
  std::string key_;
  Duration lifetime_;
};

struct SipGuardPolicy {
  uint32_t max_failures = 10;  // failures within `window` that ban the address
  Duration window = Seconds(60);
  Duration ban = Seconds(600);
  size_t max_tracked = 100000;  // addresses remembered at once; the oldest quiet ones go first
};

// Counts digest failures per source address and bans noisy ones. Thread-safe.
class SipGuard {
 public:
  explicit SipGuard(SipGuardPolicy policy = {}) : policy_(policy) {}

  bool IsBanned(std::string_view address, TimePoint now) const;
  // Records a failed authentication; true when this failure started a ban.
  bool RecordFailure(std::string_view address, TimePoint now);
  // A success clears the address's failure count (not a ban in force).
  void RecordSuccess(std::string_view address);

  struct Counters {
    uint64_t failures = 0;
    uint64_t bans = 0;
    uint64_t rejected_while_banned = 0;  // IsBanned answered true
  };
  Counters counters() const;

 private:
  struct Entry {
    TimePoint window_start{};
    uint32_t failures = 0;
    TimePoint banned_until{};
  };
  void Prune(TimePoint now) PARLEY_REQUIRES(mu_);

  SipGuardPolicy policy_;
  mutable Mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_ PARLEY_GUARDED_BY(mu_);
  mutable Counters counters_ PARLEY_GUARDED_BY(mu_);
};

enum class SipAuthResult : uint8_t {
  kOk,
  kStale,   // right credentials on an expired nonce: challenge again with stale=true
  kDenied,  // wrong or unknown: challenge again (and count a failure)
  kBanned,  // the address is banned: answer 403 without a challenge
};

// One request's whole check, for the SIP adapter: ban, user (null when the username is unknown;
// disabled users and a realm other than the stored one are refused), nonce, then the digest
// against the stored HA1 of the algorithm used. Failures are counted in `guard`; a success
// clears the address's count.
SipAuthResult CheckSipCredentials(const DigestCredentials& c, std::string_view method,
                                  const ports::UserRecord* user, const NonceIssuer& nonces,
                                  SipGuard& guard, std::string_view address, TimePoint now);

}  // namespace parley::auth
