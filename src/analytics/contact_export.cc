#include "analytics/contact_export.h"

#include <array>
#include <unordered_map>

namespace parley {

std::string_view SegmentOutcomeName(SegmentOutcome o) {
  static constexpr std::array<std::string_view, 8> kNames = {
      "waiting",     "answered",   "abandoned", "short_abandoned",
      "transferred", "overflowed", "timed_out", "removed"};
  return kNames[static_cast<size_t>(o)];
}

namespace {

// One agent's work on a segment, from acceptance to the end of wrap-up.
struct Work {
  size_t row = 0;
  AgentIndex agent = kNone;
  bool talking = false;
  bool on_hold = false;
  bool wrapping = false;
  TimePoint since{};  // handling or wrap-up start
  TimePoint hold_since{};
};

struct Contact {
  std::optional<size_t> waiting;  // the row whose wait is open
  int32_t segments = 0;
  std::unordered_map<AgentIndex, TimePoint> offers;  // open offers: agent -> offered at
  std::vector<Work> work;
  // An attended transfer (a consultation completed) or a blind one to an agent: its queue, until
  // the target agent's kHandlingStarted opens that agent's segment.
  std::optional<QueueIndex> attended_to;
};

class Builder {
 public:
  explicit Builder(const ContactExportOptions& options) : options_(options) {}

  void Add(const Event& e) {
    const TimePoint t = e.time;
    switch (e.type) {
      case EventType::kContactQueued: {
        Contact& c = contacts_[e.contact];
        if (c.waiting) EndWait(c, t, SegmentOutcome::kOverflowed);
        ContactFact f;
        f.contact = e.contact;
        f.segment = ++c.segments;
        f.channel = e.channel;
        f.queue = e.queue;
        f.queued_at = t;
        c.waiting = facts_.size();
        c.offers.clear();
        c.attended_to.reset();  // a transfer to an agent who did not answer: queued again
        facts_.push_back(f);
        return;
      }
      case EventType::kContactOffered: {
        Contact* c = Waiting(e);
        if (c == nullptr) return;
        ContactFact& f = facts_[*c->waiting];
        ++f.offers;
        if (!f.offered_at) f.offered_at = t;
        c->offers[e.agent] = t;
        return;
      }
      case EventType::kOfferRejected:
      case EventType::kOfferTimedOut:
      case EventType::kOfferWithdrawn:
        if (Contact* c = Waiting(e)) c->offers.erase(e.agent);
        return;
      case EventType::kOfferAccepted: {
        Contact* c = Waiting(e);
        if (c == nullptr) return;
        const size_t row = *c->waiting;
        ContactFact& f = facts_[row];
        if (auto it = c->offers.find(e.agent); it != c->offers.end()) f.ring = t - it->second;
        f.agent = e.agent;
        f.answered_at = t;
        f.wait = t - f.queued_at;
        f.outcome = SegmentOutcome::kAnswered;
        c->waiting.reset();
        c->offers.clear();
        c->work.push_back(Work{.row = row, .agent = e.agent, .since = t});
        return;
      }
      case EventType::kContactAbandoned: {
        Contact* c = Waiting(e);
        if (c == nullptr) return;
        ContactFact& f = facts_[*c->waiting];
        // The offer that was ringing when the customer hung up, if any (the latest one).
        std::optional<TimePoint> ringing;
        for (const auto& [agent, at] : c->offers) {
          if (!ringing || at > *ringing) ringing = at;
        }
        if (ringing) f.ring = t - *ringing;
        const bool is_short = t - f.queued_at <= options_.short_abandon;
        EndWait(*c, t, is_short ? SegmentOutcome::kShortAbandoned : SegmentOutcome::kAbandoned);
        return;
      }
      case EventType::kContactOverflowed:
      case EventType::kContactTimedOut:
      case EventType::kContactRemoved: {
        Contact* c = Waiting(e);
        if (c == nullptr) return;
        EndWait(*c, t,
                e.type == EventType::kContactOverflowed ? SegmentOutcome::kOverflowed
                : e.type == EventType::kContactTimedOut ? SegmentOutcome::kTimedOut
                                                        : SegmentOutcome::kRemoved);
        return;
      }
      case EventType::kContactTransferred: {
        Work* w = FindWork(e);
        if (w == nullptr) return;
        ContactFact& f = facts_[w->row];
        f.outcome = SegmentOutcome::kTransferred;
        f.transferred_to = e.queue;
        // A consultation completed or a blind transfer to one agent: the agent who takes it over
        // gets a segment of its own when its handling starts.
        const std::string_view kind = TransferKind(e.text);
        if (kind == "attended" || kind == "agent") contacts_[e.contact].attended_to = e.queue;
        return;
      }
      case EventType::kHandlingStarted:
        if (Work* w = FindWork(e); w != nullptr && !w->talking && !w->wrapping) {
          w->talking = true;
          w->since = t;
        } else if (w == nullptr) {
          StartAttendedSegment(e);
        }
        return;
      case EventType::kHandlingEnded:
        if (Work* w = FindWork(e); w != nullptr && w->talking) EndTalk(*w, t);
        return;
      case EventType::kHoldStarted:
        if (Work* w = FindWork(e); w != nullptr && w->talking && !w->on_hold) {
          w->on_hold = true;
          w->hold_since = t;
        }
        return;
      case EventType::kHoldEnded:
        if (Work* w = FindWork(e); w != nullptr && w->on_hold) EndHold(*w, t);
        return;
      case EventType::kWrapUpStarted:
        if (Work* w = FindWork(e); w != nullptr && !w->wrapping) {
          if (w->talking) EndTalk(*w, t);
          w->wrapping = true;
          w->since = t;
        }
        return;
      case EventType::kWrapUpEnded:
        if (Work* w = FindWork(e); w != nullptr && w->wrapping) {
          EndWrapUp(*w, t);
          Contact& c = contacts_[e.contact];
          std::erase_if(c.work, [&](const Work& x) { return x.agent == e.agent; });
        }
        return;
      case EventType::kContactClosed: {
        auto it = contacts_.find(e.contact);
        if (it == contacts_.end()) return;
        Contact& c = it->second;
        if (c.waiting) EndWait(c, t, SegmentOutcome::kRemoved);
        for (Work& w : c.work) {
          if (w.talking) EndTalk(w, t);
          if (w.wrapping) EndWrapUp(w, t);
        }
        contacts_.erase(it);
        return;
      }
      case EventType::kContactEscalated:
      case EventType::kPresenceChanged:
        return;
      case EventType::kFlowStepEntered:  // the fact table has no flow columns (yet)
      case EventType::kFlowStepExited:
      case EventType::kFlowEnded:
      case EventType::kSurveyAnswered:
        return;
      case EventType::kRecordingStarted:  // nor recording and media quality (yet)
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
  }

  std::vector<ContactFact> Take() { return std::move(facts_); }

 private:
  Contact* Waiting(const Event& e) {
    auto it = contacts_.find(e.contact);
    if (it == contacts_.end() || !it->second.waiting) return nullptr;
    return &it->second;
  }
  Work* FindWork(const Event& e) {
    auto it = contacts_.find(e.contact);
    if (it == contacts_.end()) return nullptr;
    for (Work& w : it->second.work) {
      if (w.agent == e.agent) return &w;
    }
    return nullptr;
  }
  // The agent who took an attended transfer over: a segment of its own in the same queue,
  // answered when its handling started (no wait, no ring), so its talk is its own.
  void StartAttendedSegment(const Event& e) {
    auto it = contacts_.find(e.contact);
    if (it == contacts_.end() || !it->second.attended_to || e.agent == kNone) return;
    Contact& c = it->second;
    ContactFact f;
    f.contact = e.contact;
    f.segment = ++c.segments;
    f.channel = e.channel;
    f.queue = *c.attended_to;
    f.agent = e.agent;
    f.queued_at = e.time;
    f.answered_at = e.time;
    f.outcome = SegmentOutcome::kAnswered;
    c.attended_to.reset();
    c.work.push_back(
        Work{.row = facts_.size(), .agent = e.agent, .talking = true, .since = e.time});
    facts_.push_back(f);
  }
  void EndWait(Contact& c, TimePoint t, SegmentOutcome outcome) {
    ContactFact& f = facts_[*c.waiting];
    f.wait = t - f.queued_at;
    f.ended_at = t;
    f.outcome = outcome;
    c.waiting.reset();
    c.offers.clear();
  }
  void EndHold(Work& w, TimePoint t) {
    facts_[w.row].hold += t - w.hold_since;
    w.on_hold = false;
  }
  void EndTalk(Work& w, TimePoint t) {
    if (w.on_hold) EndHold(w, t);
    ContactFact& f = facts_[w.row];
    f.talk = (t - w.since) - f.hold;
    f.talk_ended_at = t;
    f.ended_at = t;
    w.talking = false;
  }
  void EndWrapUp(Work& w, TimePoint t) {
    ContactFact& f = facts_[w.row];
    f.wrap_up += t - w.since;
    f.ended_at = t;
    w.wrapping = false;
  }
  ContactExportOptions options_;
  std::vector<ContactFact> facts_;
  // Contacts stay until kContactClosed: a transferred contact is queued again after its first
  // segment ended, and its segments keep counting.
  std::unordered_map<ContactId, Contact> contacts_;
};

std::string NameOr(std::string_view name, uint32_t index) {
  if (index == kNone) return {};
  return name.empty() ? std::to_string(index) : std::string(name);
}

std::string OptionalTime(const std::optional<TimePoint>& t) {
  return t ? FormatIsoUtcMillis(*t) : std::string();
}

}  // namespace

std::vector<ContactFact> ContactFacts(const std::vector<Event>& events,
                                      const ContactExportOptions& options) {
  Builder builder(options);
  for (const Event& e : events) builder.Add(e);
  return builder.Take();
}

std::string WriteContactCsv(const std::vector<ContactFact>& facts, const ExportNames& names) {
  std::string out;
  AppendCsvRow(
      out, {"contact_id", "segment", "channel", "queue", "agent", "outcome", "transferred_to",
            "offers", "queued_at", "offered_at", "answered_at", "talk_ended_at", "ended_at", "wait",
            "ring", "talk", "hold", "wrap_up", "handle"});
  for (const ContactFact& f : facts) {
    AppendCsvRow(
        out,
        {std::to_string(f.contact.value()), std::to_string(f.segment),
         std::string(ChannelName(f.channel)), NameOr(names.Queue(f.queue), f.queue),
         NameOr(names.Agent(f.agent), f.agent), std::string(SegmentOutcomeName(f.outcome)),
         NameOr(names.Queue(f.transferred_to), f.transferred_to), std::to_string(f.offers),
         FormatIsoUtcMillis(f.queued_at), OptionalTime(f.offered_at), OptionalTime(f.answered_at),
         OptionalTime(f.talk_ended_at), OptionalTime(f.ended_at), FormatSecondsMillis(f.wait),
         FormatSecondsMillis(f.ring), FormatSecondsMillis(f.talk), FormatSecondsMillis(f.hold),
         FormatSecondsMillis(f.wrap_up), FormatSecondsMillis(f.Handle())});
  }
  return out;
}

}  // namespace parley
