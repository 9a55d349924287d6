#pragma once
// The voice adapter's voicemail (ports::ChannelAdapter::RecordVoicemail; docs/voice.md,
// "Voicemail"): the step's prompt, a beep, then what the caller says, alone, to a mono WAV
// (ports::MediaPlane::RecordLeg) until '#', the step's max_length or the hang-up; the finished
// file goes to the engine as ChannelIntake::RecordingFinished with channels 1, and so does an
// empty one when nothing was recorded (the caller left before the beep, no recordings
// directory), so the engine always learns the message's end. The call itself stays up: the
// engine ends the contact once it has the message, and the adapter then hangs up.
//
// Ownership and threads: owned by SipServer's SIP-thread state; every method runs on that thread.

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>

#include "base/clock.h"
#include "base/status.h"
#include "domain/ids.h"
#include "ports/channel.h"
#include "ports/media_plane.h"

namespace parley::sip {

class VoicemailRecorder {
 public:
  // Where the message of a contact is written (kUnavailable: not recorded).
  using PathFor = std::function<Result<std::string>(ContactId)>;
  // The play ids of the prompt and the beep; the flow's count up from 1, and the recording
  // announcement is ~0.
  static constexpr uint64_t kPromptPlay = ~uint64_t{0} - 1;
  static constexpr uint64_t kBeepPlay = ~uint64_t{0} - 2;

  VoicemailRecorder(ports::MediaPlane& media, ports::ChannelIntake* intake, const Clock& clock,
                    PathFor path);

  // The caller on `leg` leaves a message for `contact`.
  void Start(ContactId contact, ports::LegId leg, const ports::VoicemailRequest& request);
  // `contact` has no call any more: the engine hears that nothing was recorded.
  void NothingRecorded(ContactId contact);

  // Media events; each returns true when `leg` is leaving a message (the event is consumed:
  // the flow that asked for the message has ended).
  bool OnPlayFinished(ports::LegId leg, uint64_t play_id);
  bool OnDigit(ports::LegId leg, char digit);  // '#' ends the message
  bool OnRecordingDone(ports::LegId leg, ports::RecordingInfo info);
  // `leg` is about to close (the call ends). Before the beep nothing was recorded; after it, the
  // media plane finishes the file and OnRecordingDone reports it.
  void LegClosing(ports::LegId leg);

 private:
  enum class Stage : uint8_t { kPrompt, kBeep, kRecording };
  struct Message {
    ContactId contact;
    Duration max_length{0};
    Stage stage = Stage::kPrompt;
    TimePoint started{};
  };
  void Beep(ports::LegId leg, Message& m);
  void Record(ports::LegId leg, Message& m);
  void Report(ContactId contact, TimePoint started, ports::RecordingInfo info);

  ports::MediaPlane& media_;
  ports::ChannelIntake* intake_;  // null: nothing is reported (no engine attached)
  const Clock& clock_;
  PathFor path_;
  std::unordered_map<ports::LegId, Message> messages_;  // by the caller's leg
};

}  // namespace parley::sip
