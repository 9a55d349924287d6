#include "analytics/queue_log.h"

#include <algorithm>
#include <optional>
#include <unordered_map>

#include "domain/agent_state.h"

namespace parley {

namespace {

int64_t WholeSeconds(Duration d) { return d.count() / 1'000'000; }
int64_t EpochSeconds(TimePoint t) {
  return std::chrono::floor<std::chrono::seconds>(t).time_since_epoch().count();
}

struct Call {
  QueueIndex queue = kNone;  // the queue it waits in, or was answered from
  bool waiting = false;
  TimePoint queued_at{};
  int32_t origposition = 0;
  std::unordered_map<AgentIndex, TimePoint> offers;
  AgentIndex agent = kNone;  // answered by
  TimePoint answered_at{};
  Duration hold{0};  // queued -> first answer: the holdtime of every line about this call
  bool transferred = false;
  bool attended = false;  // an attended transfer waits for its target's kHandlingStarted
};

class Writer {
 public:
  explicit Writer(const ExportNames& names) : names_(names) {}

  void Add(const Event& e) {
    const TimePoint t = e.time;
    switch (e.type) {
      case EventType::kContactQueued: {
        Call& c = calls_[e.contact];
        if (c.waiting) Leave(e.contact, c);  // an overflow without its own event
        c = Call{};
        c.queue = e.queue;
        c.waiting = true;
        c.queued_at = t;
        auto& line = Waiters(e.queue);
        line.push_back(e.contact);
        c.origposition = static_cast<int32_t>(line.size());
        Emit(t, e.contact, e.queue, kNone, "ENTERQUEUE", {"", ""});
        return;
      }
      case EventType::kContactOffered:
        if (Call* c = WaitingCall(e)) c->offers[e.agent] = t;
        return;
      case EventType::kOfferRejected:
      case EventType::kOfferTimedOut:
        if (Call* c = WaitingCall(e)) {
          auto it = c->offers.find(e.agent);
          if (it == c->offers.end()) return;
          Emit(t, e.contact, c->queue, e.agent, "RINGNOANSWER",
               {std::to_string((t - it->second).count() / 1000)});
          c->offers.erase(it);
        }
        return;
      case EventType::kOfferWithdrawn:
        if (Call* c = WaitingCall(e)) c->offers.erase(e.agent);
        return;
      case EventType::kOfferAccepted: {
        Call* c = WaitingCall(e);
        if (c == nullptr) return;
        auto it = c->offers.find(e.agent);
        const Duration ring = it == c->offers.end() ? Duration(0) : t - it->second;
        Emit(t, e.contact, c->queue, e.agent, "CONNECT",
             {std::to_string(WholeSeconds(t - c->queued_at)), "",
              std::to_string(WholeSeconds(ring))});
        Leave(e.contact, *c);
        c->agent = e.agent;
        c->answered_at = t;
        c->hold = t - c->queued_at;
        return;
      }
      case EventType::kContactAbandoned:
        ExitWith(e, "ABANDON");
        return;
      case EventType::kContactOverflowed:
      case EventType::kContactTimedOut:
        ExitWith(e, "EXITWITHTIMEOUT");
        return;
      case EventType::kContactRemoved:
        ExitWith(e, "EXITEMPTY");
        return;
      case EventType::kContactTransferred: {
        Call* c = AnsweredCall(e);
        if (c == nullptr) return;
        c->transferred = true;
        const std::string_view kind = TransferKind(e.text);
        if (kind == "agent" || kind == "external") {
          // A blind transfer to one agent (who connects on its kHandlingStarted, as after an
          // attended one) or to an external number: the target and its kind.
          std::string target;
          for (const auto& [key, value] : ParseEventFields(e.text)) {
            if (key == "target" || key == "number") target = value;
          }
          Emit(t, e.contact, c->queue, e.agent, "BLINDTRANSFER",
               {target, std::string(kind), std::to_string(WholeSeconds(c->hold)),
                std::to_string(WholeSeconds(t - c->answered_at)), std::to_string(c->origposition)});
          c->attended = kind == "agent";
          return;
        }
        if (kind == "attended") {  // a consultation completed: the target agent took it
          Emit(t, e.contact, c->queue, e.agent, "ATTENDEDTRANSFER",
               {"AGENT", "", std::to_string(WholeSeconds(c->hold)),
                std::to_string(WholeSeconds(t - c->answered_at)), std::to_string(c->origposition)});
          c->attended = true;
          return;
        }
        Emit(t, e.contact, c->queue, e.agent, "BLINDTRANSFER",
             {std::string(QueueName(e.queue)), "queue", std::to_string(WholeSeconds(c->hold)),
              std::to_string(WholeSeconds(t - c->answered_at)), std::to_string(c->origposition)});
        return;
      }
      case EventType::kHandlingEnded: {
        Call* c = AnsweredCall(e);
        if (c == nullptr || c->transferred) return;
        Emit(t, e.contact, c->queue, e.agent,
             e.text == "agent" ? "COMPLETEAGENT" : "COMPLETECALLER",
             {std::to_string(WholeSeconds(c->hold)),
              std::to_string(WholeSeconds(t - c->answered_at)), std::to_string(c->origposition)});
        c->agent = kNone;  // one COMPLETE per answer
        return;
      }
      case EventType::kContactClosed: {
        auto it = calls_.find(e.contact);
        if (it == calls_.end()) return;
        Call& c = it->second;
        if (c.waiting) {
          ExitWith(e, "EXITEMPTY");
        } else if (c.agent != kNone && !c.transferred) {
          // Closed during talk without kHandlingEnded: the caller's side went away.
          Emit(t, e.contact, c.queue, c.agent, "COMPLETECALLER",
               {std::to_string(WholeSeconds(c.hold)),
                std::to_string(WholeSeconds(t - c.answered_at)), std::to_string(c.origposition)});
        }
        calls_.erase(it);
        return;
      }
      case EventType::kPresenceChanged:
        OnPresence(e);
        return;
      case EventType::kHandlingStarted: {
        // After ATTENDEDTRANSFER the target agent connects as Asterisk logs it: its own CONNECT
        // (holdtime: the caller's wait before the first answer; no ring from the queue), then
        // its own COMPLETE line.
        auto it = calls_.find(e.contact);
        if (it == calls_.end() || !it->second.attended || e.agent == kNone) return;
        Call& c = it->second;
        c.attended = false;
        c.transferred = false;
        c.agent = e.agent;
        c.answered_at = t;
        Emit(t, e.contact, c.queue, e.agent, "CONNECT",
             {std::to_string(WholeSeconds(c.hold)), "", "0"});
        return;
      }
      case EventType::kContactEscalated:
      case EventType::kHoldStarted:
      case EventType::kHoldEnded:
      case EventType::kWrapUpStarted:
      case EventType::kWrapUpEnded:
        return;
      case EventType::kFlowStepEntered:  // flows are not queue_log lines
      case EventType::kFlowStepExited:
      case EventType::kFlowEnded:
      case EventType::kSurveyAnswered:
        return;
      case EventType::kRecordingStarted:  // nor recording and media quality
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

  std::vector<QueueLogLine> Take() { return std::move(lines_); }

 private:
  std::string QueueName(QueueIndex q) const {
    if (q == kNone) return "NONE";
    const auto name = names_.Queue(q);
    return name.empty() ? std::to_string(q) : std::string(name);
  }
  std::string AgentName(AgentIndex a) const {
    if (a == kNone) return "NONE";
    const auto name = names_.Agent(a);
    return name.empty() ? std::to_string(a) : std::string(name);
  }
  std::vector<ContactId>& Waiters(QueueIndex q) { return waiters_[q]; }

  void Emit(TimePoint t, std::optional<ContactId> contact, QueueIndex q, AgentIndex a,
            const char* event, std::vector<std::string> data) {
    lines_.push_back(QueueLogLine{
        .epoch = EpochSeconds(t),
        .callid = contact ? std::to_string(contact->value()) : std::string("NONE"),
        .queue = QueueName(q),
        .agent = AgentName(a),
        .event = event,
        .data = std::move(data),
    });
  }

  Call* WaitingCall(const Event& e) {
    auto it = calls_.find(e.contact);
    return it != calls_.end() && it->second.waiting ? &it->second : nullptr;
  }
  Call* AnsweredCall(const Event& e) {
    auto it = calls_.find(e.contact);
    return it != calls_.end() && !it->second.waiting && it->second.agent == e.agent &&
                   e.agent != kNone
               ? &it->second
               : nullptr;
  }

  // The 1-based place of `id` among the contacts waiting in `q`, in the order they entered.
  int32_t Position(QueueIndex q, ContactId id) {
    const auto& line = Waiters(q);
    const auto it = std::find(line.begin(), line.end(), id);
    return static_cast<int32_t>(it - line.begin()) + 1;
  }
  void Leave(ContactId id, Call& c) {
    std::erase(Waiters(c.queue), id);
    c.waiting = false;
    c.offers.clear();
  }
  // ABANDON, EXITWITHTIMEOUT, EXITEMPTY: position|origposition|waittime.
  void ExitWith(const Event& e, const char* event) {
    Call* c = WaitingCall(e);
    if (c == nullptr) return;
    Emit(e.time, e.contact, c->queue, kNone, event,
         {std::to_string(Position(c->queue, e.contact)), std::to_string(c->origposition),
          std::to_string(WholeSeconds(e.time - c->queued_at))});
    Leave(e.contact, *c);
  }

  // Presence maps to membership (logged in or not) and pause (Not Ready): one line per queue of
  // the agent's (ExportNames::agent_queues), or one with queue "NONE" when none is known.
  void OnPresence(const Event& e) {
    if (e.agent == kNone || e.value < 0 || e.value > static_cast<int64_t>(Presence::kNotReady)) {
      return;
    }
    const auto to = static_cast<Presence>(e.value);
    auto [it, inserted] = presence_.try_emplace(e.agent, Presence::kOffline);
    const Presence from = it->second;
    if (from == to) return;
    it->second = to;
    auto member = [&](const char* event, const std::string& data) {
      const std::vector<QueueIndex>* queues =
          e.agent < names_.agent_queues.size() ? &names_.agent_queues[e.agent] : nullptr;
      if (queues == nullptr || queues->empty()) {
        Emit(e.time, std::nullopt, kNone, e.agent, event, {data});
        return;
      }
      for (QueueIndex q : *queues) Emit(e.time, std::nullopt, q, e.agent, event, {data});
    };
    if (from == Presence::kOffline) member("ADDMEMBER", "");
    if (to == Presence::kNotReady) {
      member("PAUSE", e.text);
    } else if (from == Presence::kNotReady && to == Presence::kAvailable) {
      member("UNPAUSE", "");
    }
    if (to == Presence::kOffline) member("REMOVEMEMBER", "");
  }

  const ExportNames& names_;
  std::vector<QueueLogLine> lines_;
  std::unordered_map<ContactId, Call> calls_;
  std::unordered_map<QueueIndex, std::vector<ContactId>> waiters_;
  std::unordered_map<AgentIndex, Presence> presence_;
};

void AppendField(std::string& out, std::string_view field) {
  for (char c : field) out.push_back(c == '|' || c == '\r' || c == '\n' ? '_' : c);
}

}  // namespace

std::vector<QueueLogLine> QueueLogLines(const std::vector<Event>& events,
                                        const ExportNames& names) {
  Writer writer(names);
  for (const Event& e : events) writer.Add(e);
  return writer.Take();
}

std::string FormatQueueLogLine(const QueueLogLine& line) {
  std::string out = std::to_string(line.epoch);
  for (std::string_view f : {std::string_view(line.callid), std::string_view(line.queue),
                             std::string_view(line.agent), std::string_view(line.event)}) {
    out.push_back('|');
    AppendField(out, f);
  }
  for (const auto& d : line.data) {
    out.push_back('|');
    AppendField(out, d);
  }
  return out;
}

std::string WriteQueueLog(const std::vector<QueueLogLine>& lines) {
  std::string out;
  for (const auto& line : lines) {
    out += FormatQueueLogLine(line);
    out.push_back('\n');
  }
  return out;
}

}  // namespace parley
