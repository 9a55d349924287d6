#pragma once
// Contact-center KPIs from the event stream, with one definition of each. KpiCalculator consumes
// the events the ACD emits (src/domain/event.h), in time order, and reports plain structs: per
// queue and interval, per queue, per channel, overall, and per agent. docs/metrics.md gives every
// formula and convention; the comments here give the contract.
//
// Two populations are counted:
//  - queue results count *segments*: each kContactQueued at a queue starts one (so a contact that
//    overflows from A to B is offered at A and at B), and its wait runs in that queue only;
//  - channel and overall results count *episodes*: an episode starts at a kContactQueued that does
//    not follow an overflow and ends when the contact is answered, abandons, times out or is
//    removed; overflows do not end it, so its wait runs across queues. A transfer back into a
//    queue starts a new episode.

#include <absl/container/flat_hash_map.h>
#include <absl/hash/hash.h>

#include <array>
#include <cstdint>
#include <deque>
#include <limits>
#include <optional>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "domain/agent_state.h"
#include "domain/channel.h"
#include "domain/event.h"
#include "domain/ids.h"

namespace parley {

// Service level: the share of contacts whose wait met the target (wait <= target). Numerators and
// denominators, with F = finished waits, A = answered, A_T = answered within target,
// B_T = abandoned within target, S = short abandons:
enum class ServiceLevelVariant : uint8_t {
  kExcludeShortAbandons,         // primary: A_T / (F - S)
  kAllFinished,                  // A_T / F
  kAnsweredOnly,                 // A_T / A
  kAbandonsWithinTargetMet,      // (A_T + B_T) / F
  kExcludeAbandonsWithinTarget,  // A_T / (F - B_T)
};

struct KpiOptions {
  // Interval boundaries are origin + k * interval for every integer k.
  Duration interval = Seconds(15 * 60);
  TimePoint origin{};  // the Unix epoch by default
  // Service-level target (wait <= target is met), for queues without their own entry below.
  Duration service_level_target = Seconds(20);
  // Per-queue targets, by QueueIndex; a missing or non-positive entry uses service_level_target.
  // Channel and overall results use the target of the queue in which the episode ended.
  std::vector<Duration> queue_service_level_targets;
  // An abandon with wait <= short_abandon is a short abandon.
  Duration short_abandon = Seconds(5);
  // Pre-sizes the contact table: about the most contacts alive at once.
  size_t expected_contacts = 4096;
  // Keeps each queue's waiting contacts in arrival order for Live()'s longest wait. Without it
  // (the simulator, which never asks Live) QueueLive::longest_wait is always 0.
  bool live_longest_wait = true;
};

// Ok, or kInvalidArgument naming the field (interval must be positive, thresholds not negative).
[[nodiscard]] Status ValidateKpiOptions(const KpiOptions& options);

// What happened to the contacts of one population (queue segments or episodes) in one period.
// Wait counters belong to the interval in which the wait started; handle counters to the interval
// in which handling (talk) ended; `transferred` to the bucket where the contact was answered.
// Averages truncate to whole microseconds; ratios and averages are nullopt when the denominator
// is zero.
struct ContactStats {
  // Waits. Every offered wait ends in exactly one outcome or is still waiting.
  int64_t offered = 0;                  // waits started (kContactQueued)
  int64_t answered = 0;                 // ended by kOfferAccepted
  int64_t answered_within_target = 0;   // answered with wait <= target
  int64_t abandoned = 0;                // kContactAbandoned, short abandons included
  int64_t short_abandoned = 0;          // abandoned with wait <= short_abandon
  int64_t abandoned_within_target = 0;  // abandoned with wait <= target (short ones included)
  int64_t timed_out = 0;                // kContactTimedOut (max wait reached, sent to a flow)
  int64_t overflowed = 0;               // kContactOverflowed out of the queue; 0 for episodes
  int64_t removed = 0;                  // kContactRemoved, or closed while still waiting
  int64_t transferred = 0;              // answered contacts later transferred by their agent
  Duration answered_wait{0};            // sum of the waits of answered contacts
  Duration total_wait{0};               // sum of the waits of all finished waits
  Duration longest_wait{0};             // longest finished wait
  Duration wait_p90{0};                 // 90th percentile (nearest rank) of finished waits
  int32_t max_waiting = 0;              // most waits in progress at one time during the period

  // Handling, from kHandlingStarted to kHandlingEnded plus wrap-up.
  int64_t handled = 0;  // handlings whose talk ended (kHandlingEnded)
  Duration talk{0};     // handling time minus hold
  Duration hold{0};
  Duration wrap_up{0};  // added when the wrap-up ends

  int64_t Finished() const { return answered + abandoned + timed_out + overflowed + removed; }
  int64_t Waiting() const { return offered - Finished(); }
  std::optional<double> ServiceLevel(
      ServiceLevelVariant variant = ServiceLevelVariant::kExcludeShortAbandons) const;
  // Abandoned over finished; with exclude_short, short abandons leave both.
  std::optional<double> AbandonRate(bool exclude_short = true) const;
  std::optional<double> TransferRate() const;   // transferred / answered
  std::optional<Duration> Asa() const;          // answered_wait / answered
  std::optional<Duration> AverageWait() const;  // total_wait / Finished()
  std::optional<Duration> Aht() const;          // (talk + hold + wrap_up) / handled
  std::optional<Duration> AverageTalk() const;
  std::optional<Duration> AverageHold() const;
  std::optional<Duration> AverageWrapUp() const;
};

struct IntervalStats {
  TimePoint start{};  // the interval is [start, start + KpiOptions::interval)
  ContactStats stats;
};

// One population over every interval from the first event's interval to the report's, and in
// total (sums; maxima of maxima; the percentile over all samples).
struct SeriesStats {
  ContactStats total;
  std::vector<IntervalStats> intervals;
};

// One agent, over the whole stream. Clocks run between the agent's events and up to the report
// time: logged_in while presence is not Offline; busy while at least one contact is in Handling
// or WrapUp at the agent (whatever the presence); available_idle while Available and not busy;
// not_ready_idle while NotReady and not busy.
struct AgentStats {
  Presence presence = Presence::kOffline;  // at the report time
  int32_t active_contacts = 0;             // in Handling or WrapUp at the report time
  int64_t offers = 0;
  int64_t accepted = 0;
  int64_t rejected = 0;
  int64_t offer_timeouts = 0;
  int64_t withdrawn = 0;
  int64_t handled = 0;      // handlings whose talk ended
  int64_t transferred = 0;  // kContactTransferred with this agent as the from-agent
  Duration talk{0};
  Duration hold{0};
  Duration wrap_up{0};
  Duration logged_in{0};
  Duration busy{0};
  Duration available_idle{0};
  Duration not_ready_idle{0};

  std::optional<double> Occupancy() const;     // busy / (busy + available_idle)
  std::optional<double> Utilisation() const;   // busy / logged_in
  std::optional<Duration> Aht() const;         // (talk + hold + wrap_up) / handled
  std::optional<double> TransferRate() const;  // transferred / accepted
};

struct KpiReport {
  TimePoint as_of{};
  std::vector<SeriesStats> queues;   // by QueueIndex, segments
  PerChannel<SeriesStats> channels;  // episodes
  SeriesStats overall;               // episodes
  std::vector<AgentStats> agents;    // by AgentIndex
  int64_t events = 0;                // events added
  int64_t ignored_events = 0;        // inconsistent with the state (unknown contact, bad index)
  int64_t out_of_order_events = 0;   // earlier than an event before them; taken at that time
};

// What a wallboard shows now.
struct QueueLive {
  int32_t waiting = 0;
  Duration longest_wait{0};  // of the contacts waiting now, in this queue
};
struct LiveSnapshot {
  TimePoint at{};
  std::vector<QueueLive> queues;                // by QueueIndex
  int32_t waiting = 0;                          // episodes waiting, in a queue or between queues
  std::array<int32_t, 3> agents_by_presence{};  // indexed by static_cast<int>(Presence)
  int32_t agents_busy = 0;                      // with a contact in Handling or WrapUp
};

// Incremental KPI calculator. Owns all its state; not thread-safe (use from one thread, normally
// the core loop or the simulator). Per event it does O(1) hash-map work on the contact and no
// allocation beyond amortised growth of its tables and wait samples (every finished wait is kept
// as one int64 sample, which makes the percentile exact). Contact state is freed at
// kContactClosed, or when a contact abandons, times out or is removed with no agent work open.
class KpiCalculator {
 public:
  // CHECK-fails unless ValidateKpiOptions(options) is ok.
  explicit KpiCalculator(KpiOptions options);

  // Events must come in time order; an earlier one is counted and taken at the latest time seen.
  void Add(const Event& event);

  // Results up to `as_of` (at least the last event's time). Intervals run from the first event's
  // interval to as_of's. Cost O(queues x intervals + agents + samples).
  KpiReport Report(TimePoint as_of) const;

  LiveSnapshot Live(TimePoint now) const;

  // Report(as_of).queues[q].total without the report: every counter and sum, for any as_of, but
  // wait_p90 and max_waiting left 0. Cost O(intervals) (the engine's live queue views).
  ContactStats QueueTotal(QueueIndex q) const;

  int64_t IntervalIndex(TimePoint t) const;
  TimePoint IntervalStart(int64_t index) const;

 private:
  static constexpr int64_t kNoInterval = std::numeric_limits<int64_t>::min();
  enum class Outcome : uint8_t { kAnswered, kAbandoned, kTimedOut, kOverflowed, kRemoved };

  struct Bucket {
    ContactStats stats;
    std::vector<int64_t> waits;  // microseconds of finished waits
  };
  struct Series {
    std::vector<Bucket> buckets;  // index: interval - first_interval_
    int32_t waiting = 0;
    int64_t level_interval = kNoInterval;  // last interval whose max_waiting saw `waiting`
  };
  // One agent's work on one contact, from acceptance to the end of wrap-up.
  struct Handling {
    enum class Stage : uint8_t { kFree, kAccepted, kHandling, kEnded, kWrapUp };
    Stage stage = Stage::kFree;
    bool on_hold = false;
    AgentIndex agent = kNone;
    QueueIndex queue = kNone;                // queue it was answered from, if any
    int64_t queue_interval = kNoInterval;    // bucket of the answered segment
    int64_t episode_interval = kNoInterval;  // bucket of the answered episode
    int64_t ended_interval = kNoInterval;    // bucket that gets the handle times
    TimePoint since{};                       // handling or wrap-up start
    TimePoint hold_since{};
    Duration hold{0};
  };
  struct ContactState {
    Channel channel = Channel::kVoice;
    bool episode_open = false;
    bool overflow_pending = false;  // overflowed; the next kContactQueued continues the episode
    QueueIndex queue = kNone;       // queue it waits in now
    TimePoint segment_start{};
    int64_t segment_interval = 0;
    uint64_t segment_seq = 0;
    TimePoint episode_start{};
    int64_t episode_interval = 0;
    std::array<Handling, 3> handlings;  // an agent wrapping up while another handles, conference
  };
  struct AgentState {
    AgentStats stats;
    TimePoint since{};
  };
  struct Waiter {
    ContactId contact;
    uint64_t seq;
    TimePoint start;
  };
  struct IdHash {
    size_t operator()(ContactId id) const { return absl::Hash<uint64_t>{}(id.value()); }
  };
  // Open addressing: no node per contact, and a lookup is usually one cache miss.
  using ContactMap = absl::flat_hash_map<ContactId, ContactState, IdHash>;

  // IntervalIndex(t), remembering the last interval seen.
  int64_t IntervalOf(TimePoint t);
  bool EnsureQueue(QueueIndex q);
  AgentState* EnsureAgent(AgentIndex a, TimePoint t);
  Bucket& At(Series& series, int64_t interval) {
    // Most calls are for an interval that has its bucket already: that path stays inline.
    const auto offset = static_cast<size_t>(interval - first_interval_);
    if (offset < series.buckets.size()) [[likely]]
      return series.buckets[offset];
    return Grow(series, interval);
  }
  Bucket& Grow(Series& series, int64_t interval);
  void ChangeLevel(Series& series, int64_t interval, int32_t delta);
  void RecordWait(Series& series, int64_t bucket_interval, int64_t now_interval, Duration wait,
                  Outcome outcome, Duration target);
  Duration TargetFor(QueueIndex q) const;
  void StartWait(ContactId id, ContactState& c, QueueIndex q, TimePoint t);
  // Ends the wait in the current queue and, unless the outcome is an overflow, the episode.
  void EndWait(ContactState& c, TimePoint t, Outcome outcome);
  void AddHandleTimes(const ContactState& c, const Handling& h, Duration talk, Duration hold,
                      Duration wrap_up, bool count_handled);
  void EndTalk(ContactState& c, Handling& h, TimePoint t);
  void EndWrapUp(ContactState& c, Handling& h, TimePoint t);
  void ChangeActive(AgentIndex a, TimePoint t, int32_t delta);
  static Handling* FindHandling(ContactState& c, AgentIndex a);
  static Handling* FreeHandling(ContactState& c);
  void MaybeErase(ContactMap::iterator it);
  void PruneFront(QueueIndex q);
  void OnOutcome(const Event& e, TimePoint t, Outcome outcome);
  void OnAccepted(const Event& e, TimePoint t);
  SeriesStats Summarise(const Series& series, int64_t last_interval) const;

  KpiOptions options_;
  bool started_ = false;
  TimePoint last_time_{};
  int64_t first_interval_ = 0;
  uint64_t next_seq_ = 0;
  int64_t events_ = 0;
  int64_t ignored_events_ = 0;
  int64_t out_of_order_events_ = 0;
  int64_t cached_interval_ = 0;  // IntervalOf's: the interval [cached_start_, cached_end_)
  TimePoint cached_start_ = TimePoint::max();
  TimePoint cached_end_ = TimePoint::min();
  ContactMap contacts_;
  std::vector<Series> queues_;
  std::vector<std::deque<Waiter>> waiters_;  // by queue, in arrival order, lazily pruned
  PerChannel<Series> channels_;
  Series overall_;
  std::vector<AgentState> agents_;
};

}  // namespace parley
