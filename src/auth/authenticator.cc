#include "auth/authenticator.h"

#include <algorithm>
#include <cctype>
#include <chrono>

#include "auth/crypto.h"

namespace parley::auth {

namespace {

std::string MakeDummyHash(const PasswordHasher& hasher) {
  auto hash = hasher.Hash(Base64UrlEncode(RandomBytes(32)));
  PARLEY_CHECK(hash.ok());
  return std::move(*hash);
}

// Login names are lower case; people type them in any case. Long input is cut so that the
// throttle's keys stay small (no valid name is longer than 64 characters).
std::string NormalizeLogin(std::string_view login) {
  std::string out(login.substr(0, 65));
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool HasRole(const ports::UserRecord& u, Role r) {
  return std::find(u.roles.begin(), u.roles.end(), r) != u.roles.end();
}

}  // namespace

Authenticator::Authenticator(UserDirectory& users, SessionStore& sessions, TokenStore& tokens,
                             const PasswordHasher& hasher, LoginThrottle& throttle, AuditLog& audit)
    : users_(users),
      sessions_(sessions),
      tokens_(tokens),
      hasher_(hasher),
      throttle_(throttle),
      audit_(audit),
      dummy_hash_(MakeDummyHash(hasher)) {}

Principal Authenticator::PrincipalOf(const ports::UserRecord& u) {
  return {u.id, u.login, u.roles, u.team, u.agent, ""};
}

Result<LoginSuccess> Authenticator::Login(std::string_view login, std::string_view password,
                                          std::string_view client_address, TimePoint now) {
  ++attempts_;
  const std::string name = NormalizeLogin(login);
  const std::string address(client_address);
  const ThrottleVerdict verdict = throttle_.Admit(address, name, now);
  if (verdict != ThrottleVerdict::kAllowed) {
    ++throttled_;
    const auto wait =
        std::chrono::ceil<std::chrono::seconds>(throttle_.RetryAt(address, name, now) - now);
    audit_.Append(
        now, "(unknown)", "login", "", AuditOutcome::kDenied,
        std::string(verdict == ThrottleVerdict::kLockedOut ? "locked out" : "rate limited") +
            " from " + address);
    return Unavailable("too many login attempts; try again in " +
                       std::to_string(std::max<int64_t>(1, wait.count())) + " s");
  }
  std::optional<ports::UserRecord> user = users_.FindByLogin(name);
  bool ok;
  if (user && !user->password_hash.empty()) {
    ok = hasher_.Verify(user->password_hash, password);
  } else {
    // Same work as a real check, so that the answer's timing does not tell the name is unknown.
    (void)hasher_.Verify(dummy_hash_, password);
    ++dummy_verifications_;
    ok = false;
  }
  const bool disabled = user && user->disabled;
  if (!ok || disabled) {
    ++failures_;
    if (throttle_.RecordFailure(name, now)) ++lockouts_;
    // An unknown name is not written down: it may be a password typed into the wrong field.
    audit_.Append(
        now, user ? user->login : "(unknown)", "login", "", AuditOutcome::kFailed,
        std::string(disabled && ok ? "account disabled" : "bad credentials") + " from " + address);
    return PermissionDenied(std::string(kLoginFailed));
  }
  throttle_.RecordSuccess(name);
  if (hasher_.NeedsRehash(user->password_hash)) {
    if (auto fresh = hasher_.Hash(password); fresh.ok()) {
      if (users_.SetPasswordHash(user->id, std::move(*fresh), now).ok()) ++rehashes_;
    }
  }
  auto session = sessions_.Create(user->id, address, now);
  if (!session.ok()) return session.status();
  ++successes_;
  audit_.Append(now, user->login, "login", "", AuditOutcome::kOk, "from " + address);
  return LoginSuccess{std::move(*session), PrincipalOf(*user)};
}

void Authenticator::Logout(std::string_view session_id, TimePoint now) {
  auto info = sessions_.Validate(session_id, now);
  sessions_.Revoke(session_id);
  if (!info.ok()) return;
  const auto user = users_.FindById(info->user_id);
  audit_.Append(now, user ? user->login : "(deleted user)", "logout", "", AuditOutcome::kOk);
}

Result<Principal> Authenticator::FromSession(std::string_view session_id, TimePoint now) {
  return FromSessionHash(Sha256Hex(session_id), now);
}

Result<Principal> Authenticator::FromSessionHash(std::string_view id_hash, TimePoint now) {
  auto info = sessions_.ValidateHash(id_hash, now);
  if (!info.ok()) return info.status();
  const auto user = users_.FindById(info->user_id);
  if (!user || user->disabled) {
    sessions_.RevokeByHash(info->id_hash);
    return NotFound("session expired or unknown");
  }
  return PrincipalOf(*user);
}

Result<Principal> Authenticator::FromToken(std::string_view token, TimePoint now) {
  auto view = tokens_.Authenticate(token, now);
  if (!view.ok()) return view.status();
  const auto user = users_.FindById(view->user_id);
  // A token never outranks its user: it stops working when the user loses the role.
  if (!user || user->disabled || !HasRole(*user, view->scope)) {
    return PermissionDenied("invalid or expired API token");
  }
  Principal p = PrincipalOf(*user);
  p.roles = {view->scope};
  p.token_prefix = view->prefix;
  return p;
}

Result<IssuedToken> Authenticator::IssueToken(const Principal& who, uint64_t user_id, Role scope,
                                              std::string description,
                                              std::optional<TimePoint> expires, TimePoint now) {
  const std::string target = "user:" + std::to_string(user_id);
  const Decision d = Authorize(who, Permission::kTokensManage, Scope::User(user_id));
  if (!d) {
    audit_.Append(now, who.login, "token.issue", target, AuditOutcome::kDenied, d.reason);
    return PermissionDenied(d.reason);
  }
  const auto user = users_.FindById(user_id);
  if (!user) return NotFound("no user with id " + std::to_string(user_id));
  if (!HasRole(*user, scope)) {
    return InvalidArgument("user '" + user->login + "' does not hold role " +
                           std::string(RoleName(scope)) + "; a token's scope must be one of its " +
                           "user's roles");
  }
  auto issued = tokens_.Issue(user_id, scope, std::move(description), expires, now);
  if (!issued.ok()) return issued.status();
  audit_.Append(now, who.login, "token.issue", "token:" + issued->prefix, AuditOutcome::kOk,
                "for " + user->login + " as " + std::string(RoleName(scope)));
  return issued;
}

Status Authenticator::RevokeToken(const Principal& who, std::string_view prefix, TimePoint now) {
  const std::string target = "token:" + std::string(prefix);
  auto list = tokens_.List();
  auto it = std::find_if(list.begin(), list.end(),
                         [&](const TokenView& t) { return t.prefix == prefix; });
  if (it == list.end()) return NotFound("no API token '" + std::string(prefix) + "'");
  const Decision d = Authorize(who, Permission::kTokensManage, Scope::User(it->user_id));
  if (!d) {
    audit_.Append(now, who.login, "token.revoke", target, AuditOutcome::kDenied, d.reason);
    return PermissionDenied(d.reason);
  }
  Status s = tokens_.Revoke(prefix);
  audit_.Append(now, who.login, "token.revoke", target,
                s.ok() ? AuditOutcome::kOk : AuditOutcome::kFailed, s.ok() ? "" : s.message());
  return s;
}

Status Authenticator::SetPassword(const Principal& who, uint64_t user_id, std::string_view password,
                                  TimePoint now) {
  const std::string target = "user:" + std::to_string(user_id);
  const Decision d = who.user_id == user_id && who.token_prefix.empty()
                         ? Decision{true, Reach::kSelf, ""}
                         : Authorize(who, Permission::kUsersManage, Scope::User(user_id));
  if (!d) {
    audit_.Append(now, who.login, "user.password", target, AuditOutcome::kDenied, d.reason);
    return PermissionDenied(d.reason);
  }
  Status s = users_.SetPassword(user_id, password, now);
  if (s.ok()) sessions_.RevokeUser(user_id);
  audit_.Append(now, who.login, "user.password", target,
                s.ok() ? AuditOutcome::kOk : AuditOutcome::kFailed, s.ok() ? "" : s.message());
  return s;
}

Status Authenticator::SetDisabled(const Principal& who, uint64_t user_id, bool disabled,
                                  TimePoint now) {
  const std::string target = "user:" + std::to_string(user_id);
  const std::string action = disabled ? "user.disable" : "user.enable";
  const Decision d = Authorize(who, Permission::kUsersManage, Scope::User(user_id));
  if (!d) {
    audit_.Append(now, who.login, action, target, AuditOutcome::kDenied, d.reason);
    return PermissionDenied(d.reason);
  }
  Status s = users_.SetDisabled(user_id, disabled, now);
  if (s.ok() && disabled) {
    sessions_.RevokeUser(user_id);
    tokens_.RevokeUser(user_id);
  }
  audit_.Append(now, who.login, action, target, s.ok() ? AuditOutcome::kOk : AuditOutcome::kFailed,
                s.ok() ? "" : s.message());
  return s;
}

Status Authenticator::Unlock(const Principal& who, std::string_view login, TimePoint now) {
  const std::string name = NormalizeLogin(login);
  const Decision d = Authorize(who, Permission::kUsersManage, Scope::Global());
  audit_.Append(now, who.login, "user.unlock", "user:" + name,
                d ? AuditOutcome::kOk : AuditOutcome::kDenied, d.reason);
  if (!d) return PermissionDenied(d.reason);
  throttle_.Unlock(name);
  return Status::Ok();
}

LoginCounters Authenticator::counters() const {
  return {attempts_.load(), successes_.load(),           failures_.load(), throttled_.load(),
          lockouts_.load(), dummy_verifications_.load(), rehashes_.load()};
}

}  // namespace parley::auth
