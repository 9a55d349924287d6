#pragma once
// The seam between the engine and the channel adapters (voice now; chat, email later).
//
// Inbound (adapter -> engine), added to ContactCenter by ChannelIntake below: a contact arrives
// at an entry point (dialled number, widget id, address, task type), the engine creates the
// contact, attaches its customer, and runs the entry point's flow on its loop; what the customer
// does afterwards (a prompt ended, digits, text, hang-up) comes back as ChannelInput.
//
// Outbound (engine -> adapter), ChannelAdapter: the flow's media requests (ContactMedia: play,
// stop, send text, hang up) and the ACD's offers. An adapter is attached for one channel; the
// engine calls it on its loop thread and the adapter must not block (it posts to its own loop).
//
// The life of a voice contact across this seam:
//   SIP INVITE         -> ContactArrived(voice, entry "+4420...", from tel)   -> flow runs
//   flow play/menu     -> ChannelAdapter::Play(contact, ...)                 (media plays)
//   prompt ends, DTMF  -> ChannelInput(contact, PromptFinished / Digits)
//   flow queue step    -> ACD enqueues; in-queue music is a looping Play
//   ACD offers         -> ChannelAdapter::OfferToAgent(contact, agent, timeout) (INVITE phone)
//   phone answers      -> ContactCenter::AcceptOffer(system, contact, agent)  (bridge media)
//   no answer / busy   -> ContactCenter::RejectOffer (the contact keeps its place; misses count)
//   offer withdrawn    -> ChannelAdapter::OfferWithdrawn (CANCEL the ringing phone)
//   either side hangs up -> ChannelInput(CustomerLeft) or EndHandling (agent into wrap-up)
//   closed elsewhere   -> ChannelAdapter::ContactEnded (API ended or cancelled it: send BYE)

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>

#include "base/status.h"
#include "base/time.h"
#include "domain/channel.h"
#include "domain/contact.h"
#include "domain/ids.h"
#include "ports/contact_center.h"
#include "ports/flow_ports.h"
#include "ports/media_plane.h"
#include "ports/store.h"

namespace parley::ports {

struct ArrivingContact {
  Channel channel = Channel::kVoice;
  Direction direction = Direction::kInbound;
  std::string entry;  // entry point: dialled number, widget id, address, task type
  std::string language;
  Attributes attributes;                 // e.g. sip.call_id, sip.from_display
  std::optional<CustomerIdentity> from;  // caller's number / address; attached to a customer
};

// What the customer's side did, reported by the adapter.
struct PromptEnded {
  uint64_t play_id = 0;
};
struct DigitsPressed {
  std::string digits;  // DTMF keys as they arrive (RFC 4733 or in-band), e.g. "2"
};
struct TextArrived {
  std::string text;
};
struct CustomerLeft {};  // hung up / closed the chat: abandon if waiting, wrap-up if handled
using ChannelInput = std::variant<PromptEnded, DigitsPressed, TextArrived, CustomerLeft>;

// ---- Call recording and media quality (issue 6; docs/voice.md, "Recording") ----

// What the engine decided for an offered call, from its queue's policy: record it from the moment
// the agent's phone is connected (`record`), and/or play `announcement` to the caller first.
struct RecordingPlan {
  bool record = false;
  Prompt announcement;  // empty: none
  bool operator==(const RecordingPlan&) const = default;
};

// A finished recording, as the adapter reports it: the media plane's RecordingInfo and when the
// recording began.
struct RecordedAudio {
  RecordingInfo info;
  TimePoint started{};
  uint16_t channels = 2;  // 2: customer left, agent right; 1: voicemail
};

// Which side of a call a media leg is.
enum class LegRole : uint8_t { kCustomer, kAgent };

// Why a monitoring session ended on the adapter's side (ChannelIntake::MonitorEnded).
enum class MonitorEnd : uint8_t {
  kSupervisorHungUp,  // BYE from the supervisor's phone
  kNoAnswer,          // every phone refused or failed
  kCallEnded,         // the call itself ended (its legs are gone)
};

// Why a consultation ended on the adapter's side (ChannelIntake::ConsultEnded).
enum class ConsultEnd : uint8_t {
  kTargetHungUp,  // BYE from the consulted agent's phone: the customer is back with the agent
  kNoAnswer,      // the target's phones failed or rang past the ring timeout
  kRefused,       // the target's phones refused, the last with busy or decline (486, 600, 603)
  kCallEnded,     // the call itself ended (its legs are gone)
  // The first agent hung up after the target answered (consultation or conference): the
  // adapter bridged customer and target, the target has the call now (an attended transfer).
  kAgentLeft,
  // The first agent hung up while the target's phone still rang: the adapter cancelled the
  // ringing and the customer holds with music; the engine puts the call back in its queue.
  kAgentLeftRinging,
};

// Click-to-dial (docs/voice.md, "Outbound calls"): ring the agent's phone(s) first and, when one
// answers, call `number` through the adapter's outbound trunk and bridge the two; `recording`
// applies once the customer answers (as PrepareRecording's plan does for an offer).
struct OutboundDial {
  std::string agent;
  std::string number;  // digits with an optional leading '+', already checked by the engine
  RecordingPlan recording;
  Duration ring_timeout{};  // of the agent's phone; zero = the adapter's ring timeout
  // A callback contact the ACD offered to `agent` (rather than one the engine put at the agent):
  // the phone answering accepts the offer (ContactCenter::AcceptOffer) before the number is
  // called; the phones refusing or ringing out reject it (RejectOffer), as for an inbound
  // call's offer, and OfferWithdrawn lets the call go.
  bool offer = false;
};

// How an outbound call went on the adapter's side (ChannelIntake::OutboundProgress).
struct OutboundUpdate {
  enum class Stage : uint8_t {
    kAnswered,  // the customer answered: the two are bridged
    kFailed,    // the call did not connect; `reason` says why
  };
  Stage stage = Stage::kFailed;
  // kFailed: agent_no_answer (the agent's phones refused or rang out), busy (486, 600),
  // no_answer (408, 480, 487), rejected (403, 603), not_found (404, 484, 604), failed (anything
  // else, or the trunk unreachable), hung_up (the agent hung up before the customer answered).
  std::string reason;
  int sip_status = 0;  // the carrier's final response, 0 when none
};

// How a blind transfer to an agent or a number went (ChannelIntake::TransferProgress).
struct TransferUpdate {
  enum class Stage : uint8_t {
    kAnswered,  // the target answered: customer and target are bridged
    kFailed,    // the target did not answer; the customer holds with music, nothing else is up
  };
  Stage stage = Stage::kFailed;
  std::string target;
  // kFailed: no_answer, busy, rejected, not_found, failed (as OutboundUpdate's), no_phone.
  std::string reason;
  int sip_status = 0;
};

// Implemented by the engine (which also implements ContactCenter).
class ChannelIntake {
 public:
  virtual ~ChannelIntake() = default;
  // kNotFound when no entry point of that channel matches `entry`. The reply carries the new
  // contact (its id is what the adapter uses from then on), once it is durable; the flow starts
  // right after the reply on the engine's loop, so every ChannelAdapter call for the contact
  // comes after its reply.
  virtual void ContactArrived(ArrivingContact contact, Reply<ContactSnapshot> reply) = 0;
  // Fire and forget; inputs for contacts that no longer exist are ignored.
  virtual void ChannelInputFor(ContactId contact, ChannelInput input) = 0;

  // Recording and media quality (fire and forget; stored with the contact and journaled as
  // `recording.completed` and `media.stats`).
  virtual void RecordingFinished(ContactId contact, RecordedAudio audio) = 0;
  virtual void LegClosed(ContactId contact, LegRole role, std::string agent, LegStats stats) = 0;
  // The supervisor's leg of a monitored call went away without a stop command (fire and forget;
  // journaled as `monitor.ended`; ignored when the engine already ended that session).
  virtual void MonitorEnded(ContactId contact, std::string supervisor, MonitorEnd why) = 0;
  // The consultation of `target` (an agent) went away without a complete or cancel command
  // (fire and forget; journaled as `consult.ended`, the customer off hold; ignored when the
  // engine already ended it).
  virtual void ConsultEnded(ContactId contact, std::string target, ConsultEnd why) = 0;
  // The consulted agent's phone answered (fire and forget; journaled as `consult.answered`, the
  // contact's consultation shows "talking"; ignored when that consultation no longer runs).
  virtual void ConsultAnswered(ContactId contact, std::string target) = 0;
  // An outbound call (ChannelAdapter::PlaceCall) was answered or failed (fire and forget;
  // journaled as `outbound.answered` or `outbound.failed`; a failure ends the contact).
  virtual void OutboundProgress(ContactId contact, OutboundUpdate update) = 0;
  // A blind transfer to an agent or a number (BlindTransferCall) was answered or failed (fire and
  // forget; ignored when the contact is no longer being transferred). Once a number answered,
  // either side hanging up is CustomerLeft: the call is over.
  virtual void TransferProgress(ContactId contact, TransferUpdate update) = 0;
};

// Call control of a live voice contact (docs/voice.md, "Call control"): what the engine asks of
// the call's legs once it has applied the change to the contact.
struct HoldCall {
  bool on_hold = true;  // true: unbridge, music to the customer; false: bridge again
};
struct MuteAgent {
  bool muted = true;  // the customer hears silence instead of the agent
};
struct SendDigitsToCustomer {
  std::string digits;  // RFC 4733 into the customer's leg (for other companies' IVRs)
};
struct ReleaseAgent {
  std::string agent;  // blind transfer: the agent's leg hangs up, the customer waits with music
};
// Supervisor monitoring (docs/voice.md, "Supervisor monitoring"). The first command for a call
// rings every registered phone of `supervisor` (a user's login); when one answers, its leg joins
// the call's mix in `mode`. Later commands change the mode on the same leg; no mode ends it (the
// supervisor's phone gets BYE or CANCEL). `done`: kInvalidArgument when the user has no
// registered phone, kConflict when another user monitors the call.
struct MonitorCall {
  std::string supervisor;
  std::optional<MonitorMode> mode;  // nullopt: stop
};
// Consultation (attended) transfer (docs/voice.md, "Consultation transfer"). kStart: the
// customer is already on hold (HoldCall came first); ring every registered phone of `target`
// (an agent); the first to answer is bridged to the handling agent's phone. kComplete: the
// customer is bridged to the target's phone, which becomes the call's agent leg, and the first
// agent's phone gets BYE. kCancel: the target's phone gets BYE (CANCEL while ringing) and the
// customer is bridged to the first agent again. The target refusing, not answering or hanging
// up comes back as ChannelIntake::ConsultEnded (the adapter bridges customer and agent again).
// `done`: kInvalidArgument when the target has no registered phone, kConflict when another
// consultation runs, or kComplete comes before the target answered. The target's phone answering
// comes back as ChannelIntake::ConsultAnswered.
struct ConsultCall {
  // kConference (after the target answered): customer, agent and target all hear each other
  // (the media plane's 3-leg barge mix); kComplete and kCancel still apply to it. Once the
  // target answered, the first agent hanging up (consultation or conference) leaves customer
  // and target connected (reported as ConsultEnd::kAgentLeft, the transfer completes); before,
  // it cancels the ringing (kAgentLeftRinging). The target hanging up leaves customer and agent
  // (kTargetHungUp).
  enum class Step : uint8_t { kStart, kComplete, kCancel, kConference };
  Step step = Step::kStart;
  std::string target;
};
// Blind transfer to one agent or an external number (docs/voice.md, "Call control"). The first
// agent's phone is released at once (a REFER it sent hears NOTIFY 200 first); the customer hears
// music (or the carrier's early media). kAgent: every registered phone of `target` (an agent)
// rings for the ring timeout; the first to answer becomes the call's agent leg, bridged to the
// customer (a running recording goes on in the same file). kNumber: `target` (digits, checked
// against the outbound destinations) is called through the outbound trunk as click-to-dial calls
// the customer, and bridged to the customer when it answers; the call ends when either side
// hangs up (reported as CustomerLeft). The outcome comes back as ChannelIntake::TransferProgress.
// `done`: kInvalidArgument when the agent has no registered phone or the number is not an allowed
// destination, kUnavailable when no trunk takes outbound calls, kConflict when the agent's phone is
// no longer on the call.
struct BlindTransferCall {
  enum class Kind : uint8_t { kAgent, kNumber };
  Kind kind = Kind::kAgent;
  std::string target;
};
using CallCommand = std::variant<HoldCall, MuteAgent, SendDigitsToCustomer, ReleaseAgent,
                                 MonitorCall, ConsultCall, BlindTransferCall>;

// Implemented by a channel adapter; called on the engine's loop thread, must not block.
class ChannelAdapter : public ContactMedia {
 public:
  // The ACD offers the contact to the agent: ring its phone(s). The adapter answers with
  // ContactCenter::AcceptOffer when the phone answers and RejectOffer on busy, decline or no
  // answer within `timeout`.
  virtual void OfferToAgent(ContactId contact, const std::string& agent, Duration timeout) = 0;
  // The offer ended without this agent answering (timed out in the engine, accepted by another
  // agent, the contact left or was cancelled): stop ringing.
  virtual void OfferWithdrawn(ContactId contact, const std::string& agent) = 0;
  // The contact was ended or cancelled by someone other than the adapter (API, transfer out of
  // the channel, retention): tear down whatever the adapter still holds for it.
  virtual void ContactEnded(ContactId contact) = 0;

  // Recording (issue 6). PrepareRecording comes just before OfferToAgent of the same contact;
  // the plan applies when that agent's phone answers. RecordingControl acts on a connected call
  // (or, for kStart before the bridge, when it is connected); the finished file is reported
  // through ChannelIntake::RecordingFinished.
  virtual void PrepareRecording(ContactId contact, const RecordingPlan& plan) = 0;
  virtual void RecordingControl(ContactId contact, RecordingCommand command) = 0;
  // Call control: `done` (may be empty) gets the outcome, on any thread: kNotFound when the
  // adapter holds no call for the contact, kInvalidArgument when the legs cannot do it (digits
  // without telephone-event).
  virtual void ControlCall(ContactId contact, CallCommand command,
                           std::function<void(Status)> done) = 0;
  // Click-to-dial for a contact the engine created (direction outbound, already at the agent):
  // `done` (on any thread) gets Ok once the agent's phone rings, kInvalidArgument when the agent
  // has no registered phone, kUnavailable when no outbound trunk is configured or no media port
  // is free. Afterwards the outcome comes through ChannelIntake::OutboundProgress, and hang-ups
  // as for any call (CustomerLeft, ContactCenter::EndHandling).
  virtual void PlaceCall(ContactId contact, OutboundDial dial,
                         std::function<void(Status)> done) = 0;
  // Voicemail (docs/voice.md, "Voicemail"): plays `request.prompt` (if any), then a beep, then
  // records what the caller says, alone and mono, until '#', `request.max_length` or the
  // hang-up. Exactly one ChannelIntake::RecordingFinished with channels 1 follows (an empty path
  // when nothing could be recorded); the call stays up until the engine ends the contact.
  virtual void RecordVoicemail(ContactId contact, const VoicemailRequest& request) = 0;
};

}  // namespace parley::ports
