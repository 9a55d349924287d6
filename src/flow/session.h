#pragma once
// FlowSession: one contact inside a flow. Pure: it receives inputs (digits, text, prompt
// finished, timer fired, lookup answered, ...) with the time they happened and appends effects
// (play, send, start a timer, enqueue, ...) and flow events (step entered and exited, survey
// answers, how the contact left) to a FlowOutput. It never blocks, reads no clock and does no
// I/O; a step that waits suspends the session, and the matching input resumes it. The session
// pins the FlowVersion it started in. Single-threaded: owned by the loop that owns the contact.

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "base/time.h"
#include "domain/contact.h"
#include "flow/flow.h"

namespace parley::flow {

// ---- inputs ----
struct DigitsReceived {
  std::string digits;  // one or more DTMF keys, e.g. "2" or "1234#"
};
struct TextReceived {
  std::string text;
};
struct PromptFinished {
  uint64_t play_id = 0;
};
struct TimerFired {
  uint64_t tag = 0;
};
struct LookupAnswered {
  uint64_t request_id = 0;
  int http_status = 200;
  std::string body;  // JSON
};
struct LookupFailed {
  uint64_t request_id = 0;
  std::string reason;
};
struct QueueStats {
  int position = 0;  // 1 is next; 0 when not queued
  Duration estimated_wait{0};
  int agents_available = 0;
  int waiting = 0;
};
struct QueueStatsAnswered {
  std::string queue;
  QueueStats stats;
};
struct AgentConnected {};
struct CallerHungUp {};
using FlowInput =
    std::variant<DigitsReceived, TextReceived, PromptFinished, TimerFired, LookupAnswered,
                 LookupFailed, QueueStatsAnswered, AgentConnected, CallerHungUp>;

// ---- effects ----
struct StartTimer {
  uint64_t tag = 0;  // echoed by TimerFired
  TimePoint at;
};
struct CancelTimer {
  uint64_t tag = 0;
};
struct StopPlayback {};
struct Dequeue {};
struct CancelLookup {
  uint64_t request_id = 0;
};
struct RequestQueueStats {
  std::string queue;
};
struct HangupContact {};
using Effect = std::variant<ports::PlayRequest, StopPlayback, ports::TextMessage, StartTimer,
                            CancelTimer, ports::EnqueueRequest, Dequeue, ports::TransferRequest,
                            ports::VoicemailRequest, ports::CallbackRequest, ports::HttpRequest,
                            CancelLookup, RequestQueueStats, HangupContact>;

// ---- events (for reports: containment, drop-off per step, CSAT and NPS) ----
enum class FlowEventKind : uint8_t {
  kStepEntered,
  kStepExited,    // `exit` names the exit taken
  kFlowEnded,     // `outcome` says how the contact left the flow
  kSurveyAnswer,  // `question`, `survey_kind`, `score` or `text`
};
enum class FlowOutcome : uint8_t {
  kNone,
  kCompleted,    // the flow finished the contact itself (hangup step, end): contained
  kAbandoned,    // the caller left inside the flow, at `step`
  kConnected,    // handed to an agent from a queue step
  kTransferred,  // to a queue, agent or number
  kVoicemail,
  kCallback,
  kFailed,  // an internal limit was hit (e.g. too many steps without waiting)
};
std::string_view FlowOutcomeName(FlowOutcome o);
std::string_view FlowEventKindName(FlowEventKind k);

struct FlowEvent {
  TimePoint at;
  ContactId contact;
  FlowEventKind kind = FlowEventKind::kStepEntered;
  std::string flow;
  uint64_t version = 0;
  std::string step;
  std::string step_type;
  std::string exit;
  FlowOutcome outcome = FlowOutcome::kNone;
  std::string question;     // survey
  std::string survey_kind;  // "csat", "nps", "text"
  int score = -1;
  std::string text;
};

struct FlowOutput {
  std::vector<Effect> effects;
  std::vector<FlowEvent> events;
};

// The contact as a flow sees it.
struct FlowContact {
  ContactId id;
  Channel channel = Channel::kVoice;
  std::string caller;  // number or visitor id
  std::string called;  // dialled number, widget id, address
  std::string language;
  Attributes attributes;
};

class FlowSession {
 public:
  FlowSession(std::shared_ptr<const FlowVersion> version, FlowContact contact);

  // Starts the flow with index `flow` at its start step and runs until it waits or ends.
  void Start(int flow, TimePoint now, FlowOutput* out);
  // Delivers one input. Inputs the current step does not wait for (a stale timer, a late
  // prompt-finished) are ignored; CallerHungUp ends the session anywhere.
  void Handle(const FlowInput& input, TimePoint now, FlowOutput* out);

  bool finished() const { return finished_; }
  FlowOutcome outcome() const { return outcome_; }
  const Attributes& attributes() const { return contact_.attributes; }
  // The attribute's value, or "" when not set.
  std::string Attribute(std::string_view name) const;
  const FlowVersion& version() const { return *version_; }
  // The step the session waits in ("" when finished).
  std::string current_step() const;
  std::string current_flow() const;
  const FlowContact& contact() const { return contact_; }

  // At most this many steps run for one input; more means a loop the loader could not see
  // (e.g. through play steps on a text channel) and ends the flow with kFailed.
  static constexpr int kMaxStepsPerInput = 200;

 private:
  struct Frame {
    int flow = 0;
    int step = 0;
  };
  // What the current step waits for.
  enum class Wait : uint8_t {
    kNone,
    kPrompt,
    kInput,
    kLookup,
    kQueueStats,
    kInQueue,
    kAnnouncement,
  };
  class Scope;

  const Flow& flow() const;
  const Step& step() const;
  void Emit(FlowEventKind kind, std::string exit = {});
  void Run(FlowOutput* out);
  void Enter(FlowOutput* out);               // runs the current step; sets wait_ or takes an exit
  void TakeExit(int exit, FlowOutput* out);  // then continues with Run()
  void TakeExit(std::string_view name, FlowOutput* out);
  void End(FlowOutcome outcome, FlowOutput* out);
  void Return(FlowOutput* out);
  void Play(const ports::Prompt& prompt, bool loop, FlowOutput* out);
  void Prompt(const ports::Prompt& prompt, const std::vector<std::string>& buttons,
              FlowOutput* out);
  void StartInputTimer(Duration d, FlowOutput* out);
  void CancelTimers(FlowOutput* out);
  void SetAttribute(const std::string& name, std::string value);
  void OnInput(const std::string& text, bool digits, FlowOutput* out);
  void OnNoInput(FlowOutput* out);
  void Retry(bool invalid, FlowOutput* out);
  void PromptCurrent(FlowOutput* out);  // (re)plays the prompt of an input step
  void AcceptCollected(FlowOutput* out);
  void Survey(FlowOutput* out);
  void OnSurveyAnswer(const std::string& answer, FlowOutput* out);
  void Evaluate(FlowOutput* out);  // branch after statistics are known

  std::shared_ptr<const FlowVersion> version_;
  FlowContact contact_;
  std::vector<Frame> stack_;
  bool started_ = false;
  bool finished_ = false;
  FlowOutcome outcome_ = FlowOutcome::kNone;
  TimePoint now_{};
  Wait wait_ = Wait::kNone;
  int steps_this_input_ = 0;
  // Per-step state, reset on entering a step.
  int attempts_ = 0;
  std::string buffer_;
  size_t question_ = 0;
  uint64_t play_id_ = 0;
  uint64_t timer_tag_ = 0;     // input / lookup / max-wait timer
  uint64_t announce_tag_ = 0;  // queue announcements
  uint64_t request_id_ = 0;
  uint64_t next_id_ = 1;
  bool prompt_done_ = false;
  QueueStats stats_;
  bool announcing_ = false;
  bool callback_scheduled_ = false;
  bool moved_ = false;         // the current step changed; Run() enters it
  FlowOutput* out_ = nullptr;  // of the Start or Handle call in progress
};

}  // namespace parley::flow
