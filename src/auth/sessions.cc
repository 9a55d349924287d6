#include "auth/sessions.h"

#include "auth/crypto.h"

namespace parley::auth {

std::string SetCookieValue(std::string_view name, std::string_view value, Duration max_age,
                           const CookieOptions& options) {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(max_age).count();
  std::string out = std::string(name) + "=" + std::string(value) + "; Path=" + options.path +
                    "; Max-Age=" + std::to_string(seconds < 0 ? 0 : seconds) +
                    "; HttpOnly; SameSite=Strict";
  if (options.secure) out += "; Secure";
  return out;
}

SessionStore::SessionStore(SessionPolicy policy, CookieOptions cookie, ports::AuthStore* store)
    : policy_(std::move(policy)), cookie_(std::move(cookie)), store_(store) {}

bool SessionStore::Expired(const ports::SessionRecord& s, TimePoint now) const {
  return now - s.last_seen >= policy_.idle || now - s.created >= policy_.absolute;
}

Status SessionStore::Load(TimePoint now) {
  if (!store_) return Status::Ok();
  MutexLock lock(mu_);
  auto loaded = store_->LoadSessions();
  if (!loaded.ok()) return Internal("cannot load sessions: " + loaded.status().message());
  sessions_.clear();
  for (auto& s : *loaded) {
    if (Expired(s, now)) {
      (void)store_->DeleteSession(s.id_hash);
      continue;
    }
    std::string key = s.id_hash;
    sessions_.emplace(std::move(key), std::move(s));
  }
  return Status::Ok();
}

Result<NewSession> SessionStore::Create(uint64_t user_id, std::string_view client_address,
                                        TimePoint now) {
  std::string id = Base64UrlEncode(RandomBytes(32));
  ports::SessionRecord rec{Sha256Hex(id), user_id, now, now, std::string(client_address)};
  {
    MutexLock lock(mu_);
    if (store_) {
      if (Status s = store_->PutSession(rec); !s.ok()) {
        return Unavailable("cannot store the session: " + s.message());
      }
    }
    std::string key = rec.id_hash;
    sessions_.emplace(std::move(key), std::move(rec));
  }
  NewSession out;
  out.set_cookie = SetCookieValue(policy_.cookie_name, id, policy_.absolute, cookie_);
  out.id = std::move(id);
  out.expires = now + policy_.absolute;
  return out;
}

Result<SessionInfo> SessionStore::Validate(std::string_view id, TimePoint now) {
  // A lookup by the hash of a 256-bit secret: timing tells an attacker nothing useful.
  return ValidateHash(Sha256Hex(id), now);
}

Result<SessionInfo> SessionStore::ValidateHash(std::string_view id_hash, TimePoint now) {
  const std::string hash(id_hash);
  MutexLock lock(mu_);
  auto it = sessions_.find(hash);
  if (it == sessions_.end()) return NotFound("session expired or unknown");
  if (Expired(it->second, now)) {
    Drop(hash);
    return NotFound("session expired or unknown");
  }
  // Persisting every touch would write on each request; last_seen reaches the store when the
  // session is next written. After a restart a session may therefore expire up to `idle` early.
  it->second.last_seen = now;
  return SessionInfo{it->second.user_id, it->second.created, it->second.last_seen, hash};
}

void SessionStore::Drop(const std::string& id_hash) {
  if (store_) (void)store_->DeleteSession(id_hash);
  sessions_.erase(id_hash);
}

void SessionStore::Revoke(std::string_view id) { RevokeByHash(Sha256Hex(id)); }

void SessionStore::RevokeByHash(std::string_view id_hash) {
  MutexLock lock(mu_);
  if (sessions_.count(id_hash)) Drop(std::string(id_hash));
}

size_t SessionStore::RevokeUser(uint64_t user_id) {
  MutexLock lock(mu_);
  std::vector<std::string> doomed;
  for (const auto& [hash, s] : sessions_) {
    if (s.user_id == user_id) doomed.push_back(hash);
  }
  for (const auto& h : doomed) Drop(h);
  return doomed.size();
}

size_t SessionStore::Expire(TimePoint now) {
  MutexLock lock(mu_);
  std::vector<std::string> doomed;
  for (const auto& [hash, s] : sessions_) {
    if (Expired(s, now)) doomed.push_back(hash);
  }
  for (const auto& h : doomed) Drop(h);
  return doomed.size();
}

size_t SessionStore::size() const {
  MutexLock lock(mu_);
  return sessions_.size();
}

std::string SessionStore::ClearCookie() const {
  return SetCookieValue(policy_.cookie_name, "", Duration(0), cookie_);
}

}  // namespace parley::auth
