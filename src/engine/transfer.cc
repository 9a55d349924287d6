// Blind transfer (docs/voice.md, "Call control"): to a queue or a voice entry point's flow (any
// handled contact), to one agent or to an external number (calls). For an agent, the target is
// held for the contact as a consultation holds it (Acd::Reserve), the first agent is released at
// once (Acd::PassTo: contact.transferred, wrap-up) and the contact is pending at the target
// until his phone answers (Acd::StartPending: handling.started) or not (Acd::ReturnPending: back
// in its queue, keeping its place). For a number, the contact leaves routing (Acd::TransferOut)
// while the adapter calls the number through the outbound trunk; it closes when either side
// hangs up, or goes back to its queue when the number does not answer.

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine.h"

namespace parley::engine {

using ports::Caller;
using ports::Reply;
using Kind = ports::TransferTarget::Kind;

void Engine::TransferContact(const Caller& who, ContactId id, ports::TransferTarget target,
                             Reply<ports::ContactSnapshot> reply) {
  if (target.kind == Kind::kQueue) {
    ContactStep(
        who, id,
        [this, name = std::move(target.name)](ContactInfo& c) { return TransferToQueue(c, name); },
        std::move(reply));
    return;
  }
  Post([this, who, id, target = std::move(target), reply = std::move(reply)]() mutable {
    if (const Status * refusal; !Accepting(&refusal)) return reply(*refusal);
    auto found = FindVisibleContact(who, id);
    if (!found.ok()) return reply(found.status());
    target = ResolveTarget(**found, std::move(target));
    if (target.kind == Kind::kQueue) {
      ContactStep(
          who, id,
          [this, name = std::move(target.name)](ContactInfo& c) {
            return TransferToQueue(c, name);
          },
          std::move(reply));
      return;
    }
    StartBlindTransfer(who, **found, std::move(target), std::move(reply));
  });
}

// A REFER's target: a queue, an entry point, an agent's id, the agent of a SIP login, a number,
// in that order (docs/voice.md); what matches nothing is looked up as a queue (404).
ports::TransferTarget Engine::ResolveTarget(const ContactInfo& c,
                                            ports::TransferTarget target) const {
  if (target.kind != Kind::kAny) return target;
  const std::string& name = target.name;
  if ((acd_->FindQueue(name) && config_->routing.FindQueue(name)) ||
      (flows_ && flows_->FindEntry(c.record.channel, name))) {
    return {Kind::kQueue, name, ""};
  }
  if (acd_->FindAgent(name) && AgentDefByName(name)) return {Kind::kAgent, name, ""};
  const std::string& login = target.login_agent;
  if (!login.empty() && acd_->FindAgent(login) && AgentDefByName(login)) {
    return {Kind::kAgent, login, ""};
  }
  if (IsDialableNumber(name)) return {Kind::kNumber, name, ""};
  return {Kind::kQueue, name, ""};
}

Status Engine::TransferToQueue(ContactInfo& c, const std::string& queue) {
  const std::string name = "contact " + std::to_string(c.record.id.value());
  if (!c.transfer_target.empty() || !c.transfer_number.empty()) {
    return Conflict(name + " is being transferred to " +
                    (c.transfer_target.empty() ? c.transfer_number : c.transfer_target));
  }
  auto q = acd_->FindQueue(queue);
  if (!q || !config_->routing.FindQueue(queue)) {
    // A call may also go to an entry point's flow (engine/call_control.cc).
    if (flows_ && flows_->FindEntry(c.record.channel, queue)) return TransferToFlow(c, queue);
    return NotFound("no queue '" + queue + "'");
  }
  return acd_->Transfer(c.record.id, *q);
}

void Engine::StartBlindTransfer(const Caller& who, ContactInfo& c, ports::TransferTarget target,
                                Reply<ports::ContactSnapshot> reply) {
  const ContactId id = c.record.id;
  const std::string name = "contact " + std::to_string(id.value());
  const bool to_agent = target.kind == Kind::kAgent;
  auto adapter =
      LiveCall(c, to_agent ? "be transferred to an agent" : "be transferred to a number");
  if (!adapter.ok()) return reply(adapter.status());
  if (!c.consult_target.empty() || c.consult_waiting) {
    return reply(Conflict(name + " is in a consultation with " +
                          (c.consult_waiting ? "queue " + c.consult_queue : c.consult_target) +
                          ": complete or cancel it first"));
  }
  std::optional<AgentIndex> b;
  if (to_agent) {
    b = acd_->FindAgent(target.name);
    if (!b || !AgentDefByName(target.name)) {
      return reply(NotFound("no agent '" + target.name + "'"));
    }
    if (auto v = acd_->GetContact(id); v && v->agent == *b) {
      return reply(InvalidArgument("agent '" + target.name + "' handles " + name +
                                   ": transfer it to another agent"));
    }
    // Held for the call while his phones ring, as for a consultation (409 when he cannot be).
    if (Status s = acd_->Reserve(id, *b); !s.ok()) return reply(s);
  } else if (!IsDialableNumber(target.name)) {
    return reply(InvalidArgument("number '" + target.name +
                                 "' must be 3 to 20 digits with an optional leading '+'"));
  }
  ports::BlindTransferCall command{
      to_agent ? ports::BlindTransferCall::Kind::kAgent : ports::BlindTransferCall::Kind::kNumber,
      target.name};
  // The adapter rings or dials first (refusing an agent without a phone, a number outside the
  // allowed destinations); the ACD and the journal follow in a step of their own.
  (*adapter)->ControlCall(
      id, std::move(command),
      [this, exec = executor_, alive = std::weak_ptr<int>(alive_), who, id, target, b,
       reply = std::move(reply)](Status s) mutable {
        exec([this, alive, who, id, target = std::move(target), b, s = std::move(s),
              reply = std::move(reply)]() mutable {
          if (alive.expired()) return;
          if (!s.ok()) {
            if (b) (void)acd_->Unreserve(id, *b);
            if (s.code() == StatusCode::kNotFound) {
              // A voice contact without a SIP call (made through the API): as without an adapter.
              return reply(Conflict("contact " + std::to_string(id.value()) +
                                    " cannot be transferred: no voice channel is attached to it"));
            }
            return reply(s);
          }
          ContactStep(
              who, id,
              [this, target, b](ContactInfo& c) { return BlindTransferStarted(c, target, b); },
              std::move(reply));
        });
      });
}

Status Engine::BlindTransferStarted(ContactInfo& c, const ports::TransferTarget& target,
                                    std::optional<AgentIndex> b) {
  const ContactId id = c.record.id;
  if (b) step_agents_.insert(*b);
  auto v = acd_->GetContact(id);
  if (!v || v->state != parley::ContactState::kHandling || c.leg_gone ||
      !c.transfer_target.empty()) {
    // The call ended (or changed) while the adapter rang: whatever it started goes with it.
    if (b) (void)acd_->Unreserve(id, *b);
    if (ports::ChannelAdapter* a = AdapterOf(id); a && !c.leg_gone) a->ContactEnded(id);
    return Conflict("contact " + std::to_string(id.value()) + " is no longer a call being handled");
  }
  if (v->agent != kNone) step_agents_.insert(v->agent);
  c.muted = false;
  if (b) {
    if (Status s = acd_->PassTo(id, *b, TransferText("agent", "target", target.name)); !s.ok()) {
      (void)acd_->Unreserve(id, *b);
      return s;
    }
  } else {
    if (Status s = acd_->TransferOut(id, TransferText("external", "number", target.name));
        !s.ok()) {
      return s;
    }
    c.transfer_number = target.name;
  }
  c.transfer_target = target.name;
  return Status::Ok();
}

void Engine::TransferProgress(ContactId contact, ports::TransferUpdate update) {
  Post([this, contact, update = std::move(update)] {
    if (!started_) return;
    auto it = contacts_.find(contact);
    if (it == contacts_.end()) return;
    ContactInfo& c = it->second;
    if (c.transfer_target.empty() || c.transfer_target != update.target) return;
    FlushStray();
    in_step_ = true;
    const bool answered = update.stage == ports::TransferUpdate::Stage::kAnswered;
    if (!answered) {
      // Journaled before the call moves back, so it names the agent who did not answer.
      std::vector<std::pair<std::string, std::string>> fields = {{"target", update.target},
                                                                 {"reason", update.reason}};
      if (update.sip_status != 0)
        fields.emplace_back("sip_status", std::to_string(update.sip_status));
      OnEvent(RecordingEvent(EventType::kTransferFailed, c, std::move(fields)));
    }
    c.transfer_target.clear();
    if (c.transfer_number.empty()) {  // an agent
      auto v = acd_->GetContact(contact);
      if (v && v->agent != kNone) step_agents_.insert(v->agent);
      Status s = answered ? acd_->StartPending(contact) : acd_->ReturnPending(contact, false);
      if (!s.ok()) {
        std::fprintf(stderr, "engine: transfer of contact %llu to %s: %s\n",
                     static_cast<unsigned long long>(contact.value()), update.target.c_str(),
                     s.message().c_str());
      }
    } else if (!answered) {
      c.transfer_number.clear();
      RequeueFromNumber(c);
    }
    if (!answered) {
      std::fprintf(stderr, "engine: contact %llu not taken by %s (%s): back in its queue\n",
                   static_cast<unsigned long long>(contact.value()), update.target.c_str(),
                   update.reason.c_str());
    }
    in_step_ = false;
    step_contacts_.insert(contact);
    Commit(nullptr);
  });
}

void Engine::RequeueFromNumber(ContactInfo& c) {
  const ContactId id = c.record.id;
  auto q = acd_->FindQueue(c.record.queue);
  const QueueDef* def = QueueDefByName(*config_, c.record.queue);
  if (!q || def == nullptr) {
    flows_ended_.push_back(id);  // nowhere to go: it closes
    LegEnded(c);
    return;
  }
  const TimePoint now = clock_.Now();
  RestoredContact rc;
  rc.id = id;
  rc.queue = *q;
  rc.spec.channel = c.record.channel;
  rc.spec.direction = c.record.direction;
  rc.spec.priority = c.record.priority;
  rc.spec.attributes = c.record.attributes;
  if (c.record.customer.valid()) rc.spec.customer = std::to_string(c.record.customer.value());
  rc.times = c.record.times;
  rc.times.queued = now;
  // Acd::Restore puts it back by its arrival without an event of its own: the queueing is
  // journaled here, before any offer Restore makes.
  Event queued;
  queued.type = EventType::kContactQueued;
  queued.time = now;
  queued.contact = id;
  queued.queue = *q;
  queued.channel = c.record.channel;
  queued.value = c.record.priority;
  OnEvent(queued);
  if (Status s = acd_->Restore(std::move(rc)); !s.ok()) {
    std::fprintf(stderr, "engine: contact %llu not queued again: %s\n",
                 static_cast<unsigned long long>(id.value()), s.message().c_str());
    flows_ended_.push_back(id);
    LegEnded(c);
  }
}

bool Engine::EndBlindTransfer(ContactInfo& c) {
  if (c.transfer_target.empty() && c.transfer_number.empty()) return false;
  const ContactId id = c.record.id;
  const bool to_agent = c.transfer_number.empty();
  c.transfer_target.clear();
  c.transfer_number.clear();
  if (to_agent) {
    auto v = acd_->GetContact(id);
    if (v && v->agent != kNone) step_agents_.insert(v->agent);
    (void)acd_->ReturnPending(id, /*close=*/true);
  } else {
    flows_ended_.push_back(id);  // out of routing: it closes (once)
  }
  return true;
}

}  // namespace parley::engine
