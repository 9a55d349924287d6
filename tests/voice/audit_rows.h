// The audit log of a stopped server, read straight from its database (the API has no route
// for it): what the voice end-to-end tests check that a command was audited with.
#pragma once

#include <array>
#include <string>
#include <vector>

namespace parley::testing {

// The audit log rows (actor, action, target, outcome: "ok", "denied", "failed") of the SQLite
// database at `database`, in the order they were written; empty when it cannot be read.
std::vector<std::array<std::string, 4>> AuditRows(const std::string& database);

}  // namespace parley::testing
