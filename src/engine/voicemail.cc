// Voicemail (issue 6; docs/flows.md, "In the server"; docs/voice.md, "Voicemail"): a flow's
// voicemail step has the channel adapter record the caller's message, and only a message that
// was actually left becomes a contact of the mailbox's queue, carrying its recording. Everything
// here runs on the engine's loop, like the rest of Engine.

#include <chrono>
#include <string>
#include <utility>

#include "engine/engine.h"

namespace parley::engine {

namespace {

// Shorter messages (the caller hung up at the beep) are kept with the call but make no contact:
// nobody should be offered an empty message.
constexpr Duration kMinVoicemail = Seconds(1);

int64_t WholeSeconds(Duration d) {
  return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

// There is no voicemail channel: the message is a callback contact of the mailbox's queue.
Attributes MessageAttributes(const ports::VoicemailRequest& request) {
  Attributes attributes = request.attributes;
  SetAttribute(attributes, "voicemail.mailbox", request.mailbox);
  SetAttribute(attributes, "voicemail.max_length",
               std::to_string(WholeSeconds(request.max_length)));
  return attributes;
}

}  // namespace

void Engine::StartVoicemail(ContactId contact, const ports::VoicemailRequest& request) {
  auto it = contacts_.find(contact);
  if (it == contacts_.end()) return;
  ContactInfo& info = it->second;
  ports::ChannelAdapter* adapter = info.leg_gone ? nullptr : AdapterOf(contact);
  Status s = CheckSpawnQueue(Channel::kCallback, request.mailbox);
  if (s.ok() && adapter != nullptr) {
    // The adapter records; VoicemailRecorded makes the contact once the message is there.
    info.voicemail = request;
    adapter->RecordVoicemail(contact, request);
    return;
  }
  if (s.ok()) {
    // No adapter records this channel: the contact is made at once, without a recording.
    s = SpawnContact(info, Channel::kCallback, request.mailbox, MessageAttributes(request), false)
            .status();
  }
  if (!s.ok()) {
    Hangup(contact);
    EndFlow(contact, "failed");
  }
}

void Engine::VoicemailRecorded(ContactInfo& origin, ports::RecordedAudio audio) {
  const ports::VoicemailRequest request = std::move(*origin.voicemail);
  origin.voicemail.reset();
  flows_ended_.push_back(origin.record.id);  // the call closes: the adapter hangs up
  StoreMessage(origin, request, std::move(audio));
}

std::optional<ports::VoicemailRequest> Engine::VoicemailStepOf(const FlowEventFields& ended,
                                                               const Attributes& attributes) const {
  const flow::Flow* f = flows_ ? flows_->FindFlow(ended.flow) : nullptr;
  const int step = f != nullptr ? f->FindStep(ended.step) : -1;
  if (step < 0 || f->steps[step].kind != flow::StepKind::kVoicemail) return std::nullopt;
  const auto& p = std::get<flow::VoicemailParams>(f->steps[step].params);
  return ports::VoicemailRequest{p.mailbox, p.max_length, attributes, {}};
}

void Engine::StoreMessage(const ContactInfo& origin, const ports::VoicemailRequest& request,
                          ports::RecordedAudio audio) {
  if (audio.info.path.empty()) return;  // nothing could be recorded
  ContactId owner = origin.record.id;
  if (audio.info.duration >= kMinVoicemail) {
    Attributes attributes = MessageAttributes(request);
    // The agent's offer shows the message (screen-pop): StoreRecording numbers it next.
    SetAttribute(attributes, "voicemail.recording", std::to_string(last_recording_id_ + 1));
    SetAttribute(attributes, "voicemail.duration",
                 std::to_string(WholeSeconds(audio.info.duration)));
    auto spawned =
        SpawnContact(origin, Channel::kCallback, request.mailbox, std::move(attributes), false);
    if (spawned.ok()) owner = *spawned;
  }
  (void)StoreRecording(owner, std::move(audio));
}

}  // namespace parley::engine
