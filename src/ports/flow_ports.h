#pragma once
// Outbound ports of the contact-flow engine (src/flow): what a flow asks of the channel
// adapters (voice, chat, ...), of routing, and of the HTTP client. The engine itself is pure: a
// FlowSession returns these requests as effects, and a driver (flow::FlowRunner, the simulator,
// the server's core loop) hands them to the implementations below. Answers come back as flow
// events (PromptFinished, DigitsReceived, LookupAnswered, QueueStatsAnswered, ...), carrying the
// ids given here. Implementations are called on the loop that owns the contact and must not
// block: they start the work and report its end later.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/time.h"
#include "domain/contact.h"
#include "domain/ids.h"
#include "domain/routing.h"

namespace parley::ports {

// A recorded prompt, or text to speak (voice) or send (text channels). When both are given,
// voice plays the recording and text channels send the text.
struct Prompt {
  std::string recording;  // file or media id, e.g. "welcome.wav"
  std::string text;       // text to speech, or the message on text channels
  std::string language;   // BCP 47, e.g. "en-GB"; empty: the contact's language
  std::string voice;      // TTS voice name; empty: the adapter's default
  bool empty() const { return recording.empty() && text.empty(); }
  bool operator==(const Prompt&) const = default;
};

struct PlayRequest {
  uint64_t play_id = 0;  // echoed by PromptFinished
  Prompt prompt;
  bool loop = false;  // music on hold: repeat until StopPlayback or the next Play
  bool operator==(const PlayRequest&) const = default;
};

struct TextMessage {
  std::string text;
  std::vector<std::string> buttons;  // quick replies; the answer comes back as TextReceived
  bool operator==(const TextMessage&) const = default;
};

struct EnqueueRequest {
  std::string queue;
  int32_t priority = 0;
  std::vector<SkillRequirement> skills;  // on top of the queue's own requirement
  Attributes attributes;                 // carried to the agent (screen-pop) and into history
};

enum class TransferKind : uint8_t { kQueue, kAgent, kNumber };

struct TransferRequest {
  TransferKind kind = TransferKind::kQueue;
  std::string target;  // queue name, agent id or external number
  Attributes attributes;
};

struct VoicemailRequest {
  std::string mailbox;  // a queue or agent name
  Duration max_length{0};
  Attributes attributes;
  Prompt prompt;  // voice: played before the beep by the adapter that records the message
};

// A callback contact that keeps the caller's place in `queue`.
struct CallbackRequest {
  std::string queue;
  std::string number;  // where to call back
  bool keep_position = true;
  Attributes attributes;
};

struct HttpRequest {
  uint64_t request_id = 0;  // echoed by LookupAnswered / LookupFailed
  std::string method;       // "GET" or "POST"
  std::string url;
  Attributes fields;    // query parameters (GET) or a JSON object body (POST)
  Duration timeout{0};  // the engine also enforces it with its own timer
};

// Plays and sends on the contact's channel, and ends it.
class ContactMedia {
 public:
  virtual ~ContactMedia() = default;
  // Starts playing; PromptFinished(play_id) follows when the prompt ends (not for loops).
  // Digits pressed during a prompt are reported at once (barge-in).
  virtual void Play(ContactId contact, const PlayRequest& request) = 0;
  // Stops what is playing; no PromptFinished follows for it.
  virtual void StopPlayback(ContactId contact) = 0;
  virtual void SendText(ContactId contact, const TextMessage& message) = 0;
  // Disconnects a call or closes a conversation.
  virtual void Hangup(ContactId contact) = 0;
};
using ContactMediaPtr = std::unique_ptr<ContactMedia>;

// What a flow asks of routing. Queue statistics are answered by QueueStatsAnswered.
class ContactRouting {
 public:
  virtual ~ContactRouting() = default;
  virtual void Enqueue(ContactId contact, const EnqueueRequest& request) = 0;
  // Takes the contact out of its queue (it chose voicemail or a callback, or waited too long).
  virtual void Dequeue(ContactId contact) = 0;
  virtual void Transfer(ContactId contact, const TransferRequest& request) = 0;
  virtual void StartVoicemail(ContactId contact, const VoicemailRequest& request) = 0;
  virtual void ScheduleCallback(ContactId contact, const CallbackRequest& request) = 0;
  virtual void RequestQueueStats(ContactId contact, const std::string& queue) = 0;
};
using ContactRoutingPtr = std::unique_ptr<ContactRouting>;

// An HTTP client. Exactly one of LookupAnswered or LookupFailed follows each Send, unless it
// was cancelled. A request is named by its contact and request_id together: request ids are
// numbered per flow session, so two contacts' requests may share one.
class HttpLookup {
 public:
  virtual ~HttpLookup() = default;
  virtual void Send(ContactId contact, const HttpRequest& request) = 0;
  virtual void Cancel(ContactId contact, uint64_t request_id) = 0;
};
using HttpLookupPtr = std::unique_ptr<HttpLookup>;

}  // namespace parley::ports
