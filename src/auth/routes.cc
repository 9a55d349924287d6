#include "auth/routes.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace parley::auth {

bool IsLoopbackAddress(std::string_view address) {
  std::string a(address);
  // "[::1]" and "::1%lo" forms from socket printers.
  if (a.size() > 2 && a.front() == '[' && a.back() == ']') a = a.substr(1, a.size() - 2);
  if (auto pct = a.find('%'); pct != std::string::npos) a.resize(pct);
  in_addr v4{};
  if (inet_pton(AF_INET, a.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, a.c_str(), &v6) != 1) return false;
  static const unsigned char kLoop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  if (std::memcmp(v6.s6_addr, kLoop, 16) == 0) return true;
  static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(v6.s6_addr, kMapped, 12) == 0 && v6.s6_addr[12] == 127;
}

namespace {

// The non-empty '/'-separated segments of a path, one at a time, without allocating: route
// matching runs for every request.
class SegmentCursor {
 public:
  explicit SegmentCursor(std::string_view s) : s_(s) {}
  bool Next(std::string_view& out) {
    while (i_ < s_.size() && s_[i_] == '/') ++i_;
    if (i_ >= s_.size()) return false;
    const size_t j = std::min(s_.find('/', i_), s_.size());
    out = s_.substr(i_, j - i_);
    i_ = j;
    return true;
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

bool IsParam(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

bool ValidMethod(std::string_view m) {
  for (std::string_view k : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}) {
    if (m == k) return true;
  }
  return false;
}

}  // namespace

bool PathMatches(std::string_view pattern, std::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  SegmentCursor p(pattern), s(path);
  std::string_view ps, ss;
  while (p.Next(ps)) {
    if (ps == "*") {
      SegmentCursor rest = p;
      std::string_view ignored;
      if (!rest.Next(ignored)) return true;
    }
    if (!s.Next(ss)) return false;
    if (!IsParam(ps) && ps != ss) return false;
  }
  return !s.Next(ss);
}

void PathParams(std::string_view pattern, std::string_view path, std::vector<std::string>& out) {
  SegmentCursor p(pattern), s(path);
  std::string_view ps, ss;
  while (p.Next(ps) && s.Next(ss)) {
    if (IsParam(ps)) out.emplace_back(ss);
  }
}

Status RouteRegistry::Add(RouteSpec spec) {
  const std::string name = spec.method + " " + spec.path;
  if (!ValidMethod(spec.method)) {
    return InvalidArgument("route " + name + ": unknown method; expected GET, HEAD, POST, PUT, " +
                           "PATCH or DELETE");
  }
  if (spec.path.empty() || spec.path.front() != '/') {
    return InvalidArgument("route " + name + ": the path must start with '/'");
  }
  if (spec.any_user && (spec.is_public || spec.permission)) {
    return InvalidArgument("route " + name +
                           " is declared for any logged-in user; it cannot also be public or "
                           "name a permission");
  }
  if (!spec.is_public && !spec.permission && !spec.any_user) {
    return InvalidArgument("route " + name +
                           " declares no permission; every route must name the permission it "
                           "needs (auth::Permission) or be declared public");
  }
  if (spec.is_public && spec.permission) {
    return InvalidArgument("route " + name + " is declared public and also names permission " +
                           std::string(PermissionName(*spec.permission)) + "; choose one");
  }
  if (spec.open_on_loopback && spec.is_public) {
    return InvalidArgument("route " + name + " is public; open_on_loopback has no meaning there");
  }
  for (const RouteSpec& r : routes_) {
    if (r.method == spec.method && r.path == spec.path) {
      return Conflict("route " + name + " is declared twice");
    }
  }
  routes_.push_back(std::move(spec));
  return Status::Ok();
}

const RouteSpec* RouteRegistry::Find(std::string_view method, std::string_view path) const {
  for (const RouteSpec& r : routes_) {
    if (r.method == method && PathMatches(r.path, path)) return &r;
  }
  return nullptr;
}

Status RouteRegistry::Check(std::string_view method, std::string_view path, const Principal* who,
                            std::string_view client_address, const AccessOptions& options) const {
  const RouteSpec* r = Find(method, path);
  if (!r) return NotFound("no route " + std::string(method) + " " + std::string(path));
  return CheckRoute(*r, who, client_address, options);
}

Status CheckRoute(const RouteSpec& r, const Principal* who, std::string_view client_address,
                  const AccessOptions& options) {
  if (r.is_public) return Status::Ok();
  if (r.open_on_loopback && options.metrics_open_on_loopback && IsLoopbackAddress(client_address)) {
    return Status::Ok();
  }
  if (!who) return PermissionDenied("login required");
  if (r.any_user) return Status::Ok();
  if (PrincipalReach(*who, *r.permission) == Reach::kNone) {
    return PermissionDenied(Authorize(*who, *r.permission, Scope::Global()).reason);
  }
  return Status::Ok();
}

std::vector<AccessRow> BuildAccessMatrix(const RouteRegistry& registry) {
  std::vector<AccessRow> rows;
  for (const RouteSpec& r : registry.routes()) {
    AccessRow row{r.method, r.path, r.is_public, r.permission, r.any_user, {}};
    for (size_t i = 0; i < kRoleCount; ++i) {
      row.reach[i] = r.is_public  ? Reach::kAll
                     : r.any_user ? Reach::kSelf
                                  : RoleReach(kAllRoles[i], *r.permission);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string AccessMatrixMarkdown(const std::vector<AccessRow>& rows) {
  std::string out = "| route | permission |";
  for (Role r : kAllRoles) out += " " + std::string(RoleName(r)) + " |";
  out += "\n|---|---|";
  for (size_t i = 0; i < kRoleCount; ++i) out += "---|";
  out += "\n";
  for (const AccessRow& row : rows) {
    out += "| `" + row.method + " " + row.path + "` | " +
           (row.is_public  ? std::string("public")
            : row.any_user ? std::string("any user")
                           : std::string(PermissionName(*row.permission))) +
           " |";
    for (Reach reach : row.reach) {
      out += " " +
             std::string(row.is_public           ? "public"
                         : reach == Reach::kNone ? "-"
                                                 : ReachName(reach)) +
             " |";
    }
    out += "\n";
  }
  return out;
}

}  // namespace parley::auth
