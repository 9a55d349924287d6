#pragma once
// Acd: the automatic contact distributor. It matches waiting contacts to agents, both ways (a new
// contact looks for the best free agent; an agent who frees capacity takes the best waiting
// contact across every queue it serves), keeps offers as reservations with a timeout, escalates
// waiting contacts over time, and explains every decision.
//
// Ownership and threads: single-threaded; owned by the core loop (or a test or the simulator),
// which calls every method on one thread. It reads time only from the Clock, waits only through
// the TimerQueue, draws randomness only from its own seeded Random, and reports every transition
// as an Event to the AcdObserver (synchronously, before the call returns). Same configuration,
// calls, clock and seed give the same events.
//
// Indices: every agent and queue ever configured keeps its index for the Acd's lifetime (a reload
// maps agents and queues by name; removed ones are retired, never reused), so events can carry
// indices.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "acd/explain.h"
#include "base/clock.h"
#include "base/random.h"
#include "base/status.h"
#include "domain/agent_state.h"
#include "domain/contact.h"
#include "domain/event.h"
#include "domain/routing.h"

namespace parley {

// Receives every event as it happens. OnEvent must not call back into the Acd: queue the
// reaction (accept, reject, ...) and apply it after the Acd call returns.
class AcdObserver {
 public:
  virtual ~AcdObserver() = default;
  virtual void OnEvent(const Event& event) = 0;
};

struct AcdOptions {
  uint64_t seed = 1;
  // Attach a full explanation (every member agent considered, with reasons and scores) to each
  // offer, kept per contact and returned by LastOfferExplanation(). Costs O(members) per offer.
  bool explain_offers = false;
  // Day number of a time in the site's time zone, for fewest-contacts ("handled today"); see
  // config::SiteDayFunction. When empty, days are UTC days.
  std::function<int64_t(TimePoint)> day_of;
};

// What one agent is doing with one contact.
struct WorkItem {
  ContactId contact;
  Channel channel = Channel::kVoice;
  QueueIndex queue = kNone;
  WorkStage stage = WorkStage::kOffered;
  TimePoint since{};
  bool ring_all = false;
};

struct AgentView {
  AgentIndex index = kNone;
  std::string name;
  bool removed = false;
  Presence presence = Presence::kOffline;
  std::string reason;
  TimePoint presence_since{};
  TimePoint idle_since{};
  uint32_t handled_today = 0;
  uint32_t consecutive_misses = 0;
  std::vector<WorkItem> work;
};

enum class ContactState : uint8_t { kWaiting, kOffered, kHandling, kWrapUp, kGone };
std::string_view ContactStateName(ContactState s);

struct ContactView {
  ContactId id;
  ContactState state = ContactState::kGone;
  QueueIndex queue = kNone;
  Channel channel = Channel::kVoice;
  int32_t priority = 0;
  uint32_t step = 0;  // escalation steps taken in the current queue
  std::vector<AgentIndex> offered_to;
  AgentIndex agent = kNone;  // handling agent
  ContactTimes times;
  Attributes attributes;
  std::string customer;
};

// A contact put back after a restart (Acd::Restore): its original times, and where it was.
struct RestoredContact {
  ContactId id;
  QueueIndex queue = kNone;
  ContactSpec spec;
  ContactTimes times;                      // arrived and queued keep the contact's place and wait
  AgentIndex agent = kNone;                // kNone: waiting in `queue`; otherwise at this agent
  WorkStage stage = WorkStage::kHandling;  // with an agent: kHandling or kWrapUp
};

struct QueueView {
  QueueIndex index = kNone;
  std::string name;
  bool removed = false;
  uint32_t waiting = 0;
  TimePoint oldest_arrival = TimePoint::max();  // of contacts waiting
  uint32_t members = 0;
  uint32_t agents_free = 0;  // members with free capacity on one of the queue's channels now
};

class Acd final : public TimerTarget {
 public:
  Acd(Clock& clock, TimerQueue& timers, AcdObserver& observer, AcdOptions options = {});
  ~Acd() override;
  Acd(const Acd&) = delete;
  Acd& operator=(const Acd&) = delete;

  // Applies a configuration, the first or a reload, atomically: agents and queues are matched by
  // name, waiting contacts keep their place, offers in progress stay, removed queues drain and
  // removed agents retire once their contacts end. Returns an error (and changes nothing) if the
  // configuration refers to indices it does not have.
  Status Configure(const RoutingConfig& config);

  // --- Agents ---
  std::optional<AgentIndex> FindAgent(std::string_view name) const;
  std::optional<QueueIndex> FindQueue(std::string_view name) const;
  const std::string& AgentName(AgentIndex a) const;
  const std::string& QueueName(QueueIndex q) const;
  size_t agent_count() const;
  size_t queue_count() const;
  // Offline withdraws pending offers (the contacts go back to waiting); Not Ready keeps them, so
  // an agent who clicks Not Ready while a contact rings can still take it.
  Status SetPresence(AgentIndex a, Presence p, std::string_view reason = {});

  // --- Contacts ---
  // Puts a new contact into a queue and routes it at once if an agent is free.
  Status Enqueue(ContactId id, QueueIndex q, ContactSpec spec);
  // Recovery: puts back a contact that was open before a restart, with its original arrival and
  // queue-entry times, and emits no event for it (it is not a new arrival). Without an agent it
  // waits in its queue, in the order of (priority, arrival, call order), and is routed at once
  // as Enqueue does; escalation timers count from times.queued. With an agent it is in Handling
  // or WrapUp there, using one of the agent's slots (capacity is not checked); a wrap-up keeps
  // the rest of the queue's wrap-up time, counted from times.wrap_up.
  Status Restore(RestoredContact contact);
  Status Accept(ContactId id, AgentIndex a);
  Status Reject(ContactId id, AgentIndex a);
  // Talk (or work) is over: the agent goes to wrap-up for this contact (queue's wrap-up time; with
  // zero wrap-up the contact closes at once).
  Status EndHandling(ContactId id);
  // Ends the agent's wrap-up of this contact early (or when it has no timer).
  Status EndWrapUp(ContactId id, AgentIndex a);
  // The customer left while waiting or while being offered.
  Status Abandon(ContactId id);
  // The system cancels a waiting or offered contact.
  Status Remove(ContactId id);
  // The handling agent hands the contact to queue `q`; the agent goes to wrap-up for it, and the
  // contact waits in `q`, keeping its arrival time and attributes.
  Status Transfer(ContactId id, QueueIndex q);
  // The handling agent hands the contact out of routing (to a contact flow, which may queue it
  // again later): kContactTransferred with no queue, the agent goes to wrap-up for it, and the
  // contact is no longer the Acd's.
  // `how` is the kContactTransferred event's text (docs/voice.md: "external" fields for a call
  // transferred to a number).
  Status TransferOut(ContactId id, std::string_view how = {});
  Status StartHold(ContactId id);
  Status EndHold(ContactId id);
  // Consultation (attended) transfer. Reserve holds agent `b` for contact `id` while the
  // handling agent consults b: one slot of the contact's channel is taken (b's view shows the
  // contact in handling), so b is offered nothing it could not take besides. kConflict when the
  // contact is not being handled, or b is not Available with a free slot; kInvalidArgument when
  // b handles it already. Unreserve frees b's slot (the consultation ended; the contact may be
  // gone meanwhile). HandTo completes it: the handling agent hands the contact to b, who
  // reserved it: kContactTransferred (text "attended", queue = the contact's) and
  // kHandlingEnded for the first agent, who wraps up; kHandlingStarted for b.
  Status Reserve(ContactId id, AgentIndex b);
  Status Unreserve(ContactId id, AgentIndex b);
  Status HandTo(ContactId id, AgentIndex b);
  // Blind transfer to one agent. PassTo: the handling agent hands the contact to b, who reserved
  // it and has not answered yet: kContactTransferred (text `how`, queue = the contact's) and
  // kHandlingEnded for the first agent, who wraps up; the contact is then pending at b (handled
  // by b for routing, b's slot stays taken) until StartPending (b answered: kHandlingStarted) or
  // ReturnPending: b's slot is freed with no event and the contact waits in its queue again,
  // keeping its arrival time (kContactQueued), or with `close` closes (the customer left).
  Status PassTo(ContactId id, AgentIndex b, std::string_view how);
  Status StartPending(ContactId id);
  Status ReturnPending(ContactId id, bool close);
  // Consultation of a queue: the member of queue `q` a `channel` contact that entered it at
  // `since` would be offered to now, by the queue's strategy and its members' delays, never one
  // of `excluded`; nullopt when none is free (or `q` does not take `channel`). Changes nothing
  // (round-robin's position moves only with an offer), except that a random queue draws.
  std::optional<AgentIndex> BestFreeMember(QueueIndex q, Channel channel, TimePoint since,
                                           const std::vector<AgentIndex>& excluded);

  // --- Queries ---
  std::optional<ContactView> GetContact(ContactId id) const;
  AgentView GetAgent(AgentIndex a) const;
  QueueView GetQueue(QueueIndex q) const;
  // Why this contact is where it is: for a waiting contact, why no agent takes it yet; for an
  // offered or handled one, which agents were considered now and which rule decides.
  Result<Explanation> Explain(ContactId id) const;
  // The explanation captured when the contact was last offered (needs options.explain_offers).
  const Explanation* LastOfferExplanation(ContactId id) const;

  // Counters for benchmarks and metrics.
  struct Stats {
    uint64_t decisions = 0;  // routing attempts (contact-side and agent-side)
    uint64_t offers = 0;
    uint64_t candidates_scanned = 0;
  };
  const Stats& stats() const { return stats_; }
  size_t MemoryBytes() const;

  void OnTimer(uint64_t tag) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Stats stats_;
};

}  // namespace parley
