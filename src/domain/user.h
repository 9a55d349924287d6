#pragma once
// Users and roles as plain data: the role names the configuration and the API use, and a user as
// the configuration declares it. Passwords are not part of this: they are set through the API and
// kept, hashed, by src/auth. Header-only value types; safe to share read-only between threads.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/ids.h"

namespace parley {

// What a user may do is the union of what its roles allow (src/auth/permissions.h).
enum class Role : uint8_t {
  kAdministrator,  // everything, including users and configuration
  kSupervisor,     // all agents, contacts, reports and recordings; no users or configuration
  kTeamLead,       // sees and manages the agents and contacts of its own team
  kQaAnalyst,      // reads contacts and recordings of everyone, evaluates; changes no state
  kAgent,          // only its own state and its own contacts
  kWallboard,      // read-only live statistics for wall displays
};

inline constexpr std::array<Role, 6> kAllRoles = {Role::kAdministrator, Role::kSupervisor,
                                                  Role::kTeamLead,      Role::kQaAnalyst,
                                                  Role::kAgent,         Role::kWallboard};
inline constexpr size_t kRoleCount = kAllRoles.size();

// The name used in YAML, the API and the audit log: "administrator", "supervisor", "team_lead",
// "qa_analyst", "agent", "wallboard".
constexpr std::string_view RoleName(Role role) {
  constexpr std::array<std::string_view, kRoleCount> kNames = {
      "administrator", "supervisor", "team_lead", "qa_analyst", "agent", "wallboard"};
  return kNames[static_cast<size_t>(role)];
}

// Exact names only; nullopt otherwise.
inline std::optional<Role> ParseRole(std::string_view name) {
  for (Role r : kAllRoles) {
    if (RoleName(r) == name) return r;
  }
  return std::nullopt;
}

// "administrator, supervisor, ..." for error messages.
inline std::string RoleList() {
  std::string out;
  for (Role r : kAllRoles) {
    if (!out.empty()) out += ", ";
    out += RoleName(r);
  }
  return out;
}

// A user as the configuration declares it (`users:`). Team and agent are indices into the same
// configuration's RoutingConfig (kNone when not given).
struct UserDef {
  std::string login;         // unique, lower case: [a-z0-9._-], 1-64 characters
  std::string display_name;  // defaults to the login
  std::vector<Role> roles;   // at least one, each once
  TeamIndex team = kNone;    // the team a team lead leads, or an agent's team
  AgentIndex agent = kNone;  // the agent record this user works as
  bool operator==(const UserDef&) const = default;
};

// True for a valid login name: 1-64 characters of a-z, 0-9, '.', '_', '-', starting with a
// letter or digit.
inline bool IsValidLoginName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
  }
  return true;
}

}  // namespace parley
