#pragma once
// The inbound port: every command and query the outside world (REST, WebSocket, SIP and chat
// adapters, the CLI) may send the contact center. src/engine implements it on its core loop;
// adapters (src/api, later src/sip and src/chat) call it. Interfaces and plain data only.
//
// Threading contract, for every implementation:
// - Any method may be called from any thread and returns at once; it never blocks.
// - Each call's reply is invoked exactly once, on the implementation's loop thread (or before the
//   call returns, when the request is refused outright). A reply must not block: an adapter posts
//   the result to its own executor.
// - A command's reply is sent only after the events it caused are durable in the journal, so an
//   acknowledged change survives kill -9.
// - Names, not indices, cross this port: agents, queues and teams by their configuration name.
//
// Object-level scope: the adapter authenticates and checks the route's permission (src/auth);
// it passes what the caller may reach as a Caller, and the implementation refuses (kNotFound, so
// nothing is enumerated) anything outside it: an agent sees only itself and its own contacts, a
// team lead only its team.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "domain/agent_state.h"
#include "domain/channel.h"
#include "domain/contact.h"
#include "domain/ids.h"
#include "domain/routing.h"
#include "ports/media_plane.h"
#include "ports/store.h"

namespace parley::ports {

// What the caller may reach, as decided by the adapter's authorisation.
struct Caller {
  enum class Reach : uint8_t { kAll, kTeam, kSelf };
  std::string user;  // login, for the journal and audit ("system" for internal callers)
  Reach reach = Reach::kAll;
  std::string agent;  // with kSelf: the caller's agent
  std::string team;   // with kTeam: the caller's team
};

template <class T>
using Reply = std::function<void(Result<T>)>;

// ---------------------------------------------------------------------------------------------
// Views

// One contact an agent holds, and its stage.
struct HeldContact {
  ContactId contact;
  Channel channel = Channel::kVoice;
  ContactState state = ContactState::kOffered;  // kOffered, kHandling or kWrapUp
  std::string queue;
  TimePoint since{};          // start of the current stage
  TimePoint offer_expires{};  // kOffered only: when the offer times out (TimePoint{} if never)
};

struct AgentSnapshot {
  std::string id;    // configuration name
  std::string name;  // display name
  std::string team;
  Presence presence = Presence::kOffline;
  std::string reason;  // Not Ready reason code
  TimePoint presence_since{};
  std::vector<std::pair<std::string, int>> skills;  // skill name, proficiency 1-5
  std::vector<std::pair<Channel, int>> capacity;    // configured per channel
  std::vector<HeldContact> contacts;                // offered, handling, wrap-up
  std::vector<std::string> queues;                  // queues it serves
  uint32_t handled_today = 0;
};

struct ContactSnapshot {
  ContactRecord record;     // id, channel, state, queue, agent, priority, attributes, times
  std::string disposition;  // after wrap-up
  std::string notes;        // wrap-up notes
  std::vector<std::string> offered_to;  // agents with a pending offer
  // Issue 6: the contact's finished recordings and its media legs' quality, as far as the engine
  // still holds them in memory.
  std::vector<RecordingRecord> recordings;
  std::vector<LegQualityRecord> legs;
  bool recording_active = false;  // a recording is running now
  bool recording_masked = false;  // ... and paused (silence, timing kept)
  // Call control (voice, while handled).
  bool on_hold = false;
  bool muted = false;
  // Supervisor monitoring (issue 8): who monitors the call now ("" nobody) and how.
  std::string monitor_supervisor;
  std::string monitor_mode;  // "listen", "whisper", "barge"
  // Consultation transfer (issue 8): the agent consulted now ("" none), and whether the three
  // talk in a conference.
  std::string consult_target;
  bool conference = false;
  // The queue consulted ("" when an agent was named), and where the consultation is: "waiting"
  // (for a member of consult_queue; no target yet), "ringing", "talking" (the target answered),
  // "conference"; "" when none runs.
  std::string consult_queue;
  std::string consult_state;
  // Blind transfer of a call to one agent or an external number (issue 8): the target while it
  // rings ("" none), and the number the customer talks with once it answered.
  std::string transfer_target;
  std::string transferred_to_number;
};

// A queue now, and today (site's local day) so far, computed by src/analytics' definitions.
struct QueueSnapshot {
  std::string name;
  std::vector<Channel> channels;
  int32_t priority = 0;
  uint32_t waiting = 0;
  Duration longest_wait{};        // of contacts waiting now
  uint32_t agents_staffed = 0;    // members not Offline
  uint32_t agents_available = 0;  // members with free capacity now
  uint32_t agents_busy = 0;       // members holding a contact of this queue
  // Today so far.
  uint64_t offered = 0;
  uint64_t answered = 0;
  uint64_t abandoned = 0;
  double service_level = 0;       // answered within target / offered (docs/metrics.md), 0..1
  Duration asa{};                 // average speed of answer
  Duration aht{};                 // talk + hold + wrap-up
  Duration sl_target{};           // the queue's service-level threshold
  double sl_target_fraction = 0;  // the share to answer within it (e.g. 0.8)
  RecordingPolicy recording = RecordingPolicy::kNever;  // the queue's call recording policy
};

// One customer as the CRM shows it: the record (identities, fields, tags) and its notes.
struct CustomerView {
  Customer customer;
  std::vector<CustomerNote> notes;  // oldest first
};

// ---------------------------------------------------------------------------------------------
// Commands' inputs

// Where a blind transfer goes (ContactCenter::TransferContact).
struct TransferTarget {
  enum class Kind : uint8_t {
    kQueue,   // a queue, or for a call a voice entry point's number
    kAgent,   // one agent, by its id
    kNumber,  // an external number, through the outbound trunk
    // A phone's REFER: `name` is tried as a queue, then an entry point, then an agent's id, then
    // `login_agent` (the agent of the SIP user `name` is the login of), then a number.
    kAny,
  };
  Kind kind = Kind::kQueue;
  std::string name;
  std::string login_agent;  // kAny only
};

struct NewContact {
  Channel channel = Channel::kTask;
  Direction direction = Direction::kInbound;
  std::string queue;  // the queue it waits in; or, instead, `entry`:
  // An entry point of `channel` (configuration's entry_points): the contact runs its flow, as
  // one arriving through a channel adapter does (ChannelIntake::ContactArrived); `priority` and
  // `skills` are then the flow's to set.
  std::string entry;
  int32_t priority = 0;
  std::vector<std::pair<std::string, int>> skills;  // extra required skills, minimum proficiency
  Attributes attributes;
  std::optional<CustomerIdentity> from;  // who it is from: attached to (or creates) a customer
};

// Click-to-dial (docs/voice.md, "Outbound calls").
struct OutboundCall {
  std::string agent;   // the agent who talks ("" = the caller's own agent)
  std::string number;  // the customer's number: digits with an optional leading '+'
  std::string queue;   // for reporting and the recording policy; must take voice
  Attributes attributes;
};

struct WrapUp {
  std::string disposition;  // must be a configured disposition code when any are configured
  std::string notes;
};

struct ContactFilter {
  std::optional<ContactState> state;  // open states only unless kClosed
  std::string queue;
  std::string agent;
  size_t limit = 100;
};

// A recording command for a connected call (API: start, stop, pause, resume). Pause masks: the
// file goes on with silence, so its timing is kept (card payments).
enum class RecordingCommand : uint8_t { kStart, kStop, kPause, kResume };

// ---------------------------------------------------------------------------------------------
// The stream of published events (WebSocket, webhooks)

// One journaled event, rendered by the implementation (which knows the names) as a JSON object
// with at least "seq", "type", "time" and "schema": 1. The routing keys let an adapter filter
// without parsing the JSON.
struct PublishedEvent {
  Sequence seq = 0;
  std::string type;   // EventTypeName
  std::string agent;  // "" when none
  std::string team;   // the agent's team, "" when none
  std::string queue;  // "" when none
  ContactId contact;
  std::string json;
};

// Called on the loop thread with events in sequence order; must not block.
using EventSink = std::function<void(const std::vector<PublishedEvent>&)>;

class Subscription {
 public:
  virtual ~Subscription() = default;  // destroying it unsubscribes; no call after it returns
};

// For /metrics (Prometheus): counters are totals since the process started.
struct MetricsSnapshot {
  struct Queue {
    std::string name;
    uint32_t waiting = 0;
    Duration longest_wait{};
    uint64_t offered_total = 0;
    uint64_t answered_total = 0;
    uint64_t abandoned_total = 0;
    // Answer waits: cumulative counts of answered contacts that waited <= each bound.
    std::vector<std::pair<Duration, uint64_t>> answer_wait_buckets;
    Duration answer_wait_sum{};
  };
  std::vector<Queue> queues;
  std::vector<std::pair<Presence, uint32_t>> agents_by_presence;  // every presence, even 0
  Sequence last_seq = 0;
};

// Counters a channel adapter keeps (the SIP adapter's), rendered by /metrics after the
// snapshot's: one Prometheus family, each sample with its label text (`method="INVITE"`, or "").
struct MetricFamily {
  std::string name;  // parley_sip_requests_total
  std::string type;  // counter or gauge
  std::string help;
  std::vector<std::pair<std::string, uint64_t>> samples;
};

// ---------------------------------------------------------------------------------------------

class ContactCenter {
 public:
  virtual ~ContactCenter() = default;

  // Agents.
  virtual void ListAgents(const Caller& who, Reply<std::vector<AgentSnapshot>> reply) = 0;
  virtual void GetAgent(const Caller& who, std::string agent, Reply<AgentSnapshot> reply) = 0;
  // kInvalidArgument: Not Ready without a configured reason code (when codes are configured).
  virtual void SetPresence(const Caller& who, std::string agent, Presence presence,
                           std::string reason, Reply<AgentSnapshot> reply) = 0;

  // Queues and live statistics.
  virtual void ListQueues(const Caller& who, Reply<std::vector<QueueSnapshot>> reply) = 0;
  virtual void GetQueue(const Caller& who, std::string queue, Reply<QueueSnapshot> reply) = 0;

  // Contacts.
  virtual void CreateContact(const Caller& who, NewContact contact,
                             Reply<ContactSnapshot> reply) = 0;
  virtual void GetContact(const Caller& who, ContactId id, Reply<ContactSnapshot> reply) = 0;
  virtual void ListContacts(const Caller& who, ContactFilter filter,
                            Reply<std::vector<ContactSnapshot>> reply) = 0;
  // The offered agent (the caller's own, or anyone's for kAll) accepts or rejects.
  virtual void AcceptOffer(const Caller& who, ContactId id, std::string agent,
                           Reply<ContactSnapshot> reply) = 0;
  virtual void RejectOffer(const Caller& who, ContactId id, std::string agent,
                           Reply<ContactSnapshot> reply) = 0;
  // Handling ends (the task is done, the call hung up): the agent goes into wrap-up.
  virtual void EndHandling(const Caller& who, ContactId id, Reply<ContactSnapshot> reply) = 0;
  // Wrap-up ends with its disposition; the contact closes.
  virtual void CompleteWrapUp(const Caller& who, ContactId id, WrapUp wrap_up,
                              Reply<ContactSnapshot> reply) = 0;
  // Blind transfer (docs/voice.md, "Call control"). To a queue: the contact waits there, keeping
  // its arrival time (a call may also go to a voice entry point's flow). To one agent (a voice
  // call): the agent is held for it, the first agent wraps up at once, the target's phones ring;
  // the target answering handles it, otherwise it waits in its queue again, keeping its place.
  // To a number (a voice call): called through the outbound trunk, the first agent wraps up at
  // once; the contact ends when either side hangs up, or waits in its queue again when the
  // number does not answer. kNotFound: unknown queue, entry point or agent; kInvalidArgument:
  // the agent handles it himself or has no registered phone, a malformed number or one outside
  // voice.outbound_destinations; kConflict: not a call being handled, in a consultation or
  // already being transferred, the agent not Available with a free voice slot, no voice
  // channel attached; kUnavailable: no trunk takes outbound calls.
  virtual void TransferContact(const Caller& who, ContactId id, TransferTarget target,
                               Reply<ContactSnapshot> reply) = 0;
  // Withdrawn by the system or an integration (not a customer abandon).
  virtual void CancelContact(const Caller& who, ContactId id, Reply<ContactSnapshot> reply) = 0;
  // The ACD's account of why the contact went to its agent, or why it still waits (text as
  // acd::FormatExplanation prints it).
  virtual void ExplainContact(const Caller& who, ContactId id, Reply<std::string> reply) = 0;

  // Customers (CRM). The store calls behind these may block, so an implementation runs them off
  // its loop; the reply still comes on the loop thread. Scope: kAll reaches every customer; kTeam
  // and kSelf only customers of contacts the caller may see (held, or held by its team), and
  // never export or erase (kNotFound). Identities are normalised as contacts' `from` is.
  // `prefix` matches the start of the name (case-insensitive) or of any identity address.
  virtual void SearchCustomers(const Caller& who, std::string prefix, size_t limit,
                               Reply<std::vector<Customer>> reply) = 0;
  virtual void GetCustomer(const Caller& who, CustomerId id, Reply<CustomerView> reply) = 0;
  // kInvalidArgument (no name, fields not an object), kConflict (an identity has a customer).
  virtual void CreateCustomer(const Caller& who, Customer customer, Reply<CustomerView> reply) = 0;
  // Replaces name, identities, fields and tags of customer.id.
  virtual void UpdateCustomer(const Caller& who, Customer customer, Reply<CustomerView> reply) = 0;
  // The note's author is who.user.
  virtual void AddCustomerNote(const Caller& who, CustomerId id, std::string text,
                               Reply<CustomerNote> reply) = 0;
  // The customer's contacts across channels, newest first, at most `limit`.
  virtual void CustomerTimeline(const Caller& who, CustomerId id, size_t limit,
                                Reply<std::vector<ContactRecord>> reply) = 0;
  virtual void ExportCustomer(const Caller& who, CustomerId id, Reply<CustomerExport> reply) = 0;
  // Deletes the customer (identities, notes, tags) and unlinks its contacts, which keep their
  // times for the aggregates but lose their attributes. Replies with the erased id.
  virtual void EraseCustomer(const Caller& who, CustomerId id, Reply<CustomerId> reply) = 0;

  // Call control of a voice contact (docs/voice.md, "Call control"). The caller reaches the
  // contact as for EndHandling (an agent its own, a supervisor its team's or all). kConflict
  // when the contact is not a voice call being handled, or is already in the asked state (held
  // twice, resumed when not held).
  // Hold: the customer hears music, the agent nothing; hold time is journaled (hold.started,
  // hold.ended) and counts in AHT.
  virtual void HoldContact(const Caller& who, ContactId id, bool on_hold,
                           Reply<ContactSnapshot> reply) = 0;
  // Muted: the customer hears silence instead of the agent.
  virtual void MuteContact(const Caller& who, ContactId id, bool muted,
                           Reply<ContactSnapshot> reply) = 0;
  // DTMF to the customer's side (RFC 4733); kInvalidArgument for a character other than
  // 0-9 * # A-D or when the call did not negotiate telephone-event.
  virtual void SendDigits(const Caller& who, ContactId id, std::string digits,
                          Reply<ContactSnapshot> reply) = 0;
  // Ends the call: both legs are hung up; a handled contact goes to wrap-up like any hang-up, a
  // waiting or ringing one is removed. kConflict when there is no call left (wrap-up, closed).
  virtual void HangupContact(const Caller& who, ContactId id, Reply<ContactSnapshot> reply) = 0;
  // Supervisor monitoring (docs/voice.md, "Supervisor monitoring"): `who.user` listens to,
  // whispers to or barges into a call being handled. The first command rings the user's
  // registered phone(s) and is journaled `monitor.started`; a later one with another mode is
  // `monitor.mode_changed`; no mode stops it (`monitor.ended`, reason `stopped`). kConflict when
  // the contact is not a voice call being handled, another user monitors it, the mode is the
  // current one, or (stop) nobody monitors it; kInvalidArgument when the user has no registered
  // phone. The caller reaches the contact by the scope of its calls.monitor permission.
  virtual void MonitorContact(const Caller& who, ContactId id, std::optional<MonitorMode> mode,
                              Reply<ContactSnapshot> reply) = 0;
  // Consultation (attended) transfer (docs/voice.md, "Consultation transfer"). kStart with
  // `target` (an agent's id): the customer is put on hold (music), the target is held for the
  // contact in the ACD (offered nothing else) and its phone rung; journaled `consult.started`.
  // kComplete: the target takes the call (`contact.transferred`, text "attended"; the first
  // agent wraps up); kCancel: the target's phone is released, the customer is back with the
  // first agent (`consult.ended`). kConflict when the contact is not a voice call being handled,
  // is monitored, a consultation runs already (start) or none does (complete, cancel), or the
  // target is not Available with a free voice slot; kNotFound for an unknown agent;
  // kInvalidArgument when the target has no registered phone or is the handling agent.
  // kConference: the three talk together (`conference.started`, hold ended); complete and cancel
  // still apply; the first agent hanging up hands the call to the target (as complete).
  // kStartQueue: `target` is a queue (kNotFound: no such queue); the agent consulted is the
  // member the queue's strategy picks among those Available with a free voice slot, then as
  // kStart. When none
  // is free the consultation waits for one (`consult.waiting`, the customer on hold): the next
  // member who frees a voice slot is held and rung (`consult.started`); a member whose phones
  // do not answer is passed over and the wait goes on; cancel ends the wait; the call ending or
  // the wait outlasting the queue's max_wait (120 s when it has none) ends it (`consult.ended`
  // with reason call_ended or timeout). Complete and conference are kConflict while it waits.
  enum class ConsultStep : uint8_t { kStart, kComplete, kCancel, kConference, kStartQueue };
  virtual void ConsultContact(const Caller& who, ContactId id, ConsultStep step, std::string target,
                              Reply<ContactSnapshot> reply) = 0;

  // Click-to-dial (docs/voice.md, "Outbound calls"): an outbound voice contact of `queue`,
  // handled by the agent from the start (offered nothing else meanwhile); the agent's phone
  // rings first, then the customer's number is called through the trunk and the two are
  // bridged; journaled `outbound.started`, then `outbound.answered` or `outbound.failed` (the
  // contact ends: the agent wraps up once the phone answered, is free again otherwise). The
  // reply comes when the agent's phone rings. kInvalidArgument for a malformed number, one
  // outside voice.outbound_destinations, or an agent without a registered phone; kNotFound for
  // an unknown agent or queue (or one outside the caller's scope); kConflict when the agent is
  // not Available with a free voice slot; kUnavailable when no trunk takes outbound calls.
  virtual void PlaceCall(const Caller& who, OutboundCall call, Reply<ContactSnapshot> reply) = 0;

  virtual void GetMetrics(Reply<MetricsSnapshot> reply) = 0;

  // Call recording (issue 6; docs/voice.md, "Recording"). ControlRecording acts on a voice
  // contact being handled: kConflict when its queue's policy forbids the command (start on
  // `never`, stop on `always`) or the recording is not in the state the command needs; each
  // command is journaled (recording.started, .stopped, .masked, .unmasked). Listing and fetching
  // recordings: kAll reaches every recording, kTeam those whose agent is in the caller's team,
  // kSelf those of the caller's own agent (kNotFound otherwise).
  virtual void ControlRecording(const Caller& who, ContactId id, RecordingCommand command,
                                Reply<ContactSnapshot> reply) = 0;
  virtual void ListRecordings(const Caller& who, RecordingFilter filter,
                              Reply<std::vector<RecordingRecord>> reply) = 0;
  virtual void GetRecording(const Caller& who, uint64_t id, Reply<RecordingRecord> reply) = 0;

  // Events with seq > `after` (0: only new ones) that the caller may see, in order, then live
  // ones. If `after` is older than what is kept, the sink first gets an event of type "gap".
  virtual std::unique_ptr<Subscription> Subscribe(const Caller& who, Sequence after,
                                                  EventSink sink) = 0;
};

}  // namespace parley::ports
