#pragma once
// Login rate limiting and lockout. Every login attempt takes a token from its client address's
// bucket and from its login name's bucket (token buckets refilled continuously); an empty
// bucket refuses the attempt before any password is checked. Consecutive failures for one login
// name lock it for a while. Login names are tracked whether or not such a user exists, so the
// lockout reveals nothing about which accounts exist. Time comes only from the `now` arguments
// (the caller's injected Clock). Thread-safe.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "auth/mutex.h"
#include "base/time.h"

namespace parley::auth {

// A token bucket: holds at most `capacity` tokens and gains `per_second` tokens each second.
// Not thread-safe; LoginThrottle guards its buckets.
class TokenBucket {
 public:
  TokenBucket(double capacity, double per_second, TimePoint now)
      : capacity_(capacity), per_second_(per_second), tokens_(capacity), last_(now) {}
  // Takes one token if there is one.
  bool TryTake(TimePoint now);
  // True when refilled to capacity by `now` (so the bucket can be forgotten).
  bool Full(TimePoint now) const;
  // How long until one token is available (0 when there is one).
  Duration WaitFor(TimePoint now) const;

 private:
  double Level(TimePoint now) const;
  double capacity_;
  double per_second_;
  double tokens_;
  TimePoint last_;
};

struct ThrottlePolicy {
  // Per client address: bursts of 20 attempts, then one every 3 seconds.
  double address_burst = 20;
  double address_per_second = 1.0 / 3;
  // Per login name: bursts of 5, then one every 10 seconds.
  double account_burst = 5;
  double account_per_second = 0.1;
  // After this many failures in a row a login name is locked for `lockout`.
  uint32_t lockout_after = 10;
  Duration lockout = Seconds(15 * 60);
  size_t max_tracked = 100000;  // entries kept per kind before forgetting idle ones
};

enum class ThrottleVerdict : uint8_t { kAllowed, kAddressLimited, kAccountLimited, kLockedOut };

class LoginThrottle {
 public:
  explicit LoginThrottle(ThrottlePolicy policy = {}) : policy_(policy) {}

  // Called before a password is checked; kAllowed takes one token from each bucket.
  ThrottleVerdict Admit(std::string_view address, std::string_view login, TimePoint now);
  // After the password check. A failure may start a lockout (returns true then).
  bool RecordFailure(std::string_view login, TimePoint now);
  void RecordSuccess(std::string_view login);
  // Ends a lockout early (an administrator unlocks the account).
  void Unlock(std::string_view login);
  // When the refusal for `login`/`address` ends (for Retry-After); `now` if not refused.
  TimePoint RetryAt(std::string_view address, std::string_view login, TimePoint now) const;

 private:
  struct Account {
    TokenBucket bucket;
    uint32_t failures = 0;
    TimePoint locked_until{};
  };
  void Prune(TimePoint now) PARLEY_REQUIRES(mu_);

  ThrottlePolicy policy_;
  mutable Mutex mu_;
  std::map<std::string, TokenBucket, std::less<>> addresses_ PARLEY_GUARDED_BY(mu_);
  std::map<std::string, Account, std::less<>> accounts_ PARLEY_GUARDED_BY(mu_);
};

}  // namespace parley::auth
