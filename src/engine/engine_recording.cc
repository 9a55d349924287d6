// Call recording and media quality (issue 6; docs/voice.md, "Recording"): the queue's policy
// decides, the channel adapter records, and what it reports is journaled and stored with the
// contact. Everything here runs on the engine's loop, like the rest of Engine.

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine.h"

namespace parley::engine {

using ports::Caller;
using ports::Reply;

namespace {

std::string Millis(Duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

std::string Jitter(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", ms);
  return buf;
}

// The contact's info, or `fallback` (with just the id) when the engine no longer holds it.
template <class Map, class Info>
Info* FindOr(Map& contacts, ContactId id, Info& fallback) {
  auto it = contacts.find(id);
  if (it != contacts.end()) return &it->second;
  fallback.record.id = id;
  return &fallback;
}

}  // namespace

Event Engine::RecordingEvent(EventType type, const ContactInfo& c,
                             std::vector<std::pair<std::string, std::string>> fields) const {
  Event e;
  e.type = type;
  e.time = clock_.Now();
  e.contact = c.record.id;
  e.channel = c.record.channel;
  if (auto v = acd_->GetContact(c.record.id)) {
    e.agent = v->agent;
    e.queue = v->queue;
  } else {
    if (auto a = acd_->FindAgent(c.record.agent)) e.agent = *a;
    if (auto q = acd_->FindQueue(c.record.queue)) e.queue = *q;
  }
  e.text = FormatEventFields(fields);
  return e;
}

void Engine::PlanRecording(const Event& offered, ports::ChannelAdapter& adapter) {
  ports::RecordingPlan plan;
  if (offered.queue < acd_->queue_count()) {
    if (const QueueDef* q = QueueDefByName(*config_, acd_->QueueName(offered.queue))) {
      plan.record = q->recording == RecordingPolicy::kAlways;
      if (q->recording != RecordingPolicy::kNever) {
        plan.announcement.recording = q->recording_announcement.recording;
        plan.announcement.text = q->recording_announcement.text;
      }
    }
  }
  adapter.PrepareRecording(offered.contact, plan);
}

void Engine::RecordingOnAccept(const Event& accepted) {
  auto it = contacts_.find(accepted.contact);
  if (it == contacts_.end() || accepted.queue >= acd_->queue_count()) return;
  ContactInfo& c = it->second;
  if (!AdapterOf(c.record.id) || c.recording_active) return;
  const QueueDef* q = QueueDefByName(*config_, acd_->QueueName(accepted.queue));
  if (!q || q->recording != RecordingPolicy::kAlways) return;
  c.recording_active = true;
  c.recording_masked = false;
  Event e;
  e.type = EventType::kRecordingStarted;
  e.time = accepted.time;
  e.contact = accepted.contact;
  e.agent = accepted.agent;
  e.queue = accepted.queue;
  e.channel = c.record.channel;
  e.text = FormatEventFields({{"by", "policy"}});
  OnEvent(e);
}

void Engine::ControlRecording(const Caller& who, ContactId id, ports::RecordingCommand command,
                              Reply<ports::ContactSnapshot> reply) {
  ContactStep(
      who, id,
      [this, who, id, command](ContactInfo& c) -> Status {
        const std::string name = "contact " + std::to_string(id.value());
        auto v = acd_->GetContact(id);
        if (c.record.channel != Channel::kVoice || !v ||
            v->state != parley::ContactState::kHandling) {
          return Conflict(name + " is not a call being handled; only a connected call is recorded");
        }
        ports::ChannelAdapter* adapter = AdapterOf(id);
        if (!adapter) return Unavailable("no voice adapter is attached to record " + name);
        const std::string queue = acd_->QueueName(v->queue);
        const QueueDef* q = QueueDefByName(*config_, queue);
        const RecordingPolicy policy = q ? q->recording : RecordingPolicy::kNever;
        EventType type = EventType::kRecordingStarted;
        switch (command) {
          case ports::RecordingCommand::kStart:
            if (policy == RecordingPolicy::kNever) {
              return Conflict("queue '" + queue + "' never records calls (recording: never)");
            }
            if (c.recording_active) return Conflict(name + " is already being recorded");
            c.recording_active = true;
            c.recording_masked = false;
            break;
          case ports::RecordingCommand::kStop:
            if (policy == RecordingPolicy::kAlways) {
              return Conflict("queue '" + queue +
                              "' records every call (recording: always); pause it instead");
            }
            if (!c.recording_active) return Conflict(name + " is not being recorded");
            c.recording_active = false;
            c.recording_masked = false;
            type = EventType::kRecordingStopped;
            break;
          case ports::RecordingCommand::kPause:
            if (!c.recording_active) return Conflict(name + " is not being recorded");
            if (c.recording_masked) return Conflict("the recording of " + name + " is paused");
            c.recording_masked = true;
            type = EventType::kRecordingMasked;
            break;
          case ports::RecordingCommand::kResume:
            if (!c.recording_active || !c.recording_masked) {
              return Conflict("the recording of " + name + " is not paused");
            }
            c.recording_masked = false;
            type = EventType::kRecordingUnmasked;
            break;
        }
        OnEvent(RecordingEvent(type, c, {{"by", who.user}}));
        adapter->RecordingControl(id, command);
        return Status::Ok();
      },
      std::move(reply));
}

void Engine::RecordingFinished(ContactId contact, ports::RecordedAudio audio) {
  Post([this, contact, audio = std::move(audio)]() mutable {
    if (!started_) return;
    FlushStray();
    auto it = contacts_.find(contact);
    if (audio.channels == 1 && it != contacts_.end() && it->second.voicemail) {
      VoicemailRecorded(it->second, std::move(audio));
    } else if (audio.channels == 1 && it != contacts_.end() && it->second.cut_short_voicemail) {
      // Recovered after a crash: the message as far as the caller got.
      const ports::VoicemailRequest request = std::move(*it->second.cut_short_voicemail);
      it->second.cut_short_voicemail.reset();
      StoreMessage(it->second, request, std::move(audio));
    } else {
      (void)StoreRecording(contact, std::move(audio));
    }
    Commit(nullptr);
  });
}

uint64_t Engine::StoreRecording(ContactId contact, ports::RecordedAudio audio) {
  ports::RecordingRecord r;
  r.id = ++last_recording_id_;
  r.contact = contact;
  r.kind = audio.channels == 1 ? "voicemail" : "call";
  r.path = std::move(audio.info.path);
  r.bytes = audio.info.bytes;
  r.duration = audio.info.duration;
  r.sha256 = std::move(audio.info.sha256);
  r.started = audio.started;
  r.completed = clock_.Now();
  ContactInfo fallback;
  ContactInfo* c = FindOr(contacts_, contact, fallback);
  r.queue = c->record.queue;
  r.agent = c->record.agent;
  r.customer = c->record.customer;
  Event e = RecordingEvent(EventType::kRecordingCompleted, *c,
                           {{"id", std::to_string(r.id)},
                            {"kind", r.kind},
                            {"path", r.path},
                            {"bytes", std::to_string(r.bytes)},
                            {"duration_ms", Millis(r.duration)},
                            {"sha256", r.sha256}});
  e.value = static_cast<int64_t>(r.id);
  if (r.agent.empty() && e.agent != kNone) r.agent = acd_->AgentName(e.agent);
  if (r.queue.empty() && e.queue != kNone) r.queue = acd_->QueueName(e.queue);
  c->recordings.push_back(r);
  c->recording_active = false;
  c->recording_masked = false;
  const uint64_t id = r.id;
  step_recordings_.push_back(std::move(r));
  OnEvent(e);
  return id;
}

void Engine::LegClosed(ContactId contact, ports::LegRole role, std::string agent,
                       ports::LegStats stats) {
  Post([this, contact, role, agent = std::move(agent), stats] {
    if (!started_) return;
    FlushStray();
    ports::LegQualityRecord l;
    l.contact = contact;
    l.leg = role == ports::LegRole::kCustomer ? "customer" : "agent";
    l.agent = agent;
    l.packets_received = stats.packets_received;
    l.packets_sent = stats.packets_sent;
    l.packets_lost = stats.packets_lost;
    l.packets_dropped = stats.packets_dropped;
    l.jitter_ms = stats.jitter_ms;
    l.closed = clock_.Now();
    ContactInfo fallback;
    ContactInfo* c = FindOr(contacts_, contact, fallback);
    Event e = RecordingEvent(EventType::kMediaStats, *c,
                             {{"leg", l.leg},
                              {"received", std::to_string(l.packets_received)},
                              {"sent", std::to_string(l.packets_sent)},
                              {"lost", std::to_string(l.packets_lost)},
                              {"dropped", std::to_string(l.packets_dropped)},
                              {"jitter_ms", Jitter(l.jitter_ms)}});
    if (auto a = acd_->FindAgent(agent)) e.agent = *a;
    c->legs.push_back(l);
    step_legs_.push_back(std::move(l));
    OnEvent(e);
    Commit(nullptr);
  });
}

bool Engine::MaySeeRecording(const Caller& who, const ports::RecordingRecord& r) const {
  if (who.reach == Caller::Reach::kAll) return true;
  return !r.agent.empty() && MaySeeAgent(who, r.agent);
}

void Engine::ListRecordings(const Caller& who, ports::RecordingFilter filter,
                            Reply<std::vector<ports::RecordingRecord>> reply) {
  Post([this, who, filter = std::move(filter), reply = std::move(reply)]() mutable {
    if (const Status * refusal; !Accepting(&refusal)) return reply(*refusal);
    if (who.reach != Caller::Reach::kAll) {
      // Only the caller's team's (or own) agents: narrow the agent filter to them.
      std::vector<std::string> reachable;
      for (const AgentDef& a : config_->routing.agents) {
        if (MaySeeAgent(who, a.name) &&
            (filter.agents.empty() || std::find(filter.agents.begin(), filter.agents.end(),
                                                a.name) != filter.agents.end())) {
          reachable.push_back(a.name);
        }
      }
      if (reachable.empty()) return reply(std::vector<ports::RecordingRecord>{});
      filter.agents = std::move(reachable);
    }
    ports::Store* store = &store_;
    OffLoop<std::vector<ports::RecordingRecord>>(
        [store, filter]() { return store->ListRecordings(filter); }, std::move(reply));
  });
}

void Engine::GetRecording(const Caller& who, uint64_t id, Reply<ports::RecordingRecord> reply) {
  Post([this, who, id, reply = std::move(reply)]() mutable {
    if (const Status * refusal; !Accepting(&refusal)) return reply(*refusal);
    ports::Store* store = &store_;
    OffLoop<ports::RecordingRecord>(
        [store, id]() { return store->GetRecording(id); },
        [this, who, id, reply = std::move(reply)](Result<ports::RecordingRecord> r) {
          if (r.ok() && !MaySeeRecording(who, *r)) {
            return reply(NotFound("no recording " + std::to_string(id)));
          }
          reply(std::move(r));
        });
  });
}

}  // namespace parley::engine
