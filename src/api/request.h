#pragma once
// The API's input validation: untrusted request text (JSON bodies, path segments, query strings)
// in, typed port inputs or an ApiError out. Nothing here throws or crashes on any input (the
// libFuzzer harness tests/fuzz/api_request.cc checks that); every error names the problem: the
// field, the expected type or the allowed values. No I/O, no Beast: pure functions, thread-safe.

#include <cstddef>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "domain/agent_state.h"
#include "domain/ids.h"
#include "domain/user.h"
#include "ports/contact_center.h"

namespace parley::api {

using Json = nlohmann::json;

// Kinds of bad request, each counted for /metrics (parley_http_bad_requests_total{reason}).
enum class BadRequest : uint8_t {
  kMalformedJson,    // not JSON at all, or trailing garbage
  kTooDeep,          // nested deeper than the limit
  kBadUtf8,          // body, path or query not valid UTF-8
  kWrongType,        // a field of the wrong JSON type
  kUnknownField,     // a field the route does not take
  kMissingField,     // a required field absent
  kBadValue,         // right type, value not allowed (unknown channel, out of range)
  kBadId,            // an id in the path that is not one
  kBadQuery,         // unknown or malformed query parameter
  kBodyTooLarge,     // 413
  kHeadersTooLarge,  // 431
  kTimeout,          // 408: the request did not arrive in time
  kBadHttp,          // not HTTP/1.1 Beast could parse
  kNotFound,         // no such route
  kMethodNotAllowed,
};
inline constexpr size_t kBadRequestCount = 15;
std::string_view BadRequestName(BadRequest b);  // "malformed_json", ...

// An answer that is not a success: HTTP status, a stable machine code and a message for people.
struct ApiError {
  int http_status = 400;
  std::string code;                       // "bad_request", "not_found", ...
  std::string message;                    // says what was wrong and where
  std::optional<BadRequest> bad_request;  // counted when set
};

// {"error":{"code":...,"message":...}}
std::string ErrorBody(const ApiError& e);

// A port Status as an API error: kNotFound 404, kInvalidArgument 422, kConflict 409,
// kPermissionDenied 403, kUnavailable 503, kInternal 500.
ApiError FromStatus(const Status& s);

bool IsValidUtf8(std::string_view s);

struct JsonLimits {
  size_t max_depth = 32;
};

// Parses a request body: valid UTF-8, one JSON value, nested at most max_depth deep. Errors
// give the byte offset.
std::optional<ApiError> ParseJsonBody(std::string_view body, const JsonLimits& limits, Json& out);

// Reads the fields of one JSON object, remembering which were read; Finish() then refuses any
// field not read, naming it. The first error wins. Field paths in messages are relative to
// `where` ("body", "body.from").
class FieldReader {
 public:
  FieldReader(const Json& value, std::string where);

  bool String(std::string_view name, std::string& out, bool required, size_t max_length = 1024);
  bool Int(std::string_view name, int64_t& out, bool required, int64_t min, int64_t max);
  bool Bool(std::string_view name, bool& out, bool required);
  // The raw value of a field of any type (nullptr when absent and not required).
  const Json* Raw(std::string_view name, bool required);
  void Fail(ApiError e);
  // The first error, or an unknown field.
  std::optional<ApiError> Finish();
  bool ok() const { return !error_; }
  std::string Path(std::string_view name) const { return where_ + "." + std::string(name); }

 private:
  const Json* Field(std::string_view name, bool required);

  const Json& value_;
  std::string where_;
  std::vector<std::string> read_;
  std::optional<ApiError> error_;
};

// "string", "integer", "object", ... as JSON Schema names them.
std::string_view JsonTypeName(const Json& v);

// Route bodies. Each checks types, unknown and missing fields, and value ranges.
struct LoginBody {
  std::string login;
  std::string password;
};
std::optional<ApiError> ReadLogin(const Json& body, LoginBody& out);

struct PresenceBody {
  Presence presence = Presence::kOffline;
  std::string reason;
};
std::optional<ApiError> ReadPresence(const Json& body, PresenceBody& out);
std::optional<Presence> ParsePresence(std::string_view name);  // "available", ...

std::optional<ApiError> ReadNewContact(const Json& body, ports::NewContact& out);
std::optional<ApiError> ReadWrapUp(const Json& body, ports::WrapUp& out);
// {"name", "identities": [{"channel","address"}], "fields": {}, "tags": []}: name required.
std::optional<ApiError> ReadCustomer(const Json& body, ports::Customer& out);
// {"text"}: required, at most 16384 bytes.
std::optional<ApiError> ReadCustomerNote(const Json& body, std::string& text);
// Exactly one of {"queue": "..."}, {"agent": "..."}, {"number": "..."}.
std::optional<ApiError> ReadTransfer(const Json& body, ports::TransferTarget& target);
// {"agent": "..."} optional (accept, reject); an empty body is allowed.
std::optional<ApiError> ReadOfferAnswer(const Json& body, std::string& agent);
// An empty body or {} (end, cancel, logout).
std::optional<ApiError> ReadEmpty(const Json& body);

struct TokenBody {
  std::optional<uint64_t> user_id;  // default: the caller
  Role scope = Role::kWallboard;
  std::string description;
  std::optional<int64_t> expires_in_seconds;
};
std::optional<ApiError> ReadTokenIssue(const Json& body, TokenBody& out);

// Path segments and query strings.
// '+' means a space only in query strings.
std::optional<std::string> PercentDecode(std::string_view s, bool plus_is_space = false);
// A contact id: decimal, 1 .. 2^64-1, no sign, no leading zero.
std::optional<ApiError> ParseContactId(std::string_view segment, ContactId& out);
std::optional<ApiError> ParseCustomerId(std::string_view segment, ports::CustomerId& out);
// A name from the path (agent, queue, token prefix): percent-decoded, valid UTF-8, 1-128
// characters, no control characters.
std::optional<ApiError> ParseName(std::string_view segment, std::string_view what,
                                  std::string& out);
// "a=1&b=2" into a map; only `allowed` keys, each at most once.
std::optional<ApiError> ParseQuery(std::string_view query,
                                   const std::vector<std::string_view>& allowed,
                                   std::map<std::string, std::string>& out);
// The /contacts listing filter from its query map.
std::optional<ApiError> ReadContactFilter(const std::map<std::string, std::string>& query,
                                          ports::ContactFilter& out);
std::string_view ContactStateName(
    ports::ContactState s);  // "in-flow", "queued", ... (as src/store names them)
std::optional<ports::ContactState> ParseContactState(std::string_view name);
// ?after=<seq> for the event stream.
std::optional<ApiError> ReadAfter(const std::map<std::string, std::string>& query, uint64_t& after);

}  // namespace parley::api
