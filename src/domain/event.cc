#include "domain/event.h"

#include <algorithm>
#include <array>
#include <cstdint>

namespace parley {

std::string_view EventTypeName(EventType t) {
  static constexpr std::array<std::string_view, kEventTypeCount> kNames = {"contact.queued",
                                                                           "contact.offered",
                                                                           "offer.accepted",
                                                                           "offer.rejected",
                                                                           "offer.timed_out",
                                                                           "offer.withdrawn",
                                                                           "contact.abandoned",
                                                                           "contact.escalated",
                                                                           "contact.overflowed",
                                                                           "contact.timed_out",
                                                                           "contact.transferred",
                                                                           "contact.removed",
                                                                           "handling.started",
                                                                           "handling.ended",
                                                                           "hold.started",
                                                                           "hold.ended",
                                                                           "wrap_up.started",
                                                                           "wrap_up.ended",
                                                                           "agent.presence_changed",
                                                                           "contact.closed",
                                                                           "flow.step_entered",
                                                                           "flow.step_exited",
                                                                           "flow.ended",
                                                                           "survey.answered",
                                                                           "recording.started",
                                                                           "recording.masked",
                                                                           "recording.unmasked",
                                                                           "recording.stopped",
                                                                           "recording.completed",
                                                                           "media.stats",
                                                                           "monitor.started",
                                                                           "monitor.mode_changed",
                                                                           "monitor.ended",
                                                                           "consult.started",
                                                                           "consult.ended",
                                                                           "conference.started",
                                                                           "conference.ended",
                                                                           "outbound.started",
                                                                           "outbound.answered",
                                                                           "outbound.failed",
                                                                           "consult.waiting",
                                                                           "consult.answered",
                                                                           "transfer.failed"};
  return kNames[static_cast<size_t>(t)];
}

namespace {

void Append(std::string& out, std::string_view key, std::string_view value) {
  if (value.empty()) return;
  if (!out.empty()) out.push_back('\t');
  out.append(key);
  out.push_back('=');
  for (char c : value) out.push_back(c == '\t' || c == '\n' || c == '\r' ? ' ' : c);
}

// A whole non-negative or -1 number; `fallback` otherwise.
int64_t Number(std::string_view s, int64_t fallback) {
  if (s == "-1") return -1;
  if (s.empty() || s.size() > 18) return fallback;
  int64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return fallback;
    n = n * 10 + (c - '0');
  }
  return n;
}

}  // namespace

std::string FormatFlowEventFields(const FlowEventFields& f) {
  std::string out;
  Append(out, "flow", f.flow);
  if (f.version != 0) Append(out, "version", std::to_string(f.version));
  Append(out, "step", f.step);
  Append(out, "step_type", f.step_type);
  Append(out, "exit", f.exit);
  Append(out, "outcome", f.outcome);
  Append(out, "question", f.question);
  Append(out, "survey_kind", f.survey_kind);
  if (f.score >= 0) Append(out, "score", std::to_string(f.score));
  Append(out, "answer", f.answer);
  return out;
}

FlowEventFields ParseFlowEventFields(std::string_view text) {
  FlowEventFields f;
  while (!text.empty()) {
    const size_t tab = text.find('\t');
    const std::string_view pair = text.substr(0, tab);
    text = tab == std::string_view::npos ? std::string_view{} : text.substr(tab + 1);
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view key = pair.substr(0, eq);
    const std::string_view value = pair.substr(eq + 1);
    if (key == "flow") {
      f.flow = value;
    } else if (key == "version") {
      f.version = static_cast<uint64_t>(std::max<int64_t>(0, Number(value, 0)));
    } else if (key == "step") {
      f.step = value;
    } else if (key == "step_type") {
      f.step_type = value;
    } else if (key == "exit") {
      f.exit = value;
    } else if (key == "outcome") {
      f.outcome = value;
    } else if (key == "question") {
      f.question = value;
    } else if (key == "survey_kind") {
      f.survey_kind = value;
    } else if (key == "score") {
      f.score = static_cast<int>(Number(value, -1));
    } else if (key == "answer") {
      f.answer = value;
    }
  }
  return f;
}

std::string FormatEventFields(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [key, value] : fields) {
    if (!out.empty()) out.push_back('\t');
    out.append(key);
    out.push_back('=');
    for (char c : value) out.push_back(c == '\t' || c == '\n' || c == '\r' ? ' ' : c);
  }
  return out;
}

std::string TransferText(std::string_view kind, std::string_view key, std::string_view value) {
  return std::string(kind) + "\t" + FormatEventFields({{std::string(key), std::string(value)}});
}

std::string_view TransferKind(std::string_view text) { return text.substr(0, text.find('\t')); }

std::vector<std::pair<std::string, std::string>> ParseEventFields(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!text.empty()) {
    const size_t tab = text.find('\t');
    const std::string_view pair = text.substr(0, tab);
    text = tab == std::string_view::npos ? std::string_view() : text.substr(tab + 1);
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    out.emplace_back(std::string(pair.substr(0, eq)), std::string(pair.substr(eq + 1)));
  }
  return out;
}

}  // namespace parley
