#include "auth/throttle.h"

#include <algorithm>
#include <cmath>

namespace parley::auth {

double TokenBucket::Level(TimePoint now) const {
  const double elapsed = std::max(0.0, ToSeconds(now - last_));
  return std::min(capacity_, tokens_ + elapsed * per_second_);
}

bool TokenBucket::TryTake(TimePoint now) {
  tokens_ = Level(now);
  last_ = std::max(last_, now);
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

bool TokenBucket::Full(TimePoint now) const { return Level(now) >= capacity_; }

Duration TokenBucket::WaitFor(TimePoint now) const {
  const double level = Level(now);
  if (level >= 1 || per_second_ <= 0) return Duration(0);
  return Seconds(std::ceil((1 - level) / per_second_ * 1e6) / 1e6);
}

ThrottleVerdict LoginThrottle::Admit(std::string_view address, std::string_view login,
                                     TimePoint now) {
  MutexLock lock(mu_);
  if (addresses_.size() >= policy_.max_tracked || accounts_.size() >= policy_.max_tracked) {
    Prune(now);
  }
  auto acc = accounts_.find(login);
  if (acc != accounts_.end() && acc->second.locked_until > now) return ThrottleVerdict::kLockedOut;
  auto addr = addresses_.find(address);
  if (addr == addresses_.end()) {
    addr = addresses_
               .emplace(std::string(address),
                        TokenBucket(policy_.address_burst, policy_.address_per_second, now))
               .first;
  }
  if (!addr->second.TryTake(now)) return ThrottleVerdict::kAddressLimited;
  if (acc == accounts_.end()) {
    acc =
        accounts_
            .emplace(
                std::string(login),
                Account{TokenBucket(policy_.account_burst, policy_.account_per_second, now), 0, {}})
            .first;
  }
  if (!acc->second.bucket.TryTake(now)) return ThrottleVerdict::kAccountLimited;
  return ThrottleVerdict::kAllowed;
}

bool LoginThrottle::RecordFailure(std::string_view login, TimePoint now) {
  MutexLock lock(mu_);
  auto acc = accounts_.find(login);
  if (acc == accounts_.end()) return false;  // never admitted
  Account& a = acc->second;
  if (++a.failures < policy_.lockout_after) return false;
  a.failures = 0;
  a.locked_until = now + policy_.lockout;
  return true;
}

void LoginThrottle::RecordSuccess(std::string_view login) {
  MutexLock lock(mu_);
  auto acc = accounts_.find(login);
  if (acc != accounts_.end()) acc->second.failures = 0;
}

void LoginThrottle::Unlock(std::string_view login) {
  MutexLock lock(mu_);
  auto acc = accounts_.find(login);
  if (acc != accounts_.end()) {
    acc->second.failures = 0;
    acc->second.locked_until = {};
  }
}

TimePoint LoginThrottle::RetryAt(std::string_view address, std::string_view login,
                                 TimePoint now) const {
  MutexLock lock(mu_);
  TimePoint at = now;
  if (auto acc = accounts_.find(login); acc != accounts_.end()) {
    at = std::max({at, acc->second.locked_until, now + acc->second.bucket.WaitFor(now)});
  }
  if (auto addr = addresses_.find(address); addr != addresses_.end()) {
    at = std::max(at, now + addr->second.WaitFor(now));
  }
  return at;
}

void LoginThrottle::Prune(TimePoint now) {
  std::erase_if(addresses_, [&](const auto& kv) { return kv.second.Full(now); });
  std::erase_if(accounts_, [&](const auto& kv) {
    return kv.second.bucket.Full(now) && kv.second.failures == 0 && kv.second.locked_until <= now;
  });
  // Under a flood of distinct names or addresses, forget arbitrary ones rather than grow
  // without bound: an attacker gains at most a fresh bucket.
  // Locked accounts go last, so a flood cannot wash a lockout away cheaply.
  while (addresses_.size() >= policy_.max_tracked) addresses_.erase(addresses_.begin());
  for (auto it = accounts_.begin();
       accounts_.size() >= policy_.max_tracked && it != accounts_.end();) {
    it = it->second.locked_until <= now ? accounts_.erase(it) : std::next(it);
  }
  while (accounts_.size() >= policy_.max_tracked) accounts_.erase(accounts_.begin());
}

}  // namespace parley::auth
