#include "analytics/kpi.h"

#include <algorithm>
#include <utility>

#include "base/check.h"

namespace parley {
namespace {

// Indices above this are treated as corrupt input rather than grown into.
constexpr uint32_t kMaxIndex = 1u << 20;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if (a % b != 0 && ((a < 0) != (b < 0))) --q;
  return q;
}

std::optional<double> Ratio(int64_t num, int64_t den) {
  if (den <= 0) return std::nullopt;
  return static_cast<double>(num) / static_cast<double>(den);
}

std::optional<double> Ratio(Duration num, Duration den) { return Ratio(num.count(), den.count()); }

std::optional<Duration> Mean(Duration sum, int64_t n) {
  if (n <= 0) return std::nullopt;
  return Duration(sum.count() / n);
}

// Nearest rank: the smallest sample with at least 90% of the samples at or below it.
Duration P90(std::vector<int64_t>& samples) {
  if (samples.empty()) return Duration(0);
  size_t rank = (samples.size() * 9 + 9) / 10;  // ceil(0.9 n), 1-based
  auto nth = samples.begin() + static_cast<std::ptrdiff_t>(rank - 1);
  std::nth_element(samples.begin(), nth, samples.end());
  return Duration(*nth);
}

void Merge(ContactStats& into, const ContactStats& s) {
  into.offered += s.offered;
  into.answered += s.answered;
  into.answered_within_target += s.answered_within_target;
  into.abandoned += s.abandoned;
  into.short_abandoned += s.short_abandoned;
  into.abandoned_within_target += s.abandoned_within_target;
  into.timed_out += s.timed_out;
  into.overflowed += s.overflowed;
  into.removed += s.removed;
  into.transferred += s.transferred;
  into.answered_wait += s.answered_wait;
  into.total_wait += s.total_wait;
  into.longest_wait = std::max(into.longest_wait, s.longest_wait);
  into.max_waiting = std::max(into.max_waiting, s.max_waiting);
  into.handled += s.handled;
  into.talk += s.talk;
  into.hold += s.hold;
  into.wrap_up += s.wrap_up;
}

// Adds `dt` spent in the agent's current state to the clocks that state runs.
void RunClocks(AgentStats& s, Duration dt) {
  if (s.presence != Presence::kOffline) s.logged_in += dt;
  if (s.active_contacts > 0) {
    s.busy += dt;
  } else if (s.presence == Presence::kAvailable) {
    s.available_idle += dt;
  } else if (s.presence == Presence::kNotReady) {
    s.not_ready_idle += dt;
  }
}

}  // namespace

std::optional<double> ContactStats::ServiceLevel(ServiceLevelVariant variant) const {
  const int64_t finished = Finished();
  switch (variant) {
    case ServiceLevelVariant::kExcludeShortAbandons:
      return Ratio(answered_within_target, finished - short_abandoned);
    case ServiceLevelVariant::kAllFinished:
      return Ratio(answered_within_target, finished);
    case ServiceLevelVariant::kAnsweredOnly:
      return Ratio(answered_within_target, answered);
    case ServiceLevelVariant::kAbandonsWithinTargetMet:
      return Ratio(answered_within_target + abandoned_within_target, finished);
    case ServiceLevelVariant::kExcludeAbandonsWithinTarget:
      return Ratio(answered_within_target, finished - abandoned_within_target);
  }
  return std::nullopt;
}

std::optional<double> ContactStats::AbandonRate(bool exclude_short) const {
  const int64_t s = exclude_short ? short_abandoned : 0;
  return Ratio(abandoned - s, Finished() - s);
}
std::optional<double> ContactStats::TransferRate() const { return Ratio(transferred, answered); }
std::optional<Duration> ContactStats::Asa() const { return Mean(answered_wait, answered); }
std::optional<Duration> ContactStats::AverageWait() const { return Mean(total_wait, Finished()); }
std::optional<Duration> ContactStats::Aht() const { return Mean(talk + hold + wrap_up, handled); }
std::optional<Duration> ContactStats::AverageTalk() const { return Mean(talk, handled); }
std::optional<Duration> ContactStats::AverageHold() const { return Mean(hold, handled); }
std::optional<Duration> ContactStats::AverageWrapUp() const { return Mean(wrap_up, handled); }

std::optional<double> AgentStats::Occupancy() const { return Ratio(busy, busy + available_idle); }
std::optional<double> AgentStats::Utilisation() const { return Ratio(busy, logged_in); }
std::optional<Duration> AgentStats::Aht() const { return Mean(talk + hold + wrap_up, handled); }
std::optional<double> AgentStats::TransferRate() const { return Ratio(transferred, accepted); }

Status ValidateKpiOptions(const KpiOptions& options) {
  if (options.interval <= Duration(0)) {
    return InvalidArgument("analytics: interval must be positive");
  }
  if (options.service_level_target < Duration(0)) {
    return InvalidArgument("analytics: service_level_target must not be negative");
  }
  if (options.short_abandon < Duration(0)) {
    return InvalidArgument("analytics: short_abandon must not be negative");
  }
  return Status::Ok();
}

KpiCalculator::KpiCalculator(KpiOptions options) : options_(std::move(options)) {
  PARLEY_CHECK(ValidateKpiOptions(options_).ok());
  contacts_.reserve(options_.expected_contacts);
}

int64_t KpiCalculator::IntervalIndex(TimePoint t) const {
  return FloorDiv((t - options_.origin).count(), options_.interval.count());
}

int64_t KpiCalculator::IntervalOf(TimePoint t) {
  // Events come in time order, so most fall in the interval of the one before.
  if (t >= cached_start_ && t < cached_end_) return cached_interval_;
  cached_interval_ = IntervalIndex(t);
  cached_start_ = IntervalStart(cached_interval_);
  cached_end_ = cached_start_ + options_.interval;
  return cached_interval_;
}

TimePoint KpiCalculator::IntervalStart(int64_t index) const {
  return options_.origin + options_.interval * index;
}

Duration KpiCalculator::TargetFor(QueueIndex q) const {
  if (q < options_.queue_service_level_targets.size() &&
      options_.queue_service_level_targets[q] > Duration(0)) {
    return options_.queue_service_level_targets[q];
  }
  return options_.service_level_target;
}

bool KpiCalculator::EnsureQueue(QueueIndex q) {
  if (q >= kMaxIndex) return false;
  if (q >= queues_.size()) {
    queues_.resize(q + 1);
    waiters_.resize(q + 1);
  }
  return true;
}

KpiCalculator::AgentState* KpiCalculator::EnsureAgent(AgentIndex a, TimePoint t) {
  if (a >= kMaxIndex) return nullptr;
  if (a >= agents_.size()) {
    const size_t old = agents_.size();
    agents_.resize(a + 1);
    // An agent's clocks start at its first event; before it the agent was Offline and idle.
    for (size_t i = old; i < agents_.size(); ++i) agents_[i].since = t;
  }
  return &agents_[a];
}

KpiCalculator::Bucket& KpiCalculator::Grow(Series& series, int64_t interval) {
  PARLEY_DCHECK(interval >= first_interval_);
  const auto offset = static_cast<size_t>(interval - first_interval_);
  if (offset >= series.buckets.size()) {
    series.buckets.resize(offset + 1);
    // An interval usually sees about as many waits as the one before: room for them up front
    // spares the doublings that would copy the samples over and over.
    if (offset > 0) {
      series.buckets[offset].waits.reserve(series.buckets[offset - 1].waits.size());
    }
  }
  return series.buckets[offset];
}

void KpiCalculator::ChangeLevel(Series& series, int64_t interval, int32_t delta) {
  // Intervals since the last change saw the old level throughout.
  if (series.waiting > 0 && series.level_interval != kNoInterval) {
    for (int64_t i = series.level_interval + 1; i <= interval; ++i) {
      ContactStats& s = At(series, i).stats;
      s.max_waiting = std::max(s.max_waiting, series.waiting);
    }
  }
  series.level_interval = interval;
  series.waiting += delta;
  ContactStats& s = At(series, interval).stats;
  s.max_waiting = std::max(s.max_waiting, series.waiting);
}

void KpiCalculator::RecordWait(Series& series, int64_t bucket_interval, int64_t now_interval,
                               Duration wait, Outcome outcome, Duration target) {
  ChangeLevel(series, now_interval, -1);
  Bucket& b = At(series, bucket_interval);
  ContactStats& s = b.stats;
  b.waits.push_back(wait.count());
  s.total_wait += wait;
  s.longest_wait = std::max(s.longest_wait, wait);
  switch (outcome) {
    case Outcome::kAnswered:
      ++s.answered;
      s.answered_wait += wait;
      if (wait <= target) ++s.answered_within_target;
      break;
    case Outcome::kAbandoned:
      ++s.abandoned;
      if (wait <= options_.short_abandon) ++s.short_abandoned;
      if (wait <= target) ++s.abandoned_within_target;
      break;
    case Outcome::kTimedOut:
      ++s.timed_out;
      break;
    case Outcome::kOverflowed:
      ++s.overflowed;
      break;
    case Outcome::kRemoved:
      ++s.removed;
      break;
  }
}

void KpiCalculator::StartWait(ContactId id, ContactState& c, QueueIndex q, TimePoint t) {
  const int64_t k = IntervalOf(t);
  if (!c.episode_open) {
    c.episode_open = true;
    c.episode_start = t;
    c.episode_interval = k;
    for (Series* s : {&channels_[Index(c.channel)], &overall_}) {
      ChangeLevel(*s, k, +1);
      ++At(*s, k).stats.offered;
    }
  }
  c.overflow_pending = false;
  c.queue = q;
  c.segment_start = t;
  c.segment_interval = k;
  c.segment_seq = ++next_seq_;
  ChangeLevel(queues_[q], k, +1);
  ++At(queues_[q], k).stats.offered;
  if (options_.live_longest_wait) waiters_[q].push_back(Waiter{id, c.segment_seq, t});
}

void KpiCalculator::EndWait(ContactState& c, TimePoint t, Outcome outcome) {
  const int64_t k = IntervalOf(t);
  const QueueIndex q = c.queue;
  if (outcome != Outcome::kOverflowed && c.episode_open) {
    const Duration target = TargetFor(q);
    for (Series* s : {&channels_[Index(c.channel)], &overall_}) {
      RecordWait(*s, c.episode_interval, k, t - c.episode_start, outcome, target);
    }
    c.episode_open = false;
    c.overflow_pending = false;
  }
  if (q != kNone) {
    RecordWait(queues_[q], c.segment_interval, k, t - c.segment_start, outcome, TargetFor(q));
    c.queue = kNone;
    if (options_.live_longest_wait) PruneFront(q);
  }
}

void KpiCalculator::PruneFront(QueueIndex q) {
  std::deque<Waiter>& w = waiters_[q];
  while (!w.empty()) {
    auto it = contacts_.find(w.front().contact);
    if (it != contacts_.end() && it->second.queue == q && it->second.segment_seq == w.front().seq) {
      break;
    }
    w.pop_front();
  }
}

KpiCalculator::Handling* KpiCalculator::FindHandling(ContactState& c, AgentIndex a) {
  for (Handling& h : c.handlings) {
    if (h.stage != Handling::Stage::kFree && h.agent == a) return &h;
  }
  return nullptr;
}

KpiCalculator::Handling* KpiCalculator::FreeHandling(ContactState& c) {
  for (Handling& h : c.handlings) {
    if (h.stage == Handling::Stage::kFree) return &h;
  }
  return nullptr;
}

void KpiCalculator::ChangeActive(AgentIndex a, TimePoint t, int32_t delta) {
  AgentState* agent = EnsureAgent(a, t);
  if (agent == nullptr) return;
  // Close the clocks at t under the old state, then change it.
  RunClocks(agent->stats, t - agent->since);
  agent->since = t;
  agent->stats.active_contacts += delta;
}

void KpiCalculator::AddHandleTimes(const ContactState& c, const Handling& h, Duration talk,
                                   Duration hold, Duration wrap_up, bool count_handled) {
  auto add = [&](auto& s) {  // ContactStats or AgentStats
    if (count_handled) ++s.handled;
    s.talk += talk;
    s.hold += hold;
    s.wrap_up += wrap_up;
  };
  if (h.queue != kNone && EnsureQueue(h.queue)) add(At(queues_[h.queue], h.ended_interval).stats);
  add(At(channels_[Index(c.channel)], h.ended_interval).stats);
  add(At(overall_, h.ended_interval).stats);
  if (h.agent < agents_.size()) add(agents_[h.agent].stats);
}

void KpiCalculator::EndTalk(ContactState& c, Handling& h, TimePoint t) {
  if (h.on_hold) {
    h.hold += t - h.hold_since;
    h.on_hold = false;
  }
  h.ended_interval = IntervalOf(t);
  AddHandleTimes(c, h, t - h.since - h.hold, h.hold, Duration(0), /*count_handled=*/true);
  ChangeActive(h.agent, t, -1);
  h.stage = Handling::Stage::kEnded;
}

void KpiCalculator::EndWrapUp(ContactState& c, Handling& h, TimePoint t) {
  AddHandleTimes(c, h, Duration(0), Duration(0), t - h.since, /*count_handled=*/false);
  ChangeActive(h.agent, t, -1);
  h = Handling{};
}

void KpiCalculator::MaybeErase(ContactMap::iterator it) {
  const ContactState& c = it->second;
  if (c.queue != kNone || c.episode_open) return;
  for (const Handling& h : c.handlings) {
    if (h.stage != Handling::Stage::kFree) return;
  }
  contacts_.erase(it);
}

void KpiCalculator::OnOutcome(const Event& e, TimePoint t, Outcome outcome) {
  auto it = contacts_.find(e.contact);
  if (it == contacts_.end() || (it->second.queue == kNone && !it->second.episode_open)) {
    ++ignored_events_;
    return;
  }
  EndWait(it->second, t, outcome);
  if (outcome == Outcome::kOverflowed) {
    it->second.overflow_pending = true;
  } else {
    MaybeErase(it);
  }
}

void KpiCalculator::OnAccepted(const Event& e, TimePoint t) {
  AgentState* agent = EnsureAgent(e.agent, t);
  if (agent == nullptr) {
    ++ignored_events_;
    return;
  }
  ++agent->stats.accepted;
  auto [it, inserted] = contacts_.try_emplace(e.contact);
  ContactState& c = it->second;
  if (inserted) c.channel = e.channel;
  Handling* h = FindHandling(c, e.agent);
  if (h != nullptr) {
    // The same agent takes the contact again (it came back from a transfer): the earlier
    // handling ends here so its times and the agent's busy clock stay whole.
    if (h->stage == Handling::Stage::kHandling) EndTalk(c, *h, t);
    if (h->stage == Handling::Stage::kWrapUp) EndWrapUp(c, *h, t);
  } else {
    h = FreeHandling(c);
  }
  if (h == nullptr) {
    ++ignored_events_;
    return;
  }
  *h = Handling{};
  h->stage = Handling::Stage::kAccepted;
  h->agent = e.agent;
  // Accepted without a wait (a direct transfer to an agent, an outbound contact): nothing was
  // answered from a queue, so no queue or episode owns a transfer of it.
  h->queue = c.queue != kNone ? c.queue : (e.queue < kMaxIndex ? e.queue : kNone);
  if (c.queue != kNone) h->queue_interval = c.segment_interval;
  if (c.episode_open) h->episode_interval = c.episode_interval;
  if (c.queue != kNone || c.episode_open) EndWait(c, t, Outcome::kAnswered);
}

void KpiCalculator::Add(const Event& e) {
  ++events_;
  TimePoint t = e.time;
  if (!started_) {
    started_ = true;
    first_interval_ = IntervalIndex(t);
  } else if (t < last_time_) {
    ++out_of_order_events_;
    t = last_time_;
  }
  last_time_ = t;

  switch (e.type) {
    case EventType::kContactQueued: {
      if (!EnsureQueue(e.queue)) {
        ++ignored_events_;
        return;
      }
      auto [it, inserted] = contacts_.try_emplace(e.contact);
      ContactState& c = it->second;
      if (inserted || !c.episode_open) c.channel = e.channel;
      // Queued again while still waiting elsewhere: a move without an overflow event.
      if (c.queue != kNone) EndWait(c, t, Outcome::kOverflowed);
      StartWait(e.contact, c, e.queue, t);
      return;
    }
    case EventType::kContactOffered:
    case EventType::kOfferRejected:
    case EventType::kOfferTimedOut:
    case EventType::kOfferWithdrawn: {
      AgentState* agent = EnsureAgent(e.agent, t);
      if (agent == nullptr) {
        ++ignored_events_;
        return;
      }
      AgentStats& s = agent->stats;
      if (e.type == EventType::kContactOffered) ++s.offers;
      if (e.type == EventType::kOfferRejected) ++s.rejected;
      if (e.type == EventType::kOfferTimedOut) ++s.offer_timeouts;
      if (e.type == EventType::kOfferWithdrawn) ++s.withdrawn;
      return;
    }
    case EventType::kOfferAccepted:
      OnAccepted(e, t);
      return;
    case EventType::kContactAbandoned:
      OnOutcome(e, t, Outcome::kAbandoned);
      return;
    case EventType::kContactTimedOut:
      OnOutcome(e, t, Outcome::kTimedOut);
      return;
    case EventType::kContactOverflowed:
      OnOutcome(e, t, Outcome::kOverflowed);
      return;
    case EventType::kContactRemoved:
      OnOutcome(e, t, Outcome::kRemoved);
      return;
    case EventType::kContactEscalated:
      return;  // informational: no KPI depends on it
    case EventType::kContactTransferred: {
      AgentState* agent = EnsureAgent(e.agent, t);
      if (agent != nullptr) ++agent->stats.transferred;
      auto it = contacts_.find(e.contact);
      Handling* h = it == contacts_.end() ? nullptr : FindHandling(it->second, e.agent);
      if (h == nullptr) {
        if (agent == nullptr) ++ignored_events_;
        return;
      }
      if (h->queue_interval != kNoInterval && h->queue != kNone) {
        ++At(queues_[h->queue], h->queue_interval).stats.transferred;
      }
      if (h->episode_interval != kNoInterval) {
        ++At(channels_[Index(it->second.channel)], h->episode_interval).stats.transferred;
        ++At(overall_, h->episode_interval).stats.transferred;
      }
      return;
    }
    case EventType::kHandlingStarted: {
      if (EnsureAgent(e.agent, t) == nullptr) {
        ++ignored_events_;
        return;
      }
      auto [it, inserted] = contacts_.try_emplace(e.contact);
      ContactState& c = it->second;
      if (inserted) c.channel = e.channel;
      Handling* h = FindHandling(c, e.agent);
      if (h == nullptr) {  // handling without an accepted offer (e.g. outbound)
        h = FreeHandling(c);
        if (h == nullptr) {
          ++ignored_events_;
          return;
        }
        *h = Handling{};
        h->agent = e.agent;
        h->queue = e.queue < kMaxIndex ? e.queue : kNone;
      } else if (h->stage != Handling::Stage::kAccepted) {
        ++ignored_events_;
        return;
      }
      h->stage = Handling::Stage::kHandling;
      h->since = t;
      h->hold = Duration(0);
      ChangeActive(e.agent, t, +1);
      return;
    }
    case EventType::kHoldStarted:
    case EventType::kHoldEnded: {
      auto it = contacts_.find(e.contact);
      Handling* h = it == contacts_.end() ? nullptr : FindHandling(it->second, e.agent);
      if (h == nullptr || h->stage != Handling::Stage::kHandling ||
          h->on_hold == (e.type == EventType::kHoldStarted)) {
        ++ignored_events_;
        return;
      }
      if (e.type == EventType::kHoldStarted) {
        h->on_hold = true;
        h->hold_since = t;
      } else {
        h->on_hold = false;
        h->hold += t - h->hold_since;
      }
      return;
    }
    case EventType::kHandlingEnded: {
      auto it = contacts_.find(e.contact);
      Handling* h = it == contacts_.end() ? nullptr : FindHandling(it->second, e.agent);
      if (h == nullptr || h->stage != Handling::Stage::kHandling) {
        ++ignored_events_;
        return;
      }
      EndTalk(it->second, *h, t);
      return;
    }
    case EventType::kWrapUpStarted: {
      auto it = contacts_.find(e.contact);
      Handling* h = it == contacts_.end() ? nullptr : FindHandling(it->second, e.agent);
      if (h == nullptr ||
          (h->stage != Handling::Stage::kEnded && h->stage != Handling::Stage::kHandling)) {
        ++ignored_events_;
        return;
      }
      if (h->stage == Handling::Stage::kHandling) EndTalk(it->second, *h, t);
      h->stage = Handling::Stage::kWrapUp;
      h->since = t;
      ChangeActive(e.agent, t, +1);
      return;
    }
    case EventType::kWrapUpEnded: {
      auto it = contacts_.find(e.contact);
      Handling* h = it == contacts_.end() ? nullptr : FindHandling(it->second, e.agent);
      if (h == nullptr || h->stage != Handling::Stage::kWrapUp) {
        ++ignored_events_;
        return;
      }
      EndWrapUp(it->second, *h, t);
      MaybeErase(it);
      return;
    }
    case EventType::kPresenceChanged: {
      AgentState* agent = EnsureAgent(e.agent, t);
      if (agent == nullptr || e.value < 0 || e.value > static_cast<int>(Presence::kNotReady)) {
        ++ignored_events_;
        return;
      }
      ChangeActive(e.agent, t, 0);
      agent->stats.presence = static_cast<Presence>(e.value);
      return;
    }
    case EventType::kContactClosed: {
      auto it = contacts_.find(e.contact);
      if (it == contacts_.end()) return;  // already freed after its last outcome
      ContactState& c = it->second;
      // Whatever is still open ends now.
      for (Handling& h : c.handlings) {
        if (h.stage == Handling::Stage::kHandling) EndTalk(c, h, t);
        if (h.stage == Handling::Stage::kWrapUp) EndWrapUp(c, h, t);
        h = Handling{};
      }
      if (c.queue != kNone || c.episode_open) EndWait(c, t, Outcome::kRemoved);
      contacts_.erase(it);
      return;
    }
    case EventType::kFlowStepEntered:  // flows are outside the queue KPIs
    case EventType::kFlowStepExited:
    case EventType::kFlowEnded:
    case EventType::kSurveyAnswered:
      return;
    case EventType::kRecordingStarted:  // recording and media quality are not queue KPIs
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
      return;
  }
  ++ignored_events_;  // an EventType value this code does not know
}

SeriesStats KpiCalculator::Summarise(const Series& series, int64_t last_interval) const {
  SeriesStats out;
  if (last_interval < first_interval_) return out;
  const auto count = static_cast<size_t>(last_interval - first_interval_ + 1);
  out.intervals.resize(count);
  std::vector<int64_t> all;
  std::vector<int64_t> samples;
  for (size_t i = 0; i < count; ++i) {
    const int64_t k = first_interval_ + static_cast<int64_t>(i);
    IntervalStats& iv = out.intervals[i];
    iv.start = IntervalStart(k);
    if (i < series.buckets.size()) {
      const Bucket& b = series.buckets[i];
      iv.stats = b.stats;
      samples.assign(b.waits.begin(), b.waits.end());
      iv.stats.wait_p90 = P90(samples);
      all.insert(all.end(), b.waits.begin(), b.waits.end());
    }
    // The level since the last change holds through the intervals after it.
    if (series.level_interval != kNoInterval && k > series.level_interval) {
      iv.stats.max_waiting = std::max(iv.stats.max_waiting, series.waiting);
    }
    Merge(out.total, iv.stats);
  }
  out.total.wait_p90 = P90(all);
  return out;
}

KpiReport KpiCalculator::Report(TimePoint as_of) const {
  KpiReport r;
  r.events = events_;
  r.ignored_events = ignored_events_;
  r.out_of_order_events = out_of_order_events_;
  const TimePoint end = started_ ? std::max(as_of, last_time_) : as_of;
  r.as_of = end;
  if (!started_) return r;
  const int64_t last = IntervalIndex(end);
  r.queues.reserve(queues_.size());
  for (const Series& s : queues_) r.queues.push_back(Summarise(s, last));
  for (int c = 0; c < kChannelCount; ++c) r.channels[c] = Summarise(channels_[c], last);
  r.overall = Summarise(overall_, last);
  r.agents.reserve(agents_.size());
  for (const AgentState& a : agents_) {
    AgentStats s = a.stats;
    RunClocks(s, end - a.since);
    r.agents.push_back(s);
  }
  return r;
}

ContactStats KpiCalculator::QueueTotal(QueueIndex q) const {
  ContactStats total;
  if (q >= queues_.size()) return total;
  for (const Bucket& b : queues_[q].buckets) Merge(total, b.stats);
  total.max_waiting = 0;
  return total;
}

LiveSnapshot KpiCalculator::Live(TimePoint now) const {
  LiveSnapshot live;
  live.at = now;
  live.queues.resize(queues_.size());
  for (size_t q = 0; q < queues_.size(); ++q) {
    live.queues[q].waiting = queues_[q].waiting;
    if (!waiters_[q].empty()) {
      live.queues[q].longest_wait = std::max(Duration(0), now - waiters_[q].front().start);
    }
  }
  live.waiting = overall_.waiting;
  for (const AgentState& a : agents_) {
    ++live.agents_by_presence[static_cast<int>(a.stats.presence)];
    if (a.stats.active_contacts > 0) ++live.agents_busy;
  }
  return live;
}

}  // namespace parley
