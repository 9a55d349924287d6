#include "sip/voicemail.h"

#include <utility>

#include "base/log.h"

namespace parley::sip {

VoicemailRecorder::VoicemailRecorder(ports::MediaPlane& media, ports::ChannelIntake* intake,
                                     const Clock& clock, PathFor path)
    : media_(media), intake_(intake), clock_(clock), path_(std::move(path)) {}

void VoicemailRecorder::Start(ContactId contact, ports::LegId leg,
                              const ports::VoicemailRequest& request) {
  Message& m = messages_[leg];
  m = Message{contact, request.max_length, Stage::kPrompt, {}};
  if (request.prompt.empty()) return Beep(leg, m);
  media_.Play(leg, kPromptPlay, request.prompt, /*loop=*/false);
}

void VoicemailRecorder::NothingRecorded(ContactId contact) {
  Report(contact, clock_.Now(), ports::RecordingInfo{});
}

void VoicemailRecorder::Beep(ports::LegId leg, Message& m) {
  m.stage = Stage::kBeep;
  media_.Play(leg, kBeepPlay, ports::Prompt{.recording = ports::kBeepPrompt}, /*loop=*/false);
}

void VoicemailRecorder::Record(ports::LegId leg, Message& m) {
  auto path = path_(m.contact);
  Status s = path.ok() ? media_.RecordLeg(leg, *path, m.max_length) : path.status();
  if (!s.ok()) {
    log::Error("sip", "voicemail not recorded: " + s.message(), {{"contact", m.contact.value()}});
    const ContactId contact = m.contact;
    messages_.erase(leg);
    return NothingRecorded(contact);
  }
  m.stage = Stage::kRecording;
  m.started = clock_.Now();
}

bool VoicemailRecorder::OnPlayFinished(ports::LegId leg, uint64_t play_id) {
  auto it = messages_.find(leg);
  if (it == messages_.end()) return false;
  Message& m = it->second;
  if (play_id == kPromptPlay && m.stage == Stage::kPrompt) {
    Beep(leg, m);
  } else if (play_id == kBeepPlay && m.stage == Stage::kBeep) {
    Record(leg, m);
  }
  return true;
}

bool VoicemailRecorder::OnDigit(ports::LegId leg, char digit) {
  auto it = messages_.find(leg);
  if (it == messages_.end()) return false;
  if (digit == '#' && it->second.stage == Stage::kRecording) media_.StopRecording(leg);
  return true;
}

bool VoicemailRecorder::OnRecordingDone(ports::LegId leg, ports::RecordingInfo info) {
  auto it = messages_.find(leg);
  if (it == messages_.end() || it->second.stage != Stage::kRecording) return false;
  const Message m = it->second;
  messages_.erase(it);
  Report(m.contact, m.started, std::move(info));
  return true;
}

void VoicemailRecorder::LegClosing(ports::LegId leg) {
  auto it = messages_.find(leg);
  if (it == messages_.end() || it->second.stage == Stage::kRecording) return;
  const ContactId contact = it->second.contact;
  messages_.erase(it);
  NothingRecorded(contact);
}

void VoicemailRecorder::Report(ContactId contact, TimePoint started, ports::RecordingInfo info) {
  if (intake_ == nullptr) return;
  ports::RecordedAudio audio;
  audio.info = std::move(info);
  audio.started = started;
  audio.channels = 1;
  intake_->RecordingFinished(contact, std::move(audio));
}

}  // namespace parley::sip
