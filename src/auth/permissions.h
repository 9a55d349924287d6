#pragma once
// Roles and permissions as data. Each role grants a set of permissions, each with a reach: its
// own things only (kSelf), its own team's (kTeam), or everyone's (kAll). The whole table is
// kRoleGrants in permissions.cc: read it there, change it there. A principal (who is asking)
// holds one or more roles; Authorize checks one permission against the thing acted on (a Scope)
// and explains a denial. Pure functions over immutable data; thread-safe.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/user.h"

namespace parley::auth {

enum class Permission : uint8_t {
  kAgentRead,         // "agent.read": see agents, their state and statistics
  kAgentState,        // "agent.state": change an agent's state (ready, not ready, log out)
  kAgentManage,       // "agent.manage": edit an agent's skills, queues, capacity
  kContactsRead,      // "contacts.read": see contacts, their history and customer data
  kContactsHandle,    // "contacts.handle": accept, transfer, hold, wrap up, close
  kContactsExport,    // "contacts.export": bulk export of contacts and customer data
  kCallsMonitor,      // "calls.monitor": listen, whisper, barge
  kRecordingsListen,  // "recordings.listen"
  kQaEvaluate,        // "qa.evaluate": score contacts
  kQueuesRead,        // "queues.read": live queue statistics
  kReportsRead,       // "reports.read"
  kReportsExport,     // "reports.export"
  kConfigRead,        // "config.read"
  kConfigWrite,       // "config.write": apply configuration, edit queues and flows
  kUsersManage,       // "users.manage": create, disable, set roles and passwords of users
  kTokensManage,      // "tokens.manage": issue and revoke API tokens
  kAuditRead,         // "audit.read"
  kWallboardRead,     // "wallboard.read"
  kMetricsRead,       // "metrics.read": Prometheus /metrics
  kStaffingPlan,      // "staffing.plan": staffing and what-if computations (Erlang B/C/A)
};
inline constexpr size_t kPermissionCount = 20;

// "agent.read", ... as above.
std::string_view PermissionName(Permission p);
std::optional<Permission> ParsePermission(std::string_view name);

// How far a grant reaches. Ordered: a larger reach includes the smaller ones.
enum class Reach : uint8_t { kNone, kSelf, kTeam, kAll };
std::string_view ReachName(Reach r);  // "none", "self", "team", "all"

// The reach `role` has for `p` (kNone when not granted).
Reach RoleReach(Role role, Permission p);

// Who is asking: a logged-in user (through a session) or an API token (whose roles are its one
// scope role).
struct Principal {
  uint64_t user_id = 0;
  std::string login;
  std::vector<Role> roles;
  std::string team;          // the user's team ("" none): the team a team lead leads
  std::string agent;         // the agent the user works as ("" none)
  std::string token_prefix;  // set when authenticated by an API token
};

// The largest reach any of the principal's roles has for `p`.
Reach PrincipalReach(const Principal& who, Permission p);

// What is acted on. Global(): the whole contact center (settings, reports of all). Agent():
// one agent, or a contact handled by that agent, with the agent's team. Team(): a team as a
// whole. User(): a user account (e.g. its API tokens).
struct Scope {
  std::string agent;
  std::string team;
  uint64_t user_id = 0;

  static Scope Global() { return {}; }
  static Scope Agent(std::string agent, std::string team) {
    return {std::move(agent), std::move(team), 0};
  }
  static Scope Team(std::string team) { return {"", std::move(team), 0}; }
  static Scope User(uint64_t id) { return {"", "", id}; }
};

struct Decision {
  bool allowed = false;
  Reach reach = Reach::kNone;  // the reach that decided (the largest held)
  std::string reason;          // why not; "" when allowed. Names roles and scope, no secrets.
  explicit operator bool() const { return allowed; }
};

// kAll allows any scope; kTeam allows a scope whose team is the principal's (or that is the
// principal itself); kSelf allows a scope whose agent is the principal's agent or whose user is
// the principal. A list or search route with a smaller reach than kAll should filter by
// PrincipalReach instead of asking about Global().
Decision Authorize(const Principal& who, Permission p, const Scope& scope);

}  // namespace parley::auth
