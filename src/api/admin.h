#pragma once
// The administration routes of the API: the configuration (`/api/v1/config...`, through
// ports::ConfigAdministration, the path `parley config apply` takes) and user accounts
// (`/api/v1/users...`, through src/auth). HttpServer declares the routes with their permissions
// (administrators only) and hands each request here, off its I/O threads: these calls block on
// the store and on Argon2id hashing. Every change, and every refused change, is audited; no
// answer carries a secret except a generated password, once, to the administrator who asked.
// Thread-safe as far as its parts are (all of them are).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/request.h"
#include "auth/audit.h"
#include "auth/authenticator.h"
#include "auth/permissions.h"
#include "auth/users.h"
#include "base/time.h"
#include "ports/administration.h"

namespace parley::api {

// One administration request, already authenticated and authorised by the route table.
struct AdminCall {
  const auth::Principal& who;
  std::string_view route;                  // "PUT /api/v1/config/queues/{queue}", as declared
  const Json& body;                        // null when the request had none
  const std::vector<std::string>& params;  // the path's "{name}" segments, raw
  std::string_view query;
  std::string_view if_match;  // the If-Match header, "" when absent
  TimePoint now;
};

// The answer: an HTTP status and its JSON body, or an error for HttpServer to answer and count.
// An invalid configuration is a 422 whose body is shaped like ErrorBody with a `problems` list.
struct AdminReply {
  int status = 200;
  Json body;
  std::optional<ApiError> error;
  std::string etag;  // sent as ETag when set: the configuration version a read is of ("\"7\"")
};

class AdminApi {
 public:
  // `config` may be null (the routes then answer 503); the others must outlive this.
  AdminApi(ports::ConfigAdministration* config, auth::Authenticator& authenticator,
           auth::UserDirectory& users, auth::AuditLog* audit);

  // The routes this handles, relative to /api/v1, with the permission each needs.
  struct Route {
    std::string_view method;
    std::string_view path;
    auth::Permission permission;
  };
  static const std::vector<Route>& Routes();

  AdminReply Handle(const AdminCall& call);
  // Before the first Handle only.
  void set_config(ports::ConfigAdministration* config) { config_ = config; }
  // The digest realm SIP passwords are set for (voice.realm); before the first Handle only.
  void set_sip_realm(std::string realm) { sip_realm_ = std::move(realm); }

 private:
  AdminReply GetConfig(const AdminCall& c);
  AdminReply PutConfig(const AdminCall& c);
  AdminReply ConfigHistory(const AdminCall& c);
  AdminReply GetQueue(const AdminCall& c);
  AdminReply PutQueue(const AdminCall& c);
  AdminReply ListUsers(const AdminCall& c);
  AdminReply CreateUser(const AdminCall& c);
  AdminReply UpdateUser(const AdminCall& c);
  AdminReply SetDisabled(const AdminCall& c, bool disabled);
  AdminReply ResetPassword(const AdminCall& c);
  AdminReply SetSipPassword(const AdminCall& c);

  // The answer to an apply (200 with the version and changes, or 422 with the problems), audited.
  AdminReply Applied(const AdminCall& c, std::string action, std::string target,
                     const Result<ports::ConfigApplyOutcome>& outcome, bool dry_run);
  void Audit(const AdminCall& c, std::string action, std::string target, const Status& s,
             std::string detail = "");

  ports::ConfigAdministration* config_;
  auth::Authenticator& authenticator_;
  auth::UserDirectory& users_;
  auth::AuditLog* const audit_;
  std::string sip_realm_ = "parley";  // voice.realm's default
};

}  // namespace parley::api
