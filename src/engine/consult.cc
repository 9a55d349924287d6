// Consultation (attended) transfer of live calls (docs/voice.md, "Consultation transfer"): the
// engine checks scope and state, holds the target agent for the contact in the ACD, asks the
// channel adapter to ring and bridge the target's phone, and journals the consultation
// (consult.started, consult.ended) with the hold and, on completion, the attended transfer.

#include <algorithm>
#include <cstdio>
#include <string>

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
      auto member = FreeMemberToConsult(info, target);
      if (!member.ok()) return reply(member.status());
      target = *member;
      step = Step::kStart;
    }
    if (step != Step::kStart) {
      if (info.consult_target.empty()) {
        return reply(Conflict(name + " has no consultation to " +
                              (step == Step::kComplete ? "complete"
                               : step == Step::kCancel ? "cancel"
                                                       : "become a conference")));
      }
      if (step == Step::kCancel) {
        ContactStep(
            who, id,
            [this, who, id](ContactInfo& c) -> Status {
              const std::string consulted = std::move(c.consult_target);
              c.consult_target.clear();
              const bool conference = c.conference;
              c.conference = false;
              if (auto b = acd_->FindAgent(consulted)) {
                (void)acd_->Unreserve(id, *b);
                step_agents_.insert(*b);
              }
              if (c.on_hold) (void)acd_->EndHold(id);
              OnEvent(RecordingEvent(
                  conference ? EventType::kConferenceEnded : EventType::kConsultEnded, c,
                  {{"target", consulted}, {"reason", "cancelled"}, {"by", who.user}}));
              if (ports::ChannelAdapter* adapter = AdapterOf(id)) {
                adapter->ControlCall(
                    id, ports::ConsultCall{ports::ConsultCall::Step::kCancel, consulted}, nullptr);
              }
              return Status::Ok();
            },
            std::move(reply));
        return;
      }
      if (step == Step::kConference && info.conference) {
        return reply(Conflict(name + " is already a conference"));
      }
      // Complete or conference: the adapter moves the legs first (kConflict while the target
      // still rings); then the ACD and the journal follow in a step of their own.
      auto adapter = LiveCall(
          info, step == Step::kComplete ? "complete a consultation" : "become a conference");
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
                        return Conflict("the consultation of contact " +
                                        std::to_string(id.value()) + " ended meanwhile");
                      }
                      c.conference = true;
                      if (c.on_hold) (void)acd_->EndHold(id);
                      OnEvent(RecordingEvent(EventType::kConferenceStarted, c,
                                             {{"target", consulted}}));
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
                    c.consult_target.clear();
                    const bool conference = c.conference;
                    c.conference = false;
                    if (!handed.ok()) return handed;
                    OnEvent(RecordingEvent(
                        conference ? EventType::kConferenceEnded : EventType::kConsultEnded, c,
                        {{"target", consulted}, {"reason", "completed"}}));
                    return Status::Ok();
                  },
                  std::move(reply));
            });
          });
      return;
    }

    // Start.
    auto adapter = LiveCall(info, "consult another agent");
    if (!adapter.ok()) return reply(adapter.status());
    if (!info.consult_target.empty()) {
      return reply(Conflict(name + " is already in a consultation with " + info.consult_target));
    }
    if (!info.monitor_user.empty()) {
      return reply(Conflict(name + " is monitored by " + info.monitor_user +
                            ": monitoring ends before a consultation"));
    }
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
        [this, exec = executor_, alive = std::weak_ptr<int>(alive_), who, id, target, b = *b,
         reply = std::move(reply)](Status s) mutable {
          exec([this, alive, who, id, target, b, s = std::move(s),
                reply = std::move(reply)]() mutable {
            if (alive.expired()) return;
            if (!s.ok()) {
              (void)acd_->Unreserve(id, b);
              return reply(s);
            }
            ContactStep(
                who, id,
                [this, id, target, b](ContactInfo& c) -> Status {
                  step_agents_.insert(b);
                  auto v = acd_->GetContact(id);
                  if (!v || v->state != parley::ContactState::kHandling || c.leg_gone) {
                    (void)acd_->Unreserve(id, b);
                    if (ports::ChannelAdapter* a = AdapterOf(id)) {
                      a->ControlCall(id,
                                     ports::ConsultCall{ports::ConsultCall::Step::kCancel, target},
                                     nullptr);
                    }
                    return Conflict("contact " + std::to_string(id.value()) +
                                    " is no longer a call being handled");
                  }
                  c.consult_target = target;
                  if (!c.on_hold) (void)acd_->StartHold(id);
                  OnEvent(RecordingEvent(EventType::kConsultStarted, c, {{"target", target}}));
                  return Status::Ok();
                },
                std::move(reply));
          });
        });
  });
}

// Consulting a queue: its member who is Available with a free voice slot and idle longest (as
// the longest-idle strategy would choose), other than the agent who has the call.
Result<std::string> Engine::FreeMemberToConsult(const ContactInfo& c,
                                                const std::string& queue) const {
  if (!acd_->FindQueue(queue) || !config_->routing.FindQueue(queue)) {
    return NotFound("no queue '" + queue + "'");
  }
  auto v = acd_->GetContact(c.record.id);
  const AgentIndex handler = v ? v->agent : kNone;
  std::optional<parley::AgentView> best;
  for (AgentIndex a : QueueMembers(queue)) {
    parley::AgentView m = acd_->GetAgent(a);
    if (a == handler || m.presence != Presence::kAvailable) continue;
    if (std::any_of(m.work.begin(), m.work.end(),
                    [](const WorkItem& w) { return w.channel == Channel::kVoice; })) {
      continue;
    }
    if (!best || m.idle_since < best->idle_since) best = std::move(m);
  }
  if (!best) {
    return Conflict("no agent of queue '" + queue + "' is Available with a free voice slot");
  }
  return best->name;
}

void Engine::ConsultEnded(ContactId contact, std::string target, ports::ConsultEnd why) {
  Post([this, contact, target = std::move(target), why] {
    if (!started_) return;
    auto it = contacts_.find(contact);
    if (it == contacts_.end()) return;
    ContactInfo& c = it->second;
    if (c.consult_target != target) return;  // already completed or cancelled
    FlushStray();
    c.consult_target.clear();
    const bool conference = c.conference;
    c.conference = false;
    auto b = acd_->FindAgent(target);
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
    OnEvent(RecordingEvent(
        conference ? EventType::kConferenceEnded : EventType::kConsultEnded, c,
        {{"target", target}, {"reason", conference ? ConferenceEndName(why) : EndName(why)}}));
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
