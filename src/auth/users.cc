#include "auth/users.h"

#include <algorithm>
#include <utility>

#include "auth/sip_digest.h"

namespace parley::auth {

UserView ViewOf(const ports::UserRecord& u) {
  return {u.id,
          u.login,
          u.display_name,
          u.roles,
          u.team,
          u.agent,
          u.disabled,
          !u.password_hash.empty(),
          !u.sip_ha1_md5.empty() || !u.sip_ha1_sha256.empty(),
          u.created,
          u.updated};
}

UserDirectory::UserDirectory(const PasswordHasher& hasher, ports::AuthStore* store)
    : hasher_(hasher), store_(store) {}

Status UserDirectory::Load() {
  if (!store_) return Status::Ok();
  MutexLock lock(mu_);
  auto loaded = store_->LoadUsers();
  if (!loaded.ok()) return Internal("cannot load users: " + loaded.status().message());
  users_.clear();
  by_login_.clear();
  next_id_ = 1;
  for (auto& u : *loaded) {
    next_id_ = std::max(next_id_, u.id + 1);
    by_login_[u.login] = u.id;
    users_[u.id] = std::move(u);
  }
  return Status::Ok();
}

Status UserDirectory::CheckProfile(const UserProfile& p) const {
  if (!IsValidLoginName(p.login)) {
    return InvalidArgument("invalid login name '" + p.login +
                           "'; use 1-64 characters a-z, 0-9, '.', '_', '-', starting with a "
                           "letter or digit");
  }
  if (p.roles.empty()) return InvalidArgument("user '" + p.login + "' needs at least one role");
  for (size_t i = 0; i < p.roles.size(); ++i) {
    if (std::find(p.roles.begin(), p.roles.begin() + static_cast<std::ptrdiff_t>(i), p.roles[i]) !=
        p.roles.begin() + static_cast<std::ptrdiff_t>(i)) {
      return InvalidArgument("user '" + p.login + "' lists role " +
                             std::string(RoleName(p.roles[i])) + " twice");
    }
  }
  return Status::Ok();
}

ports::UserRecord* UserDirectory::Get(uint64_t id) {
  auto it = users_.find(id);
  return it == users_.end() ? nullptr : &it->second;
}

Status UserDirectory::Put(ports::UserRecord user) {
  if (store_) {
    if (Status s = store_->PutUser(user); !s.ok()) {
      return Unavailable("cannot store user '" + user.login + "': " + s.message());
    }
  }
  const uint64_t id = user.id;
  users_[id] = std::move(user);
  return Status::Ok();
}

Result<uint64_t> UserDirectory::Create(const UserProfile& profile, TimePoint now) {
  if (Status s = CheckProfile(profile); !s.ok()) return s;
  MutexLock lock(mu_);
  if (by_login_.count(profile.login)) {
    return Conflict("login name '" + profile.login + "' is taken");
  }
  ports::UserRecord u;
  u.id = next_id_;
  u.login = profile.login;
  u.display_name = profile.display_name.empty() ? profile.login : profile.display_name;
  u.roles = profile.roles;
  u.team = profile.team;
  u.agent = profile.agent;
  u.created = u.updated = now;
  if (Status s = Put(u); !s.ok()) return s;
  ++next_id_;
  by_login_[u.login] = u.id;
  return u.id;
}

Status UserDirectory::Update(uint64_t id, const UserProfile& profile, TimePoint now) {
  if (Status s = CheckProfile(profile); !s.ok()) return s;
  MutexLock lock(mu_);
  ports::UserRecord* cur = Get(id);
  if (!cur) return NotFound("no user with id " + std::to_string(id));
  if (profile.login != cur->login && by_login_.count(profile.login)) {
    return Conflict("login name '" + profile.login + "' is taken");
  }
  ports::UserRecord u = *cur;
  const std::string old_login = u.login;
  u.login = profile.login;
  u.display_name = profile.display_name.empty() ? profile.login : profile.display_name;
  u.roles = profile.roles;
  u.team = profile.team;
  u.agent = profile.agent;
  if (u.login != old_login) {
    // HA1 digests include the login name: a renamed user needs a new SIP password.
    u.sip_ha1_md5.clear();
    u.sip_ha1_sha256.clear();
  }
  u.updated = now;
  if (Status s = Put(std::move(u)); !s.ok()) return s;
  if (profile.login != old_login) {
    by_login_.erase(old_login);
    by_login_[profile.login] = id;
  }
  return Status::Ok();
}

Status UserDirectory::SetDisabled(uint64_t id, bool disabled, TimePoint now) {
  MutexLock lock(mu_);
  ports::UserRecord* cur = Get(id);
  if (!cur) return NotFound("no user with id " + std::to_string(id));
  ports::UserRecord u = *cur;
  u.disabled = disabled;
  u.updated = now;
  return Put(std::move(u));
}

Status UserDirectory::SetPassword(uint64_t id, std::string_view password, TimePoint now) {
  std::string login;
  {
    MutexLock lock(mu_);
    ports::UserRecord* cur = Get(id);
    if (!cur) return NotFound("no user with id " + std::to_string(id));
    login = cur->login;
  }
  if (Status s = hasher_.CheckPolicy(password, login); !s.ok()) return s;
  // Hash outside the lock: it takes tens of milliseconds.
  auto hash = hasher_.Hash(password);
  if (!hash.ok()) return hash.status();
  return SetPasswordHash(id, std::move(*hash), now);
}

Status UserDirectory::SetPasswordHash(uint64_t id, std::string hash, TimePoint now) {
  MutexLock lock(mu_);
  ports::UserRecord* cur = Get(id);
  if (!cur) return NotFound("no user with id " + std::to_string(id));
  ports::UserRecord u = *cur;
  u.password_hash = std::move(hash);
  u.updated = now;
  return Put(std::move(u));
}

Status UserDirectory::SetSipPassword(uint64_t id, std::string_view realm, std::string_view password,
                                     TimePoint now) {
  if (realm.empty()) return InvalidArgument("the SIP realm must not be empty");
  if (password.size() < hasher_.policy().min_length) {
    return InvalidArgument("the SIP password is too short; use at least " +
                           std::to_string(hasher_.policy().min_length) + " characters");
  }
  MutexLock lock(mu_);
  ports::UserRecord* cur = Get(id);
  if (!cur) return NotFound("no user with id " + std::to_string(id));
  ports::UserRecord u = *cur;
  u.sip_realm = std::string(realm);
  u.sip_ha1_md5 = ComputeHa1(DigestAlgorithm::kMd5, u.login, realm, password);
  u.sip_ha1_sha256 = ComputeHa1(DigestAlgorithm::kSha256, u.login, realm, password);
  u.updated = now;
  return Put(std::move(u));
}

Status UserDirectory::Remove(uint64_t id) {
  MutexLock lock(mu_);
  ports::UserRecord* cur = Get(id);
  if (!cur) return NotFound("no user with id " + std::to_string(id));
  if (store_) {
    if (Status s = store_->DeleteUser(id); !s.ok()) {
      return Unavailable("cannot delete user '" + cur->login + "': " + s.message());
    }
  }
  by_login_.erase(cur->login);
  users_.erase(id);
  return Status::Ok();
}

std::optional<ports::UserRecord> UserDirectory::FindByLogin(std::string_view login) const {
  MutexLock lock(mu_);
  auto it = by_login_.find(login);
  if (it == by_login_.end()) return std::nullopt;
  return users_.at(it->second);
}

std::optional<ports::UserRecord> UserDirectory::FindById(uint64_t id) const {
  MutexLock lock(mu_);
  auto it = users_.find(id);
  if (it == users_.end()) return std::nullopt;
  return it->second;
}

std::optional<UserView> UserDirectory::View(uint64_t id) const {
  auto u = FindById(id);
  if (!u) return std::nullopt;
  return ViewOf(*u);
}

std::vector<UserView> UserDirectory::List() const {
  MutexLock lock(mu_);
  std::vector<UserView> out;
  for (const auto& [login, id] : by_login_) out.push_back(ViewOf(users_.at(id)));
  return out;
}

Result<UserDirectory::SyncResult> UserDirectory::SyncFromConfig(const std::vector<UserDef>& users,
                                                                const RoutingConfig& routing,
                                                                TimePoint now) {
  SyncResult result;
  for (const UserDef& def : users) {
    UserProfile p;
    p.login = def.login;
    p.display_name = def.display_name;
    p.roles = def.roles;
    if (def.team != kNone && def.team < routing.teams.size()) p.team = routing.teams[def.team].name;
    if (def.agent != kNone && def.agent < routing.agents.size()) {
      p.agent = routing.agents[def.agent].name;
      if (p.team.empty() && routing.agents[def.agent].team != kNone) {
        p.team = routing.teams[routing.agents[def.agent].team].name;
      }
    }
    auto existing = FindByLogin(def.login);
    if (!existing) {
      auto id = Create(p, now);
      if (!id.ok()) return id.status();
      ++result.created;
      continue;
    }
    const UserView v = ViewOf(*existing);
    if (v.display_name == (p.display_name.empty() ? p.login : p.display_name) &&
        v.roles == p.roles && v.team == p.team && v.agent == p.agent) {
      continue;
    }
    if (Status s = Update(existing->id, p, now); !s.ok()) return s;
    ++result.updated;
  }
  return result;
}

}  // namespace parley::auth
