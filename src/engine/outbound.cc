// Click-to-dial (docs/voice.md, "Outbound calls"): the engine checks scope, the agent and the
// queue, asks the voice adapter to ring the agent's phone (which checks the number against
// voice.outbound_destinations and has the trunk), and once it rings puts the contact at the agent
// in the ACD (Acd::Restore: handled from the start, so the agent is offered nothing else) and
// journals outbound.started with handling.started. The adapter reports the customer's answer or
// the failure (OutboundProgress); a failure ends handling, so the agent wraps up as after any call.

#include <algorithm>
#include <string>

#include "engine/engine.h"

namespace parley::engine {

using ports::Caller;
using ports::Reply;

// E.164 has at most 15 digits; national dialling plans add prefixes.
bool IsDialableNumber(const std::string& n) {
  const size_t start = !n.empty() && n[0] == '+' ? 1 : 0;
  const size_t digits = n.size() - start;
  return digits >= 3 && digits <= 20 &&
         n.find_first_not_of("0123456789", start) == std::string::npos;
}

void Engine::PlaceCall(const Caller& who, ports::OutboundCall call,
                       Reply<ports::ContactSnapshot> reply) {
  Post([this, who, call = std::move(call), reply = std::move(reply)]() mutable {
    PlaceCallOnLoop(who, std::move(call), std::move(reply));
  });
}

void Engine::PlaceCallOnLoop(const Caller& who, ports::OutboundCall call,
                             Reply<ports::ContactSnapshot> reply) {
  if (const Status * refusal; !Accepting(&refusal)) return reply(*refusal);
  if (call.agent.empty()) call.agent = who.agent;
  if (call.agent.empty()) {
    return reply(InvalidArgument("agent: the caller is not an agent, so name the agent who talks"));
  }
  auto a = acd_->FindAgent(call.agent);
  if (!a || !AgentDefByName(call.agent) || !MaySeeAgent(who, call.agent)) {
    return reply(NotFound("no agent '" + call.agent + "'"));
  }
  const QueueDef* q = QueueDefByName(*config_, call.queue);
  if (call.queue.empty() || !q || !acd_->FindQueue(call.queue)) {
    return reply(NotFound("no queue '" + call.queue + "'"));
  }
  if (std::find(q->channels.begin(), q->channels.end(), Channel::kVoice) == q->channels.end()) {
    return reply(InvalidArgument("queue '" + call.queue + "' does not take voice contacts"));
  }
  if (!IsDialableNumber(call.number)) {
    return reply(InvalidArgument("number '" + call.number +
                                 "' must be 3 to 20 digits with an optional leading '+'"));
  }
  const parley::AgentView view = acd_->GetAgent(*a);
  bool on_voice = false;
  for (const WorkItem& w : view.work) on_voice = on_voice || w.channel == Channel::kVoice;
  if (view.presence != Presence::kAvailable || on_voice) {
    return reply(Conflict("agent '" + call.agent + "' is not Available with a free voice slot (" +
                          std::string(PresenceName(view.presence)) +
                          (on_voice ? ", on a call" : "") + ")"));
  }
  if (adapters_[Index(Channel::kVoice)] == nullptr) {
    return reply(Unavailable("no voice channel is attached: start the server with --sip"));
  }
  ports::CustomerId customer;
  const ports::CustomerIdentity from =
      NormaliseIdentity(ports::CustomerIdentity{Channel::kVoice, call.number});
  if (!from.address.empty()) {
    const auto known = IndexedCustomerOr(from, reply, [&] {
      return [this, who, call = std::move(call)](ports::Reply<ports::ContactSnapshot> r) mutable {
        PlaceCallOnLoop(who, std::move(call), std::move(r));
      };
    });
    if (!known) return;
    customer = *known;
  }
  const ContactId id(next_contact_++);
  ports::OutboundDial dial;
  dial.agent = call.agent;
  dial.number = call.number;
  dial.ring_timeout = q->offer_timeout;
  dial.recording.record = q->recording == RecordingPolicy::kAlways;
  if (q->recording != RecordingPolicy::kNever) {
    dial.recording.announcement.recording = q->recording_announcement.recording;
    dial.recording.announcement.text = q->recording_announcement.text;
  }
  adapters_[Index(Channel::kVoice)]->PlaceCall(
      id, std::move(dial),
      [this, exec = executor_, alive = std::weak_ptr<int>(alive_), who, id, call = std::move(call),
       customer, reply = std::move(reply)](Status s) mutable {
        exec([this, alive, who, id, call = std::move(call), customer, s = std::move(s),
              reply = std::move(reply)]() mutable {
          if (alive.expired()) return;
          if (!s.ok()) return reply(s);
          StartOutbound(who, id, std::move(call), customer, std::move(reply));
        });
      });
}

void Engine::StartOutbound(const Caller& who, ContactId id, ports::OutboundCall call,
                           ports::CustomerId customer, Reply<ports::ContactSnapshot> reply) {
  auto a = acd_->FindAgent(call.agent);
  auto q = acd_->FindQueue(call.queue);
  auto hang_up = [&](Status why) {
    // The agent's phone rings already: the adapter lets it go.
    if (ports::ChannelAdapter* adapter = adapters_[Index(Channel::kVoice)]) {
      adapter->ContactEnded(id);
    }
    reply(std::move(why));
  };
  if (!a || !q) return hang_up(NotFound("agent or queue removed meanwhile"));
  const parley::AgentView view = acd_->GetAgent(*a);
  for (const WorkItem& w : view.work) {
    if (w.channel == Channel::kVoice) {
      return hang_up(Conflict("agent '" + call.agent + "' took another call meanwhile"));
    }
  }
  if (view.presence != Presence::kAvailable) {
    return hang_up(Conflict("agent '" + call.agent + "' is no longer Available"));
  }
  FlushStray();
  const TimePoint now = clock_.Now();
  ContactInfo& info = contacts_[id];
  info.record.id = id;
  info.record.channel = Channel::kVoice;
  info.record.direction = Direction::kOutbound;
  info.record.state = ports::ContactState::kHandling;
  info.record.queue = call.queue;
  info.record.agent = call.agent;
  info.record.attributes = std::move(call.attributes);
  SetAttribute(info.record.attributes, "outbound.number", call.number);
  info.record.customer = customer;
  info.record.times.arrived = now;
  info.caller = call.number;
  info.outbound_number = call.number;
  info.agents.insert(call.agent);
  info.flow_done = true;  // no flow: it goes straight to the agent
  ContactSpec spec;
  spec.channel = Channel::kVoice;
  spec.direction = Direction::kOutbound;
  spec.attributes = info.record.attributes;
  if (customer.valid()) spec.customer = std::to_string(customer.value());
  RestoredContact rc;
  rc.id = id;
  rc.queue = *q;
  rc.spec = std::move(spec);
  rc.times.arrived = now;
  rc.times.queued = now;
  rc.agent = *a;
  rc.stage = WorkStage::kHandling;
  if (Status s = acd_->Restore(std::move(rc)); !s.ok()) {
    contacts_.erase(id);
    return hang_up(s);
  }
  in_step_ = true;
  const config::TrunkDef* trunk = config_->voice.OutboundTrunk();
  OnEvent(RecordingEvent(
      EventType::kOutboundStarted, info,
      {{"number", call.number}, {"trunk", trunk ? trunk->name : std::string()}, {"by", who.user}}));
  Event started;
  started.type = EventType::kHandlingStarted;
  started.time = now;
  started.contact = id;
  started.agent = *a;
  started.queue = *q;
  started.channel = Channel::kVoice;
  OnEvent(started);
  in_step_ = false;
  step_contacts_.insert(id);
  step_agents_.insert(*a);
  RefreshContact(id);
  Commit([this, id, reply = std::move(reply)](const Status& journal) {
    if (!journal.ok()) return reply(journal);
    auto it = contacts_.find(id);
    if (it == contacts_.end()) return reply(NotFound("contact " + std::to_string(id.value())));
    reply(ContactView(it->second));
  });
}

// A callback contact (channel callback, attribute callback.number) offered to an agent is dialled
// like click-to-dial when a voice adapter is attached: the agent's phone rings for the offer,
// answering accepts it, then the number is called (docs/voice.md, "Outbound calls"). False when
// the offer is not one to dial (the adapter of its channel, if any, gets it as before).
bool Engine::DialCallback(const Event& offered) {
  auto it = contacts_.find(offered.contact);
  if (it == contacts_.end() || offered.agent >= acd_->agent_count()) return false;
  ContactInfo& c = it->second;
  ports::ChannelAdapter* voice = adapters_[Index(Channel::kVoice)];
  if (c.record.channel != Channel::kCallback || voice == nullptr) return false;
  std::string number;
  for (const auto& [k, v] : c.record.attributes) {
    if (k == "callback.number") number = v;
  }
  if (!IsDialableNumber(number)) return false;
  c.outbound_number = number;
  const std::string agent = acd_->AgentName(offered.agent);
  ports::OutboundDial dial;
  dial.agent = agent;
  dial.number = number;
  dial.offer = true;
  if (offered.queue < acd_->queue_count()) {
    if (const QueueDef* q = QueueDefByName(*config_, acd_->QueueName(offered.queue))) {
      dial.ring_timeout = q->offer_timeout;
      dial.recording.record = q->recording == RecordingPolicy::kAlways;
      if (q->recording != RecordingPolicy::kNever) {
        dial.recording.announcement.recording = q->recording_announcement.recording;
        dial.recording.announcement.text = q->recording_announcement.text;
      }
    }
  }
  const ContactId id = offered.contact;
  voice->PlaceCall(
      id, std::move(dial),
      [this, exec = executor_, alive = std::weak_ptr<int>(alive_), id, agent](Status s) {
        if (s.ok()) return;
        // Not dialled (no registered phone, destination not allowed): the offer is
        // declined, as an agent's phone refusing it would be.
        exec([this, alive, id, agent] {
          if (alive.expired()) return;
          RejectOffer(Caller{"system", Caller::Reach::kAll, "", ""}, id, agent,
                      [](Result<ports::ContactSnapshot>) {});
        });
      });
  return true;
}

void Engine::OutboundProgress(ContactId contact, ports::OutboundUpdate update) {
  Post([this, contact, update = std::move(update)] {
    if (!started_) return;
    auto it = contacts_.find(contact);
    if (it == contacts_.end() || it->second.outbound_number.empty()) return;
    ContactInfo& c = it->second;
    auto v = acd_->GetContact(contact);
    if (!v || v->state != parley::ContactState::kHandling) return;  // ended meanwhile
    FlushStray();
    in_step_ = true;
    if (update.stage == ports::OutboundUpdate::Stage::kAnswered) {
      c.outbound_answered = clock_.Now();
      SetAttribute(c.record.attributes, "outbound.result", "answered");
      OnEvent(RecordingEvent(EventType::kOutboundAnswered, c, {{"number", c.outbound_number}}));
      const QueueDef* q = QueueDefByName(*config_, c.record.queue);
      if (q && q->recording == RecordingPolicy::kAlways && !c.recording_active) {
        c.recording_active = true;
        c.recording_masked = false;
        OnEvent(RecordingEvent(EventType::kRecordingStarted, c, {{"by", "policy"}}));
      }
    } else {
      SetAttribute(c.record.attributes, "outbound.result", update.reason);
      OnEvent(RecordingEvent(
          EventType::kOutboundFailed, c,
          {{"number", c.outbound_number},
           {"reason", update.reason},
           {"sip_status", update.sip_status > 0 ? std::to_string(update.sip_status) : ""}}));
      // The call did not connect: handling ends (the agent wraps up, may record a disposition
      // such as "no answer") and the adapter lets go of whatever is left.
      if (acd_->EndHandling(contact).ok()) LegEnded(c);
    }
    in_step_ = false;
    step_contacts_.insert(contact);
    Commit(nullptr);
  });
}

}  // namespace parley::engine
