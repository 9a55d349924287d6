// Consultation (attended) transfer of live calls (docs/voice.md, "Consultation transfer"): the
// engine checks scope and state, holds the target agent for the contact in the ACD, asks the
// channel adapter to ring and bridge the target's phone, and journals the consultation
// (consult.started, consult.answered, consult.ended) with the hold and, on completion, the
// attended transfer. A consultation of a queue with no member free waits for one
// (consult.waiting): Commit serves the waiting ones whenever a step ends, so the first member
// a step frees is rung; a timer bounds the wait.

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine.h"

namespace parley::engine {

using ports::Caller;
using ports::Reply;
using Step = ports::ContactCenter::ConsultStep;

namespace {

std::string EndName(ports::ConsultEnd why) {
  switch (why) {
    case ports::ConsultEnd::kTargetHungUp:
      return "target_hung_up";
    case ports::ConsultEnd::kNoAnswer:
      return "no_answer";
    case ports::ConsultEnd::kRefused:
      return "refused";
    case ports::ConsultEnd::kCallEnded:
      return "call_ended";
    case ports::ConsultEnd::kAgentLeft:
      return "transferor_hung_up";
    case ports::ConsultEnd::kAgentLeftRinging:
      return "transferor_hung_up_before_answer";
  }
  return "call_ended";
}

// A conference's end reasons name who left.
std::string ConferenceEndName(ports::ConsultEnd why) {
  switch (why) {
    case ports::ConsultEnd::kTargetHungUp:
      return "target_left";
    case ports::ConsultEnd::kAgentLeft:
      return "agent_left";
    default:
      return EndName(why);
  }
}

// Event fields without the empty ones (a consultation of an agent names no queue).
std::vector<std::pair<std::string, std::string>> Fields(
    std::vector<std::pair<std::string, std::string>> fields) {
  std::erase_if(fields, [](const auto& f) { return f.second.empty(); });
  return fields;
}

// Refusals shared by both starts: what a consultation cannot begin on (kConflict).
template <class Info>
Status CannotConsult(const Info& info, const std::string& name) {
  if (info.consult_waiting) {
    return Conflict(name + " is already in a consultation with queue " + info.consult_queue);
  }
  if (!info.consult_target.empty()) {
    return Conflict(name + " is already in a consultation with " + info.consult_target);
  }
  if (!info.monitor_user.empty()) {
    return Conflict(name + " is monitored by " + info.monitor_user +
                    ": monitoring ends before a consultation");
  }
  return Status::Ok();
}

// How long a consultation of a queue waits for a member when the queue sets no max_wait.
constexpr Duration kConsultWaitDefault = Seconds(120);

// The bound of a consultation of `queue`: its max_wait, or kConsultWaitDefault.
Duration ConsultWaitBound(const config::Config& config, const std::string& queue) {
  const QueueDef* def = QueueDefByName(config, queue);
  return def != nullptr && def->max_wait.count() > 0 ? def->max_wait : kConsultWaitDefault;
}

}  // namespace

void Engine::ConsultContact(const Caller& who, ContactId id, Step step, std::string target,
                            Reply<ports::ContactSnapshot> reply) {
  Post([this, who, id, step, target = std::move(target), reply = std::move(reply)]() mutable {
    if (const Status * refusal; !Accepting(&refusal)) return reply(*refusal);
    auto found = FindVisibleContact(who, id);
    if (!found.ok()) return reply(found.status());
    ContactInfo& info = **found;
    const std::string name = "contact " + std::to_string(id.value());
    if (step == Step::kStartQueue) {
      return StartQueueConsult(who, info, std::move(target), std::move(reply));
    }
    if (step == Step::kStart) {
      return StartConsult(who, info, std::move(target), "", std::move(reply));
    }
    if (info.consult_target.empty() && !info.consult_waiting) {
      return reply(Conflict(name + " has no consultation to " +
                            (step == Step::kComplete ? "complete"
                             : step == Step::kCancel ? "cancel"
                                                     : "become a conference")));
    }
    if (step == Step::kCancel) {
      ContactStep(
          who, id,
          [this, who, id](ContactInfo& c) -> Status {
            if (c.consult_waiting) {
              EndConsultWait(c, "cancelled", who.user);
              return Status::Ok();
            }
            if (c.consult_target.empty()) {
              return Conflict("contact " + std::to_string(id.value()) +
                              " has no consultation to cancel");
            }
            const std::string consulted = c.consult_target;
            const std::string queue = c.consult_queue;
            const bool conference = c.conference;
            ForgetConsult(c);
            if (auto b = acd_->FindAgent(consulted)) {
              (void)acd_->Unreserve(id, *b);
              step_agents_.insert(*b);
            }
            if (c.on_hold) (void)acd_->EndHold(id);
            OnEvent(RecordingEvent(
                conference ? EventType::kConferenceEnded : EventType::kConsultEnded, c,
                Fields({{"target", consulted},
                        {"consulted_queue", queue},
                        {"reason", "cancelled"},
                        {"by", who.user}})));
            if (ports::ChannelAdapter* adapter = AdapterOf(id)) {
              adapter->ControlCall(
                  id, ports::ConsultCall{ports::ConsultCall::Step::kCancel, consulted}, nullptr);
            }
            return Status::Ok();
          },
          std::move(reply));
      return;
    }
    if (info.consult_waiting) {
      return reply(Conflict(name + " waits for an agent of queue '" + info.consult_queue +
                            "': nobody answered the consultation yet"));
    }
    if (step == Step::kConference && info.conference) {
      return reply(Conflict(name + " is already a conference"));
    }
    // Complete or conference: the adapter moves the legs first (kConflict while the target
    // still rings); then the ACD and the journal follow in a step of their own.
    auto adapter =
        LiveCall(info, step == Step::kComplete ? "complete a consultation" : "become a conference");
    if (!adapter.ok()) return reply(adapter.status());
    const std::string consulted = info.consult_target;
    if (step == Step::kConference) {
      (*adapter)->ControlCall(
          id, ports::ConsultCall{ports::ConsultCall::Step::kConference, consulted},
          [this, exec = executor_, alive = std::weak_ptr<int>(alive_), who, id, consulted,
           reply = std::move(reply)](Status s) mutable {
            exec([this, alive, who, id, consulted, s = std::move(s),
                  reply = std::move(reply)]() mutable {
              if (alive.expired()) return;
              if (!s.ok()) return reply(s);
              ContactStep(
                  who, id,
                  [this, id, consulted](ContactInfo& c) -> Status {
                    if (c.consult_target != consulted) {
                      return Conflict("the consultation of contact " + std::to_string(id.value()) +
                                      " ended meanwhile");
                    }
                    c.conference = true;
                    if (c.on_hold) (void)acd_->EndHold(id);
                    OnEvent(
                        RecordingEvent(EventType::kConferenceStarted, c, {{"target", consulted}}));
                    return Status::Ok();
                  },
                  std::move(reply));
            });
          });
      return;
    }
    (*adapter)->ControlCall(
        id, ports::ConsultCall{ports::ConsultCall::Step::kComplete, consulted},
        [this, exec = executor_, alive = std::weak_ptr<int>(alive_), who, id, consulted,
         reply = std::move(reply)](Status s) mutable {
          exec([this, alive, who, id, consulted, s = std::move(s),
                reply = std::move(reply)]() mutable {
            if (alive.expired()) return;
            if (!s.ok()) return reply(s);
            ContactStep(
                who, id,
                [this, id, consulted](ContactInfo& c) -> Status {
                  auto b = acd_->FindAgent(consulted);
                  if (!b || c.consult_target != consulted) {
                    return Conflict("the consultation of contact " + std::to_string(id.value()) +
                                    " ended meanwhile");
                  }
                  // consult_target stays set during HandTo, so that its contact.transferred
                  // does not release the legs as a blind transfer would.
                  Status handed = acd_->HandTo(id, *b);
                  const std::string queue = c.consult_queue;
                  const bool conference = c.conference;
                  ForgetConsult(c);
                  if (!handed.ok()) return handed;
                  OnEvent(RecordingEvent(
                      conference ? EventType::kConferenceEnded : EventType::kConsultEnded, c,
                      Fields({{"target", consulted},
                              {"consulted_queue", queue},
                              {"reason", "completed"}})));
                  return Status::Ok();
                },
                std::move(reply));
          });
        });
  });
}

void Engine::StartConsult(const Caller& who, ContactInfo& info, std::string target,
                          std::string queue, Reply<ports::ContactSnapshot> reply) {
  const ContactId id = info.record.id;
  const std::string name = "contact " + std::to_string(id.value());
  auto adapter = LiveCall(info, "consult another agent");
  if (!adapter.ok()) return reply(adapter.status());
  if (Status s = CannotConsult(info, name); !s.ok()) return reply(s);
  auto b = acd_->FindAgent(target);
  if (!b || !AgentDefByName(target)) return reply(NotFound("no agent '" + target + "'"));
  if (auto v = acd_->GetContact(id); v && v->agent == *b) {
    return reply(
        InvalidArgument("agent '" + target + "' handles " + name + ": consult another agent"));
  }
  if (Status s = acd_->Reserve(id, *b); !s.ok()) return reply(s);
  // The reservation is undone if the adapter refuses or the contact changed meanwhile.
  (*adapter)->ControlCall(
      id, ports::ConsultCall{ports::ConsultCall::Step::kStart, target},
      [this, exec = executor_, alive = std::weak_ptr<int>(alive_), who, id, target, queue, b = *b,
       reply = std::move(reply)](Status s) mutable {
        exec([this, alive, who, id, target, queue, b, s = std::move(s),
              reply = std::move(reply)]() mutable {
          if (alive.expired()) return;
          if (!s.ok()) {
            (void)acd_->Unreserve(id, b);
            return reply(s);
          }
          ContactStep(
              who, id,
              [this, id, target, queue, b](ContactInfo& c) -> Status {
                step_agents_.insert(b);
                auto v = acd_->GetContact(id);
                if (!v || v->state != parley::ContactState::kHandling || c.leg_gone ||
                    !c.consult_target.empty() || c.consult_waiting) {
                  (void)acd_->Unreserve(id, b);
                  if (ports::ChannelAdapter* a = AdapterOf(id)) {
                    a->ControlCall(
                        id, ports::ConsultCall{ports::ConsultCall::Step::kCancel, target}, nullptr);
                  }
                  return Conflict("contact " + std::to_string(id.value()) +
                                  " is no longer a call being handled");
                }
                c.consult_target = target;
                c.consult_answered = false;
                c.consult_queue = queue;
                c.consult_passed.clear();
                c.consult_since = clock_.Now();
                if (!queue.empty()) {
                  // A member who does not answer is passed over and the consultation waits
                  // for the next one, within the queue's bound from now.
                  c.consult_timer =
                      timers_.Schedule(clock_.Now() + ConsultWaitBound(*config_, queue),
                                       consult_wait_timer_, id.value());
                }
                if (!c.on_hold) (void)acd_->StartHold(id);
                OnEvent(RecordingEvent(EventType::kConsultStarted, c,
                                       Fields({{"target", target}, {"consulted_queue", queue}})));
                return Status::Ok();
              },
              std::move(reply));
        });
      });
}

void Engine::StartQueueConsult(const Caller& who, ContactInfo& info, std::string queue,
                               Reply<ports::ContactSnapshot> reply) {
  if (!acd_->FindQueue(queue) || !config_->routing.FindQueue(queue)) {
    return reply(NotFound("no queue '" + queue + "'"));
  }
  if (auto member = FreeMemberToConsult(info, queue); member.ok()) {
    return StartConsult(who, info, *member, std::move(queue), std::move(reply));
  }
  // Nobody is free: the consultation waits for the queue's next free member.
  const ContactId id = info.record.id;
  auto adapter = LiveCall(info, "consult another agent");
  if (!adapter.ok()) return reply(adapter.status());
  if (Status s = CannotConsult(info, "contact " + std::to_string(id.value())); !s.ok()) {
    return reply(s);
  }
  ContactStep(
      who, id,
      [this, who, queue](ContactInfo& c) -> Status {
        if (Status s = CannotConsult(c, "contact " + std::to_string(c.record.id.value()));
            !s.ok()) {
          return s;
        }
        c.consult_queue = queue;
        c.consult_passed.clear();
        c.consult_since = clock_.Now();
        c.consult_timer = timers_.Schedule(clock_.Now() + ConsultWaitBound(*config_, queue),
                                           consult_wait_timer_, c.record.id.value());
        WaitForConsultMember(c, Fields({{"consulted_queue", queue}, {"by", who.user}}));
        return Status::Ok();
      },
      std::move(reply));
}

void Engine::WaitForConsultMember(ContactInfo& c,
                                  std::vector<std::pair<std::string, std::string>> fields) {
  const ContactId id = c.record.id;
  c.consult_waiting = true;
  consult_waits_.push_back(id);
  if (!c.on_hold) (void)acd_->StartHold(id);
  // Also after a member's phones did not answer: the adapter bridged customer and agent again.
  if (ports::ChannelAdapter* a = AdapterOf(id)) a->ControlCall(id, ports::HoldCall{true}, nullptr);
  OnEvent(RecordingEvent(EventType::kConsultWaiting, c, std::move(fields)));
  step_contacts_.insert(id);
}

void Engine::ForgetConsult(ContactInfo& c) {
  if (c.consult_waiting) std::erase(consult_waits_, c.record.id);
  if (c.consult_timer != 0) timers_.Cancel(c.consult_timer);
  c.consult_timer = 0;
  c.consult_target.clear();
  c.consult_queue.clear();
  c.consult_passed.clear();
  c.consult_waiting = false;
  c.consult_answered = false;
  c.conference = false;
}

void Engine::EndConsultWait(ContactInfo& c, const std::string& reason, const std::string& by) {
  const ContactId id = c.record.id;
  const std::string queue = c.consult_queue;
  ForgetConsult(c);
  auto v = acd_->GetContact(id);
  if (v && v->state == parley::ContactState::kHandling && !c.leg_gone) {
    if (c.on_hold) (void)acd_->EndHold(id);
    if (ports::ChannelAdapter* a = AdapterOf(id)) {
      a->ControlCall(id, ports::HoldCall{false}, nullptr);
    }
  }
  OnEvent(RecordingEvent(EventType::kConsultEnded, c,
                         Fields({{"consulted_queue", queue}, {"reason", reason}, {"by", by}})));
  step_contacts_.insert(id);
}

void Engine::ServeConsultWaits() {
  if (consult_waits_.empty() || !started_) return;
  const std::vector<ContactId> waiting = consult_waits_;  // in the order they began waiting
  for (ContactId id : waiting) {
    auto it = contacts_.find(id);
    if (it == contacts_.end()) {
      std::erase(consult_waits_, id);
      continue;
    }
    ContactInfo& c = it->second;
    if (!c.consult_waiting) continue;
    auto v = acd_->GetContact(id);
    ports::ChannelAdapter* adapter = AdapterOf(id);
    if (!v || v->state != parley::ContactState::kHandling || c.leg_gone || adapter == nullptr) {
      EndConsultWait(c, "call_ended", "");
      continue;
    }
    auto member = FreeMemberToConsult(c, c.consult_queue, c.consult_passed);
    if (!member.ok()) continue;
    auto b = acd_->FindAgent(*member);
    if (!b || !acd_->Reserve(id, *b).ok()) continue;
    std::erase(consult_waits_, id);
    c.consult_waiting = false;
    c.consult_target = *member;
    c.consult_answered = false;
    step_agents_.insert(*b);
    step_contacts_.insert(id);
    OnEvent(RecordingEvent(EventType::kConsultStarted, c,
                           Fields({{"target", *member}, {"consulted_queue", c.consult_queue}})));
    adapter->ControlCall(id, ports::ConsultCall{ports::ConsultCall::Step::kStart, *member},
                         [this, exec = executor_, alive = std::weak_ptr<int>(alive_), id,
                          target = *member](Status s) {
                           if (s.ok()) return;
                           exec([this, alive, id, target, s] {
                             if (!alive.expired()) ConsultRingRefused(id, target, s);
                           });
                         });
  }
}

void Engine::ConsultRingRefused(ContactId id, const std::string& target, const Status& why) {
  auto it = contacts_.find(id);
  if (it == contacts_.end() || it->second.consult_target != target) return;
  ContactInfo& c = it->second;
  FlushStray();
  in_step_ = true;
  if (auto b = acd_->FindAgent(target)) {
    (void)acd_->Unreserve(id, *b);
    step_agents_.insert(*b);
  }
  c.consult_target.clear();
  c.consult_passed.push_back(target);
  std::fprintf(stderr, "engine: contact %llu: consulted agent %s not rung: %s\n",
               static_cast<unsigned long long>(id.value()), target.c_str(), why.message().c_str());
  WaitForConsultMember(
      c, Fields({{"consulted_queue", c.consult_queue},
                 {"passed", target},
                 {"reason", why.code() == StatusCode::kInvalidArgument ? "no_phone" : "failed"}}));
  in_step_ = false;
  Commit(nullptr);
}

void Engine::ConsultWaitTimer::OnTimer(uint64_t tag) {
  Engine& e = engine_;
  auto it = e.contacts_.find(ContactId(tag));
  if (it == e.contacts_.end()) return;
  ContactInfo& c = it->second;
  c.consult_timer = 0;
  // Ringing or talking: the consultation goes on, but a member who does not answer now ends it.
  if (!c.consult_waiting) return;
  e.FlushStray();
  e.in_step_ = true;
  e.EndConsultWait(c, "timeout", "");
  e.in_step_ = false;
  e.Commit(nullptr);
}

void Engine::ConsultAnswered(ContactId contact, std::string target) {
  Post([this, contact, target = std::move(target)] {
    if (!started_) return;
    auto it = contacts_.find(contact);
    if (it == contacts_.end()) return;
    ContactInfo& c = it->second;
    if (c.consult_target != target || c.consult_answered) return;
    FlushStray();
    c.consult_answered = true;
    OnEvent(RecordingEvent(EventType::kConsultAnswered, c, {{"target", target}}));
    step_contacts_.insert(contact);
    Commit(nullptr);
  });
}

// Consulting a queue: the member its strategy would offer a call to (Available with a free voice
// slot; a member's delay counts from when the consultation began waiting), other than the agent
// who has the call and those passed over.
Result<std::string> Engine::FreeMemberToConsult(const ContactInfo& c, const std::string& queue,
                                                const std::vector<std::string>& passed) const {
  auto q = acd_->FindQueue(queue);
  if (!q || !config_->routing.FindQueue(queue)) return NotFound("no queue '" + queue + "'");
  std::vector<AgentIndex> excluded;
  if (auto v = acd_->GetContact(c.record.id); v && v->agent != kNone) excluded.push_back(v->agent);
  for (const std::string& name : passed) {
    if (auto a = acd_->FindAgent(name)) excluded.push_back(*a);
  }
  const TimePoint since = c.consult_waiting ? c.consult_since : clock_.Now();
  auto best = acd_->BestFreeMember(*q, Channel::kVoice, since, excluded);
  if (!best) {
    return Conflict("no agent of queue '" + queue + "' is Available with a free voice slot");
  }
  return acd_->AgentName(*best);
}

void Engine::ConsultEnded(ContactId contact, std::string target, ports::ConsultEnd why) {
  Post([this, contact, target = std::move(target), why] {
    if (!started_) return;
    auto it = contacts_.find(contact);
    if (it == contacts_.end()) return;
    ContactInfo& c = it->second;
    if (c.consult_target != target) return;  // already completed or cancelled
    FlushStray();
    auto b = acd_->FindAgent(target);
    if (!c.consult_queue.empty() && !c.conference && !c.consult_answered &&
        (why == ports::ConsultEnd::kNoAnswer || why == ports::ConsultEnd::kRefused) &&
        c.consult_timer != 0) {
      // A queue's member did not take the consultation: he is passed over and it waits for the
      // queue's next free member (until its timer ends it).
      if (b) {
        (void)acd_->Unreserve(contact, *b);
        step_agents_.insert(*b);
      }
      c.consult_target.clear();
      c.consult_passed.push_back(target);
      WaitForConsultMember(
          c, {{"consulted_queue", c.consult_queue}, {"passed", target}, {"reason", EndName(why)}});
      Commit(nullptr);
      return;
    }
    const std::string queue = c.consult_queue;
    const bool conference = c.conference;
    ForgetConsult(c);
    if (b && why == ports::ConsultEnd::kAgentLeft) {
      // The first agent hung up once the target answered: the target has the call, as when
      // the consultation completes (Asterisk's atxfer and PBXs do the same).
      if (Status s = acd_->HandTo(contact, *b); !s.ok()) {
        std::fprintf(stderr, "engine: contact %llu not handed to %s: %s\n",
                     static_cast<unsigned long long>(contact.value()), target.c_str(),
                     s.message().c_str());
      }
    } else if (b) {
      (void)acd_->Unreserve(contact, *b);
    }
    if (b) step_agents_.insert(*b);
    // The adapter bridged customer and agent (or target) again, or the agent who held the
    // customer is gone: off hold.
    if (c.on_hold && why != ports::ConsultEnd::kCallEnded) (void)acd_->EndHold(contact);
    OnEvent(
        RecordingEvent(conference ? EventType::kConferenceEnded : EventType::kConsultEnded, c,
                       Fields({{"target", target},
                               {"consulted_queue", queue},
                               {"reason", conference ? ConferenceEndName(why) : EndName(why)}})));
    if (why == ports::ConsultEnd::kAgentLeftRinging) RequeueAfterTransferorLeft(c);
    step_contacts_.insert(contact);
    Commit(nullptr);
  });
}

// The first agent hung up while the consulted agent's phone still rang: rather than dropping
// the customer, the call goes back to the queue it came from (kContactTransferred, the agent to
// wrap-up; the adapter hears ReleaseAgent), keeping its arrival time, as a blind transfer would.
// With no queue left to return to, the call ends as if the agent had hung up before consulting.
void Engine::RequeueAfterTransferorLeft(ContactInfo& c) {
  const ContactId id = c.record.id;
  auto v = acd_->GetContact(id);
  if (!v || v->state != parley::ContactState::kHandling) return;
  Status s = v->queue != kNone ? acd_->Transfer(id, v->queue) : NotFound("no queue");
  if (s.ok()) return;
  std::fprintf(stderr, "engine: contact %llu not queued again: %s\n",
               static_cast<unsigned long long>(id.value()), s.message().c_str());
  if (acd_->EndHandling(id).ok()) LegEnded(c);
}

}  // namespace parley::engine
