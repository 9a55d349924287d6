#pragma once
// Events: every transition of a contact or an agent, with its time and ids. They are the only
// source of truth for metrics (src/analytics) and the journal. One flat struct keeps them cheap to
// copy, store and scan; `type` says which fields are meaningful.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/time.h"
#include "domain/agent_state.h"
#include "domain/channel.h"
#include "domain/ids.h"

namespace parley {

enum class EventType : uint8_t {
  kContactQueued,       // contact, queue, channel, value = priority
  kContactOffered,      // contact, agent, queue, channel
  kOfferAccepted,       // contact, agent, queue
  kOfferRejected,       // contact, agent, queue
  kOfferTimedOut,       // contact, agent, queue
  kOfferWithdrawn,      // contact, agent, queue (ring-all losers, contact gone, agent logout)
  kContactAbandoned,    // contact, queue, channel (customer left while waiting or ringing)
  kContactEscalated,    // contact, queue, value = step number (1-based)
  kContactOverflowed,   // contact, queue = from, value = to-queue index
  kContactTimedOut,     // contact, queue, text = flow to run (max wait reached)
  kContactTransferred,  // contact, agent = from, queue = to, text = TransferText (below)
  kContactRemoved,      // contact, queue (cancelled by the system, not the customer)
  kHandlingStarted,     // contact, agent, queue, channel
  kHandlingEnded,       // contact, agent, queue, channel
  kHoldStarted,         // contact, agent
  kHoldEnded,           // contact, agent
  kWrapUpStarted,       // contact, agent, queue, channel
  kWrapUpEnded,         // contact, agent, queue, channel
  kPresenceChanged,     // agent, value = new Presence, text = reason code
  kContactClosed,       // contact, queue, channel
  // Contact flows (IVR, bots): contact, channel, text = FlowEventFields (below), value = the
  // flow version (kSurveyAnswered: the score, -1 for a text answer).
  kFlowStepEntered,  // flow, version, step, step_type
  kFlowStepExited,   // ... and exit (the exit taken)
  kFlowEnded,        // ... and outcome (how the contact left the flow, at `step`)
  kSurveyAnswered,   // ... and question, survey_kind ("csat", "nps", "text"), score, answer
  // Call recording and media quality (issue 6): contact, agent, queue, channel; text = "key=value"
  // fields (FormatEventFields below).
  kRecordingStarted,    // by (policy, or the user who started it)
  kRecordingMasked,     // by: paused, the file goes on with silence (timing kept)
  kRecordingUnmasked,   // by
  kRecordingStopped,    // by
  kRecordingCompleted,  // value = recording id; id, kind, path, bytes, duration_ms, sha256
  kMediaStats,          // leg ("customer", "agent"), received, sent, lost, dropped, jitter_ms
  // Supervisor monitoring (issue 8): contact, agent, queue, channel; text = "key=value" fields.
  kMonitorStarted,      // supervisor, mode (listen, whisper, barge)
  kMonitorModeChanged,  // supervisor, mode
  kMonitorEnded,        // supervisor, reason (stopped, supervisor_hung_up, no_answer, call_ended)
  // Consultation (attended) transfer (issue 8): contact, agent (the handling one), queue,
  // channel; text = "key=value" fields. Its completion is also a kContactTransferred whose text
  // is "attended" (queue_log ATTENDEDTRANSFER).
  kConsultStarted,  // target (the agent consulted)
  kConsultEnded,    // target, reason (completed, cancelled, target_hung_up, no_answer, refused,
                    // call_ended, transferor_hung_up, transferor_hung_up_before_answer); a
                    // consultation of a queue also consulted_queue (kConsultStarted too), and
                    // while it waited no target and reason cancelled, timeout or call_ended
  // Three-way conference (issue 8), out of a consultation: contact, agent, queue, channel.
  kConferenceStarted,  // target (the third party, an agent)
  kConferenceEnded,    // target, reason (agent_left, target_left, cancelled, completed, call_ended)
  // Outbound calls (click-to-dial, issues 6 and 8): contact, agent, queue, channel; text =
  // "key=value" fields.
  kOutboundStarted,   // number, trunk, by (the user who asked): the agent's phone rings
  kOutboundAnswered,  // number: the customer answered, the call is connected
  kOutboundFailed,    // number, reason (agent_no_answer, busy, no_answer, rejected,
                      // not_found, failed), sip_status
  // Consultation of a queue and the consulted phone (issue 8): contact, agent (the handling
  // one), queue, channel; text = "key=value" fields.
  kConsultWaiting,   // consulted_queue, by; after a member did not take it also passed (that
                     // agent) and reason (no_answer, refused, no_phone, failed)
  kConsultAnswered,  // target: the consulted agent's phone answered, the two agents talk
  // A blind transfer to an agent or a number did not connect (issue 8): contact, agent (the
  // pending target, or none), queue, channel; text = target, reason (as TransferUpdate's),
  // sip_status. The call went back to its queue.
  kTransferFailed,
};
constexpr int kEventTypeCount = 43;
std::string_view EventTypeName(EventType t);

// Whether `t` is one of the flow event types, whose text holds FlowEventFields.
constexpr bool IsFlowEvent(EventType t) {
  return t == EventType::kFlowStepEntered || t == EventType::kFlowStepExited ||
         t == EventType::kFlowEnded || t == EventType::kSurveyAnswered;
}

// The fields of a flow event, carried in Event::text as "key=value" pairs joined by tabs (in
// the order below, empty ones left out), so the journal keeps them without a column of its own:
// "flow=main\tversion=3\tstep=menu\tstep_type=menu\texit=2". Tabs and line breaks inside values
// become spaces; the answer (free text) comes last. Outcome names are flow::FlowOutcomeName's
// ("completed", "abandoned", "connected", "transferred", "voicemail", "callback", "failed") and
// "cancelled" when the contact was withdrawn by the system while in the flow.
struct FlowEventFields {
  std::string flow;
  uint64_t version = 0;
  std::string step;
  std::string step_type;  // "menu", "queue", ... (flow::StepKindName)
  std::string exit;       // kFlowStepExited
  std::string outcome;    // kFlowEnded
  std::string question;   // kSurveyAnswered: the question's id
  std::string survey_kind;
  int score = -1;  // -1: none (a text answer)
  std::string answer;
  bool operator==(const FlowEventFields&) const = default;
};
std::string FormatFlowEventFields(const FlowEventFields& fields);
// Unknown keys are skipped, so fields can be added later; a malformed pair is skipped too.
FlowEventFields ParseFlowEventFields(std::string_view text);

// Event text as "key=value" pairs joined by tabs (tabs and line breaks in values become spaces),
// for events whose fields have no column of their own (recording, media quality).
std::string FormatEventFields(const std::vector<std::pair<std::string, std::string>>& fields);
// Pairs without '=' are skipped.
std::vector<std::pair<std::string, std::string>> ParseEventFields(std::string_view text);

// The text of a kContactTransferred event: a kind, then "key=value" fields after a tab. Kinds:
// "" (blind, to the queue in `queue`, or out to a contact flow), "attended" (a consultation
// completed), "agent" (blind, to the agent of field `target`), "external" (blind, to the number
// of field `number`, through the outbound trunk).
std::string TransferText(std::string_view kind, std::string_view key, std::string_view value);
std::string_view TransferKind(std::string_view text);

struct Event {
  EventType type{};
  TimePoint time{};
  ContactId contact{};
  AgentIndex agent = kNone;
  QueueIndex queue = kNone;
  Channel channel = Channel::kVoice;
  int64_t value = 0;
  std::string text;
};

}  // namespace parley
