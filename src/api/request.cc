#include "api/request.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>

namespace parley::api {

namespace {

ApiError Bad(BadRequest kind, std::string message, int status = 400) {
  const std::string code(BadRequestName(kind));
  return ApiError{status, code, std::move(message), kind};
}

std::string Quote(std::string_view s) {
  // Names echoed in messages are already checked for UTF-8; keep them short.
  std::string out = "'";
  out += s.substr(0, 64);
  if (s.size() > 64) out += "...";
  out += "'";
  return out;
}

// nlohmann's DOM builder with a depth limit: refuses before building anything deeper.
class DepthLimitedSax : public nlohmann::json_sax<Json> {
 public:
  DepthLimitedSax(Json& out, size_t max_depth) : dom_(out, false), max_depth_(max_depth) {}

  bool null() override { return dom_.null(); }
  bool boolean(bool v) override { return dom_.boolean(v); }
  bool number_integer(number_integer_t v) override { return dom_.number_integer(v); }
  bool number_unsigned(number_unsigned_t v) override { return dom_.number_unsigned(v); }
  bool number_float(number_float_t v, const string_t& s) override {
    return dom_.number_float(v, s);
  }
  bool string(string_t& v) override { return dom_.string(v); }
  bool binary(binary_t& v) override { return dom_.binary(v); }
  bool start_object(std::size_t n) override {
    if (++depth_ > max_depth_) return too_deep_ = true, false;
    return dom_.start_object(n);
  }
  bool key(string_t& v) override { return dom_.key(v); }
  bool end_object() override {
    --depth_;
    return dom_.end_object();
  }
  bool start_array(std::size_t n) override {
    if (++depth_ > max_depth_) return too_deep_ = true, false;
    return dom_.start_array(n);
  }
  bool end_array() override {
    --depth_;
    return dom_.end_array();
  }
  bool parse_error(std::size_t position, const std::string& /*token*/,
                   const nlohmann::detail::exception& ex) override {
    error_position_ = position;
    error_ = ex.what();
    return false;
  }

  bool too_deep() const { return too_deep_; }
  size_t error_position() const { return error_position_; }
  const std::string& error() const { return error_; }

 private:
  nlohmann::detail::json_sax_dom_parser<Json> dom_;
  size_t max_depth_;
  size_t depth_ = 0;
  bool too_deep_ = false;
  size_t error_position_ = 0;
  std::string error_;
};

bool HasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

}  // namespace

std::string_view BadRequestName(BadRequest b) {
  static constexpr std::array<std::string_view, kBadRequestCount> kNames = {
      "malformed_json",    "too_deep",  "bad_utf8", "wrong_type", "unknown_field",
      "missing_field",     "bad_value", "bad_id",   "bad_query",  "body_too_large",
      "headers_too_large", "timeout",   "bad_http", "not_found",  "method_not_allowed"};
  return kNames[static_cast<size_t>(b)];
}

std::string ErrorBody(const ApiError& e) {
  Json j = {{"error", {{"code", e.code}, {"message", e.message}}}};
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

ApiError FromStatus(const Status& s) {
  switch (s.code()) {
    case StatusCode::kNotFound:
      return {404, "not_found", s.message(), std::nullopt};
    case StatusCode::kInvalidArgument:
      return {422, "invalid_argument", s.message(), std::nullopt};
    case StatusCode::kConflict:
      return {409, "conflict", s.message(), std::nullopt};
    case StatusCode::kPermissionDenied:
      return {403, "forbidden", s.message(), std::nullopt};
    case StatusCode::kUnavailable:
      return {503, "unavailable", s.message(), std::nullopt};
    case StatusCode::kOk:
    case StatusCode::kInternal:
      break;
  }
  return {500, "internal", s.message(), std::nullopt};
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0;
    if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates, beyond U+10FFFF.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += len;
  }
  return true;
}

std::optional<ApiError> ParseJsonBody(std::string_view body, const JsonLimits& limits, Json& out) {
  if (!IsValidUtf8(body)) {
    return Bad(BadRequest::kBadUtf8, "the request body is not valid UTF-8");
  }
  out = Json();
  DepthLimitedSax sax(out, limits.max_depth);
  bool ok = false;
  try {
    ok = Json::sax_parse(body.begin(), body.end(), &sax, nlohmann::detail::input_format_t::json,
                         true, false);
  } catch (const std::exception& e) {
    return Bad(BadRequest::kMalformedJson,
               std::string("the request body is not JSON: ") + e.what());
  }
  if (sax.too_deep()) {
    return Bad(BadRequest::kTooDeep, "the request body nests objects and arrays more than " +
                                         std::to_string(limits.max_depth) + " deep");
  }
  if (!ok) {
    std::string why = sax.error();
    // "[json.exception.parse_error.101] parse error at line 1, column 2: ..." → keep the tail.
    if (auto p = why.find("] "); p != std::string::npos) why = why.substr(p + 2);
    return Bad(BadRequest::kMalformedJson, "the request body is not valid JSON (at byte " +
                                               std::to_string(sax.error_position()) + "): " + why);
  }
  return std::nullopt;
}

std::string_view JsonTypeName(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "integer";
    case Json::value_t::number_float:
      return "number";
    case Json::value_t::string:
      return "string";
    case Json::value_t::array:
      return "array";
    case Json::value_t::object:
      return "object";
    default:
      return "binary";
  }
}

FieldReader::FieldReader(const Json& value, std::string where)
    : value_(value), where_(std::move(where)) {
  if (!value_.is_object()) {
    error_ = Bad(BadRequest::kWrongType,
                 where_ + " must be a JSON object, got " + std::string(JsonTypeName(value_)));
  }
}

const Json* FieldReader::Field(std::string_view name, bool required) {
  if (error_) return nullptr;
  read_.emplace_back(name);
  auto it = value_.find(std::string(name));
  if (it == value_.end()) {
    if (required) Fail(Bad(BadRequest::kMissingField, "missing required field " + Path(name)));
    return nullptr;
  }
  return &*it;
}

void FieldReader::Fail(ApiError e) {
  if (!error_) error_ = std::move(e);
}

const Json* FieldReader::Raw(std::string_view name, bool required) { return Field(name, required); }

bool FieldReader::String(std::string_view name, std::string& out, bool required,
                         size_t max_length) {
  const Json* v = Field(name, required);
  if (!v) return false;
  if (!v->is_string()) {
    Fail(Bad(BadRequest::kWrongType,
             Path(name) + " must be a string, got " + std::string(JsonTypeName(*v))));
    return false;
  }
  const auto& s = v->get_ref<const std::string&>();
  if (s.size() > max_length) {
    Fail(Bad(BadRequest::kBadValue,
             Path(name) + " is longer than " + std::to_string(max_length) + " bytes"));
    return false;
  }
  out = s;
  return true;
}

bool FieldReader::Int(std::string_view name, int64_t& out, bool required, int64_t min,
                      int64_t max) {
  const Json* v = Field(name, required);
  if (!v) return false;
  if (!v->is_number_integer()) {
    Fail(Bad(BadRequest::kWrongType,
             Path(name) + " must be an integer, got " + std::string(JsonTypeName(*v))));
    return false;
  }
  bool in_range = false;
  int64_t x = 0;
  if (v->is_number_unsigned()) {
    const uint64_t u = v->get<uint64_t>();
    in_range = u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    x = static_cast<int64_t>(u);
  } else {
    in_range = true;
    x = v->get<int64_t>();
  }
  if (!in_range || x < min || x > max) {
    Fail(Bad(BadRequest::kBadValue, Path(name) + " must be between " + std::to_string(min) +
                                        " and " + std::to_string(max)));
    return false;
  }
  out = x;
  return true;
}

bool FieldReader::Bool(std::string_view name, bool& out, bool required) {
  const Json* v = Field(name, required);
  if (!v) return false;
  if (!v->is_boolean()) {
    Fail(Bad(BadRequest::kWrongType,
             Path(name) + " must be a boolean, got " + std::string(JsonTypeName(*v))));
    return false;
  }
  out = v->get<bool>();
  return true;
}

std::optional<ApiError> FieldReader::Finish() {
  if (error_) return error_;
  for (auto it = value_.begin(); it != value_.end(); ++it) {
    if (std::find(read_.begin(), read_.end(), it.key()) == read_.end()) {
      std::string allowed;
      for (const auto& r : read_) allowed += (allowed.empty() ? "" : ", ") + r;
      return Bad(BadRequest::kUnknownField,
                 "unknown field " + Path(it.key()) +
                     " (allowed: " + (allowed.empty() ? std::string("none") : allowed) + ")");
    }
  }
  return std::nullopt;
}

std::optional<ApiError> ReadLogin(const Json& body, LoginBody& out) {
  FieldReader r(body, "body");
  r.String("login", out.login, true, 256);
  r.String("password", out.password, true, 4096);
  return r.Finish();
}

std::optional<Presence> ParsePresence(std::string_view name) {
  for (Presence p : {Presence::kOffline, Presence::kAvailable, Presence::kNotReady}) {
    if (PresenceName(p) == name) return p;
  }
  return std::nullopt;
}

namespace {

std::string PresenceChoices() {
  std::string out;
  for (Presence p : {Presence::kOffline, Presence::kAvailable, Presence::kNotReady}) {
    out += (out.empty() ? "" : ", ") + std::string(PresenceName(p));
  }
  return out;
}

std::string ChannelChoices() {
  std::string out;
  for (int i = 0; i < kChannelCount; ++i) {
    out += (out.empty() ? "" : ", ") + std::string(ChannelName(static_cast<Channel>(i)));
  }
  return out;
}

bool ReadChannel(FieldReader& r, std::string_view name, Channel& out, bool required) {
  std::string text;
  if (!r.String(name, text, required, 32)) return false;
  auto c = ParseChannel(text);
  if (!c) {
    r.Fail(Bad(BadRequest::kBadValue,
               r.Path(name) + " is " + Quote(text) + "; expected one of " + ChannelChoices()));
    return false;
  }
  out = *c;
  return true;
}

}  // namespace

std::optional<ApiError> ReadPresence(const Json& body, PresenceBody& out) {
  FieldReader r(body, "body");
  std::string presence;
  if (r.String("presence", presence, true, 32)) {
    auto p = ParsePresence(presence);
    if (!p) {
      r.Fail(Bad(BadRequest::kBadValue,
                 "body.presence is " + Quote(presence) + "; expected one of " + PresenceChoices()));
    } else {
      out.presence = *p;
    }
  }
  r.String("reason", out.reason, false, 128);
  return r.Finish();
}

std::optional<ApiError> ReadNewContact(const Json& body, ports::NewContact& out) {
  FieldReader r(body, "body");
  ReadChannel(r, "channel", out.channel, false);
  // A queue to wait in, or an entry point whose flow the contact runs: one of the two.
  const bool has_queue = r.String("queue", out.queue, false, 128);
  const bool has_entry = r.String("entry", out.entry, false, 256);
  if (r.ok() && !has_queue && !has_entry) {
    r.Fail(Bad(BadRequest::kMissingField,
               "missing required field body.queue (or body.entry, an entry point)"));
  } else if (r.ok() && has_queue && has_entry) {
    r.Fail(Bad(BadRequest::kBadValue,
               "body.queue and body.entry exclude each other: give the queue to wait in, or the "
               "entry point whose flow runs"));
  } else if (r.ok() && has_queue && out.queue.empty()) {
    r.Fail(Bad(BadRequest::kBadValue, "body.queue must not be empty"));
  } else if (r.ok() && has_entry && out.entry.empty()) {
    r.Fail(Bad(BadRequest::kBadValue, "body.entry must not be empty"));
  }
  int64_t priority = 0;
  if (r.Int("priority", priority, false, -1000000, 1000000)) {
    out.priority = static_cast<int32_t>(priority);
  }
  if (const Json* skills = r.Raw("skills", false)) {
    if (!skills->is_array()) {
      r.Fail(Bad(BadRequest::kWrongType,
                 "body.skills must be an array, got " + std::string(JsonTypeName(*skills))));
    } else if (skills->size() > 64) {
      r.Fail(Bad(BadRequest::kBadValue, "body.skills has more than 64 entries"));
    } else {
      for (size_t i = 0; i < skills->size() && r.ok(); ++i) {
        FieldReader s((*skills)[i], "body.skills[" + std::to_string(i) + "]");
        std::string name;
        int64_t proficiency = 1;
        s.String("skill", name, true, 128);
        s.Int("proficiency", proficiency, false, 1, 5);
        if (auto e = s.Finish()) {
          r.Fail(std::move(*e));
        } else {
          out.skills.emplace_back(std::move(name), static_cast<int>(proficiency));
        }
      }
    }
  }
  if (const Json* attributes = r.Raw("attributes", false)) {
    if (!attributes->is_object()) {
      r.Fail(Bad(BadRequest::kWrongType, "body.attributes must be an object, got " +
                                             std::string(JsonTypeName(*attributes))));
    } else if (attributes->size() > 256) {
      r.Fail(Bad(BadRequest::kBadValue, "body.attributes has more than 256 entries"));
    } else {
      for (auto it = attributes->begin(); it != attributes->end() && r.ok(); ++it) {
        if (!it.value().is_string()) {
          r.Fail(Bad(BadRequest::kWrongType, "body.attributes." + it.key() +
                                                 " must be a string, got " +
                                                 std::string(JsonTypeName(it.value()))));
        } else if (it.key().size() > 128 ||
                   it.value().get_ref<const std::string&>().size() > 4096) {
          r.Fail(Bad(BadRequest::kBadValue, "body.attributes." + it.key().substr(0, 64) +
                                                ": keys are at most 128 bytes, values 4096"));
        } else {
          out.attributes.emplace_back(it.key(), it.value().get<std::string>());
        }
      }
    }
  }
  if (const Json* from = r.Raw("from", false)) {
    FieldReader f(*from, "body.from");
    ports::CustomerIdentity id;
    id.channel = out.channel;
    ReadChannel(f, "channel", id.channel, false);
    f.String("address", id.address, true, 256);
    if (auto e = f.Finish()) {
      r.Fail(std::move(*e));
    } else {
      out.from = std::move(id);
    }
  }
  return r.Finish();
}

std::optional<ApiError> ReadCustomer(const Json& body, ports::Customer& out) {
  FieldReader r(body, "body");
  r.String("name", out.name, true, 256);
  if (r.ok() && out.name.empty()) r.Fail(Bad(BadRequest::kBadValue, "body.name must not be empty"));
  if (const Json* identities = r.Raw("identities", false)) {
    if (!identities->is_array() || identities->size() > 64) {
      r.Fail(Bad(BadRequest::kWrongType, "body.identities must be an array of at most 64"));
    } else {
      for (size_t i = 0; i < identities->size() && r.ok(); ++i) {
        FieldReader f((*identities)[i], "body.identities[" + std::to_string(i) + "]");
        ports::CustomerIdentity id;
        ReadChannel(f, "channel", id.channel, true);
        f.String("address", id.address, true, 256);
        if (auto e = f.Finish()) {
          r.Fail(std::move(*e));
        } else {
          out.identities.push_back(std::move(id));
        }
      }
    }
  }
  if (const Json* fields = r.Raw("fields", false)) {
    if (!fields->is_object()) {
      r.Fail(Bad(BadRequest::kWrongType,
                 "body.fields must be an object, got " + std::string(JsonTypeName(*fields))));
    } else {
      out.fields_json = fields->dump();
    }
  }
  if (const Json* tags = r.Raw("tags", false)) {
    if (!tags->is_array() || tags->size() > 64) {
      r.Fail(Bad(BadRequest::kWrongType, "body.tags must be an array of at most 64 strings"));
    } else {
      for (const Json& t : *tags) {
        if (!t.is_string() || t.get_ref<const std::string&>().empty() ||
            t.get_ref<const std::string&>().size() > 64) {
          r.Fail(Bad(BadRequest::kBadValue, "body.tags: each tag is a string of 1-64 bytes"));
          break;
        }
        out.tags.push_back(t.get<std::string>());
      }
    }
  }
  return r.Finish();
}

std::optional<ApiError> ReadCustomerNote(const Json& body, std::string& text) {
  FieldReader r(body, "body");
  r.String("text", text, true, 16384);
  if (r.ok() && text.empty()) r.Fail(Bad(BadRequest::kBadValue, "body.text must not be empty"));
  return r.Finish();
}

std::optional<ApiError> ReadWrapUp(const Json& body, ports::WrapUp& out) {
  FieldReader r(body, "body");
  r.String("disposition", out.disposition, false, 128);
  r.String("notes", out.notes, false, 16384);
  return r.Finish();
}

std::optional<ApiError> ReadTransfer(const Json& body, ports::TransferTarget& target) {
  using Kind = ports::TransferTarget::Kind;
  static constexpr std::pair<std::string_view, Kind> kKeys[] = {
      {"queue", Kind::kQueue}, {"agent", Kind::kAgent}, {"number", Kind::kNumber}};
  FieldReader r(body, "body");
  std::string given;
  for (const auto& [key, kind] : kKeys) {
    std::string value;
    if (!r.String(key, value, false, key == "number" ? 32 : 128) || !r.ok()) continue;
    if (!given.empty()) {
      r.Fail(Bad(BadRequest::kBadValue, "body." + given + " and body." + std::string(key) +
                                            " are exclusive: give one of queue, agent, number"));
      break;
    }
    given = key;
    target.kind = kind;
    target.name = std::move(value);
    if (target.name.empty()) {
      r.Fail(Bad(BadRequest::kBadValue, "body." + given + " must not be empty"));
    }
  }
  if (r.ok() && given.empty()) {
    r.Fail(Bad(BadRequest::kMissingField, "body: give one of queue, agent, number"));
  }
  return r.Finish();
}

std::optional<ApiError> ReadOfferAnswer(const Json& body, std::string& agent) {
  if (body.is_null()) return std::nullopt;
  FieldReader r(body, "body");
  r.String("agent", agent, false, 128);
  return r.Finish();
}

std::optional<ApiError> ReadEmpty(const Json& body) {
  if (body.is_null()) return std::nullopt;
  FieldReader r(body, "body");
  return r.Finish();
}

std::optional<ApiError> ReadTokenIssue(const Json& body, TokenBody& out) {
  FieldReader r(body, "body");
  int64_t user = 0;
  if (r.Int("user_id", user, false, 1, std::numeric_limits<int64_t>::max())) {
    out.user_id = static_cast<uint64_t>(user);
  }
  std::string scope;
  if (r.String("scope", scope, true, 32)) {
    auto role = ParseRole(scope);
    if (!role) {
      r.Fail(Bad(BadRequest::kBadValue,
                 "body.scope is " + Quote(scope) + "; expected one of " + RoleList()));
    } else {
      out.scope = *role;
    }
  }
  r.String("description", out.description, false, 256);
  int64_t expires = 0;
  if (r.Int("expires_in_seconds", expires, false, 1, int64_t{10} * 365 * 86400)) {
    out.expires_in_seconds = expires;
  }
  return r.Finish();
}

std::optional<std::string> PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      unsigned v = 0;
      auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (ec != std::errc() || p != s.data() + i + 3) return std::nullopt;
      out.push_back(static_cast<char>(v));
      i += 2;
    } else if (s[i] == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::optional<ApiError> ParseContactId(std::string_view segment, ContactId& out) {
  const std::string shown = IsValidUtf8(segment) ? std::string(segment.substr(0, 64)) : "?";
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(segment.data(), segment.data() + segment.size(), v);
  if (segment.empty() || segment.size() > 20 || segment[0] == '0' || ec != std::errc() ||
      p != segment.data() + segment.size()) {
    return Bad(BadRequest::kBadId, "contact id '" + shown +
                                       "' is not a contact id (a decimal number from 1 to "
                                       "18446744073709551615)");
  }
  out = ContactId(v);
  return std::nullopt;
}

std::optional<ApiError> ParseCustomerId(std::string_view segment, ports::CustomerId& out) {
  ContactId as_number;
  if (ParseContactId(segment, as_number)) {
    const std::string shown = IsValidUtf8(segment) ? std::string(segment.substr(0, 64)) : "?";
    return Bad(BadRequest::kBadId, "customer id '" + shown +
                                       "' is not a customer id (a decimal number from 1 to "
                                       "18446744073709551615)");
  }
  out = ports::CustomerId(as_number.value());
  return std::nullopt;
}

std::optional<ApiError> ParseName(std::string_view segment, std::string_view what,
                                  std::string& out) {
  auto decoded = PercentDecode(segment);
  if (!decoded || !IsValidUtf8(*decoded)) {
    return Bad(BadRequest::kBadUtf8,
               std::string(what) + " in the path is not valid percent-encoded UTF-8");
  }
  if (decoded->empty() || decoded->size() > 128 || HasControl(*decoded)) {
    return Bad(BadRequest::kBadId, std::string(what) + " " + Quote(*decoded) +
                                       " is not a name (1-128 characters, no control "
                                       "characters)");
  }
  out = std::move(*decoded);
  return std::nullopt;
}

std::optional<ApiError> ParseQuery(std::string_view query,
                                   const std::vector<std::string_view>& allowed,
                                   std::map<std::string, std::string>& out) {
  size_t i = 0;
  while (i < query.size()) {
    size_t j = query.find('&', i);
    if (j == std::string_view::npos) j = query.size();
    const std::string_view pair = query.substr(i, j - i);
    i = j + 1;
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    auto key = PercentDecode(pair.substr(0, eq), true);
    auto value = PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (!key || !value || !IsValidUtf8(*key) || !IsValidUtf8(*value)) {
      return Bad(BadRequest::kBadUtf8, "the query string is not valid percent-encoded UTF-8");
    }
    if (std::find(allowed.begin(), allowed.end(), *key) == allowed.end()) {
      std::string names;
      for (auto a : allowed) names += (names.empty() ? "" : ", ") + std::string(a);
      return Bad(BadRequest::kBadQuery, "unknown query parameter " + Quote(*key) + " (allowed: " +
                                            (names.empty() ? std::string("none") : names) + ")");
    }
    if (out.count(*key)) {
      return Bad(BadRequest::kBadQuery, "query parameter " + Quote(*key) + " given twice");
    }
    out.emplace(std::move(*key), std::move(*value));
  }
  return std::nullopt;
}

namespace {
// As src/store names them, so the API, the journal and exports agree.
constexpr std::array<std::string_view, 6> kStateNames = {"in-flow",  "queued",  "offered",
                                                         "handling", "wrap-up", "closed"};

bool ParseUnsigned(std::string_view s, uint64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && s.size() <= 20 && ec == std::errc() && p == s.data() + s.size();
}
}  // namespace

std::string_view ContactStateName(ports::ContactState s) {
  return kStateNames[static_cast<size_t>(s)];
}

std::optional<ports::ContactState> ParseContactState(std::string_view name) {
  for (size_t i = 0; i < kStateNames.size(); ++i) {
    if (kStateNames[i] == name) return static_cast<ports::ContactState>(i);
  }
  return std::nullopt;
}

std::optional<ApiError> ReadContactFilter(const std::map<std::string, std::string>& query,
                                          ports::ContactFilter& out) {
  if (auto it = query.find("state"); it != query.end()) {
    auto s = ParseContactState(it->second);
    if (!s) {
      return Bad(BadRequest::kBadQuery,
                 "query parameter 'state' is " + Quote(it->second) +
                     "; expected one of in-flow, queued, offered, handling, wrap-up, closed");
    }
    out.state = *s;
  }
  if (auto it = query.find("queue"); it != query.end()) out.queue = it->second;
  if (auto it = query.find("agent"); it != query.end()) out.agent = it->second;
  if (auto it = query.find("limit"); it != query.end()) {
    uint64_t limit = 0;
    if (!ParseUnsigned(it->second, limit) || limit < 1 || limit > 1000) {
      return Bad(BadRequest::kBadQuery,
                 "query parameter 'limit' must be a whole number from 1 "
                 "to 1000");
    }
    out.limit = limit;
  }
  return std::nullopt;
}

std::optional<ApiError> ReadAfter(const std::map<std::string, std::string>& query,
                                  uint64_t& after) {
  after = 0;
  if (auto it = query.find("after"); it != query.end()) {
    if (!ParseUnsigned(it->second, after)) {
      return Bad(BadRequest::kBadQuery,
                 "query parameter 'after' must be an event sequence number (0 or more)");
    }
  }
  return std::nullopt;
}

}  // namespace parley::api
