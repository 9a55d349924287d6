#pragma once
// Route declarations for the HTTP API: every route names the permission it needs, or says it is
// public. RouteRegistry refuses a route that does neither, so a route without declared roles
// fails at startup rather than answering everyone. BuildAccessMatrix turns the registry into the
// route x role table that the API's test walks and docs/security.md shows. A RouteRegistry is
// built once at startup and then only read: reads are thread-safe, Add is not.

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/permissions.h"
#include "base/status.h"

namespace parley::auth {

struct RouteSpec {
  std::string method;  // "GET", "POST", ...
  // Literal segments, "{name}" for one segment, and a final "*" for any rest (static files):
  // "/api/v1/agents/{id}/state", "/ui/*".
  std::string path;
  std::optional<Permission> permission;  // required unless is_public
  bool is_public = false;                // answers without a login (/healthz, login, static UI)
  // The route also answers without a token to loopback clients when the operator configured it
  // so (AccessOptions::metrics_open_on_loopback): meant for /metrics only.
  bool open_on_loopback = false;
  // Any logged-in user or token may call it, whatever its roles (logout, "who am I"): the route
  // acts only on the caller itself. Excludes `permission` and `is_public`.
  bool any_user = false;
};

// Per-deployment switches that change who may call a route.
struct AccessOptions {
  bool metrics_open_on_loopback = false;
};

// True for 127.0.0.0/8 and ::1 (also in the IPv4-mapped form ::ffff:127.x.y.z).
bool IsLoopbackAddress(std::string_view address);

// True when `path` matches `pattern` as described at RouteSpec::path. Allocates nothing.
bool PathMatches(std::string_view pattern, std::string_view path);
// Appends to `out` the segments of `path` (which matches `pattern`) that stand where the pattern
// has "{name}", in order.
void PathParams(std::string_view pattern, std::string_view path, std::vector<std::string>& out);

class RouteRegistry {
 public:
  // InvalidArgument when the route declares no permission and is not public, when it is both
  // public and has a permission, or when the method or path is malformed; Conflict when the same
  // method and path are declared twice.
  Status Add(RouteSpec spec);

  const std::vector<RouteSpec>& routes() const { return routes_; }
  // The first route whose method and pattern match, or nullptr.
  const RouteSpec* Find(std::string_view method, std::string_view path) const;

  // May `who` (nullptr: not logged in) call `method path` from `client_address`? Checks the
  // route's permission at any reach; the handler then checks the object with Authorize.
  // NotFound for an undeclared route, PermissionDenied (with the reason) otherwise.
  Status Check(std::string_view method, std::string_view path, const Principal* who,
               std::string_view client_address, const AccessOptions& options) const;

 private:
  std::vector<RouteSpec> routes_;
};

// Check for a route already found (RouteRegistry::Find), so a request is matched once.
Status CheckRoute(const RouteSpec& route, const Principal* who, std::string_view client_address,
                  const AccessOptions& options);

// One row of the access matrix: the route and, per role in kAllRoles order, the reach that role
// has for the route's permission (kAll for a public route, kSelf for an any_user route).
struct AccessRow {
  std::string method;
  std::string path;
  bool is_public = false;
  std::optional<Permission> permission;
  bool any_user = false;
  std::array<Reach, kRoleCount> reach{};
};
std::vector<AccessRow> BuildAccessMatrix(const RouteRegistry& registry);
// A Markdown table of the matrix ("all", "team", "self", "-", "public").
std::string AccessMatrixMarkdown(const std::vector<AccessRow>& rows);

}  // namespace parley::auth
