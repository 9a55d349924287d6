// Call control of live voice contacts (docs/voice.md, "Call control"): the engine checks scope
// and state, journals what changes the contact (hold), then asks the channel adapter to move
// the legs. Blind transfer is TransferContact (transfer.cc); the adapter hears of one to a queue
// through NotifyChannel (kContactTransferred).

#include <string>

#include "engine/engine.h"

namespace parley::engine {

using ports::Caller;
using ports::Reply;

namespace {
bool IsDtmfDigit(char d) {
  return (d >= '0' && d <= '9') || d == '*' || d == '#' || (d >= 'A' && d <= 'D');
}
}  // namespace

Result<ports::ChannelAdapter*> Engine::LiveCall(const ContactInfo& c,
                                                std::string_view action) const {
  const std::string id = std::to_string(c.record.id.value());
  if (c.record.channel != Channel::kVoice) {
    return Conflict("contact " + id + " is a " + std::string(ChannelName(c.record.channel)) +
                    " contact: only a voice call can " + std::string(action));
  }
  if (!c.transfer_target.empty()) {
    return Conflict("contact " + id + " is being transferred to " + c.transfer_target +
                    ", so it cannot " + std::string(action));
  }
  auto v = acd_->GetContact(c.record.id);
  if (!v || v->state != parley::ContactState::kHandling || c.leg_gone) {
    return Conflict("contact " + id + " is not a call being handled, so it cannot " +
                    std::string(action));
  }
  ports::ChannelAdapter* adapter = adapters_[Index(Channel::kVoice)];
  if (adapter == nullptr) {
    return Conflict("contact " + id + " cannot " + std::string(action) +
                    ": no voice channel is attached");
  }
  return adapter;
}

Status Engine::TransferToFlow(ContactInfo& c, const std::string& entry) {
  const ContactId id = c.record.id;
  if (Status s = acd_->TransferOut(id); !s.ok()) return s;
  flow::FlowContact fc;
  fc.id = id;
  fc.channel = c.record.channel;
  fc.caller = c.caller;
  fc.called = entry;
  fc.language = c.language;
  fc.attributes = c.record.attributes;
  c.flow_done = false;
  if (!runner_->StartAtEntry(flows_, std::move(fc)).ok()) {
    c.flow_done = true;
    flows_ended_.push_back(id);  // nowhere to go: it closes
  }
  return Status::Ok();
}

void Engine::HoldContact(const Caller& who, ContactId id, bool on_hold,
                         Reply<ports::ContactSnapshot> reply) {
  ContactStep(
      who, id,
      [this, id, on_hold](ContactInfo& c) -> Status {
        auto adapter = LiveCall(c, on_hold ? "be put on hold" : "be resumed");
        if (!adapter.ok()) return adapter.status();
        if (!c.consult_target.empty() || c.consult_waiting) {
          return Conflict("contact " + std::to_string(id.value()) +
                          " is on hold for a consultation: complete or cancel it");
        }
        if (c.on_hold == on_hold) {
          return Conflict("contact " + std::to_string(id.value()) +
                          (on_hold ? " is already on hold" : " is not on hold"));
        }
        Status s = on_hold ? acd_->StartHold(id) : acd_->EndHold(id);
        if (!s.ok()) return s;
        (*adapter)->ControlCall(id, ports::HoldCall{on_hold}, nullptr);
        return Status::Ok();
      },
      std::move(reply));
}

void Engine::MuteContact(const Caller& who, ContactId id, bool muted,
                         Reply<ports::ContactSnapshot> reply) {
  ContactStep(
      who, id,
      [id, muted, this](ContactInfo& c) -> Status {
        auto adapter = LiveCall(c, muted ? "be muted" : "be unmuted");
        if (!adapter.ok()) return adapter.status();
        if (c.muted == muted) {
          return Conflict("contact " + std::to_string(id.value()) +
                          (muted ? " is already muted" : " is not muted"));
        }
        c.muted = muted;
        (*adapter)->ControlCall(id, ports::MuteAgent{muted}, nullptr);
        return Status::Ok();
      },
      std::move(reply));
}

void Engine::SendDigits(const Caller& who, ContactId id, std::string digits,
                        Reply<ports::ContactSnapshot> reply) {
  if (digits.empty() || digits.size() > 64) {
    return reply(InvalidArgument("digits: 1 to 64 of 0-9 * # A-D"));
  }
  for (char d : digits) {
    if (!IsDtmfDigit(d)) {
      return reply(InvalidArgument(std::string("digits: '") + d +
                                   "' is not a DTMF digit (allowed: 0-9 * # A-D)"));
    }
  }
  Post([this, who, id, digits = std::move(digits), reply = std::move(reply)]() mutable {
    if (const Status * refusal; !Accepting(&refusal)) return reply(*refusal);
    auto c = FindVisibleContact(who, id);
    if (!c.ok()) return reply(c.status());
    auto adapter = LiveCall(**c, "send digits");
    if (!adapter.ok()) return reply(adapter.status());
    // The adapter answers on its own thread; the reply goes out from the loop (through the
    // executor, guarded like Post, so nothing touches a destroyed Engine).
    (*adapter)->ControlCall(
        id, ports::SendDigitsToCustomer{std::move(digits)},
        [this, exec = executor_, alive = std::weak_ptr<int>(alive_), id,
         reply = std::move(reply)](Status s) mutable {
          exec([this, alive, id, s = std::move(s), reply = std::move(reply)]() mutable {
            if (alive.expired()) return;
            if (!s.ok()) return reply(s);
            auto it = contacts_.find(id);
            if (it == contacts_.end()) {
              return reply(NotFound("no contact " + std::to_string(id.value())));
            }
            reply(ContactView(it->second));
          });
        });
  });
}

void Engine::HangupContact(const Caller& who, ContactId id, Reply<ports::ContactSnapshot> reply) {
  ContactStep(
      who, id,
      [this, who, id](ContactInfo& c) -> Status {
        const std::string name = std::to_string(id.value());
        if (c.record.channel != Channel::kVoice) {
          return Conflict("contact " + name + " is a " +
                          std::string(ChannelName(c.record.channel)) +
                          " contact: only a call can be hung up");
        }
        if (c.leg_gone) return Conflict("contact " + name + " has no call left to hang up");
        if (EndBlindTransfer(c)) {  // to an agent still ringing, or to a number
          LegEnded(c);
          return Status::Ok();
        }
        auto v = acd_->GetContact(id);
        if (v && v->state == parley::ContactState::kHandling) {
          if (!c.outbound_number.empty() && c.outbound_answered == TimePoint{}) {
            // An outbound call hung up before the customer answered: it failed, and says why.
            OnEvent(RecordingEvent(
                EventType::kOutboundFailed, c,
                {{"number", c.outbound_number}, {"reason", "cancelled"}, {"by", who.user}}));
          }
          // As if the agent hung up: wrap-up, and the adapter hangs up both legs.
          Status s = acd_->EndHandling(id);
          if (s.ok()) LegEnded(c);
          return s;
        }
        if (v && v->state != parley::ContactState::kWaiting &&
            v->state != parley::ContactState::kOffered) {
          return Conflict("contact " + name + " has no call left to hang up");
        }
        // Waiting, ringing an agent or in its flow: withdrawn, as CancelContact does.
        const bool in_flow = c.flow_pending || (!c.flow_done && runner_->Find(id));
        if (v) {
          if (Status s = acd_->Remove(id); !s.ok()) return s;
        }
        if (in_flow) EndFlow(id, "cancelled");
        LegEnded(c);
        if (!in_flow) flows_ended_.push_back(id);
        return Status::Ok();
      },
      std::move(reply));
}

}  // namespace parley::engine
