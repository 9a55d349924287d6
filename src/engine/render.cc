#include "engine/render.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "domain/agent_state.h"
#include "domain/channel.h"

namespace parley::engine {

std::string FormatIsoUtc(TimePoint t) {
  const auto day = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss<Duration> hms{t - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count(),
                     hms.subseconds().count());
}

std::string RenderEventJson(const Event& e, ports::Sequence seq, const EventNames& names) {
  nlohmann::json j;
  j["schema"] = 1;
  j["seq"] = seq;
  j["type"] = std::string(EventTypeName(e.type));
  j["time"] = FormatIsoUtc(e.time);
  if (e.contact.valid()) {
    j["contact"] = std::to_string(e.contact.value());  // a string, as in the REST API
    j["channel"] = std::string(ChannelName(e.channel));
  }
  if (!names.agent.empty()) j["agent"] = names.agent;
  if (!names.team.empty()) j["team"] = names.team;
  if (!names.queue.empty()) j["queue"] = names.queue;
  switch (e.type) {
    case EventType::kContactQueued:
      j["priority"] = e.value;
      if (!names.customer.empty()) j["customer"] = names.customer;  // a string, like contact ids
      break;
    case EventType::kContactEscalated:
      j["step"] = e.value;
      break;
    case EventType::kContactOverflowed:
      j["to_queue"] = names.to_queue;
      break;
    case EventType::kContactTimedOut:
      j["flow"] = e.text;
      break;
    case EventType::kPresenceChanged:
      j["presence"] = std::string(PresenceName(static_cast<Presence>(e.value)));
      j["reason"] = e.text;
      break;
    case EventType::kContactTransferred:
      // "text": "" (to the queue), "attended", "agent" with "target", "external" with "number".
      if (!e.text.empty()) j["text"] = std::string(TransferKind(e.text));
      for (const auto& [key, value] : ParseEventFields(e.text)) j[key] = value;
      break;
    case EventType::kWrapUpEnded:
      if (!e.text.empty()) j["disposition"] = e.text;
      break;
    case EventType::kFlowStepEntered:
    case EventType::kFlowStepExited:
    case EventType::kFlowEnded:
    case EventType::kSurveyAnswered: {
      const FlowEventFields f = ParseFlowEventFields(e.text);
      j["flow"] = f.flow;
      j["version"] = f.version;
      j["step"] = f.step;
      j["step_type"] = f.step_type;
      if (e.type == EventType::kFlowStepExited) j["exit"] = f.exit;
      if (e.type == EventType::kFlowEnded) j["outcome"] = f.outcome;
      if (e.type == EventType::kSurveyAnswered) {
        j["question"] = f.question;
        j["survey_kind"] = f.survey_kind;
        if (f.score >= 0) j["score"] = f.score;
        if (!f.answer.empty()) j["answer"] = f.answer;
      }
      break;
    }
    case EventType::kRecordingStarted:
    case EventType::kRecordingMasked:
    case EventType::kRecordingUnmasked:
    case EventType::kRecordingStopped:
    case EventType::kRecordingCompleted:
    case EventType::kMediaStats:
    case EventType::kMonitorStarted:
    case EventType::kMonitorModeChanged:
    case EventType::kMonitorEnded:
    case EventType::kConsultStarted:
    case EventType::kConsultEnded:
    case EventType::kConferenceStarted:
    case EventType::kConferenceEnded:
    case EventType::kOutboundStarted:
    case EventType::kOutboundAnswered:
    case EventType::kOutboundFailed:
    case EventType::kConsultWaiting:
    case EventType::kConsultAnswered:
    case EventType::kTransferFailed:
      // Whole numbers and decimals as JSON numbers (bytes, duration_ms, jitter_ms, ...).
      for (const auto& [key, value] : ParseEventFields(e.text)) {
        const bool number = !value.empty() && value.size() < 19 &&
                            value.find_first_not_of("0123456789.") == std::string::npos &&
                            std::count(value.begin(), value.end(), '.') <= 1 &&
                            value.front() != '.' && value.back() != '.' && key != "sha256" &&
                            key != "number" && key != "path";
        nlohmann::json parsed =
            number ? nlohmann::json::parse(value, nullptr, false) : nlohmann::json();
        if (number && !parsed.is_discarded()) {
          j[key] = std::move(parsed);
        } else {
          j[key] = value;
        }
      }
      break;
    default:
      if (!e.text.empty()) j["text"] = e.text;
      break;
  }
  return j.dump();
}

std::string RenderResetJson(ports::Sequence after, ports::Sequence seq, const std::string& reason) {
  nlohmann::json j;
  j["schema"] = 1;
  j["seq"] = seq;
  j["type"] = "reset";
  j["after"] = after;
  j["reason"] = reason;
  return j.dump();
}

}  // namespace parley::engine
