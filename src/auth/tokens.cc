#include "auth/tokens.h"

#include "auth/crypto.h"

namespace parley::auth {

namespace {

constexpr std::string_view kPrefixTag = "pt_";
constexpr size_t kPrefixLength = 3 + 16;
constexpr size_t kSecretLength = 43;  // 32 bytes in base64url without padding

TokenView ViewOf(const ports::TokenRecord& t) {
  return {t.prefix, t.user_id, t.scope, t.description, t.created, t.expires, t.last_used};
}

}  // namespace

TokenStore::TokenStore(ports::AuthStore* store) : store_(store) {}

Status TokenStore::Load() {
  if (!store_) return Status::Ok();
  MutexLock lock(mu_);
  auto loaded = store_->LoadTokens();
  if (!loaded.ok()) return Internal("cannot load API tokens: " + loaded.status().message());
  tokens_.clear();
  for (auto& t : *loaded) {
    std::string key = t.prefix;
    tokens_.emplace(std::move(key), std::move(t));
  }
  return Status::Ok();
}

Result<IssuedToken> TokenStore::Issue(uint64_t user_id, Role scope, std::string description,
                                      std::optional<TimePoint> expires, TimePoint now) {
  if (expires && *expires <= now) return InvalidArgument("the token would expire at once");
  std::string secret = Base64UrlEncode(RandomBytes(32));
  ports::TokenRecord rec;
  rec.secret_hash = Sha256Hex(secret);
  rec.user_id = user_id;
  rec.scope = scope;
  rec.description = std::move(description);
  rec.created = now;
  rec.expires = expires;
  MutexLock lock(mu_);
  do {  // 64 random bits: a clash is next to impossible, but cheap to rule out
    rec.prefix = std::string(kPrefixTag) + HexEncode(RandomBytes(8));
  } while (tokens_.count(rec.prefix));
  if (store_) {
    if (Status s = store_->PutToken(rec); !s.ok()) {
      return Unavailable("cannot store the API token: " + s.message());
    }
  }
  IssuedToken out{rec.prefix, rec.prefix + "." + secret};
  Wipe(&secret);
  std::string key = rec.prefix;
  tokens_.emplace(std::move(key), std::move(rec));
  return out;
}

Result<TokenView> TokenStore::Authenticate(std::string_view token, TimePoint now) {
  const Status denied = PermissionDenied("invalid or expired API token");
  const size_t dot = token.find('.');
  if (dot != kPrefixLength || token.size() != kPrefixLength + 1 + kSecretLength ||
      token.substr(0, kPrefixTag.size()) != kPrefixTag) {
    return denied;
  }
  const std::string presented_hash = Sha256Hex(token.substr(dot + 1));
  MutexLock lock(mu_);
  auto it = tokens_.find(token.substr(0, dot));
  if (it == tokens_.end()) return denied;
  ports::TokenRecord& rec = it->second;
  if (!ConstantTimeEquals(presented_hash, rec.secret_hash)) return denied;
  if (rec.expires && *rec.expires <= now) return denied;
  // Like sessions' last_seen, last_used reaches the store at the next write of the token.
  rec.last_used = now;
  return ViewOf(rec);
}

Status TokenStore::Revoke(std::string_view prefix) {
  MutexLock lock(mu_);
  auto it = tokens_.find(prefix);
  if (it == tokens_.end()) return NotFound("no API token '" + std::string(prefix) + "'");
  // Out of memory first: the token stops working now even if the store cannot be written.
  const std::string name = it->first;
  tokens_.erase(it);
  if (store_) {
    if (Status s = store_->DeleteToken(name); !s.ok()) {
      return Unavailable("API token '" + name + "' is revoked until restart, but the store " +
                         "failed to delete it: " + s.message());
    }
  }
  return Status::Ok();
}

size_t TokenStore::RevokeUser(uint64_t user_id) {
  MutexLock lock(mu_);
  size_t n = 0;
  for (auto it = tokens_.begin(); it != tokens_.end();) {
    if (it->second.user_id != user_id) {
      ++it;
      continue;
    }
    if (store_) (void)store_->DeleteToken(it->first);
    it = tokens_.erase(it);
    ++n;
  }
  return n;
}

std::vector<TokenView> TokenStore::List(std::optional<uint64_t> user_id) const {
  MutexLock lock(mu_);
  std::vector<TokenView> out;
  for (const auto& [prefix, t] : tokens_) {
    if (!user_id || t.user_id == *user_id) out.push_back(ViewOf(t));
  }
  return out;
}

}  // namespace parley::auth
