#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>

#include "auth/audit.h"
#include "auth/authenticator.h"
#include "auth/crypto.h"
#include "auth/password.h"
#include "auth/permissions.h"
#include "auth/routes.h"
#include "auth/sessions.h"
#include "auth/sip_digest.h"
#include "auth/throttle.h"
#include "auth/tokens.h"
#include "auth/users.h"
#include "base/virtual_clock.h"

namespace parley::auth {
namespace {

const TimePoint kT0 = FromMicros(1'700'000'000'000'000);

// An in-memory AuthStore with a failure switch.
class FakeAuthStore : public ports::AuthStore {
 public:
  bool fail = false;
  std::map<uint64_t, ports::UserRecord> users;
  std::map<std::string, ports::SessionRecord> sessions;
  std::map<std::string, ports::TokenRecord> tokens;

  Status PutUser(const ports::UserRecord& u) override {
    if (fail) return Unavailable("disk full");
    users[u.id] = u;
    return Status::Ok();
  }
  Status DeleteUser(uint64_t id) override { return Erase(users, id); }
  Status PutSession(const ports::SessionRecord& s) override {
    if (fail) return Unavailable("disk full");
    sessions[s.id_hash] = s;
    return Status::Ok();
  }
  Status DeleteSession(const std::string& h) override { return Erase(sessions, h); }
  Status PutToken(const ports::TokenRecord& t) override {
    if (fail) return Unavailable("disk full");
    tokens[t.prefix] = t;
    return Status::Ok();
  }
  Status DeleteToken(const std::string& p) override { return Erase(tokens, p); }
  Result<std::vector<ports::UserRecord>> LoadUsers() override { return Values(users); }
  Result<std::vector<ports::SessionRecord>> LoadSessions() override { return Values(sessions); }
  Result<std::vector<ports::TokenRecord>> LoadTokens() override { return Values(tokens); }

 private:
  template <typename M, typename K>
  Status Erase(M& m, const K& k) {
    if (fail) return Unavailable("disk full");
    m.erase(k);
    return Status::Ok();
  }
  template <typename M>
  static std::vector<typename M::mapped_type> Values(const M& m) {
    std::vector<typename M::mapped_type> out;
    for (const auto& [k, v] : m) out.push_back(v);
    return out;
  }
};

class CollectingSink : public ports::AuditSink {
 public:
  std::vector<ports::AuditRecord> records;
  bool fail = false;
  Status AppendAudit(const ports::AuditRecord& r) override {
    if (fail) return Unavailable("down");
    records.push_back(r);
    return Status::Ok();
  }
};

// ---- crypto and passwords ----

TEST(CryptoTest, Sha256AndHexMatchKnownVector) {
  // printf abc | openssl dgst -sha256
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Md5Hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
}

TEST(CryptoTest, ConstantTimeEqualsComparesContentsAndLengths) {
  EXPECT_TRUE(ConstantTimeEquals("abcd", "abcd"));
  EXPECT_FALSE(ConstantTimeEquals("abcd", "abce"));
  EXPECT_FALSE(ConstantTimeEquals("abcd", "abc"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

TEST(CryptoTest, RandomBytesDifferAndBase64UrlIsCookieSafe) {
  const std::string a = Base64UrlEncode(RandomBytes(32)), b = Base64UrlEncode(RandomBytes(32));
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), 43u);
  EXPECT_EQ(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
}

TEST(PasswordTest, HashVerifiesAndRejectsWrongPassword) {
  PasswordHasher hasher(PasswordLimits::ForTests());
  auto hash = hasher.Hash("correct horse battery");
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(hash->rfind("$argon2id$", 0), 0u);
  EXPECT_EQ(hash->find("correct horse"), std::string::npos);
  EXPECT_TRUE(hasher.Verify(*hash, "correct horse battery"));
  EXPECT_FALSE(hasher.Verify(*hash, "correct horse batterY"));
  EXPECT_FALSE(hasher.Verify("", "x"));
  EXPECT_FALSE(hasher.Verify("$argon2id$garbage", "x"));
  // Two hashes of one password differ (random salt).
  EXPECT_NE(*hash, *hasher.Hash("correct horse battery"));
}

TEST(PasswordTest, NeedsRehashWhenLimitsChange) {
  PasswordHasher weak(PasswordLimits::ForTests());
  PasswordHasher stronger(
      {PasswordLimits::ForTests().opslimit + 1, PasswordLimits::ForTests().memlimit});
  auto hash = weak.Hash("correct horse battery");
  ASSERT_TRUE(hash.ok());
  EXPECT_FALSE(weak.NeedsRehash(*hash));
  EXPECT_TRUE(stronger.NeedsRehash(*hash));
  EXPECT_TRUE(stronger.Verify(*hash, "correct horse battery"));
  EXPECT_TRUE(weak.NeedsRehash("not a hash"));
}

TEST(PasswordTest, PolicyMessagesNeverContainThePassword) {
  PasswordHasher hasher(PasswordLimits::ForTests());
  Status s = hasher.CheckPolicy("short", "bob");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message().find("short,"), std::string::npos);
  EXPECT_NE(s.message().find("at least 10"), std::string::npos);
  EXPECT_FALSE(hasher.CheckPolicy("bob.smith.1", "bob.smith.1").ok());
  EXPECT_TRUE(hasher.CheckPolicy("a long passphrase", "bob").ok());
}

// ---- roles and permissions ----

Principal Who(std::string login, std::vector<Role> roles, std::string team = "",
              std::string agent = "", uint64_t id = 7) {
  return {id, std::move(login), std::move(roles), std::move(team), std::move(agent), ""};
}

TEST(PasswordTest, GeneratedPasswordsUseTheWholeReadableAlphabet) {
  const std::string alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::map<char, int> seen;
  std::string previous;
  for (int i = 0; i < 1000; ++i) {
    const std::string p = GenerateReadablePassword();
    ASSERT_EQ(p.size(), 16U);
    EXPECT_NE(p, previous);
    for (char c : p) {
      ASSERT_NE(alphabet.find(c), std::string::npos) << "unexpected character " << c;
      ++seen[c];
    }
    previous = p;
  }
  // 16,000 uniform draws over 55 characters: each appears ~290 times; one never drawn means the
  // generator cannot produce it.
  EXPECT_EQ(seen.size(), alphabet.size());
}

TEST(PermissionsTest, EveryPermissionHasAUniqueName) {
  for (size_t i = 0; i < kPermissionCount; ++i) {
    const auto p = static_cast<Permission>(i);
    EXPECT_EQ(ParsePermission(PermissionName(p)), p);
  }
  EXPECT_EQ(ParsePermission("nope"), std::nullopt);
}

// The full role x permission table, written out so a change to permissions.cc must change this.
TEST(PermissionsTest, RoleMatrixIsTheDocumentedOne) {
  const std::map<Role, std::string> expected = {
      // One character per permission in enum order: A all, T team, S self, - none.
      // agent.read agent.state agent.manage contacts.read contacts.handle contacts.export
      // calls.monitor recordings.listen qa.evaluate queues.read reports.read reports.export
      // config.read config.write users.manage tokens.manage audit.read wallboard.read metrics.read
      // staffing.plan
      {Role::kAdministrator, "AAAAAAAAAAAAAAAAAAAA"},
      {Role::kSupervisor, /*  */ "AAAAAAAAAAAAA--S-AAA"},
      {Role::kTeamLead, /*    */ "TTTTT-TT-AT----S-A--"},
      {Role::kQaAnalyst, /*   */ "A--A---AA-A----S----"},
      {Role::kAgent, /*       */ "SS-SS----AS---------"},
      {Role::kWallboard, /*   */ "A--------A-------AA-"},
  };
  for (Role r : kAllRoles) {
    std::string got;
    for (size_t i = 0; i < kPermissionCount; ++i) {
      const Reach reach = RoleReach(r, static_cast<Permission>(i));
      got += reach == Reach::kAll    ? 'A'
             : reach == Reach::kTeam ? 'T'
             : reach == Reach::kSelf ? 'S'
                                     : '-';
    }
    EXPECT_EQ(got, expected.at(r)) << RoleName(r);
  }
}

TEST(PermissionsTest, TeamLeadActsOnItsOwnTeamOnly) {
  const Principal lead = Who("alice", {Role::kTeamLead, Role::kAgent}, "north", "alice");
  EXPECT_TRUE(Authorize(lead, Permission::kAgentManage, Scope::Agent("bob", "north")));
  EXPECT_TRUE(Authorize(lead, Permission::kContactsRead, Scope::Agent("bob", "north")));
  EXPECT_TRUE(Authorize(lead, Permission::kAgentRead, Scope::Team("north")));
  const Decision other = Authorize(lead, Permission::kAgentManage, Scope::Agent("heidi", "south"));
  EXPECT_FALSE(other);
  EXPECT_EQ(other.reach, Reach::kTeam);
  EXPECT_NE(other.reason.find("team 'north' only"), std::string::npos) << other.reason;
  EXPECT_NE(other.reason.find("'south'"), std::string::npos) << other.reason;
  EXPECT_FALSE(Authorize(lead, Permission::kAgentManage, Scope::Global()));
  // Queue statistics are for everyone with queues.read.
  EXPECT_TRUE(Authorize(lead, Permission::kQueuesRead, Scope::Global()));
  EXPECT_FALSE(Authorize(lead, Permission::kConfigWrite, Scope::Global()));
}

TEST(PermissionsTest, AgentActsOnItselfOnly) {
  const Principal bob = Who("bob", {Role::kAgent}, "north", "bob");
  EXPECT_TRUE(Authorize(bob, Permission::kAgentState, Scope::Agent("bob", "north")));
  EXPECT_TRUE(Authorize(bob, Permission::kContactsRead, Scope::Agent("bob", "north")));
  const Decision d = Authorize(bob, Permission::kContactsRead, Scope::Agent("carol", "north"));
  EXPECT_FALSE(d);
  EXPECT_NE(d.reason.find("itself only"), std::string::npos) << d.reason;
  EXPECT_FALSE(Authorize(bob, Permission::kAgentState, Scope::Team("north")));
  const Decision none = Authorize(bob, Permission::kRecordingsListen, Scope::Agent("bob", "north"));
  EXPECT_FALSE(none);
  EXPECT_NE(none.reason.find("lacks permission recordings.listen"), std::string::npos);
}

TEST(PermissionsTest, EveryRoleAgainstEveryPermissionAndScope) {
  // Scopes: own agent, a teammate, someone in another team, the whole center.
  const std::vector<Scope> scopes = {Scope::Agent("me", "north"), Scope::Agent("mate", "north"),
                                     Scope::Agent("far", "south"), Scope::Global()};
  for (Role r : kAllRoles) {
    const Principal p = Who("x", {r}, "north", "me");
    for (size_t i = 0; i < kPermissionCount; ++i) {
      const auto perm = static_cast<Permission>(i);
      const Reach reach = RoleReach(r, perm);
      const bool expect[4] = {reach != Reach::kNone, reach >= Reach::kTeam, reach == Reach::kAll,
                              reach == Reach::kAll};
      for (size_t s = 0; s < scopes.size(); ++s) {
        const Decision d = Authorize(p, perm, scopes[s]);
        EXPECT_EQ(d.allowed, expect[s]) << RoleName(r) << " " << PermissionName(perm) << " " << s;
        EXPECT_EQ(d.reason.empty(), d.allowed);
      }
    }
  }
}

TEST(PermissionsTest, SeveralRolesTakeTheLargestReach) {
  const Principal p = Who("grace", {Role::kAgent, Role::kTeamLead}, "south", "grace");
  EXPECT_EQ(PrincipalReach(p, Permission::kContactsRead), Reach::kTeam);
  EXPECT_EQ(PrincipalReach(Who("s", {Role::kAgent, Role::kSupervisor}), Permission::kContactsRead),
            Reach::kAll);
}

// ---- routes ----

RouteRegistry SampleRoutes() {
  RouteRegistry reg;
  EXPECT_TRUE(reg.Add({"GET", "/healthz", std::nullopt, true}).ok());
  EXPECT_TRUE(reg.Add({"POST", "/api/v1/login", std::nullopt, true}).ok());
  EXPECT_TRUE(reg.Add({"GET", "/ui/*", std::nullopt, true}).ok());
  EXPECT_TRUE(reg.Add({"GET", "/metrics", Permission::kMetricsRead, false, true}).ok());
  EXPECT_TRUE(reg.Add({"GET", "/api/v1/agents/{id}", Permission::kAgentRead}).ok());
  EXPECT_TRUE(reg.Add({"PUT", "/api/v1/agents/{id}/state", Permission::kAgentState}).ok());
  EXPECT_TRUE(reg.Add({"POST", "/api/v1/config", Permission::kConfigWrite}).ok());
  EXPECT_TRUE(reg.Add({"GET", "/api/v1/contacts/export", Permission::kContactsExport}).ok());
  return reg;
}

TEST(RoutesTest, RefusesARouteWithoutAPermission) {
  RouteRegistry reg;
  Status s = reg.Add({"GET", "/api/v1/queues", std::nullopt, false});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("declares no permission"), std::string::npos);
  EXPECT_TRUE(reg.routes().empty());
  EXPECT_EQ(reg.Add({"GET", "/x", Permission::kQueuesRead, true}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(reg.Add({"FETCH", "/x", Permission::kQueuesRead}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(reg.Add({"GET", "x", Permission::kQueuesRead}).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(reg.Add({"GET", "/x", Permission::kQueuesRead}).ok());
  EXPECT_EQ(reg.Add({"GET", "/x", Permission::kReportsRead}).code(), StatusCode::kConflict);
}

TEST(RoutesTest, PathPatterns) {
  EXPECT_TRUE(PathMatches("/api/v1/agents/{id}", "/api/v1/agents/bob"));
  EXPECT_FALSE(PathMatches("/api/v1/agents/{id}", "/api/v1/agents"));
  EXPECT_FALSE(PathMatches("/api/v1/agents/{id}", "/api/v1/agents/bob/state"));
  EXPECT_TRUE(PathMatches("/ui/*", "/ui/app.js"));
  EXPECT_TRUE(PathMatches("/ui/*", "/ui/assets/x.css"));
  EXPECT_FALSE(PathMatches("/ui/*", "/api"));
  EXPECT_TRUE(PathMatches("/healthz", "/healthz"));
  EXPECT_FALSE(PathMatches("/healthz", "healthz"));
  EXPECT_TRUE(PathMatches("/api/v1/agents/{id}", "//api/v1//agents/bob/"));
  EXPECT_TRUE(PathMatches("/*", "/"));
  EXPECT_FALSE(PathMatches("/api/*/x", "/api/a/b/x"));  // "*" stands for the rest only at the end
  EXPECT_TRUE(PathMatches("/api/*/x", "/api/*/x"));
}

TEST(RoutesTest, PathParamsAreTheSegmentsInPlaceOfNames) {
  std::vector<std::string> params;
  PathParams("/api/v1/contacts/{id}/notes/{note}", "/api/v1/contacts/42/notes/n%201", params);
  EXPECT_EQ(params, (std::vector<std::string>{"42", "n%201"}));
  params.clear();
  PathParams("/api/v1/queues", "/api/v1/queues", params);
  EXPECT_TRUE(params.empty());
}

TEST(RoutesTest, WithoutLoginOnlyPublicRoutesAnswer) {
  const RouteRegistry reg = SampleRoutes();
  const AccessOptions closed, open{true};
  EXPECT_TRUE(reg.Check("GET", "/healthz", nullptr, "203.0.113.5", closed).ok());
  EXPECT_TRUE(reg.Check("POST", "/api/v1/login", nullptr, "203.0.113.5", closed).ok());
  EXPECT_TRUE(reg.Check("GET", "/ui/index.html", nullptr, "203.0.113.5", closed).ok());
  EXPECT_EQ(reg.Check("GET", "/api/v1/agents/bob", nullptr, "203.0.113.5", closed).code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(reg.Check("GET", "/nope", nullptr, "203.0.113.5", closed).code(),
            StatusCode::kNotFound);
  // /metrics: a token, unless configured open, and then for loopback only.
  EXPECT_FALSE(reg.Check("GET", "/metrics", nullptr, "127.0.0.1", closed).ok());
  EXPECT_TRUE(reg.Check("GET", "/metrics", nullptr, "127.0.0.1", open).ok());
  EXPECT_TRUE(reg.Check("GET", "/metrics", nullptr, "::1", open).ok());
  EXPECT_FALSE(reg.Check("GET", "/metrics", nullptr, "10.0.0.1", open).ok());
  const Principal wall = Who("wall", {Role::kWallboard});
  EXPECT_TRUE(reg.Check("GET", "/metrics", &wall, "10.0.0.1", closed).ok());
  EXPECT_FALSE(reg.Check("POST", "/api/v1/config", &wall, "10.0.0.1", closed).ok());
}

TEST(RoutesTest, LoopbackAddresses) {
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackAddress("127.8.9.10"));
  EXPECT_TRUE(IsLoopbackAddress("::1"));
  EXPECT_TRUE(IsLoopbackAddress("[::1]"));
  EXPECT_TRUE(IsLoopbackAddress("::ffff:127.0.0.1"));
  EXPECT_FALSE(IsLoopbackAddress("128.0.0.1"));
  EXPECT_FALSE(IsLoopbackAddress("::2"));
  EXPECT_FALSE(IsLoopbackAddress("localhost"));
  EXPECT_FALSE(IsLoopbackAddress(""));
}

TEST(RoutesTest, MatrixWalksEveryRouteWithEveryRole) {
  const RouteRegistry reg = SampleRoutes();
  const auto rows = BuildAccessMatrix(reg);
  ASSERT_EQ(rows.size(), reg.routes().size());
  for (const AccessRow& row : rows) {
    for (size_t i = 0; i < kRoleCount; ++i) {
      const Principal p = Who("x", {kAllRoles[i]}, "north", "me");
      const bool allowed =
          reg.Check(row.method, row.path == "/ui/*" ? "/ui/a" : row.path, &p, "10.0.0.1", {}).ok();
      EXPECT_EQ(allowed, row.reach[i] != Reach::kNone) << row.method << " " << row.path;
    }
  }
  // Only the administrator may write configuration; everyone reaches /healthz.
  const AccessRow& config = rows[6];
  EXPECT_EQ(config.reach[0], Reach::kAll);
  for (size_t i = 1; i < kRoleCount; ++i) EXPECT_EQ(config.reach[i], Reach::kNone);
  const std::string md = AccessMatrixMarkdown(rows);
  EXPECT_NE(md.find("| `POST /api/v1/config` | config.write | all | - | - | - | - | - |"),
            std::string::npos)
      << md;
}

// ---- throttle ----

TEST(ThrottleTest, TokenBucketRefillsWithTheClock) {
  TokenBucket b(2, 0.5, kT0);
  EXPECT_TRUE(b.TryTake(kT0));
  EXPECT_TRUE(b.TryTake(kT0));
  EXPECT_FALSE(b.TryTake(kT0));
  EXPECT_EQ(b.WaitFor(kT0), Seconds(2));
  EXPECT_FALSE(b.TryTake(kT0 + Seconds(1.9)));
  EXPECT_TRUE(b.TryTake(kT0 + Seconds(2)));
  EXPECT_FALSE(b.Full(kT0 + Seconds(2)));
  EXPECT_TRUE(b.Full(kT0 + Seconds(6)));
}

TEST(ThrottleTest, AddressLimitAccountLimitAndLockout) {
  ThrottlePolicy policy;
  policy.address_burst = 3;
  policy.address_per_second = 1;
  policy.account_burst = 100;
  policy.lockout_after = 3;
  policy.lockout = Seconds(60);
  LoginThrottle t(policy);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(t.Admit("1.1.1.1", "u" + std::to_string(i), kT0), ThrottleVerdict::kAllowed);
  EXPECT_EQ(t.Admit("1.1.1.1", "u9", kT0), ThrottleVerdict::kAddressLimited);
  EXPECT_EQ(t.Admit("2.2.2.2", "u9", kT0), ThrottleVerdict::kAllowed);
  EXPECT_EQ(t.Admit("1.1.1.1", "u9", kT0 + Seconds(1)), ThrottleVerdict::kAllowed);

  // Lockout after three failures, also for a name no user has; success resets the count.
  LoginThrottle lock(policy);
  EXPECT_FALSE(lock.RecordFailure("ghost", kT0));  // never admitted: ignored
  const TimePoint t1 = kT0 + Seconds(100);
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(lock.Admit("9.9.9." + std::to_string(i), "ghost", t1), ThrottleVerdict::kAllowed);
    EXPECT_FALSE(lock.RecordFailure("ghost", t1));
  }
  lock.RecordSuccess("ghost");
  for (int i = 0; i < 2; ++i) EXPECT_FALSE(lock.RecordFailure("ghost", t1));
  EXPECT_TRUE(lock.RecordFailure("ghost", t1));
  EXPECT_EQ(lock.Admit("8.8.8.8", "ghost", t1 + Seconds(59)), ThrottleVerdict::kLockedOut);
  EXPECT_EQ(lock.RetryAt("8.8.8.8", "ghost", t1), t1 + Seconds(60));
  EXPECT_EQ(lock.Admit("8.8.8.8", "ghost", t1 + Seconds(60)), ThrottleVerdict::kAllowed);
}

TEST(ThrottleTest, AccountBucketLimitsOneNameFromManyAddresses) {
  ThrottlePolicy policy;
  policy.account_burst = 2;
  policy.account_per_second = 0.1;
  LoginThrottle t(policy);
  EXPECT_EQ(t.Admit("1.0.0.1", "bob", kT0), ThrottleVerdict::kAllowed);
  EXPECT_EQ(t.Admit("1.0.0.2", "bob", kT0), ThrottleVerdict::kAllowed);
  EXPECT_EQ(t.Admit("1.0.0.3", "bob", kT0), ThrottleVerdict::kAccountLimited);
  EXPECT_EQ(t.Admit("1.0.0.3", "bob", kT0 + Seconds(10)), ThrottleVerdict::kAllowed);
}

TEST(ThrottleTest, MemoryStaysBoundedAndLockoutsSurviveAFlood) {
  ThrottlePolicy policy;
  policy.max_tracked = 10;
  policy.lockout_after = 1;
  LoginThrottle t(policy);
  ASSERT_EQ(t.Admit("a", "victim", kT0), ThrottleVerdict::kAllowed);
  ASSERT_TRUE(t.RecordFailure("victim", kT0));
  for (int i = 0; i < 50; ++i) {
    (void)t.Admit("addr" + std::to_string(i), "name" + std::to_string(i), kT0);
  }
  EXPECT_EQ(t.Admit("b", "victim", kT0 + Seconds(1)), ThrottleVerdict::kLockedOut);
}

// ---- the whole login path ----

class AuthTest : public ::testing::Test {
 protected:
  AuthTest()
      : hasher_(PasswordLimits::ForTests()),
        users_(hasher_, &store_),
        sessions_(SessionPolicy{Seconds(600), Seconds(3600), "parley_session"}, CookieOptions{},
                  &store_),
        tokens_(&store_),
        throttle_(Policy()),
        audit_(1000, &sink_),
        auth_(users_, sessions_, tokens_, hasher_, throttle_, audit_) {
    admin_id_ = Create("root", {Role::kAdministrator});
    bob_id_ = Create("bob", {Role::kAgent}, "north", "bob");
    EXPECT_TRUE(users_.SetPassword(admin_id_, "admin password 1", kT0).ok());
    EXPECT_TRUE(users_.SetPassword(bob_id_, "bob's long secret", kT0).ok());
  }

  static ThrottlePolicy Policy() {
    ThrottlePolicy p;
    p.address_burst = 1000;
    p.account_burst = 1000;
    p.lockout_after = 5;
    p.lockout = Seconds(300);
    return p;
  }

  uint64_t Create(std::string login, std::vector<Role> roles, std::string team = "",
                  std::string agent = "") {
    auto id = users_.Create(
        {std::move(login), "", std::move(roles), std::move(team), std::move(agent)}, kT0);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : 0;
  }

  Principal Admin() {
    return *auth_.FromSession(auth_.Login("root", "admin password 1", "127.0.0.1", kT0)->session.id,
                              kT0);
  }

  FakeAuthStore store_;
  CollectingSink sink_;
  PasswordHasher hasher_;
  UserDirectory users_;
  SessionStore sessions_;
  TokenStore tokens_;
  LoginThrottle throttle_;
  AuditLog audit_;
  Authenticator auth_;
  uint64_t admin_id_ = 0, bob_id_ = 0;
};

TEST_F(AuthTest, LoginSucceedsAndSetsAStrictHttpOnlyCookie) {
  auto ok = auth_.Login("Bob", "bob's long secret", "192.0.2.1", kT0);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->principal.login, "bob");
  EXPECT_EQ(ok->principal.agent, "bob");
  EXPECT_EQ(ok->session.id.size(), 43u);
  EXPECT_EQ(ok->session.set_cookie,
            "parley_session=" + ok->session.id +
                "; Path=/; Max-Age=3600; HttpOnly; SameSite=Strict; Secure");
  // Stored only as a hash.
  ASSERT_EQ(store_.sessions.size(), 1u);
  EXPECT_EQ(store_.sessions.begin()->first, Sha256Hex(ok->session.id));
  EXPECT_EQ(store_.sessions.begin()->second.client_address, "192.0.2.1");
  auto who = auth_.FromSession(ok->session.id, kT0 + Seconds(1));
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->user_id, bob_id_);
  EXPECT_EQ(auth_.counters().successes, 1u);
}

TEST_F(AuthTest, UnknownUserAndWrongPasswordFailTheSameWay) {
  const uint64_t dummy_before = auth_.counters().dummy_verifications;
  auto unknown = auth_.Login("mallory", "bob's long secret", "192.0.2.1", kT0);
  EXPECT_EQ(auth_.counters().dummy_verifications, dummy_before + 1);  // the dummy hash was used
  auto wrong = auth_.Login("bob", "not bob's secret", "192.0.2.1", kT0);
  EXPECT_EQ(auth_.counters().dummy_verifications, dummy_before + 1);  // a real hash this time
  ASSERT_FALSE(unknown.ok());
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(unknown.status().code(), wrong.status().code());
  EXPECT_EQ(unknown.status().message(), "invalid login name or password");
  EXPECT_EQ(unknown.status().message(), wrong.status().message());
  // A user without a password and a disabled user: the same answer again.
  Create("nopass", {Role::kAgent});
  auto nopass = auth_.Login("nopass", "anything at all", "192.0.2.1", kT0);
  EXPECT_EQ(nopass.status().message(), wrong.status().message());
  EXPECT_EQ(auth_.counters().dummy_verifications, dummy_before + 2);
  ASSERT_TRUE(users_.SetDisabled(bob_id_, true, kT0).ok());
  auto disabled = auth_.Login("bob", "bob's long secret", "192.0.2.1", kT0);
  EXPECT_EQ(disabled.status().code(), wrong.status().code());
  EXPECT_EQ(disabled.status().message(), wrong.status().message());
  EXPECT_EQ(auth_.counters().failures, 4u);
  // The audit names known users, never the unknown name typed (it may be a password).
  for (const auto& e : audit_.Query({})) {
    EXPECT_EQ(e.actor.find("mallory"), std::string::npos);
    EXPECT_EQ(e.detail.find("secret"), std::string::npos);
  }
}

TEST_F(AuthTest, LockoutAfterRepeatedFailuresOnTheVirtualClock) {
  VirtualClock clock(kT0);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(auth_.Login("bob", "wrong password", "192.0.2.1", clock.Now()).status().code(),
              StatusCode::kPermissionDenied);
  }
  EXPECT_EQ(auth_.counters().lockouts, 1u);
  // Locked: even the right password is refused, with a retry time.
  auto locked = auth_.Login("bob", "bob's long secret", "192.0.2.1", clock.Now());
  EXPECT_EQ(locked.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(locked.status().message(), "too many login attempts; try again in 300 s");
  // An unknown name locks the same way, so a lockout tells nothing about existence.
  for (int i = 0; i < 5; ++i)
    (void)auth_.Login("ghost", "wrong password", "192.0.2.1", clock.Now());
  EXPECT_EQ(auth_.Login("ghost", "x", "192.0.2.1", clock.Now()).status().message(),
            locked.status().message());
  clock.AdvanceTo(kT0 + Seconds(300));
  EXPECT_TRUE(auth_.Login("bob", "bob's long secret", "192.0.2.1", clock.Now()).ok());
  EXPECT_EQ(auth_.counters().throttled, 2u);
  // An administrator can end a lockout early; an agent cannot.
  for (int i = 0; i < 5; ++i) (void)auth_.Login("bob", "wrong password", "192.0.2.1", clock.Now());
  const Principal bob = Who("bob", {Role::kAgent}, "north", "bob", bob_id_);
  EXPECT_EQ(auth_.Unlock(bob, "bob", clock.Now()).code(), StatusCode::kPermissionDenied);
  ASSERT_TRUE(auth_.Unlock(Admin(), "BOB", clock.Now()).ok());
  EXPECT_TRUE(auth_.Login("bob", "bob's long secret", "192.0.2.1", clock.Now()).ok());
}

TEST_F(AuthTest, SessionsExpireWhenIdleAndAtTheAbsoluteLimit) {
  const std::string id = auth_.Login("bob", "bob's long secret", "192.0.2.1", kT0)->session.id;
  TimePoint t = kT0;
  // Active every 9 minutes: survives the 10-minute idle limit until the 1-hour absolute one.
  for (int i = 1; i <= 6; ++i) {
    t = kT0 + Seconds(540.0 * i);
    EXPECT_TRUE(auth_.FromSession(id, t).ok()) << i;
  }
  EXPECT_FALSE(auth_.FromSession(id, kT0 + Seconds(3600)).ok());
  EXPECT_TRUE(store_.sessions.empty());  // the expired session was removed

  const std::string idle = auth_.Login("bob", "bob's long secret", "192.0.2.1", kT0)->session.id;
  EXPECT_EQ(auth_.FromSession(idle, kT0 + Seconds(600)).status().code(), StatusCode::kNotFound);
}

TEST_F(AuthTest, LogoutAndDisableRevokeAtOnce) {
  const std::string a = auth_.Login("bob", "bob's long secret", "192.0.2.1", kT0)->session.id;
  const std::string b = auth_.Login("bob", "bob's long secret", "192.0.2.2", kT0)->session.id;
  auth_.Logout(a, kT0 + Seconds(1));
  EXPECT_FALSE(auth_.FromSession(a, kT0 + Seconds(1)).ok());
  EXPECT_TRUE(auth_.FromSession(b, kT0 + Seconds(1)).ok());
  EXPECT_EQ(sessions_.ClearCookie(),
            "parley_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure");
  const Principal admin = Admin();
  ASSERT_TRUE(auth_.SetDisabled(admin, bob_id_, true, kT0 + Seconds(2)).ok());
  EXPECT_FALSE(auth_.FromSession(b, kT0 + Seconds(2)).ok());
  // An agent may not disable anyone.
  const Principal bob = Who("bob", {Role::kAgent}, "north", "bob", bob_id_);
  EXPECT_EQ(auth_.SetDisabled(bob, admin_id_, true, kT0).code(), StatusCode::kPermissionDenied);
}

TEST_F(AuthTest, PasswordChangeEndsSessions) {
  const std::string s = auth_.Login("bob", "bob's long secret", "192.0.2.1", kT0)->session.id;
  const Principal bob = *auth_.FromSession(s, kT0);
  ASSERT_TRUE(auth_.SetPassword(bob, bob_id_, "a brand new secret", kT0).ok());
  EXPECT_FALSE(auth_.FromSession(s, kT0).ok());
  EXPECT_FALSE(auth_.Login("bob", "bob's long secret", "192.0.2.1", kT0).ok());
  EXPECT_TRUE(auth_.Login("bob", "a brand new secret", "192.0.2.1", kT0).ok());
  EXPECT_EQ(auth_.SetPassword(bob, admin_id_, "a brand new secret", kT0).code(),
            StatusCode::kPermissionDenied);
}

TEST_F(AuthTest, LoginRehashesAWeakerHash) {
  PasswordHasher weaker({PasswordLimits::ForTests().opslimit, PasswordLimits::ForTests().memlimit});
  PasswordHasher stronger(
      {PasswordLimits::ForTests().opslimit + 1, PasswordLimits::ForTests().memlimit});
  UserDirectory users(stronger);
  SessionStore sessions;
  TokenStore tokens;
  LoginThrottle throttle;
  AuditLog audit;
  Authenticator auth(users, sessions, tokens, stronger, throttle, audit);
  const uint64_t id = *users.Create({"carol", "", {Role::kAgent}, "", ""}, kT0);
  ASSERT_TRUE(users.SetPasswordHash(id, *weaker.Hash("carol's password"), kT0).ok());
  ASSERT_TRUE(auth.Login("carol", "carol's password", "::1", kT0).ok());
  EXPECT_EQ(auth.counters().rehashes, 1u);
  EXPECT_FALSE(stronger.NeedsRehash(users.FindById(id)->password_hash));
}

// ---- API tokens ----

TEST_F(AuthTest, TokenFormatLookupAndRevocation) {
  const Principal admin = Admin();
  const uint64_t wall_id = Create("wallboard1", {Role::kWallboard});
  auto issued =
      auth_.IssueToken(admin, wall_id, Role::kWallboard, "lobby screen", std::nullopt, kT0);
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  const std::string& token = issued->token;
  ASSERT_EQ(token.size(), 19u + 1 + 43);
  EXPECT_EQ(token.rfind("pt_", 0), 0u);
  EXPECT_EQ(token.substr(0, 19), issued->prefix);
  EXPECT_EQ(token[19], '.');
  // Only the hash of the secret is stored.
  const ports::TokenRecord& rec = store_.tokens.at(issued->prefix);
  EXPECT_EQ(rec.secret_hash, Sha256Hex(token.substr(20)));
  EXPECT_EQ(rec.secret_hash.find(token.substr(20)), std::string::npos);

  auto who = auth_.FromToken(token, kT0 + Seconds(5));
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->roles, std::vector<Role>{Role::kWallboard});
  EXPECT_EQ(who->token_prefix, issued->prefix);
  EXPECT_EQ(tokens_.List(wall_id)[0].last_used, kT0 + Seconds(5));

  // One flipped character of the secret, a wrong prefix, garbage: the same refusal.
  std::string flipped = token;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  const std::string unknown = "pt_0000000000000000" + token.substr(19);
  for (const std::string& bad : {flipped, unknown, std::string("garbage"), std::string()}) {
    auto r = auth_.FromToken(bad, kT0);
    EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied) << bad;
    EXPECT_EQ(r.status().message(), "invalid or expired API token");
  }
  ASSERT_TRUE(auth_.RevokeToken(admin, issued->prefix, kT0).ok());
  EXPECT_FALSE(auth_.FromToken(token, kT0).ok());
  EXPECT_TRUE(store_.tokens.empty());
}

TEST_F(AuthTest, TokenScopeExpiryAndOwnership) {
  const Principal admin = Admin();
  // The scope must be one of the user's roles.
  EXPECT_EQ(
      auth_.IssueToken(admin, bob_id_, Role::kAdministrator, "", std::nullopt, kT0).status().code(),
      StatusCode::kInvalidArgument);
  // An agent has no tokens.manage; a supervisor manages only its own tokens.
  const Principal bob = Who("bob", {Role::kAgent}, "north", "bob", bob_id_);
  EXPECT_EQ(auth_.IssueToken(bob, bob_id_, Role::kAgent, "", std::nullopt, kT0).status().code(),
            StatusCode::kPermissionDenied);
  const uint64_t sup_id = Create("sue", {Role::kSupervisor});
  const Principal sue = Who("sue", {Role::kSupervisor}, "", "", sup_id);
  EXPECT_FALSE(auth_.IssueToken(sue, admin_id_, Role::kAdministrator, "", std::nullopt, kT0).ok());
  auto mine =
      auth_.IssueToken(sue, sup_id, Role::kSupervisor, "report script", kT0 + Seconds(60), kT0);
  ASSERT_TRUE(mine.ok());
  EXPECT_TRUE(auth_.FromToken(mine->token, kT0 + Seconds(59)).ok());
  EXPECT_FALSE(auth_.FromToken(mine->token, kT0 + Seconds(60)).ok());
  // A token stops when its user loses the role.
  auto again = auth_.IssueToken(sue, sup_id, Role::kSupervisor, "", std::nullopt, kT0);
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(users_.Update(sup_id, {"sue", "", {Role::kQaAnalyst}, "", ""}, kT0).ok());
  EXPECT_FALSE(auth_.FromToken(again->token, kT0).ok());
  // Audit: who issued what, with no secret in it.
  bool found = false;
  for (const auto& e : sink_.records) {
    EXPECT_EQ(e.detail.find(mine->token.substr(20)), std::string::npos);
    found |= e.action == "token.issue" && e.actor == "sue" && e.outcome == AuditOutcome::kOk;
  }
  EXPECT_TRUE(found);
}

TEST_F(AuthTest, StoreReloadKeepsUsersSessionsAndTokens) {
  const std::string s = auth_.Login("bob", "bob's long secret", "192.0.2.1", kT0)->session.id;
  const Principal admin = Admin();
  auto tok = auth_.IssueToken(admin, admin_id_, Role::kAdministrator, "", std::nullopt, kT0);
  ASSERT_TRUE(tok.ok());
  UserDirectory users2(hasher_, &store_);
  SessionStore sessions2(SessionPolicy{Seconds(600), Seconds(3600), "parley_session"}, {}, &store_);
  TokenStore tokens2(&store_);
  ASSERT_TRUE(users2.Load().ok());
  ASSERT_TRUE(sessions2.Load(kT0).ok());
  ASSERT_TRUE(tokens2.Load().ok());
  EXPECT_EQ(users2.List().size(), 2u);
  EXPECT_TRUE(sessions2.Validate(s, kT0 + Seconds(1)).ok());
  EXPECT_TRUE(tokens2.Authenticate(tok->token, kT0).ok());
  // New ids continue after the loaded ones.
  EXPECT_GT(*users2.Create({"new", "", {Role::kAgent}, "", ""}, kT0), bob_id_);
}

TEST_F(AuthTest, StoreFailureIsReportedAndRevocationStillHolds) {
  const Principal admin = Admin();
  auto tok = auth_.IssueToken(admin, admin_id_, Role::kAdministrator, "", std::nullopt, kT0);
  ASSERT_TRUE(tok.ok());
  store_.fail = true;
  EXPECT_EQ(users_.Create({"x", "", {Role::kAgent}, "", ""}, kT0).status().code(),
            StatusCode::kUnavailable);
  EXPECT_FALSE(users_.FindByLogin("x"));
  EXPECT_EQ(auth_.RevokeToken(admin, tok->prefix, kT0).code(), StatusCode::kUnavailable);
  EXPECT_FALSE(auth_.FromToken(tok->token, kT0).ok());
}

// ---- users ----

TEST(UsersTest, ViewsHaveNoSecretsAndLoginsAreChecked) {
  PasswordHasher hasher(PasswordLimits::ForTests());
  UserDirectory users(hasher);
  EXPECT_EQ(users.Create({"Bad Name", "", {Role::kAgent}, "", ""}, kT0).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(users.Create({"x", "", {}, "", ""}, kT0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(users.Create({"x", "", {Role::kAgent, Role::kAgent}, "", ""}, kT0).status().code(),
            StatusCode::kInvalidArgument);
  const uint64_t id = *users.Create({"dave", "Dave D.", {Role::kAgent}, "north", "dave"}, kT0);
  EXPECT_EQ(users.Create({"dave", "", {Role::kAgent}, "", ""}, kT0).status().code(),
            StatusCode::kConflict);
  ASSERT_TRUE(users.SetPassword(id, "dave's password", kT0 + Seconds(1)).ok());
  ASSERT_TRUE(users.SetSipPassword(id, "parley.example", "dave's sip secret", kT0).ok());
  const UserView v = *users.View(id);
  EXPECT_TRUE(v.has_password);
  EXPECT_TRUE(v.has_sip_credentials);
  EXPECT_EQ(v.display_name, "Dave D.");
  EXPECT_EQ(v.updated, kT0);
  EXPECT_EQ(v.created, kT0);
  const ports::UserRecord rec = *users.FindById(id);
  EXPECT_EQ(rec.sip_ha1_md5,
            ComputeHa1(DigestAlgorithm::kMd5, "dave", "parley.example", "dave's sip secret"));
  EXPECT_EQ(rec.sip_ha1_md5.size(), 32u);
  EXPECT_EQ(rec.sip_ha1_sha256.size(), 64u);
  // A password that breaks the policy is refused without echoing it.
  Status s = users.SetPassword(id, "tiny", kT0);
  EXPECT_EQ(s.message().find("tiny"), std::string::npos);
}

TEST(UsersTest, SyncFromConfigCreatesAndUpdates) {
  PasswordHasher hasher(PasswordLimits::ForTests());
  UserDirectory users(hasher);
  RoutingConfig routing;
  routing.teams = {{"north", "alice"}, {"south", "grace"}};
  AgentDef bob;
  bob.name = "bob";
  bob.team = 1;
  routing.agents = {bob};
  std::vector<UserDef> defs = {{"admin", "Admin", {Role::kAdministrator}, kNone, kNone},
                               {"bob", "Bob", {Role::kAgent}, kNone, 0},
                               {"lead", "", {Role::kTeamLead}, 0, kNone}};
  auto r = users.SyncFromConfig(defs, routing, kT0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->created, 3u);
  EXPECT_EQ(users.FindByLogin("bob")->team, "south");  // from the agent
  EXPECT_EQ(users.FindByLogin("bob")->agent, "bob");
  EXPECT_EQ(users.FindByLogin("lead")->team, "north");
  EXPECT_EQ(users.SyncFromConfig(defs, routing, kT0)->updated, 0u);
  defs[2].roles = {Role::kTeamLead, Role::kAgent};
  EXPECT_EQ(users.SyncFromConfig(defs, routing, kT0)->updated, 1u);
}

// ---- SIP digest ----

TEST(SipDigestTest, Rfc2617Section35Md5Example) {
  const std::string ha1 =
      ComputeHa1(DigestAlgorithm::kMd5, "Mufasa", "testrealm@host.com", "Circle Of Life");
  EXPECT_EQ(ha1, "939e7578ed9e3c518a452acee763bce9");
  DigestCredentials c{"Mufasa",
                      "testrealm@host.com",
                      "dcd98b7102dd2f0e8b11d0f600bfb0c093",
                      "/dir/index.html",
                      "6629fae49393a05397450978507c4ef1",
                      DigestAlgorithm::kMd5,
                      "auth",
                      "0a4f113b",
                      "00000001"};
  EXPECT_EQ(DigestResponse(c, "GET", ha1), c.response);
  EXPECT_TRUE(VerifyDigest(c, "GET", ha1));
  EXPECT_FALSE(VerifyDigest(c, "POST", ha1));
  c.nc = "00000002";
  EXPECT_FALSE(VerifyDigest(c, "GET", ha1));
}

TEST(SipDigestTest, Rfc7616Sha256Example) {
  // RFC 7616 section 3.9.1; cross-checked with Python:
  //   H = lambda s: hashlib.sha256(s.encode()).hexdigest()
  //   ha1 = H('Mufasa:http-auth@example.org:Circle of Life')   # 7987c64c...
  //   H(f'{ha1}:{nonce}:00000001:{cnonce}:auth:' + H('GET:/dir/index.html'))  # 753927fa...
  // and `printf 'Mufasa:http-auth@example.org:Circle of Life' | openssl dgst -sha256`.
  const std::string ha1 =
      ComputeHa1(DigestAlgorithm::kSha256, "Mufasa", "http-auth@example.org", "Circle of Life");
  EXPECT_EQ(ha1, "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232");
  DigestCredentials c{"Mufasa",
                      "http-auth@example.org",
                      "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
                      "/dir/index.html",
                      "753927FA0E85D155564E2E272A28D1802CA10DAF4496794697CF8DB5856CB6C1",
                      DigestAlgorithm::kSha256,
                      "auth",
                      "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
                      "00000001"};
  EXPECT_TRUE(VerifyDigest(c, "GET", ha1));  // hex case ignored
  // The same exchange with MD5 gives RFC 7616's MD5 response.
  c.algorithm = DigestAlgorithm::kMd5;
  EXPECT_EQ(DigestResponse(c, "GET",
                           ComputeHa1(DigestAlgorithm::kMd5, "Mufasa", "http-auth@example.org",
                                      "Circle of Life")),
            "8ca523f5e9506fed4657c9700eebdbec");
}

TEST(SipDigestTest, SipRegisterVectorAndUnsupportedQop) {
  // printf 'alice:parley.example:correct horse' | openssl dgst -sha256
  const std::string ha1 =
      ComputeHa1(DigestAlgorithm::kSha256, "alice", "parley.example", "correct horse");
  EXPECT_EQ(ha1, "d5702dd73fbc81fd521567dd601d3e2d3369a166e79df6fd57d6355ee88d18a1");
  DigestCredentials c{"alice",
                      "parley.example",
                      "abc",
                      "sip:parley.example",
                      "365d7b39e8835521066b9eff0117a931281608bcf245b619fc1ec9ca6d6f27b0",
                      DigestAlgorithm::kSha256,
                      "auth",
                      "xyz",
                      "00000001"};
  EXPECT_TRUE(VerifyDigest(c, "REGISTER", ha1));
  c.qop = "auth-int";
  EXPECT_FALSE(VerifyDigest(c, "REGISTER", ha1));
  c.qop = "auth";
  EXPECT_FALSE(VerifyDigest(c, "REGISTER", ""));
  EXPECT_EQ(ParseDigestAlgorithm("sha-256"), DigestAlgorithm::kSha256);
  EXPECT_EQ(ParseDigestAlgorithm(""), DigestAlgorithm::kMd5);
  EXPECT_EQ(ParseDigestAlgorithm("SHA-512-256"), std::nullopt);
}

TEST(SipDigestTest, NoncesAreOursAndGoStale) {
  const NonceIssuer issuer(RandomBytes(32), Seconds(300));
  const std::string n = issuer.Issue("parley.example", kT0);
  EXPECT_EQ(n.size(), 48u);
  EXPECT_EQ(issuer.Check(n, "parley.example", kT0 + Seconds(299)), NonceCheck::kValid);
  EXPECT_EQ(issuer.Check(n, "parley.example", kT0 + Seconds(301)), NonceCheck::kStale);
  EXPECT_EQ(issuer.Check(n, "other.realm", kT0), NonceCheck::kInvalid);
  std::string forged = n;
  forged[47] = forged[47] == '0' ? '1' : '0';
  EXPECT_EQ(issuer.Check(forged, "parley.example", kT0), NonceCheck::kInvalid);
  // A nonce with a later time but the old MAC is not ours.
  std::string shifted = n;
  shifted[15] = shifted[15] == 'f' ? 'e' : 'f';
  EXPECT_EQ(issuer.Check(shifted, "parley.example", kT0), NonceCheck::kInvalid);
  EXPECT_EQ(issuer.Check("short", "parley.example", kT0), NonceCheck::kInvalid);
  const NonceIssuer other(RandomBytes(32));
  EXPECT_EQ(other.Check(n, "parley.example", kT0), NonceCheck::kInvalid);
}

TEST(SipDigestTest, RepeatedFailuresBanAnAddressForAWhile) {
  SipGuard guard({3, Seconds(60), Seconds(600), 1000});
  EXPECT_FALSE(guard.RecordFailure("198.51.100.7", kT0));
  EXPECT_FALSE(guard.RecordFailure("198.51.100.7", kT0 + Seconds(1)));
  EXPECT_FALSE(guard.IsBanned("198.51.100.7", kT0 + Seconds(1)));
  EXPECT_TRUE(guard.RecordFailure("198.51.100.7", kT0 + Seconds(2)));
  EXPECT_TRUE(guard.IsBanned("198.51.100.7", kT0 + Seconds(601)));
  EXPECT_FALSE(guard.IsBanned("198.51.100.8", kT0 + Seconds(3)));
  EXPECT_FALSE(guard.IsBanned("198.51.100.7", kT0 + Seconds(602)));
  // Failures spread wider than the window do not ban; a success resets the count.
  EXPECT_FALSE(guard.RecordFailure("203.0.113.1", kT0));
  EXPECT_FALSE(guard.RecordFailure("203.0.113.1", kT0 + Seconds(30)));
  EXPECT_FALSE(guard.RecordFailure("203.0.113.1", kT0 + Seconds(61)));
  guard.RecordSuccess("203.0.113.1");
  EXPECT_FALSE(guard.RecordFailure("203.0.113.1", kT0 + Seconds(62)));
  EXPECT_FALSE(guard.RecordFailure("203.0.113.1", kT0 + Seconds(63)));
  EXPECT_FALSE(guard.IsBanned("203.0.113.1", kT0 + Seconds(63)));
  const auto c = guard.counters();
  EXPECT_EQ(c.bans, 1u);
  EXPECT_EQ(c.failures, 8u);
  EXPECT_EQ(c.rejected_while_banned, 1u);
}

TEST(SipDigestTest, CheckSipCredentialsEndToEnd) {
  PasswordHasher hasher(PasswordLimits::ForTests());
  UserDirectory users(hasher);
  const uint64_t id = *users.Create({"alice", "", {Role::kAgent}, "north", "alice"}, kT0);
  ASSERT_TRUE(users.SetSipPassword(id, "parley.example", "alice sip secret", kT0).ok());
  const ports::UserRecord alice = *users.FindById(id);
  const NonceIssuer nonces(RandomBytes(32), Seconds(300));
  SipGuard guard({3, Seconds(60), Seconds(600), 1000});
  const auto creds = [&](DigestAlgorithm a, std::string_view password, TimePoint issued) {
    DigestCredentials c{"alice",
                        "parley.example",
                        nonces.Issue("parley.example", issued),
                        "sip:parley.example",
                        "",
                        a,
                        "auth",
                        "0a4f113b",
                        "00000001"};
    c.response = DigestResponse(c, "REGISTER", ComputeHa1(a, "alice", "parley.example", password));
    return c;
  };
  const std::string addr = "198.51.100.20";
  for (DigestAlgorithm a : {DigestAlgorithm::kMd5, DigestAlgorithm::kSha256}) {
    EXPECT_EQ(CheckSipCredentials(creds(a, "alice sip secret", kT0), "REGISTER", &alice, nonces,
                                  guard, addr, kT0 + Seconds(1)),
              SipAuthResult::kOk);
  }
  // Right password, old nonce: stale, and not counted as a failure.
  EXPECT_EQ(CheckSipCredentials(creds(DigestAlgorithm::kSha256, "alice sip secret", kT0),
                                "REGISTER", &alice, nonces, guard, addr, kT0 + Seconds(400)),
            SipAuthResult::kStale);
  // The web password is not the SIP password; an unknown user fails the same way.
  EXPECT_EQ(CheckSipCredentials(creds(DigestAlgorithm::kSha256, "wrong", kT0), "REGISTER", &alice,
                                nonces, guard, addr, kT0),
            SipAuthResult::kDenied);
  EXPECT_EQ(CheckSipCredentials(creds(DigestAlgorithm::kSha256, "alice sip secret", kT0),
                                "REGISTER", nullptr, nonces, guard, addr, kT0),
            SipAuthResult::kDenied);
  EXPECT_EQ(CheckSipCredentials(creds(DigestAlgorithm::kMd5, "x", kT0), "REGISTER", &alice, nonces,
                                guard, addr, kT0),
            SipAuthResult::kDenied);
  // Three failures within the window: banned, even with the right password.
  EXPECT_EQ(CheckSipCredentials(creds(DigestAlgorithm::kMd5, "alice sip secret", kT0), "REGISTER",
                                &alice, nonces, guard, addr, kT0 + Seconds(2)),
            SipAuthResult::kBanned);
  EXPECT_EQ(
      CheckSipCredentials(creds(DigestAlgorithm::kMd5, "alice sip secret", kT0 + Seconds(700)),
                          "REGISTER", &alice, nonces, guard, addr, kT0 + Seconds(701)),
      SipAuthResult::kOk);
}

// ---- audit ----

TEST(AuditTest, NumberingContinuesAfterARestart) {
  AuditLog log;
  log.ContinueAfter(41);
  EXPECT_EQ(log.Append(kT0, "root", "login", "", AuditOutcome::kOk), 42u);
  log.ContinueAfter(3);  // never goes back
  EXPECT_EQ(log.Append(kT0, "root", "login", "", AuditOutcome::kOk), 43u);
}

TEST(AuditTest, AppendOnlyNumberedQueryableAndSunk) {
  CollectingSink sink;
  AuditLog log(2, &sink);
  EXPECT_EQ(log.Append(kT0, "root", "user.create", "user:bob", AuditOutcome::kOk), 1u);
  EXPECT_EQ(log.Append(kT0 + Seconds(1), "sue", "contacts.export", "queue:sales", AuditOutcome::kOk,
                       "csv, 120 rows"),
            2u);
  sink.fail = true;
  EXPECT_EQ(log.Append(kT0 + Seconds(2), "bob", "config.write", "", AuditOutcome::kDenied), 3u);
  EXPECT_EQ(log.sink_failures(), 1u);
  EXPECT_EQ(sink.records.size(), 2u);
  const auto all = log.Query({});
  ASSERT_EQ(all.size(), 2u);  // capacity 2: the oldest left memory (the sink has it)
  EXPECT_EQ(all[0].sequence, 2u);
  AuditQuery by_actor;
  by_actor.actor = "bob";
  EXPECT_EQ(log.Query(by_actor).size(), 1u);
  AuditQuery window;
  window.from = kT0 + Seconds(2);
  EXPECT_EQ(log.Query(window).size(), 1u);
  EXPECT_EQ(AuditOutcomeName(AuditOutcome::kDenied), "denied");
}

// docs/security.md shows the role x permission table; it must be the code's.
TEST(SecurityDocsTest, RoleTableMatchesTheCode) {
  std::ifstream in(std::string(PARLEY_SOURCE_DIR) + "/docs/security.md");
  ASSERT_TRUE(in) << "docs/security.md is missing";
  const std::regex row(R"(^\| `([a-z_.]+)` \|(( [a-z_-]+ \|){6})$)");
  std::map<std::string, std::string> documented;
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, row)) documented[m[1]] = m[2];
  }
  ASSERT_EQ(documented.size(), kPermissionCount);
  for (size_t i = 0; i < kPermissionCount; ++i) {
    const auto p = static_cast<Permission>(i);
    std::string expected;
    for (Role r : kAllRoles) {
      const Reach reach = RoleReach(r, p);
      expected += " " + std::string(reach == Reach::kNone ? "-" : ReachName(reach)) + " |";
    }
    EXPECT_EQ(documented[std::string(PermissionName(p))], expected) << PermissionName(p);
  }
}

}  // namespace
}  // namespace parley::auth
