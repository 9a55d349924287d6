#include "api/recordings.h"

#include <charconv>
#include <utility>

#include "api/views.h"
#include "base/text.h"

namespace parley::api {

namespace {

ApiError BadQuery(std::string message) {
  return {400, "bad_request", std::move(message), BadRequest::kBadQuery};
}

bool Unsigned(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 20) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::optional<ApiError> Time(const std::map<std::string, std::string>& query, const char* key,
                             TimePoint& out) {
  auto it = query.find(key);
  if (it == query.end()) return std::nullopt;
  auto t = ParseIsoDateTime(it->second);
  if (!t) {
    return BadQuery(std::string("query parameter '") + key +
                    "' must be an ISO 8601 time such as 2026-01-31T09:00:00Z, got '" + it->second +
                    "'");
  }
  out = *t;
  return std::nullopt;
}

}  // namespace

std::optional<ApiError> ReadRecordingFilter(const std::map<std::string, std::string>& query,
                                            ports::RecordingFilter& out) {
  if (auto e = Time(query, "from", out.from)) return e;
  if (auto e = Time(query, "to", out.to)) return e;
  if (out.from != TimePoint{} && out.to != TimePoint{} && out.to <= out.from) {
    return BadQuery("query parameter 'to' must be later than 'from'");
  }
  if (auto it = query.find("queue"); it != query.end()) out.queue = it->second;
  if (auto it = query.find("agent"); it != query.end() && !it->second.empty()) {
    out.agents = {it->second};
  }
  if (auto it = query.find("customer"); it != query.end()) {
    uint64_t id = 0;
    if (!Unsigned(it->second, id) || id == 0) {
      return BadQuery("query parameter 'customer' must be a customer id (a whole number from 1)");
    }
    out.customer = ports::CustomerId(id);
  }
  if (auto it = query.find("after"); it != query.end()) {
    if (!Unsigned(it->second, out.after_id)) {
      return BadQuery("query parameter 'after' must be a recording id (a whole number)");
    }
  }
  if (auto it = query.find("limit"); it != query.end()) {
    uint64_t limit = 0;
    if (!Unsigned(it->second, limit) || limit < 1 || limit > 500) {
      return BadQuery("query parameter 'limit' must be a whole number from 1 to 500");
    }
    out.limit = limit;
  }
  return std::nullopt;
}

std::optional<ApiError> ReadRecordingCommand(const Json& body, ports::RecordingCommand& out) {
  if (!body.is_object()) {
    return ApiError{400, "bad_request",
                    "the request body must be a JSON object such as {\"action\": \"pause\"}",
                    BadRequest::kWrongType};
  }
  FieldReader r(body, "body");
  std::string action;
  r.String("action", action, /*required=*/true, 16);
  if (auto e = r.Finish()) return e;
  static const std::pair<std::string_view, ports::RecordingCommand> kActions[] = {
      {"start", ports::RecordingCommand::kStart},   {"stop", ports::RecordingCommand::kStop},
      {"pause", ports::RecordingCommand::kPause},   {"mask", ports::RecordingCommand::kPause},
      {"resume", ports::RecordingCommand::kResume}, {"unmask", ports::RecordingCommand::kResume}};
  for (const auto& [name, command] : kActions) {
    if (name == action) {
      out = command;
      return std::nullopt;
    }
  }
  return ApiError{400, "bad_request",
                  "body.action is '" + action +
                      "'; expected one of start, stop, pause (or mask), resume (or unmask)",
                  BadRequest::kBadValue};
}

std::optional<ApiError> ParseRecordingId(std::string_view segment, uint64_t& out) {
  if (!Unsigned(segment, out) || out == 0 || segment.front() == '0') {
    return ApiError{400, "bad_request",
                    "a recording id is a whole number from 1, without leading zeros",
                    BadRequest::kBadId};
  }
  return std::nullopt;
}

Json RecordingJson(const ports::RecordingRecord& r) {
  return {
      {"id", std::to_string(r.id)},
      {"contact", std::to_string(r.contact.value())},
      {"kind", r.kind},
      {"bytes", r.bytes},
      {"duration_ms", std::chrono::duration_cast<std::chrono::milliseconds>(r.duration).count()},
      {"sha256", r.sha256},
      {"started_at", TimeJson(r.started)},
      {"completed_at", TimeJson(r.completed)},
      {"queue", r.queue},
      {"agent", r.agent},
      {"customer", r.customer.valid() ? Json(std::to_string(r.customer.value())) : Json()}};
}

void AddRecordingFields(const ports::ContactSnapshot& c, Json& contact) {
  Json recordings = Json::array();
  for (const auto& r : c.recordings) recordings.push_back(RecordingJson(r));
  contact["recording"] = c.recordings.empty() ? Json() : recordings.back();
  contact["recordings"] = std::move(recordings);
  contact["recording_state"] = !c.recording_active ? "off" : (c.recording_masked ? "paused" : "on");
  Json legs = Json::array();
  for (const auto& l : c.legs) {
    legs.push_back({{"leg", l.leg},
                    {"agent", l.agent},
                    {"packets_received", l.packets_received},
                    {"packets_sent", l.packets_sent},
                    {"packets_lost", l.packets_lost},
                    {"packets_dropped", l.packets_dropped},
                    {"jitter_ms", l.jitter_ms},
                    {"closed_at", TimeJson(l.closed)}});
  }
  contact["legs"] = std::move(legs);
}

std::optional<ApiError> ParseByteRange(std::string_view header, uint64_t size,
                                       std::optional<ByteRange>& out) {
  out.reset();
  constexpr std::string_view kUnit = "bytes=";
  if (header.substr(0, kUnit.size()) != kUnit) return std::nullopt;
  std::string_view spec = header.substr(kUnit.size());
  if (spec.find(',') != std::string_view::npos) return std::nullopt;  // several: whole file
  const size_t dash = spec.find('-');
  const ApiError unsatisfiable{416, "range_not_satisfiable",
                               "the Range '" + std::string(header) + "' is not within the " +
                                   std::to_string(size) + " bytes of the recording",
                               std::nullopt};
  if (dash == std::string_view::npos) return unsatisfiable;
  const std::string_view a = spec.substr(0, dash);
  const std::string_view b = spec.substr(dash + 1);
  uint64_t first = 0;
  uint64_t last = 0;
  if (a.empty()) {  // the last n bytes
    uint64_t n = 0;
    if (!Unsigned(b, n) || n == 0 || size == 0) return unsatisfiable;
    first = n >= size ? 0 : size - n;
    last = size - 1;
  } else {
    if (!Unsigned(a, first) || first >= size) return unsatisfiable;
    last = size - 1;
    if (!b.empty()) {
      if (!Unsigned(b, last) || last < first) return unsatisfiable;
      last = std::min(last, size - 1);
    }
  }
  out = ByteRange{first, last};
  return std::nullopt;
}

}  // namespace parley::api
