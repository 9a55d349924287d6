#include "auth/sip_digest.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "auth/crypto.h"

namespace parley::auth {

std::string_view DigestAlgorithmName(DigestAlgorithm a) {
  return a == DigestAlgorithm::kMd5 ? "MD5" : "SHA-256";
}

std::optional<DigestAlgorithm> ParseDigestAlgorithm(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper.empty() || upper == "MD5") return DigestAlgorithm::kMd5;
  if (upper == "SHA-256") return DigestAlgorithm::kSha256;
  return std::nullopt;
}

namespace {

std::string H(DigestAlgorithm a, std::string_view data) {
  return a == DigestAlgorithm::kMd5 ? Md5Hex(data) : Sha256Hex(data);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string ComputeHa1(DigestAlgorithm a, std::string_view username, std::string_view realm,
                       std::string_view password) {
  std::string text;
  text.append(username).append(":").append(realm).append(":").append(password);
  std::string ha1 = H(a, text);
  Wipe(&text);
  return ha1;
}

std::string DigestResponse(const DigestCredentials& c, std::string_view method,
                           std::string_view ha1_hex) {
  const std::string ha2 = H(c.algorithm, std::string(method) + ":" + c.uri);
  const std::string ha1 = Lower(ha1_hex);
  if (c.qop.empty()) return H(c.algorithm, ha1 + ":" + c.nonce + ":" + ha2);
  if (c.qop != "auth") return "";
  return H(c.algorithm,
           ha1 + ":" + c.nonce + ":" + c.nc + ":" + c.cnonce + ":" + c.qop + ":" + ha2);
}

bool VerifyDigest(const DigestCredentials& c, std::string_view method, std::string_view ha1_hex) {
  if (ha1_hex.empty()) return false;
  if (!c.qop.empty() && (c.cnonce.empty() || c.nc.size() != 8)) return false;
  const std::string expected = DigestResponse(c, method, ha1_hex);
  if (expected.empty()) return false;
  return ConstantTimeEquals(expected, Lower(c.response));
}

NonceIssuer::NonceIssuer(std::string key, Duration lifetime)
    : key_(std::move(key)), lifetime_(lifetime) {}

std::string NonceIssuer::Mac(uint64_t issued, std::string_view realm) const {
  char stamp[17];
  std::snprintf(stamp, sizeof stamp, "%016llx", static_cast<unsigned long long>(issued));
  const Sha256Digest mac = HmacSha256(key_, std::string(stamp) + ":" + std::string(realm));
  return HexEncode({reinterpret_cast<const char*>(mac.data()), 16});
}

std::string NonceIssuer::Issue(std::string_view realm, TimePoint now) const {
  const auto issued = static_cast<uint64_t>(ToMicros(now));
  char stamp[17];
  std::snprintf(stamp, sizeof stamp, "%016llx", static_cast<unsigned long long>(issued));
  return std::string(stamp) + Mac(issued, realm);
}

NonceCheck NonceIssuer::Check(std::string_view nonce, std::string_view realm, TimePoint now) const {
  if (nonce.size() != 48) return NonceCheck::kInvalid;
  uint64_t issued = 0;
  for (size_t i = 0; i < 16; ++i) {
    const char c = nonce[i];
    int v = -1;
    if (c >= '0' && c <= '9') v = c - '0';
    if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    if (v < 0) return NonceCheck::kInvalid;
    issued = issued << 4 | static_cast<uint64_t>(v);
  }
  if (!ConstantTimeEquals(Mac(issued, realm), nonce.substr(16))) return NonceCheck::kInvalid;
  const TimePoint at = FromMicros(static_cast<int64_t>(issued));
  if (now - at > lifetime_ || at - now > Seconds(1)) return NonceCheck::kStale;
  return NonceCheck::kValid;
}

bool SipGuard::IsBanned(std::string_view address, TimePoint now) const {
  MutexLock lock(mu_);
  auto it = entries_.find(address);
  const bool banned = it != entries_.end() && it->second.banned_until > now;
  if (banned) ++counters_.rejected_while_banned;
  return banned;
}

bool SipGuard::RecordFailure(std::string_view address, TimePoint now) {
  MutexLock lock(mu_);
  ++counters_.failures;
  auto it = entries_.find(address);
  if (it == entries_.end()) {
    if (entries_.size() >= policy_.max_tracked) Prune(now);
    it = entries_.emplace(std::string(address), Entry{now, 0, {}}).first;
  }
  Entry& e = it->second;
  if (now - e.window_start > policy_.window) {
    e.window_start = now;
    e.failures = 0;
  }
  if (++e.failures < policy_.max_failures || e.banned_until > now) return false;
  e.banned_until = now + policy_.ban;
  e.failures = 0;
  e.window_start = now;
  ++counters_.bans;
  return true;
}

void SipGuard::RecordSuccess(std::string_view address) {
  MutexLock lock(mu_);
  auto it = entries_.find(address);
  if (it != entries_.end()) it->second.failures = 0;
}

SipGuard::Counters SipGuard::counters() const {
  MutexLock lock(mu_);
  return counters_;
}

void SipGuard::Prune(TimePoint now) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    const bool quiet =
        it->second.banned_until <= now && now - it->second.window_start > policy_.window;
    it = quiet ? entries_.erase(it) : std::next(it);
  }
  // Still full of active entries: forget the one with the oldest window (keeps memory bounded).
  if (entries_.size() >= policy_.max_tracked) {
    auto oldest = std::min_element(
        entries_.begin(), entries_.end(),
        [](const auto& a, const auto& b) { return a.second.window_start < b.second.window_start; });
    entries_.erase(oldest);
  }
}

SipAuthResult CheckSipCredentials(const DigestCredentials& c, std::string_view method,
                                  const ports::UserRecord* user, const NonceIssuer& nonces,
                                  SipGuard& guard, std::string_view address, TimePoint now) {
  if (guard.IsBanned(address, now)) return SipAuthResult::kBanned;
  const NonceCheck nonce = nonces.Check(c.nonce, c.realm, now);
  bool ok = user && !user->disabled && nonce != NonceCheck::kInvalid && c.username == user->login &&
            c.realm == user->sip_realm;
  if (ok) {
    ok = VerifyDigest(
        c, method, c.algorithm == DigestAlgorithm::kMd5 ? user->sip_ha1_md5 : user->sip_ha1_sha256);
  }
  if (!ok) {
    guard.RecordFailure(address, now);
    return SipAuthResult::kDenied;
  }
  if (nonce == NonceCheck::kStale) return SipAuthResult::kStale;
  guard.RecordSuccess(address);
  return SipAuthResult::kOk;
}

}  // namespace parley::auth
