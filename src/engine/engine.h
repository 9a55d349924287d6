#pragma once
// Engine: the core loop. It implements the inbound port (ports/contact_center.h) over one
// acd::Acd, journals every step through the Store before acknowledging it, publishes the
// journaled events, and keeps live statistics (src/analytics) for queue views and /metrics.
//
// Ownership and threads: the Engine owns the Acd, its contact table, the event ring and the
// statistics; it borrows the clock, timers, store and executor, which must outlive it. Every
// public method of ContactCenter may be called from any thread: it posts the command through the
// executor, and everything else (the Acd, timers, journal completions, replies, event sinks)
// runs on the loop thread the executor feeds. Start() runs before the loop serves anything (on
// the loop thread or before it starts). The destructor runs on the loop thread (or after it
// stopped); work still queued for a destroyed Engine does nothing.
//
// One step = one command or one burst of timer-driven routing: the Acd's events of that step go
// into one JournalBatch with the contact and agent records they changed; replies and published
// events follow only when the store reports the batch durable, in journal order. A refused
// command (nothing changed) is answered at once; a batch the store fails is answered
// kUnavailable and its events are not published.
//
// Customers (docs/storage.md, "Customers"): the loop owns the identity index, loaded at Start;
// blocking customer store calls (a new contact's unknown identity, the customer commands of the
// port) run on EngineOptions::customer_worker and come back to the loop, which replies.
//
// Contact flows and channels (docs/flows.md, "In the server"): the engine compiles the
// configuration's flows with each configuration and runs them with one flow::FlowRunner on its
// loop and timer queue. It is the runner's ContactRouting (the Acd) and ContactMedia (the
// ports::ChannelAdapter attached for the contact's channel; without one, prompts end at once and
// the rest is dropped). Flow events are journaled with the contact's other events. A contact
// that arrives through ChannelIntake (or CreateContact with an entry point) is in the flow
// (ContactState::kInFlow) until a queue step enqueues it; when its flow ends without it being
// routed, it closes.
//
// Limits of this version: GetContact/ListContacts answer from memory (open contacts and the last
// EngineOptions::closed_contacts_kept closed ones; older history is the store's); today's queue
// statistics are rebuilt from the journal at Start (the since-start metrics start from zero by
// definition);
// QueueSnapshot::longest_wait counts from arrival.

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "acd/acd.h"
#include "analytics/kpi.h"
#include "base/clock.h"
#include "base/status.h"
#include "config/config.h"
#include "engine/render.h"
#include "engine/snapshot.h"
#include "flow/flow.h"
#include "flow/runner.h"
#include "ports/channel.h"
#include "ports/contact_center.h"
#include "ports/flow_ports.h"
#include "ports/live_view.h"
#include "ports/reports.h"
#include "ports/store.h"

namespace parley::engine {

// Sets attribute `name` (replacing its value, else appending it).
void SetAttribute(Attributes& attributes, const std::string& name, std::string value);

using Executor = std::function<void(std::function<void()>)>;

struct EngineOptions {
  size_t ring_size = 10000;  // published events kept for Subscribe(after)
  // The most events Subscribe(after) replays (from the ring and the journal beyond it); a
  // subscriber that missed more gets a "reset". `parley serve` sets it below what the event
  // stream queues for one client.
  size_t max_resume_events = 100000;
  // Answer-wait histogram bounds for MetricsSnapshot.
  std::vector<Duration> answer_wait_bounds = {Seconds(5),  Seconds(10),  Seconds(20), Seconds(30),
                                              Seconds(60), Seconds(120), Seconds(300)};
  size_t closed_contacts_kept = 10000;  // closed contacts GetContact still answers from memory
  uint64_t config_version = 0;          // stored with each batch; +1 on each Reconfigure
  uint64_t seed = 1;                    // the Acd's random seed
  // Runs blocking store work (finding or creating the customer of a new contact) off the loop;
  // the engine posts each result back through its own executor. Empty: the engine's executor
  // runs it, which is right only for a store that never blocks (MemoryStore, in tests).
  Executor customer_worker;
  // Runs report queries (long journal reads and their computation, ports::Reports) off the
  // loop, as customer_worker does for customers. Empty: customer_worker's rule applies.
  Executor report_worker;
  // The flows' HTTP client, called on the loop; its answers come back through
  // Engine::LookupDone. nullptr: every lookup fails at once ("no http client"), so flows take
  // their failure exit.
  ports::HttpLookup* http = nullptr;
  // Renders an agent's GetAgent JSON into the live view (live_view()) whenever the agent
  // changes, so reads serve the text as is; empty: the live view holds views only.
  LiveSnapshots::Renderer render_agent;
};

// How an identity is indexed and stored: a phone number (voice, SMS, callback) keeps a leading '+'
// and the digits, under Channel::kVoice, so one number is one identity on every phone channel;
// an e-mail address is lower-cased; other handles are trimmed of spaces. An
// address that normalises to "" is refused by CreateContact.
ports::CustomerIdentity NormaliseIdentity(ports::CustomerIdentity identity);

// The queue of `cfg` named `name`, or nullptr.
const QueueDef* QueueDefByName(const config::Config& cfg, const std::string& name);

// Digits with an optional leading '+', 3 to 20 digits: a number Parley may dial (outbound.cc).
bool IsDialableNumber(const std::string& n);

class Engine final : public ports::ContactCenter,
                     public ports::ChannelIntake,
                     public ports::Reports,
                     private AcdObserver,
                     private ports::ContactMedia,
                     private ports::ContactRouting {
 public:
  Engine(Clock& clock, TimerQueue& timers, Executor executor, ports::Store& store,
         std::shared_ptr<const config::Config> config, EngineOptions options = {});
  ~Engine() override;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Configures the Acd and recovers the state of the last run from the store (docs/storage.md,
  // "Journal and recovery"), journaling what recovery changed. Blocking (store reads); call once,
  // before serving, on the loop thread or before the loop runs.
  Status Start();

  // Applies a new configuration on the loop (Acd reload, flows recompiled). Returns at once: an
  // unknown time zone, or flows that do not compile, are refused here; `done`, if given, gets the
  // Acd's verdict on the loop thread.
  Status Reconfigure(std::shared_ptr<const config::Config> config);
  Status Reconfigure(std::shared_ptr<const config::Config> config,
                     std::function<void(Status)> done);

  // Attaches the adapter of `channel` (nullptr detaches it). Any thread: posted to the loop, so
  // it takes effect before any command posted after it. The adapter must outlive the Engine (or
  // be detached first).
  void AttachChannel(Channel channel, ports::ChannelAdapter* adapter);

  // ports::ChannelIntake. ContactArrived replies with the new contact (kInFlow) once it is
  // durable, and starts the entry point's flow right after the reply, so every adapter call for
  // the contact comes after the reply.
  void ContactArrived(ports::ArrivingContact contact,
                      ports::Reply<ports::ContactSnapshot> reply) override;
  void ChannelInputFor(ContactId contact, ports::ChannelInput input) override;
  // Recording and media quality (engine_recording.cc).
  void RecordingFinished(ContactId contact, ports::RecordedAudio audio) override;
  void LegClosed(ContactId contact, ports::LegRole role, std::string agent,
                 ports::LegStats stats) override;

  // The answer of EngineOptions::http to a Send. Any thread (posted); ignored when the contact
  // no longer waits for it.
  void LookupDone(ContactId contact, std::variant<flow::LookupAnswered, flow::LookupFailed> answer);

  // Stops accepting commands (they get kUnavailable), waits for outstanding journal
  // completions, then calls `done` on the loop thread.
  void Shutdown(std::function<void()> done);

  // The cheap reads (GetAgent, ListQueues, GetQueue) without the loop, from the snapshot
  // published after each durable step (engine/snapshot.h). Any thread; lives as long as the
  // Engine.
  const ports::LiveView& live_view() const { return *live_; }

  // ports::ContactCenter
  void ListAgents(const ports::Caller& who,
                  ports::Reply<std::vector<ports::AgentSnapshot>> reply) override;
  void GetAgent(const ports::Caller& who, std::string agent,
                ports::Reply<ports::AgentSnapshot> reply) override;
  void SetPresence(const ports::Caller& who, std::string agent, Presence presence,
                   std::string reason, ports::Reply<ports::AgentSnapshot> reply) override;
  void ListQueues(const ports::Caller& who,
                  ports::Reply<std::vector<ports::QueueSnapshot>> reply) override;
  void GetQueue(const ports::Caller& who, std::string queue,
                ports::Reply<ports::QueueSnapshot> reply) override;
  void CreateContact(const ports::Caller& who, ports::NewContact contact,
                     ports::Reply<ports::ContactSnapshot> reply) override;
  void GetContact(const ports::Caller& who, ContactId id,
                  ports::Reply<ports::ContactSnapshot> reply) override;
  void ListContacts(const ports::Caller& who, ports::ContactFilter filter,
                    ports::Reply<std::vector<ports::ContactSnapshot>> reply) override;
  void AcceptOffer(const ports::Caller& who, ContactId id, std::string agent,
                   ports::Reply<ports::ContactSnapshot> reply) override;
  void RejectOffer(const ports::Caller& who, ContactId id, std::string agent,
                   ports::Reply<ports::ContactSnapshot> reply) override;
  void EndHandling(const ports::Caller& who, ContactId id,
                   ports::Reply<ports::ContactSnapshot> reply) override;
  void CompleteWrapUp(const ports::Caller& who, ContactId id, ports::WrapUp wrap_up,
                      ports::Reply<ports::ContactSnapshot> reply) override;
  // Blind transfer (engine/transfer.cc).
  void TransferContact(const ports::Caller& who, ContactId id, ports::TransferTarget target,
                       ports::Reply<ports::ContactSnapshot> reply) override;
  void TransferProgress(ContactId contact, ports::TransferUpdate update) override;
  void CancelContact(const ports::Caller& who, ContactId id,
                     ports::Reply<ports::ContactSnapshot> reply) override;
  void ExplainContact(const ports::Caller& who, ContactId id,
                      ports::Reply<std::string> reply) override;
  void SearchCustomers(const ports::Caller& who, std::string prefix, size_t limit,
                       ports::Reply<std::vector<ports::Customer>> reply) override;
  void GetCustomer(const ports::Caller& who, ports::CustomerId id,
                   ports::Reply<ports::CustomerView> reply) override;
  void CreateCustomer(const ports::Caller& who, ports::Customer customer,
                      ports::Reply<ports::CustomerView> reply) override;
  void UpdateCustomer(const ports::Caller& who, ports::Customer customer,
                      ports::Reply<ports::CustomerView> reply) override;
  void AddCustomerNote(const ports::Caller& who, ports::CustomerId id, std::string text,
                       ports::Reply<ports::CustomerNote> reply) override;
  void CustomerTimeline(const ports::Caller& who, ports::CustomerId id, size_t limit,
                        ports::Reply<std::vector<ports::ContactRecord>> reply) override;
  void ExportCustomer(const ports::Caller& who, ports::CustomerId id,
                      ports::Reply<ports::CustomerExport> reply) override;
  void EraseCustomer(const ports::Caller& who, ports::CustomerId id,
                     ports::Reply<ports::CustomerId> reply) override;
  // Call control (engine/call_control.cc).
  void HoldContact(const ports::Caller& who, ContactId id, bool on_hold,
                   ports::Reply<ports::ContactSnapshot> reply) override;
  void MuteContact(const ports::Caller& who, ContactId id, bool muted,
                   ports::Reply<ports::ContactSnapshot> reply) override;
  void SendDigits(const ports::Caller& who, ContactId id, std::string digits,
                  ports::Reply<ports::ContactSnapshot> reply) override;
  void HangupContact(const ports::Caller& who, ContactId id,
                     ports::Reply<ports::ContactSnapshot> reply) override;
  // Supervisor monitoring (engine/monitor.cc).
  void MonitorContact(const ports::Caller& who, ContactId id,
                      std::optional<ports::MonitorMode> mode,
                      ports::Reply<ports::ContactSnapshot> reply) override;
  void MonitorEnded(ContactId contact, std::string supervisor, ports::MonitorEnd why) override;
  // Consultation transfer (engine/consult.cc).
  void ConsultContact(const ports::Caller& who, ContactId id, ConsultStep step, std::string target,
                      ports::Reply<ports::ContactSnapshot> reply) override;
  void ConsultEnded(ContactId contact, std::string target, ports::ConsultEnd why) override;
  void ConsultAnswered(ContactId contact, std::string target) override;
  void PlaceCall(const ports::Caller& who, ports::OutboundCall call,
                 ports::Reply<ports::ContactSnapshot> reply) override;
  void OutboundProgress(ContactId contact, ports::OutboundUpdate update) override;

  void GetMetrics(ports::Reply<ports::MetricsSnapshot> reply) override;
  std::unique_ptr<ports::Subscription> Subscribe(const ports::Caller& who, ports::Sequence after,
                                                 ports::EventSink sink) override;
  // The same for a subscriber that takes only the event types `wants` accepts (it is called on
  // the loop thread): the webhook feed, so that events no webhook wants are never rendered.
  std::unique_ptr<ports::Subscription> Subscribe(const ports::Caller& who, ports::Sequence after,
                                                 std::function<bool(std::string_view type)> wants,
                                                 ports::EventSink sink);
  // Call recording (engine_recording.cc).
  void ControlRecording(const ports::Caller& who, ContactId id, ports::RecordingCommand command,
                        ports::Reply<ports::ContactSnapshot> reply) override;
  void ListRecordings(const ports::Caller& who, ports::RecordingFilter filter,
                      ports::Reply<std::vector<ports::RecordingRecord>> reply) override;
  void GetRecording(const ports::Caller& who, uint64_t id,
                    ports::Reply<ports::RecordingRecord> reply) override;

  // ports::Reports (src/engine/reports.cc): code lists from the configuration; reports resolve
  // names and scope on the loop, then read the journal and compute on report_worker.
  void ListWorkCodes(ports::Reply<ports::WorkCodes> reply) override;
  void RunReport(const ports::Caller& who, ports::ReportQuery query,
                 ports::Reply<ports::Report> reply) override;

 private:
  // What the engine knows of a contact beyond the Acd: its durable record and who touched it.
  struct ContactInfo {
    ports::ContactRecord record;
    // The customer's number or address and language as the contact arrived: a flow started
    // again by a transfer sees them as contact.caller and contact.language.
    std::string caller;
    std::string language;
    std::string disposition;
    std::string notes;
    std::set<std::string> agents;  // every agent it was offered to or handled by (scope)
    // Flows: arrived through an entry point and its flow has not started yet; the flow ended
    // (closed, or left to routing); the channel leg is gone (customer left, hung up, ended).
    bool flow_pending = false;
    bool flow_done = false;
    bool leg_gone = false;
    bool closed_journaled = false;  // a kContactClosed event was emitted for it
    // When the engine (not the customer) ends the flow: the outcome journaled instead.
    std::string end_outcome;
    // Recording (issue 6): finished recordings and closed legs' quality, and whether a recording
    // runs now and is masked.
    std::vector<ports::RecordingRecord> recordings;
    std::vector<ports::LegQualityRecord> legs;
    bool recording_active = false;
    bool recording_masked = false;
    // Voicemail (voicemail.cc): the message the adapter records now; the contact stays open until
    // the recording is reported, then the message becomes a contact of the mailbox's queue.
    std::optional<ports::VoicemailRequest> voicemail;
    // A message the process died recording (set by the recovery, the call already closed): the
    // file the channel adapter recovers at its start becomes the mailbox's contact all the same.
    std::optional<ports::VoicemailRequest> cut_short_voicemail;
    // Call control: from the hold events; muted until unmuted or handling ends.
    bool on_hold = false;
    bool muted = false;
    // Supervisor monitoring: who monitors the call ("" nobody) and the mode's name.
    std::string monitor_user;
    std::string monitor_mode;
    // Consultation transfer: the agent consulted now ("" none), held for it in the ACD.
    std::string consult_target;
    bool conference = false;        // ... and the three talk together
    bool consult_answered = false;  // the target's phone answered (ConsultAnswered)
    // A consultation of a queue (consult.cc): the queue ("" when an agent was named), whether it
    // waits for a member now (consult_target empty), the members passed over (their phones did
    // not answer) and the timer that ends the wait.
    std::string consult_queue;
    TimePoint consult_since{};  // when the consultation of consult_queue was asked for
    bool consult_waiting = false;
    std::vector<std::string> consult_passed;
    TimerId consult_timer = 0;
    // Click-to-dial (outbound.cc): the number called ("" for other contacts), and when the
    // customer answered (the record's times.answered, which the ACD does not know).
    std::string outbound_number;
    TimePoint outbound_answered{};
    // Blind transfer to one agent or a number (transfer.cc): the target while it rings ("" none;
    // an agent is pending at it in the ACD), and the number once the call went out to it (the
    // contact is out of routing until either side hangs up).
    std::string transfer_target;
    std::string transfer_number;
  };
  struct Subscriber;
  class SubscriptionImpl;
  // A step waiting for its journal completion.
  struct InFlight {
    size_t event_count = 0;
    std::vector<Event> events;
    std::function<void(const Status&)> finish;
    std::shared_ptr<const LiveSnapshot> snapshot;  // published before `finish` and the events
    bool done = false;
    Result<ports::SequenceRange> result = Status(StatusCode::kInternal, "pending");
  };
  struct QueueCounters {
    uint64_t offered = 0, answered = 0, abandoned = 0;
    std::vector<uint64_t> buckets;  // per bound, not cumulative
    Duration wait_sum{};
  };

  using IdentityKey = std::pair<Channel, std::string>;
  using CustomerDone = std::function<void(Result<ports::CustomerId>)>;

  void OnEvent(const Event& event) override;

  // ports::ContactMedia for the runner: to the channel's adapter.
  void Play(ContactId contact, const ports::PlayRequest& request) override;
  void StopPlayback(ContactId contact) override;
  void SendText(ContactId contact, const ports::TextMessage& message) override;
  void Hangup(ContactId contact) override;
  // ports::ContactRouting for the runner: the Acd.
  void Enqueue(ContactId contact, const ports::EnqueueRequest& request) override;
  void Dequeue(ContactId contact) override;
  void Transfer(ContactId contact, const ports::TransferRequest& request) override;
  void StartVoicemail(ContactId contact, const ports::VoicemailRequest& request) override;
  void ScheduleCallback(ContactId contact, const ports::CallbackRequest& request) override;
  void RequestQueueStats(ContactId contact, const std::string& queue) override;
  class NoHttpClient;

  // ContactArrived on the loop (again once the customer of `from` is known).
  void ContactArrivedOnLoop(ports::ArrivingContact ac, ports::Reply<ports::ContactSnapshot> reply);
  // Starts the entry point's flow of a contact created by ContactArrivedOnLoop.
  void StartFlow(ContactId id, std::string entry, std::string caller, std::string language);
  // Compiles the flows of `config` as version `version`.
  static Result<std::shared_ptr<const flow::FlowVersion>> CompileFlowsOf(
      const config::Config& config, uint64_t version);
  void OnFlowEvent(const flow::FlowEvent& fe);
  // Runs flow inputs the engine produced during a step (agent connected, queue statistics,
  // failed lookups) and closes contacts whose flow ended outside routing; called by Commit.
  void SettleFlows();
  // Ends the contact's flow for a reason of the engine's (`outcome` is journaled).
  void EndFlow(ContactId id, std::string outcome);
  // The customer's leg is gone: the flow sees the hang-up; routing abandons or ends handling.
  void CustomerLeft(ContactInfo& info);
  ports::ChannelAdapter* AdapterOf(ContactId contact) const;
  // Offers to the adapter's phones, and the end of offers; AgentConnected for the flow.
  void NotifyChannel(const Event& e);
  // The contact ended on our side: the adapter tears its leg down (once).
  void LegEnded(ContactInfo& info);
  // Posts a flush of the current step unless a command step is running (it commits itself).
  void ScheduleFlush();
  flow::QueueStats StatsFor(ContactId contact, const std::string& queue) const;
  // A new contact (voicemail, callback) made by a flow from `origin`, put into `queue`: with
  // `keep` its original arrival and queue times (its place), else as a new arrival.
  // Returns the new contact's id.
  Result<ContactId> SpawnContact(const ContactInfo& origin, Channel channel,
                                 const std::string& queue, Attributes attributes, bool keep);
  // kNotFound / kInvalidArgument when `queue` is unknown or does not take `channel` contacts.
  Status CheckSpawnQueue(Channel channel, const std::string& queue) const;
  // Voicemail (voicemail.cc): the adapter's mono recording of `origin`'s message arrived; a
  // long enough message becomes the mailbox's contact with the recording attached.
  void VoicemailRecorded(ContactInfo& origin, ports::RecordedAudio audio);
  // Both ways a message's recording arrives: a long enough one becomes a contact of
  // `request.mailbox` made from `origin`, carrying it; a shorter one stays with `origin`.
  void StoreMessage(const ContactInfo& origin, const ports::VoicemailRequest& request,
                    ports::RecordedAudio audio);
  // The message request of the voicemail step a flow ended at (its flow.ended event's fields),
  // as the current flows define it; nullopt when that flow or step is gone.
  std::optional<ports::VoicemailRequest> VoicemailStepOf(const FlowEventFields& ended,
                                                         const Attributes& attributes) const;
  // Stores a finished recording with `contact` (journaled as recording.completed); its id.
  uint64_t StoreRecording(ContactId contact, ports::RecordedAudio audio);
  // CreateContact on the loop: once `from` (normalised) is in the identity index, the contact is
  // enqueued with its customer; otherwise the customer is found or created off the loop first
  // and the command runs again.
  void CreateContactOnLoop(const ports::Caller& who, ports::NewContact nc,
                           ports::Reply<ports::ContactSnapshot> reply);
  void PlaceCallOnLoop(const ports::Caller& who, ports::OutboundCall call,
                       ports::Reply<ports::ContactSnapshot> reply);
  void StartOutbound(const ports::Caller& who, ContactId id, ports::OutboundCall call,
                     ports::CustomerId customer, ports::Reply<ports::ContactSnapshot> reply);
  bool DialCallback(const Event& offered);
  // Finds or creates the customer of `identity` on the customer worker and calls `done` on the
  // loop; concurrent requests for one identity share one store call.
  void ResolveCustomer(const ports::CustomerIdentity& identity, CustomerDone done);
  // The customer the identity index knows for `from`; or nullopt once the store was asked for it
  // off the loop, after which `make_again()`'s command runs again with `reply` (taken from the
  // caller, who returns at once), or `reply` gets the store's error. `make_again` is called only
  // then, so the known path moves nothing.
  template <class T, class MakeAgain>
  std::optional<ports::CustomerId> IndexedCustomerOr(const ports::CustomerIdentity& from,
                                                     ports::Reply<T>& reply, MakeAgain make_again) {
    auto known = identities_.find(IdentityKey{from.channel, from.address});
    if (known != identities_.end()) return known->second;
    ResolveCustomer(from, [reply = std::move(reply),
                           again = make_again()](Result<ports::CustomerId> id) mutable {
      if (!id.ok()) return reply(Unavailable("customer: " + id.status().message()));
      again(std::move(reply));
    });
    return std::nullopt;
  }
  // Runs `work` (blocking store calls) on the customer worker, then `done` with its result on
  // the loop. Nothing runs once the Engine is gone.
  template <class T>
  void OffLoop(std::function<Result<T>()> work, std::function<void(Result<T>)> done);
  // OffLoop on `worker` (empty: the customer worker's rule).
  template <class T>
  void OffLoopOn(const Executor& worker, std::function<Result<T>()> work,
                 std::function<void(Result<T>)> done);
  // Whether `who` may reach customer `id`: kAll always, others through a contact they may see.
  bool MayReachCustomer(const ports::Caller& who, ports::CustomerId id) const;
  // Keeps the identity index in step with a customer the store now holds (or no longer holds).
  void IndexCustomer(ports::CustomerId id, const std::vector<ports::CustomerIdentity>& identities);
  void Post(std::function<void()> work);
  // Journals the events gathered since the last commit (with the records they changed) and
  // calls `finish` on the loop when they are durable (or failed), in journal order.
  void Commit(std::function<void(const Status&)> finish);
  void FlushStray();
  void OnAppended(uint64_t step, Result<ports::SequenceRange> result);
  // A published event as the ring keeps it: its JSON is rendered when a subscriber first takes
  // it, from the names it had when it happened (most events at high call rates reach no one but
  // the ring, and rendering them all was a fifth of the loop's time).
  struct Published {
    ports::PublishedEvent p;  // p.json "" until rendered; p.agent, team, queue are its names
    Event event;
    std::string to_queue;  // the rest of its EventNames
    std::string customer;
    const ports::PublishedEvent& Rendered();
  };
  void Publish(const std::vector<Event>& events, ports::Sequence first);
  Published ToPublished(const Event& e, ports::Sequence seq) const;
  // Sends subscriber `s` the events after `after` it may see (from the ring, or from the journal
  // beyond it, or a "reset" when neither has them), then adds it to the live subscribers.
  void Resume(const std::shared_ptr<Subscriber>& s, ports::Sequence after);
  bool Accepting(const Status** refusal);
  void MaybeFinishShutdown();

  // Recording (engine_recording.cc). The queue's plan for an offered call, given to the adapter
  // before OfferToAgent; on an accepted offer of an `always` queue, the recording is marked
  // started and journaled.
  void PlanRecording(const Event& offered, ports::ChannelAdapter& adapter);
  void RecordingOnAccept(const Event& accepted);
  // An event of `type` about contact `c` (its agent, queue and channel), text = `fields`.
  Event RecordingEvent(EventType type, const ContactInfo& c,
                       std::vector<std::pair<std::string, std::string>> fields) const;
  bool MaySeeRecording(const ports::Caller& who, const ports::RecordingRecord& r) const;

  // Bookkeeping fed by every event.
  void Track(const Event& e);
  void RefreshContact(ContactId id);
  void RefreshAgent(AgentIndex a);
  int64_t DayOf(TimePoint t) const;
  void ResetStats(int64_t day);

  // Views and checks.
  const AgentDef* AgentDefByName(const std::string& name) const;
  std::string TeamOf(const std::string& agent) const;
  bool MaySeeAgent(const ports::Caller& who, const std::string& agent) const;
  bool MaySeeContact(const ports::Caller& who, const ContactInfo& c) const;
  // Reading a contact (its view, its events, its customer): those who may see it, and while a
  // consultation lasts the consulted agent, whose desktop shows the caller they may take.
  bool MayReadContact(const ports::Caller& who, const ContactInfo& c) const;
  bool MaySeeEvent(const ports::Caller& who, const ports::PublishedEvent& p) const;
  ports::AgentSnapshot AgentView(AgentIndex a) const;
  ports::ContactSnapshot ContactView(const ContactInfo& c) const;
  ports::QueueSnapshot QueueView(QueueIndex q) const;
  // QueueView's parts that do not run with the clock, as of `now` (engine/snapshot.cc).
  QueueRecord QueueRecordOf(QueueIndex q, TimePoint now) const;
  // The site's day that holds `now`, remembered until `now` leaves it.
  DayWindow TodayWindow(TimePoint now) const;
  // The live view's next snapshot after the step being committed: the agents and queues it
  // touched, or everything after Start and a reconfiguration (engine/snapshot.cc).
  std::shared_ptr<const LiveSnapshot> StageSnapshot();
  void RebuildSnapshot(TimePoint now);
  // Names and members of the configuration the Acd runs now (after Start's and each applied
  // configuration's Acd::Configure), so a queue's staffing does not scan every agent.
  void RebuildDirectory();
  void StageAgent(AgentIndex a, TimePoint now, std::set<QueueIndex>& queues);
  std::vector<AgentIndex> QueueMembers(const std::string& queue) const;
  Result<ContactInfo*> FindVisibleContact(const ports::Caller& who, ContactId id);
  // Runs a contact command: apply, then journal, then reply with the contact's snapshot.
  void ContactStep(const ports::Caller& who, ContactId id,
                   std::function<Status(ContactInfo&)> apply,
                   ports::Reply<ports::ContactSnapshot> reply);
  template <class T>
  void ReplyAfterCommit(ports::Reply<T> reply, Result<T> value);
  // Blind transfer of a handled contact to the flow of entry point `entry` of its channel: the
  // agent wraps up, the flow starts again for the contact.
  Status TransferToFlow(ContactInfo& c, const std::string& entry);
  // consult.cc: the first agent hung up while the consulted phone rang: back to the queue.
  void RequeueAfterTransferorLeft(ContactInfo& c);
  // consult.cc: the member of `queue` a consultation of the queue rings, chosen by the ACD as
  // the queue's strategy would (Acd::BestFreeMember; none of `passed`); kConflict when none is
  // free.
  Result<std::string> FreeMemberToConsult(const ContactInfo& c, const std::string& queue,
                                          const std::vector<std::string>& passed = {}) const;
  // consult.cc: kStart of ConsultContact once the contact is found (queue: "" or the queue
  // consulted, whose free member `target` is).
  void StartConsult(const ports::Caller& who, ContactInfo& info, std::string target,
                    std::string queue, ports::Reply<ports::ContactSnapshot> reply);
  // consult.cc: kStartQueue: a free member is consulted, or the consultation waits.
  void StartQueueConsult(const ports::Caller& who, ContactInfo& info, std::string queue,
                         ports::Reply<ports::ContactSnapshot> reply);
  // consult.cc: the waiting consultation of `c` (re)joins the waiting ones: the customer on
  // hold, journaled `consult.waiting` with `fields`.
  void WaitForConsultMember(ContactInfo& c,
                            std::vector<std::pair<std::string, std::string>> fields);
  // consult.cc: ends the waiting consultation of `c` (`consult.ended` with `reason`, the
  // customer off hold unless the call is over).
  void EndConsultWait(ContactInfo& c, const std::string& reason, const std::string& by);
  // consult.cc, called by Commit: waiting consultations whose call ended are withdrawn, the
  // others ring a member who is free now (in the order they started waiting).
  void ServeConsultWaits();
  // consult.cc: the consultation of `c` is over: every consult_* field cleared, its wait and
  // timer gone.
  void ForgetConsult(ContactInfo& c);
  // consult.cc: the adapter refused to ring the member a waiting consultation picked.
  void ConsultRingRefused(ContactId id, const std::string& target, const Status& why);
  // The timer that bounds consultations waiting for a queue's member (consult.cc).
  class ConsultWaitTimer final : public TimerTarget {
   public:
    explicit ConsultWaitTimer(Engine& engine) : engine_(engine) {}
    void OnTimer(uint64_t tag) override;

   private:
    Engine& engine_;
  };
  // transfer.cc: a phone's REFER target resolved (queue, entry point, agent, login, number).
  ports::TransferTarget ResolveTarget(const ContactInfo& c, ports::TransferTarget target) const;
  Status TransferToQueue(ContactInfo& c, const std::string& queue);
  void StartBlindTransfer(const ports::Caller& who, ContactInfo& c, ports::TransferTarget target,
                          ports::Reply<ports::ContactSnapshot> reply);
  Status BlindTransferStarted(ContactInfo& c, const ports::TransferTarget& target,
                              std::optional<AgentIndex> agent);
  // The number did not answer: the contact waits in the queue it came from again, keeping its
  // arrival (or closes when that queue is gone).
  void RequeueFromNumber(ContactInfo& c);
  // The call of a blind transfer ended (hang-up): the pending agent is freed, the contact closes.
  // False when no blind transfer is under way.
  bool EndBlindTransfer(ContactInfo& c);
  // Call control: kConflict unless `c` is a voice contact being handled with its adapter.
  Result<ports::ChannelAdapter*> LiveCall(const ContactInfo& c, std::string_view action) const;

  Clock& clock_;
  TimerQueue& timers_;
  Executor executor_;
  ports::Store& store_;
  std::shared_ptr<const config::Config> config_;
  EngineOptions options_;
  std::function<int64_t(TimePoint)> day_fn_;
  std::unique_ptr<Acd> acd_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // weak refs guard queued work

  // Step state.
  std::vector<Event> step_events_;
  std::set<ContactId> step_contacts_;
  std::set<AgentIndex> step_agents_;
  bool in_step_ = false;
  // CompleteWrapUp: the disposition to put on the kWrapUpEnded event of this contact.
  std::optional<std::pair<ContactId, std::string>> wrap_disposition_;
  bool flush_posted_ = false;
  // Issue 6: recordings and leg quality reported during this step, and the last recording id.
  std::vector<ports::RecordingRecord> step_recordings_;
  std::vector<ports::LegQualityRecord> step_legs_;
  uint64_t last_recording_id_ = 0;
  std::deque<std::pair<uint64_t, InFlight>> in_flight_;
  uint64_t next_step_ = 1;

  // Contacts.
  std::unordered_map<ContactId, ContactInfo> contacts_;
  std::deque<ContactId> closed_order_;
  uint64_t next_contact_ = 1;
  uint64_t enqueue_counter_ = 0;

  // Customers: the identity index (normalised (channel, address) -> customer), loaded at Start,
  // and the lookups waiting for the customer worker.
  std::map<IdentityKey, ports::CustomerId> identities_;
  std::map<IdentityKey, std::vector<CustomerDone>> pending_customers_;

  // Publication.
  std::deque<Published> ring_;
  ports::Sequence last_seq_ = 0;
  std::vector<std::shared_ptr<Subscriber>> subscribers_;

  // Statistics.
  int64_t stats_day_ = 0;
  std::unique_ptr<KpiCalculator> kpi_;
  std::vector<QueueCounters> counters_;  // by QueueIndex

  // Flows.
  std::shared_ptr<const flow::FlowVersion> flows_;
  std::array<ports::ChannelAdapter*, kChannelCount> adapters_{};
  std::unique_ptr<NoHttpClient> no_http_;
  std::unique_ptr<flow::FlowRunner> runner_;
  std::deque<std::pair<ContactId, flow::FlowInput>> flow_inputs_;  // for SettleFlows
  std::vector<ContactId> flows_ended_;

  // The live view (engine/snapshot.h): rebuilt whole at the next step when set.
  std::unique_ptr<LiveSnapshots> live_;
  std::shared_ptr<const LiveDirectory> directory_;
  // Each Acd agent's definition in the configuration the Acd runs now (null: not configured any
  // more), rebuilt with the directory: a queue's statistics look up every member's capacity on
  // every step, which a search by name made quadratic in the agents.
  std::vector<const AgentDef*> agent_defs_;
  bool snapshot_rebuild_ = true;
  mutable DayWindow today_window_{TimePoint::max(), TimePoint::max()};

  // Consultations waiting for a queue's member, in the order they began waiting (consult.cc).
  std::vector<ContactId> consult_waits_;
  ConsultWaitTimer consult_wait_timer_{*this};
  bool started_ = false;
  bool shutting_down_ = false;
  std::function<void()> shutdown_done_;
};

}  // namespace parley::engine
