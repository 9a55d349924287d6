#include "auth/permissions.h"

#include <algorithm>
#include <utility>

namespace parley::auth {

namespace {

using P = Permission;
constexpr Reach kS = Reach::kSelf, kT = Reach::kTeam, kA = Reach::kAll;

struct Grant {
  Permission permission;
  Reach reach;
};

struct RoleGrants {
  Role role;
  std::vector<Grant> grants;
};

// THE role -> permission table. Anything not listed is denied.
const std::vector<RoleGrants>& Table() {
  static const std::vector<RoleGrants> kRoleGrants = [] {
    std::vector<RoleGrants> t;
    std::vector<Grant> all;
    for (size_t i = 0; i < kPermissionCount; ++i) all.push_back({static_cast<P>(i), kA});
    t.push_back({Role::kAdministrator, all});
    t.push_back({Role::kSupervisor,
                 {{P::kAgentRead, kA},
                  {P::kAgentState, kA},
                  {P::kAgentManage, kA},
                  {P::kContactsRead, kA},
                  {P::kContactsHandle, kA},
                  {P::kContactsExport, kA},
                  {P::kCallsMonitor, kA},
                  {P::kRecordingsListen, kA},
                  {P::kQaEvaluate, kA},
                  {P::kQueuesRead, kA},
                  {P::kReportsRead, kA},
                  {P::kReportsExport, kA},
                  {P::kConfigRead, kA},
                  {P::kTokensManage, kS},
                  {P::kWallboardRead, kA},
                  {P::kMetricsRead, kA},
                  {P::kStaffingPlan, kA}}});
    t.push_back({Role::kTeamLead,
                 {{P::kAgentRead, kT},
                  {P::kAgentState, kT},
                  {P::kAgentManage, kT},
                  {P::kContactsRead, kT},
                  {P::kContactsHandle, kT},
                  {P::kCallsMonitor, kT},
                  {P::kRecordingsListen, kT},
                  {P::kQueuesRead, kA},
                  {P::kReportsRead, kT},
                  {P::kTokensManage, kS},
                  {P::kWallboardRead, kA}}});
    t.push_back({Role::kQaAnalyst,
                 {{P::kAgentRead, kA},
                  {P::kContactsRead, kA},
                  {P::kRecordingsListen, kA},
                  {P::kQaEvaluate, kA},
                  {P::kReportsRead, kA},
                  {P::kTokensManage, kS}}});
    t.push_back({Role::kAgent,
                 {{P::kAgentRead, kS},
                  {P::kAgentState, kS},
                  {P::kContactsRead, kS},
                  {P::kContactsHandle, kS},
                  {P::kQueuesRead, kA},
                  {P::kReportsRead, kS}}});
    t.push_back({Role::kWallboard,
                 {{P::kAgentRead, kA},
                  {P::kQueuesRead, kA},
                  {P::kWallboardRead, kA},
                  {P::kMetricsRead, kA}}});
    return t;
  }();
  return kRoleGrants;
}

// Dense lookup built from Table().
const std::array<std::array<Reach, kPermissionCount>, kRoleCount>& Matrix() {
  static const auto kMatrix = [] {
    std::array<std::array<Reach, kPermissionCount>, kRoleCount> m{};
    for (const RoleGrants& rg : Table()) {
      for (const Grant& g : rg.grants) {
        m[static_cast<size_t>(rg.role)][static_cast<size_t>(g.permission)] = g.reach;
      }
    }
    return m;
  }();
  return kMatrix;
}

constexpr std::array<std::string_view, kPermissionCount> kPermissionNames = {
    "agent.read",      "agent.state",    "agent.manage",      "contacts.read", "contacts.handle",
    "contacts.export", "calls.monitor",  "recordings.listen", "qa.evaluate",   "queues.read",
    "reports.read",    "reports.export", "config.read",       "config.write",  "users.manage",
    "tokens.manage",   "audit.read",     "wallboard.read",    "metrics.read",  "staffing.plan"};
static_assert(static_cast<size_t>(Permission::kStaffingPlan) + 1 == kPermissionCount);

std::string RolesText(const std::vector<Role>& roles) {
  std::string out;
  for (Role r : roles) {
    if (!out.empty()) out += ", ";
    out += RoleName(r);
  }
  return out.empty() ? "no role" : out;
}

}  // namespace

std::string_view PermissionName(Permission p) { return kPermissionNames[static_cast<size_t>(p)]; }

std::optional<Permission> ParsePermission(std::string_view name) {
  for (size_t i = 0; i < kPermissionCount; ++i) {
    if (kPermissionNames[i] == name) return static_cast<Permission>(i);
  }
  return std::nullopt;
}

std::string_view ReachName(Reach r) {
  constexpr std::array<std::string_view, 4> kNames = {"none", "self", "team", "all"};
  return kNames[static_cast<size_t>(r)];
}

Reach RoleReach(Role role, Permission p) {
  return Matrix()[static_cast<size_t>(role)][static_cast<size_t>(p)];
}

Reach PrincipalReach(const Principal& who, Permission p) {
  Reach best = Reach::kNone;
  for (Role r : who.roles) best = std::max(best, RoleReach(r, p));
  return best;
}

Decision Authorize(const Principal& who, Permission p, const Scope& scope) {
  const Reach reach = PrincipalReach(who, p);
  const std::string perm(PermissionName(p));
  const std::string roles = RolesText(who.roles);
  Decision d;
  d.reach = reach;
  const bool is_self = (!scope.agent.empty() && scope.agent == who.agent) ||
                       (scope.user_id != 0 && scope.user_id == who.user_id);
  switch (reach) {
    case Reach::kAll:
      d.allowed = true;
      return d;
    case Reach::kTeam:
      d.allowed = is_self || (!who.team.empty() && scope.team == who.team);
      if (!d.allowed) {
        d.reason = "'" + who.login + "' (" + roles + ") has " + perm + " for team '" + who.team +
                   "' only" +
                   (scope.team.empty() ? std::string(", not for the whole contact center")
                                       : ", not for team '" + scope.team + "'");
      }
      return d;
    case Reach::kSelf:
      d.allowed = is_self;
      if (!d.allowed) {
        d.reason = "'" + who.login + "' (" + roles + ") has " + perm + " for itself only" +
                   (scope.agent.empty() ? std::string() : ", not for agent '" + scope.agent + "'");
      }
      return d;
    case Reach::kNone:
      break;
  }
  d.reason = "'" + who.login + "' (" + roles + ") lacks permission " + perm;
  return d;
}

}  // namespace parley::auth
