#include "api/call_control.h"

#include <cctype>

namespace parley::api {

std::optional<ApiError> ReadMute(const Json& body, bool& muted) {
  FieldReader r(body, "body");
  r.Bool("muted", muted, true);
  return r.Finish();
}

std::optional<ApiError> ReadDigits(const Json& body, std::string& digits) {
  FieldReader r(body, "body");
  if (r.String("digits", digits, true, 64)) {
    for (char& d : digits) {
      if (d >= 'a' && d <= 'd') d = static_cast<char>(std::toupper(static_cast<unsigned char>(d)));
      const bool ok = std::isdigit(static_cast<unsigned char>(d)) != 0 || d == '*' || d == '#' ||
                      (d >= 'A' && d <= 'D');
      if (!ok) {
        r.Fail(ApiError{
            400, "bad_value",
            "body.digits: '" + std::string(1, d) + "' is not a DTMF digit (allowed: 0-9 * # A-D)",
            BadRequest::kBadValue});
        break;
      }
    }
    if (r.ok() && digits.empty()) {
      r.Fail(ApiError{400, "bad_value", "body.digits must not be empty", BadRequest::kBadValue});
    }
  }
  return r.Finish();
}

std::optional<ApiError> ReadMonitorMode(const Json& body, std::optional<ports::MonitorMode>& mode) {
  FieldReader r(body, "body");
  std::string name;
  r.String("mode", name, /*required=*/true, 16);
  if (auto e = r.Finish()) return e;
  static const std::pair<std::string_view, ports::MonitorMode> kModes[] = {
      {"listen", ports::MonitorMode::kListen},
      {"whisper", ports::MonitorMode::kWhisper},
      {"barge", ports::MonitorMode::kBarge}};
  for (const auto& [n, m] : kModes) {
    if (n == name) {
      mode = m;
      return std::nullopt;
    }
  }
  if (name == "stop") {
    mode.reset();
    return std::nullopt;
  }
  return ApiError{400, "bad_value",
                  "body.mode is '" + name + "'; expected one of listen, whisper, barge, stop",
                  BadRequest::kBadValue};
}

std::optional<ApiError> ReadConsult(const Json& body, std::string& target, bool& queue) {
  FieldReader r(body, "body");
  std::string agent, queue_name;
  const bool by_agent = r.String("agent", agent, false, 128);
  const bool by_queue = r.ok() && r.String("queue", queue_name, false, 128);
  if (r.ok() && by_agent == by_queue) {
    r.Fail(ApiError{400, by_agent ? "bad_value" : "missing_field",
                    by_agent ? "body.agent and body.queue are exclusive: give one of them"
                             : "body: give the agent or the queue to consult",
                    by_agent ? BadRequest::kBadValue : BadRequest::kMissingField});
  }
  queue = by_queue;
  target = by_queue ? queue_name : agent;
  if (r.ok() && target.empty()) {
    r.Fail(ApiError{
        400, "bad_value",
        std::string("body.") + (queue ? "queue must name a queue" : "agent must name an agent"),
        BadRequest::kBadValue});
  }
  return r.Finish();
}

std::optional<ApiError> ReadPlaceCall(const Json& body, ports::OutboundCall& call) {
  FieldReader r(body, "body");
  r.String("number", call.number, true, 32);
  r.String("queue", call.queue, true, 128);
  r.String("agent", call.agent, false, 128);
  if (r.ok() && call.number.empty()) {
    r.Fail(ApiError{400, "bad_value", "body.number must not be empty", BadRequest::kBadValue});
  }
  return r.Finish();
}

}  // namespace parley::api
