#pragma once
// The RTP media plane as the SIP adapter sees it (src/media implements it; src/sip uses it, so
// the SIP stack never touches a socket that carries audio). One call leg = one RTP/RTCP port
// pair on our side. SDP offer/answer stays in src/sip: it asks for a local endpoint, negotiates,
// then tells the plane the remote endpoint and the chosen format.
//
// Threading: every method may be called from any thread and returns at once. Callbacks in
// MediaEvents come on media threads and must not block (post to your own loop).

#include <cstdint>
#include <functional>
#include <string>

#include "base/status.h"
#include "base/time.h"
#include "ports/flow_ports.h"

namespace parley::ports {

using LegId = uint64_t;

// Built-in prompts of Play: Prompt{recording = kBeepPrompt} is the voicemail beep (1 kHz, 0.5 s);
// "moh" is music on hold.
inline constexpr char kBeepPrompt[] =
    "beep";  // chosen by the caller of OpenLeg, unique while the leg is open

enum class AudioCodec : uint8_t { kPcmu, kPcma, kG722 };

// What a third leg joined to a bridge (a supervisor) hears and who hears it.
enum class MonitorMode : uint8_t {
  kListen,   // hears customer and agent; nobody hears it
  kWhisper,  // hears both; the agent hears customer and supervisor; the customer only the agent
  kBarge,    // three-way: each hears the other two
};

struct RtpEndpoint {
  std::string address;  // numeric IPv4 or IPv6
  uint16_t port = 0;    // RTP; RTCP is port + 1
  bool operator==(const RtpEndpoint&) const = default;
};

struct MediaFormat {
  AudioCodec codec = AudioCodec::kPcmu;
  uint8_t payload_type = 0;    // as negotiated (0 PCMU, 8 PCMA, 9 G.722 by default)
  int dtmf_payload_type = -1;  // RFC 4733 telephone-event; -1 when not negotiated
  int ptime_ms = 20;
  bool operator==(const MediaFormat&) const = default;
};

// Per-leg quality, stored with the contact when the leg closes.
struct LegStats {
  uint64_t packets_received = 0;
  uint64_t packets_sent = 0;
  uint64_t packets_lost = 0;     // from sequence gaps
  uint64_t packets_dropped = 0;  // wrong source or payload type (strict RTP)
  double jitter_ms = 0;          // RFC 3550 interarrival jitter
};

struct RecordingInfo {
  std::string path;  // final name, after the atomic rename
  uint64_t bytes = 0;
  Duration duration{0};
  std::string sha256;  // hex
};

struct MediaEvents {
  std::function<void(LegId, char digit)> on_digit;                // RFC 4733 or in-band
  std::function<void(LegId, uint64_t play_id)> on_play_finished;  // not for loops
  std::function<void(LegId)> on_inactive;  // no RTP for the configured inactivity time
  std::function<void(LegId, RecordingInfo)> on_recording_done;  // after StopRecording/close
};

class MediaPlane {
 public:
  virtual ~MediaPlane() = default;
  // Allocates a port pair from the configured range; the endpoint goes into our SDP.
  // kUnavailable when the range is used up.
  virtual Result<RtpEndpoint> OpenLeg(LegId leg) = 0;
  // The peer's endpoint and the negotiated format (again on re-INVITE). Strict RTP: packets are
  // accepted only from `remote` (or a source learnt right after this call, then locked) and
  // only with negotiated payload types.
  virtual Status ConnectLeg(LegId leg, RtpEndpoint remote, MediaFormat format) = 0;
  // Ends the leg (and its bridge, playback and recording) and returns its statistics.
  virtual LegStats CloseLeg(LegId leg) = 0;
  // The same without waiting for the leg's media thread: `done` (may be empty) gets the
  // statistics on that thread once the leg's sockets are closed, or at once with none when the
  // leg is not open. The leg id is free when this returns.
  virtual void CloseLeg(LegId leg, std::function<void(LegStats)> done) = 0;

  // Plays a WAV prompt or text to speech (rendered once and cached) into the leg; replaces what
  // was playing. `loop` repeats until StopPlayback (music on hold; a folder plays its files in
  // turn). Digits are reported while playing.
  virtual void Play(LegId leg, uint64_t play_id, const Prompt& prompt, bool loop) = 0;
  virtual void StopPlayback(LegId leg) = 0;

  // Audio flows both ways between the legs (transcoding when formats differ); stops playback.
  virtual Status Bridge(LegId a, LegId b) = 0;
  virtual void Unbridge(LegId a) = 0;

  // Both parties to one stereo WAV (customer left, agent right), written under a temporary name
  // and renamed on StopRecording or when either leg closes.
  virtual Status StartRecording(LegId customer, LegId agent, std::string path) = 0;
  virtual void PauseRecording(LegId customer, bool paused) = 0;  // silence, timing kept
  virtual void StopRecording(LegId customer) = 0;
  // The recording of `customer` goes on in the same file with `agent` in its agent (right)
  // channel from the next frame: the leg recorded there before leaves it (closing that leg no
  // longer ends the recording). An attended transfer moves the call to the consulted agent's
  // leg this way. kNotFound when a leg is not open; nothing happens when `customer` is not
  // being recorded.
  virtual Status MoveRecording(LegId customer, LegId agent) = 0;
  // Voicemail: what `leg` receives, alone, to a mono WAV at the recording rate, placed and
  // written as StartRecording's file is (temporary name, fsync, rename, SHA-256). Ends on
  // StopRecording(leg), when the leg closes, or once `max_length` of audio is written (zero: no
  // limit; the file is then exactly that long); on_recording_done(leg, ...) follows.
  // kInvalidArgument for an empty path or a negative length, kNotFound when the leg is not open.
  virtual Status RecordLeg(LegId leg, std::string path, Duration max_length) = 0;

  virtual void SetEvents(MediaEvents events) = 0;

  // Call control (docs/voice.md, "Call control").
  // Muted: audio and digits received on `leg` are no longer passed to its bridged partner, which
  // gets silence instead (the stream keeps its timing); the recording still hears the leg.
  // Lasts until unmuted, across Unbridge/Bridge. Unknown legs are ignored.
  virtual void SetMuted(LegId leg, bool muted) = 0;
  // RFC 4733: each digit (0-9 * # A-D) as a telephone event (100 ms, end sent three times) into
  // the leg; kInvalidArgument for another character or when the leg did not negotiate
  // telephone-event, kNotFound for a leg that is not open.
  virtual Status SendDigits(LegId leg, const std::string& digits) = 0;

  // Supervisor monitoring (docs/media.md, "Monitoring"). Joins `supervisor` to the call of
  // `customer` and `agent`: from then on the three legs' audio is mixed in linear PCM once per
  // 20 ms tick, each leg hearing what `mode` says. Called again with the same legs it changes the
  // mode from the next tick. The customer takes part only while bridged to the agent (on hold
  // it hears its music and nobody hears it). A leg already in another mix leaves it.
  // kInvalidArgument when legs repeat, kNotFound when one is not open.
  virtual Status Monitor(LegId customer, LegId agent, LegId supervisor, MonitorMode mode) = 0;
  // Takes the supervisor's leg out of the mix; customer and agent go back to their plain bridge.
  // Closing any of the three legs does the same. Unknown legs are ignored.
  virtual void StopMonitor(LegId supervisor) = 0;
};

}  // namespace parley::ports
