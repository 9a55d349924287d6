#include "api/admin.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <utility>

#include "api/views.h"

namespace parley::api {

namespace {

using P = auth::Permission;

ApiError BadValue(std::string message) {
  return {400, "bad_value", std::move(message), BadRequest::kBadValue};
}
ApiError WrongType(std::string message) {
  return {400, "wrong_type", std::move(message), BadRequest::kWrongType};
}

AdminReply Error(ApiError e) {
  AdminReply r;
  r.status = e.http_status;
  r.error = std::move(e);
  return r;
}
AdminReply Error(const Status& s) { return Error(FromStatus(s)); }

AdminReply Ok(Json body, int status = 200) {
  AdminReply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

// The version an edit is based on: the body's `version`, else the If-Match header ("3", "\"3\"",
// W/"3"; `*from_header` then set). Missing or malformed: an error naming both ways to send it.
std::optional<ApiError> BaseVersion(const AdminCall& c, FieldReader& r, uint64_t& out,
                                    bool* from_header = nullptr) {
  int64_t v = 0;
  if (r.Int("version", v, false, 0, std::numeric_limits<int64_t>::max())) {
    out = static_cast<uint64_t>(v);
    return std::nullopt;
  }
  if (!r.ok()) return std::nullopt;  // Finish() reports the body's error
  std::string_view m = c.if_match;
  if (m.substr(0, 2) == "W/") m.remove_prefix(2);
  if (m.size() >= 2 && m.front() == '"' && m.back() == '"') m = m.substr(1, m.size() - 2);
  if (m.empty()) {
    return ApiError{428, "version_required",
                    "send the configuration version this edit is based on, as body.version or an "
                    "If-Match header (GET /api/v1/config gives the current version)",
                    BadRequest::kMissingField};
  }
  auto [p, ec] = std::from_chars(m.data(), m.data() + m.size(), out);
  if (ec != std::errc() || p != m.data() + m.size()) {
    return BadValue("If-Match must be a configuration version number, got '" +
                    std::string(c.if_match) + "'");
  }
  if (from_header) *from_header = true;
  return std::nullopt;
}

std::string VersionTag(uint64_t version) { return "\"" + std::to_string(version) + "\""; }

// HTTP's answer to an If-Match that no longer holds: 412, naming the current version.
std::optional<ApiError> CheckIfMatch(ports::ConfigAdministration& config, uint64_t expected) {
  auto current = config.CurrentConfig();
  if (!current.ok() || current->version == expected) return std::nullopt;
  return ApiError{412, "precondition_failed",
                  "If-Match: the configuration is at version " + std::to_string(current->version) +
                      ", not " + std::to_string(expected) + "; reload it and edit again",
                  std::nullopt};
}

Json ChangesJson(const std::vector<ports::ConfigItemChange>& changes) {
  Json list = Json::array();
  for (const auto& ch : changes) {
    list.push_back({{"section", ch.section}, {"item", ch.item}, {"change", ch.change}});
  }
  return list;
}

Json DocumentJson(const ports::ConfigDocument& d, bool with_text) {
  Json j = {{"version", d.version},
            {"applied_at", TimeJson(d.applied_at)},
            {"applied_by", d.applied_by},
            {"comment", d.comment}};
  if (with_text) j["yaml"] = d.yaml;
  return j;
}

// A duration field: seconds as a number (>= 0) or a duration text such as "20s" or "1m30s"
// (the configuration checks the text). Returns its JSON text.
std::optional<ApiError> DurationField(const Json& v, const std::string& path, std::string& out) {
  if (v.is_number()) {
    const double d = v.get<double>();
    if (!std::isfinite(d) || d < 0) return BadValue(path + " must be a number of seconds >= 0");
    out = v.dump();
    return std::nullopt;
  }
  if (v.is_string() && !v.get_ref<const std::string&>().empty() &&
      v.get_ref<const std::string&>().size() <= 32) {
    out = v.dump();
    return std::nullopt;
  }
  return WrongType(path + " must be a number of seconds or a duration such as \"20s\", got " +
                   std::string(JsonTypeName(v)));
}

// {"skill": proficiency, ...}
std::optional<ApiError> SkillsField(const Json& v, const std::string& path) {
  if (!v.is_object()) return WrongType(path + " must be an object of skill: proficiency");
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!it.value().is_number_integer()) {
      return WrongType(path + "." + it.key() + " must be an integer proficiency from 1 to 5");
    }
  }
  return std::nullopt;
}

std::optional<ApiError> NamesField(const Json& v, const std::string& path) {
  if (!v.is_array()) return WrongType(path + " must be an array of names");
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) return WrongType(path + "[" + std::to_string(i) + "] must be a string");
  }
  return std::nullopt;
}

// One escalation step of a queue edit, checked for shape; values are left to the configuration.
std::optional<ApiError> EscalationStep(const Json& step, const std::string& path) {
  FieldReader r(step, path);
  std::string text;
  if (const Json* after = r.Raw("after", true)) {
    if (auto e = DurationField(*after, path + ".after", text)) return e;
  }
  if (const Json* skills = r.Raw("skills", false)) {
    if (auto e = SkillsField(*skills, path + ".skills")) return e;
  }
  if (const Json* teams = r.Raw("teams", false)) {
    if (auto e = NamesField(*teams, path + ".teams")) return e;
  }
  int64_t boost = 0;
  r.Int("priority_boost", boost, false, -1000000, 1000000);
  std::string name;
  r.String("overflow", name, false, 128);
  r.String("flow", name, false, 128);
  return r.Finish();
}

Json SettingsJson(const ports::QueueSettings& s) {
  Json escalation = Json::array();
  for (const auto& e : s.escalation) {
    Json step = {{"after", e.after_seconds}, {"priority_boost", e.priority_boost}};
    if (e.skills) step["skills"] = *e.skills;
    if (e.teams) step["teams"] = *e.teams;
    if (!e.overflow.empty()) step["overflow"] = e.overflow;
    if (!e.flow.empty()) step["flow"] = e.flow;
    escalation.push_back(std::move(step));
  }
  return {
      {"name", s.name},
      {"version", s.version},
      {"strategy", s.strategy},
      {"service_level", {{"target", s.service_level_target}, {"seconds", s.service_level_seconds}}},
      {"priority", s.priority},
      {"max_wait", s.max_wait_seconds},
      {"max_size", s.max_size},
      {"offer_timeout", s.offer_timeout_seconds},
      {"wrap_up", s.wrap_up_seconds},
      {"escalation", std::move(escalation)}};
}

std::optional<ApiError> UserIdParam(const std::string& segment, uint64_t& id) {
  auto [p, ec] = std::from_chars(segment.data(), segment.data() + segment.size(), id);
  if (ec != std::errc() || p != segment.data() + segment.size() || id == 0) {
    return ApiError{
        400, "bad_id",
        "the user id must be a positive decimal number, got '" + segment.substr(0, 64) + "'",
        BadRequest::kBadId};
  }
  return std::nullopt;
}

// `role` (one name) or `roles` (a list of names) of a user body.
std::optional<ApiError> ReadRoles(FieldReader& r, std::vector<Role>& out, bool required) {
  std::string one;
  const bool has_one = r.String("role", one, false, 32);
  const Json* many = r.Raw("roles", false);
  if (!r.ok()) return std::nullopt;
  if (has_one && many) return BadValue("give body.role or body.roles, not both");
  if (!has_one && !many) {
    if (required) {
      return ApiError{400, "missing_field",
                      "missing required field body.role (one of " + RoleList() + ")",
                      BadRequest::kMissingField};
    }
    return std::nullopt;
  }
  std::vector<std::string> names;
  if (has_one) {
    names.push_back(one);
  } else {
    if (auto e = NamesField(*many, "body.roles")) return e;
    for (const auto& n : *many) names.push_back(n.get<std::string>());
  }
  out.clear();
  for (const auto& n : names) {
    auto role = ParseRole(n);
    if (!role) return BadValue("role '" + n + "' is not one of " + RoleList());
    out.push_back(*role);
  }
  if (out.empty()) return BadValue("body.roles must name at least one role");
  return std::nullopt;
}

bool Contains(const std::vector<std::string>& list, const std::string& name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

// The agent and team a user is linked to must exist in the configuration.
std::optional<ApiError> CheckLinks(const ports::ConfigNames& names,
                                   const auth::UserProfile& profile) {
  if (!profile.agent.empty() && !Contains(names.agents, profile.agent)) {
    return FromStatus(
        InvalidArgument("body.agent: no agent '" + profile.agent + "' in the configuration"));
  }
  if (!profile.team.empty() && !Contains(names.teams, profile.team)) {
    return FromStatus(
        InvalidArgument("body.team: no team '" + profile.team + "' in the configuration"));
  }
  return std::nullopt;
}

}  // namespace

AdminApi::AdminApi(ports::ConfigAdministration* config, auth::Authenticator& authenticator,
                   auth::UserDirectory& users, auth::AuditLog* audit)
    : config_(config), authenticator_(authenticator), users_(users), audit_(audit) {}

const std::vector<AdminApi::Route>& AdminApi::Routes() {
  static const std::vector<Route> kRoutes = {
      {"GET", "/config", P::kConfigRead},
      {"PUT", "/config", P::kConfigWrite},
      {"GET", "/config/history", P::kConfigRead},
      {"GET", "/config/queues/{queue}", P::kConfigRead},
      {"PUT", "/config/queues/{queue}", P::kConfigWrite},
      {"GET", "/users", P::kUsersManage},
      {"POST", "/users", P::kUsersManage},
      {"PUT", "/users/{id}", P::kUsersManage},
      {"POST", "/users/{id}/disable", P::kUsersManage},
      {"POST", "/users/{id}/enable", P::kUsersManage},
      {"POST", "/users/{id}/password", P::kUsersManage},
      {"POST", "/users/{id}/sip-password", P::kUsersManage},
  };
  return kRoutes;
}

AdminReply AdminApi::Handle(const AdminCall& c) {
  const std::string_view route = c.route;
  const size_t space = route.find(' ');
  const std::string_view method = route.substr(0, space);
  std::string_view path = route.substr(space + 1);
  if (path.substr(0, 7) == "/api/v1") path.remove_prefix(7);
  const bool is_config = path.substr(0, 7) == "/config";
  if (is_config && !config_) {
    return Error(ApiError{503, "unavailable", "configuration administration is not available",
                          std::nullopt});
  }
  if (path == "/config") return method == "GET" ? GetConfig(c) : PutConfig(c);
  if (path == "/config/history") return ConfigHistory(c);
  if (path == "/config/queues/{queue}") return method == "GET" ? GetQueue(c) : PutQueue(c);
  if (path == "/users") return method == "GET" ? ListUsers(c) : CreateUser(c);
  if (path == "/users/{id}") return UpdateUser(c);
  if (path == "/users/{id}/disable") return SetDisabled(c, true);
  if (path == "/users/{id}/enable") return SetDisabled(c, false);
  if (path == "/users/{id}/password") return ResetPassword(c);
  if (path == "/users/{id}/sip-password") return SetSipPassword(c);
  return Error(ApiError{404, "not_found", "no administration route " + std::string(route),
                        BadRequest::kNotFound});
}

void AdminApi::Audit(const AdminCall& c, std::string action, std::string target, const Status& s,
                     std::string detail) {
  if (!audit_) return;
  const auth::AuditOutcome outcome = s.ok() ? auth::AuditOutcome::kOk
                                     : s.code() == StatusCode::kPermissionDenied
                                         ? auth::AuditOutcome::kDenied
                                         : auth::AuditOutcome::kFailed;
  audit_->Append(c.now, c.who.login, std::move(action), std::move(target), outcome,
                 s.ok() ? std::move(detail) : s.message());
}

// ---------------------------------------------------------------------------------------------
// Configuration

AdminReply AdminApi::GetConfig(const AdminCall& c) {
  std::map<std::string, std::string> query;
  if (auto e = ParseQuery(c.query, {}, query)) return Error(*e);
  auto current = config_->CurrentConfig();
  if (!current.ok()) return Error(current.status());
  AdminReply r = Ok(DocumentJson(*current, true));
  r.etag = VersionTag(current->version);
  return r;
}

AdminReply AdminApi::ConfigHistory(const AdminCall& c) {
  std::map<std::string, std::string> query;
  if (auto e = ParseQuery(c.query, {"limit"}, query)) return Error(*e);
  size_t limit = 50;
  if (auto it = query.find("limit"); it != query.end()) {
    auto [p, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), limit);
    if (ec != std::errc() || p != it->second.data() + it->second.size() || limit < 1 ||
        limit > 1000) {
      return Error(ApiError{400, "bad_query", "limit must be a number from 1 to 1000",
                            BadRequest::kBadQuery});
    }
  }
  auto history = config_->ConfigHistory(limit);
  if (!history.ok()) return Error(history.status());
  Json list = Json::array();
  for (const auto& d : *history) list.push_back(DocumentJson(d, false));
  return Ok({{"versions", std::move(list)}});
}

AdminReply AdminApi::Applied(const AdminCall& c, std::string action, std::string target,
                             const Result<ports::ConfigApplyOutcome>& outcome, bool dry_run) {
  if (!outcome.ok()) {
    if (!dry_run) Audit(c, action, target, outcome.status());
    return Error(outcome.status());
  }
  if (!outcome->problems.empty()) {
    Json problems = Json::array();
    for (const auto& p : outcome->problems) {
      Json j = {{"line", p.line}, {"column", p.column}, {"message", p.message}};
      if (!p.field.empty()) j["field"] = p.field;
      problems.push_back(std::move(j));
    }
    const std::string message = std::to_string(outcome->problems.size()) +
                                " problem(s) in the configuration; nothing was changed (first: " +
                                std::to_string(outcome->problems[0].line) + ":" +
                                std::to_string(outcome->problems[0].column) + ": " +
                                outcome->problems[0].message + ")";
    if (!dry_run) Audit(c, action, target, InvalidArgument(message));
    AdminReply r;
    r.status = 422;
    r.body = {{"error",
               {{"code", "invalid_configuration"},
                {"message", message},
                {"problems", std::move(problems)}}}};
    return r;
  }
  if (outcome->applied) {
    Audit(c, action, target, Status::Ok(),
          "version " + std::to_string(outcome->version) + ", " +
              std::to_string(outcome->changes.size()) + " change(s)");
  }
  return Ok({{"version", outcome->version},
             {"applied", outcome->applied},
             {"dry_run", dry_run},
             {"changes", ChangesJson(outcome->changes)}});
}

AdminReply AdminApi::PutConfig(const AdminCall& c) {
  FieldReader r(c.body, "body");
  ports::ConfigApplyRequest request;
  r.String("yaml", request.yaml, true, 1 << 20);
  r.String("comment", request.comment, false, 512);
  r.Bool("dry_run", request.dry_run, false);
  bool if_match = false;
  if (auto e = BaseVersion(c, r, request.expected_version, &if_match)) return Error(*e);
  if (auto e = r.Finish()) return Error(*e);
  if (if_match) {
    if (auto e = CheckIfMatch(*config_, request.expected_version)) return Error(*e);
  }
  if (request.comment.empty()) request.comment = "edited through the API";
  request.applied_by = c.who.login;
  return Applied(c, "config.apply", "config", config_->ApplyConfig(request), request.dry_run);
}

AdminReply AdminApi::GetQueue(const AdminCall& c) {
  std::string queue;
  if (auto e = ParseName(c.params[0], "queue", queue)) return Error(*e);
  auto settings = config_->GetQueueSettings(queue);
  if (!settings.ok()) return Error(settings.status());
  AdminReply r = Ok(SettingsJson(*settings));
  r.etag = VersionTag(settings->version);
  return r;
}

AdminReply AdminApi::PutQueue(const AdminCall& c) {
  std::string queue;
  if (auto e = ParseName(c.params[0], "queue", queue)) return Error(*e);
  FieldReader r(c.body, "body");
  ports::QueueEdit edit;
  edit.applied_by = c.who.login;
  bool if_match = false;
  if (auto e = BaseVersion(c, r, edit.expected_version, &if_match)) return Error(*e);
  if (if_match) {
    if (auto e = CheckIfMatch(*config_, edit.expected_version)) return Error(*e);
  }
  std::string strategy;
  if (r.String("strategy", strategy, false, 64)) edit.fields["strategy"] = Json(strategy).dump();
  for (const char* key : {"priority", "max_size"}) {
    int64_t v = 0;
    if (r.Int(key, v, false, key == std::string("max_size") ? 0 : -1000000, 1000000)) {
      edit.fields[key] = std::to_string(v);
    }
  }
  for (const char* key : {"max_wait", "offer_timeout", "wrap_up"}) {
    if (const Json* v = r.Raw(key, false)) {
      std::string text;
      if (auto e = DurationField(*v, std::string("body.") + key, text)) return Error(*e);
      edit.fields[key] = text;
    }
  }
  if (const Json* sl = r.Raw("service_level", false)) {
    FieldReader s(*sl, "body.service_level");
    Json merged = Json::object();
    if (const Json* target = s.Raw("target", false)) {
      if (!target->is_number())
        return Error(WrongType("body.service_level.target must be a number"));
      merged["target"] = *target;
    }
    if (const Json* seconds = s.Raw("seconds", false)) {
      std::string text;
      if (auto e = DurationField(*seconds, "body.service_level.seconds", text)) return Error(*e);
      merged["seconds"] = *seconds;
    }
    if (auto e = s.Finish()) return Error(*e);
    // A partial service level keeps the other half of the current one.
    if (!merged.contains("target") || !merged.contains("seconds")) {
      auto current = config_->GetQueueSettings(queue);
      if (!current.ok()) return Error(current.status());
      if (!merged.contains("target")) merged["target"] = current->service_level_target;
      if (!merged.contains("seconds")) merged["seconds"] = current->service_level_seconds;
    }
    edit.fields["service_level"] = merged.dump();
  }
  if (const Json* steps = r.Raw("escalation", false)) {
    if (!steps->is_array()) return Error(WrongType("body.escalation must be an array of steps"));
    for (size_t i = 0; i < steps->size(); ++i) {
      if (auto e = EscalationStep((*steps)[i], "body.escalation[" + std::to_string(i) + "]")) {
        return Error(*e);
      }
    }
    edit.fields["escalation"] = steps->dump();
  }
  if (auto e = r.Finish()) return Error(*e);
  if (edit.fields.empty()) {
    return Error(
        BadValue("the body changes nothing: give at least one of strategy, "
                 "service_level, priority, max_wait, max_size, offer_timeout, wrap_up, "
                 "escalation"));
  }
  return Applied(c, "config.queue.edit", "queue:" + queue, config_->EditQueue(queue, edit), false);
}

// ---------------------------------------------------------------------------------------------
// Users

AdminReply AdminApi::ListUsers(const AdminCall& c) {
  std::map<std::string, std::string> query;
  if (auto e = ParseQuery(c.query, {}, query)) return Error(*e);
  Json list = Json::array();
  for (const auto& u : users_.List()) list.push_back(UserJson(u));
  return Ok({{"users", std::move(list)}});
}

AdminReply AdminApi::CreateUser(const AdminCall& c) {
  FieldReader r(c.body, "body");
  auth::UserProfile profile;
  r.String("login", profile.login, true, 64);
  r.String("display_name", profile.display_name, false, 128);
  r.String("team", profile.team, false, 128);
  r.String("agent", profile.agent, false, 128);
  std::string password;
  const bool given = r.String("password", password, false, 1024);
  if (auto e = ReadRoles(r, profile.roles, true)) return Error(*e);
  if (auto e = r.Finish()) return Error(*e);
  const std::string target = "user:" + profile.login;
  if (config_ && (!profile.agent.empty() || !profile.team.empty())) {
    auto names = config_->Names();
    if (!names.ok()) return Error(names.status());
    if (auto e = CheckLinks(*names, profile)) return Error(*e);
  }
  auto id = users_.Create(profile, c.now);
  if (!id.ok()) {
    Audit(c, "user.create", target, id.status());
    return Error(id.status());
  }
  if (!given) password = auth::GenerateReadablePassword();
  if (Status s = users_.SetPassword(*id, password, c.now); !s.ok()) {
    (void)users_.Remove(*id);  // all or nothing: no account without its password
    Audit(c, "user.create", target, s);
    return Error(s);
  }
  Audit(c, "user.create", target, Status::Ok(), "user:" + std::to_string(*id));
  Json body = {{"user", UserJson(*users_.View(*id))}};
  if (!given) body["password"] = password;
  return Ok(std::move(body), 201);
}

AdminReply AdminApi::UpdateUser(const AdminCall& c) {
  uint64_t id = 0;
  if (auto e = UserIdParam(c.params[0], id)) return Error(*e);
  FieldReader r(c.body, "body");
  auto view = users_.View(id);
  if (!view) {
    (void)r.Finish();
    return Error(NotFound("no user with id " + std::to_string(id)));
  }
  auth::UserProfile profile{view->login, view->display_name, view->roles, view->team, view->agent};
  r.String("display_name", profile.display_name, false, 128);
  r.String("team", profile.team, false, 128);
  r.String("agent", profile.agent, false, 128);
  if (auto e = ReadRoles(r, profile.roles, false)) return Error(*e);
  if (auto e = r.Finish()) return Error(*e);
  const std::string target = "user:" + std::to_string(id);
  if (id == c.who.user_id && std::find(profile.roles.begin(), profile.roles.end(),
                                       Role::kAdministrator) == profile.roles.end()) {
    return Error(
        FromStatus(Conflict("you cannot take the administrator role from yourself; ask another "
                            "administrator")));
  }
  if (config_) {
    auto names = config_->Names();
    if (!names.ok()) return Error(names.status());
    if (Contains(names->users, view->login) &&
        (profile.roles != view->roles || profile.agent != view->agent ||
         profile.team != view->team || profile.display_name != view->display_name)) {
      Status s = Conflict("user '" + view->login +
                          "' is declared in the configuration's users section, which would undo "
                          "this change at the next version; change it there (PUT /api/v1/config)");
      Audit(c, "user.update", target, s);
      return Error(s);
    }
    if (auto e = CheckLinks(*names, profile)) return Error(*e);
  }
  Status s = users_.Update(id, profile, c.now);
  Audit(c, "user.update", target, s);
  if (!s.ok()) return Error(s);
  return Ok(UserJson(*users_.View(id)));
}

AdminReply AdminApi::SetDisabled(const AdminCall& c, bool disabled) {
  uint64_t id = 0;
  if (auto e = UserIdParam(c.params[0], id)) return Error(*e);
  if (auto e = ReadEmpty(c.body)) return Error(*e);
  if (disabled && id == c.who.user_id) {
    return Error(FromStatus(Conflict("you cannot disable your own account")));
  }
  if (!users_.View(id)) return Error(NotFound("no user with id " + std::to_string(id)));
  // Audited by the authenticator; disabling ends the user's sessions and tokens at once.
  if (Status s = authenticator_.SetDisabled(c.who, id, disabled, c.now); !s.ok()) return Error(s);
  return Ok(UserJson(*users_.View(id)));
}

// What a password route acts on: the user named by the path, and the password the body gives
// or, without one, a generated one (`generated` true: it goes back in the answer, once).
struct PasswordChange {
  uint64_t id = 0;
  auth::UserView user;
  std::string password;
  bool generated = false;
};
static std::optional<ApiError> PasswordChangeOf(const AdminCall& c,
                                                const auth::UserDirectory& users,
                                                PasswordChange& out) {
  if (auto e = UserIdParam(c.params[0], out.id)) return e;
  bool given = false;
  if (!c.body.is_null()) {
    FieldReader r(c.body, "body");
    given = r.String("password", out.password, false, 1024);
    if (auto e = r.Finish()) return e;
  }
  auto view = users.View(out.id);
  if (!view) return FromStatus(NotFound("no user with id " + std::to_string(out.id)));
  out.user = std::move(*view);
  out.generated = !given;
  if (out.generated) out.password = auth::GenerateReadablePassword();
  return std::nullopt;
}

AdminReply AdminApi::ResetPassword(const AdminCall& c) {
  PasswordChange p;
  if (auto e = PasswordChangeOf(c, users_, p)) return Error(*e);
  // Audited by the authenticator, which also ends the user's sessions.
  if (Status s = authenticator_.SetPassword(c.who, p.id, p.password, c.now); !s.ok()) {
    return Error(s);
  }
  (void)authenticator_.Unlock(c.who, p.user.login, c.now);  // a new password ends a lockout
  Json body = {{"user", UserJson(*users_.View(p.id))}};
  if (p.generated) body["password"] = p.password;
  return Ok(std::move(body));
}

// The SIP digest password for the realm the server's SIP runs with: stored as HA1 only, taken
// by the next REGISTER or INVITE the user's phone sends (phones registered with the old one stay
// registered until they refresh). Without a body a readable password is generated and returned
// once, as for the web password.
AdminReply AdminApi::SetSipPassword(const AdminCall& c) {
  PasswordChange p;
  if (auto e = PasswordChangeOf(c, users_, p)) return Error(*e);
  const Status s = users_.SetSipPassword(p.id, sip_realm_, p.password, c.now);
  Audit(c, "user.sip_password", p.user.login, s, "realm " + sip_realm_);
  if (!s.ok()) return Error(s);
  Json body = {{"user", UserJson(*users_.View(p.id))}, {"realm", sip_realm_}};
  if (p.generated) body["password"] = p.password;
  return Ok(std::move(body));
}

}  // namespace parley::api
