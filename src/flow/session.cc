#include "flow/session.h"

#include <algorithm>
#include <cctype>

#include "flow/json_flat.h"
#include "flow/steps.h"

namespace parley::flow {

std::string_view FlowOutcomeName(FlowOutcome o) {
  switch (o) {
    case FlowOutcome::kNone:
      return "none";
    case FlowOutcome::kCompleted:
      return "completed";
    case FlowOutcome::kAbandoned:
      return "abandoned";
    case FlowOutcome::kConnected:
      return "connected";
    case FlowOutcome::kTransferred:
      return "transferred";
    case FlowOutcome::kVoicemail:
      return "voicemail";
    case FlowOutcome::kCallback:
      return "callback";
    case FlowOutcome::kFailed:
      return "failed";
  }
  return "?";
}

std::string_view FlowEventKindName(FlowEventKind k) {
  switch (k) {
    case FlowEventKind::kStepEntered:
      return "step_entered";
    case FlowEventKind::kStepExited:
      return "step_exited";
    case FlowEventKind::kFlowEnded:
      return "flow_ended";
    case FlowEventKind::kSurveyAnswer:
      return "survey_answer";
  }
  return "?";
}

namespace {

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

bool SameWord(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

constexpr std::string_view kWeekdays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

}  // namespace

// Expression variables of this session at the current time.
class FlowSession::Scope final : public ExprScope {
 public:
  explicit Scope(const FlowSession& s) : s_(s) {}
  Value Variable(std::string_view name) const override {
    const size_t dot = name.find('.');
    const std::string_view head = name.substr(0, dot), tail = name.substr(dot + 1);
    const FlowContact& c = s_.contact_;
    if (head == "attr") return s_.Attribute(tail);
    if (head == "contact") {
      if (tail == "caller") return c.caller;
      if (tail == "called") return c.called;
      if (tail == "channel") return std::string(ChannelName(c.channel));
      if (tail == "language") return c.language;
      return std::to_string(c.id.value());
    }
    if (head == "time") {
      const LocalTime lt = ToLocal(*s_.flow().zone, s_.now_);
      if (tail == "hour") return static_cast<double>(lt.minute_of_day / 60);
      if (tail == "minute") return static_cast<double>(lt.minute_of_day % 60);
      if (tail == "weekday") return std::string(kWeekdays[lt.weekday]);
      char buf[16];
      std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", lt.year, lt.month, lt.day);
      return std::string(buf);
    }
    const QueueStats& q = s_.stats_;
    if (tail == "estimated_wait") return ToSeconds(q.estimated_wait);
    if (tail == "agents_available") return static_cast<double>(q.agents_available);
    if (tail == "waiting") return static_cast<double>(q.waiting);
    return static_cast<double>(q.position);
  }
  bool ScheduleOpen(std::string_view schedule) const override {
    const Schedule* s = s_.version_->FindSchedule(schedule);
    return s && s->At(s_.now_) == HoursState::kOpen;
  }
  bool ScheduleHoliday(std::string_view schedule) const override {
    const Schedule* s = s_.version_->FindSchedule(schedule);
    return s && s->At(s_.now_) == HoursState::kHoliday;
  }

 private:
  const FlowSession& s_;
};

FlowSession::FlowSession(std::shared_ptr<const FlowVersion> version, FlowContact contact)
    : version_(std::move(version)), contact_(std::move(contact)) {}

const Flow& FlowSession::flow() const {
  return version_->flows[static_cast<size_t>(stack_.back().flow)];
}
const Step& FlowSession::step() const {
  return flow().steps[static_cast<size_t>(stack_.back().step)];
}

std::string FlowSession::current_step() const { return finished_ ? "" : step().id; }
std::string FlowSession::current_flow() const { return finished_ ? "" : flow().name; }

std::string FlowSession::Attribute(std::string_view name) const {
  for (const auto& [k, v] : contact_.attributes) {
    if (k == name) return v;
  }
  return "";
}

void FlowSession::SetAttribute(const std::string& name, std::string value) {
  for (auto& [k, v] : contact_.attributes) {
    if (k == name) {
      v = std::move(value);
      return;
    }
  }
  contact_.attributes.emplace_back(name, std::move(value));
}

void FlowSession::Start(int flow_index, TimePoint now, FlowOutput* out) {
  if (started_) return;
  started_ = true;
  now_ = now;
  const Flow& f = version_->flows.at(static_cast<size_t>(flow_index));
  stack_.push_back({flow_index, f.start});
  out_ = out;
  steps_this_input_ = 0;
  moved_ = true;
  Run(out);
}

void FlowSession::Emit(FlowEventKind kind, std::string exit) {
  FlowEvent e;
  e.at = now_;
  e.contact = contact_.id;
  e.kind = kind;
  e.flow = flow().name;
  e.version = version_->version;
  e.step = step().id;
  e.step_type = std::string(StepKindName(step().kind));
  e.exit = std::move(exit);
  out_->events.push_back(std::move(e));
}

void FlowSession::Run(FlowOutput* out) {
  // Enter() of a step that does not wait moves to the next step and sets `moved_`.
  while (!finished_ && moved_) {
    moved_ = false;
    if (++steps_this_input_ > kMaxStepsPerInput) {
      End(FlowOutcome::kFailed, out);
      return;
    }
    Enter(out);
  }
}

void FlowSession::Play(const ports::Prompt& prompt, bool loop, FlowOutput* out) {
  play_id_ = next_id_++;
  out->effects.push_back(ports::PlayRequest{play_id_, prompt, loop});
}

// Voice plays the prompt (the timer starts when it ends); text channels send it with the
// buttons and start the timer at once.
void FlowSession::Prompt(const ports::Prompt& prompt, const std::vector<std::string>& buttons,
                         FlowOutput* out) {
  prompt_done_ = false;
  if (contact_.channel == Channel::kVoice) {
    if (!prompt.empty()) {
      Play(prompt, false, out);
      return;
    }
  } else if (!prompt.text.empty() || !buttons.empty()) {
    out->effects.push_back(ports::TextMessage{prompt.text, buttons});
  }
  prompt_done_ = true;
}

void FlowSession::StartInputTimer(Duration d, FlowOutput* out) {
  if (timer_tag_) out->effects.push_back(CancelTimer{timer_tag_});
  timer_tag_ = next_id_++;
  out->effects.push_back(StartTimer{timer_tag_, now_ + d});
}

void FlowSession::CancelTimers(FlowOutput* out) {
  if (timer_tag_) out->effects.push_back(CancelTimer{timer_tag_});
  if (announce_tag_) out->effects.push_back(CancelTimer{announce_tag_});
  timer_tag_ = announce_tag_ = 0;
}

void FlowSession::TakeExit(std::string_view name, FlowOutput* out) {
  TakeExit(step().ExitIndex(name), out);
}

void FlowSession::TakeExit(int exit, FlowOutput* out) {
  CancelTimers(out);
  wait_ = Wait::kNone;
  if (exit < 0) {  // an optional exit that is not wired
    Emit(FlowEventKind::kStepExited, "");
    Return(out);
    return;
  }
  const Exit& e = step().exits[static_cast<size_t>(exit)];
  Emit(FlowEventKind::kStepExited, e.name);
  if (e.target == kNoStep) {
    Return(out);
    return;
  }
  stack_.back().step = e.target;
  moved_ = true;
}

// The end of a flow: back to the calling step of the parent flow, or the end of the contact's
// flow (the flow hangs up: there is nowhere left to go).
void FlowSession::Return(FlowOutput* out) {
  if (stack_.size() > 1) {
    stack_.pop_back();
    TakeExit("next", out);
    return;
  }
  out->effects.push_back(HangupContact{});
  End(FlowOutcome::kCompleted, out);
}

void FlowSession::End(FlowOutcome outcome, FlowOutput* out) {
  if (finished_) return;
  CancelTimers(out);
  if (wait_ == Wait::kLookup) out->effects.push_back(CancelLookup{request_id_});
  if (outcome == FlowOutcome::kCompleted && callback_scheduled_) outcome = FlowOutcome::kCallback;
  outcome_ = outcome;
  FlowEvent e;
  e.at = now_;
  e.contact = contact_.id;
  e.kind = FlowEventKind::kFlowEnded;
  e.flow = flow().name;
  e.version = version_->version;
  e.step = step().id;
  e.step_type = std::string(StepKindName(step().kind));
  e.outcome = outcome;
  out->events.push_back(std::move(e));
  finished_ = true;
  wait_ = Wait::kNone;
  moved_ = false;
}

void FlowSession::PromptCurrent(FlowOutput* out) {
  const Step& s = step();
  if (const auto* p = std::get_if<MenuParams>(&s.params)) {
    std::vector<std::string> buttons;
    for (const auto& o : p->options) buttons.push_back(o.choice);
    Prompt(p->prompt, contact_.channel == Channel::kVoice ? std::vector<std::string>{} : buttons,
           out);
    if (prompt_done_) StartInputTimer(p->retry.timeout, out);
  } else if (const auto* c = std::get_if<CollectParams>(&s.params)) {
    Prompt(c->prompt, {}, out);
    if (prompt_done_) StartInputTimer(c->retry.timeout, out);
  } else if (const auto* a = std::get_if<AskParams>(&s.params)) {
    Prompt(a->prompt, a->buttons, out);
    if (prompt_done_) StartInputTimer(a->retry.timeout, out);
  }
  wait_ = Wait::kInput;
}

void FlowSession::Enter(FlowOutput* out) {
  attempts_ = 0;
  buffer_.clear();
  question_ = 0;
  prompt_done_ = false;
  announcing_ = false;
  wait_ = Wait::kNone;
  Emit(FlowEventKind::kStepEntered);
  const Step& s = step();
  switch (s.kind) {
    case StepKind::kPlay:
    case StepKind::kSay: {
      const ports::Prompt& prompt = s.kind == StepKind::kPlay
                                        ? std::get<PlayParams>(s.params).prompt
                                        : std::get<SayParams>(s.params).prompt;
      if (contact_.channel == Channel::kVoice) {
        Play(prompt, false, out);
        wait_ = Wait::kPrompt;
      } else {
        if (!prompt.text.empty()) out->effects.push_back(ports::TextMessage{prompt.text, {}});
        TakeExit("next", out);
      }
      return;
    }
    case StepKind::kMenu:
    case StepKind::kCollect:
    case StepKind::kAsk:
      PromptCurrent(out);
      return;
    case StepKind::kSet: {
      const Scope scope(*this);
      for (const auto& a : std::get<SetParams>(s.params).values) {
        SetAttribute(a.attribute, a.expr ? ValueText(a.expr->Evaluate(scope)) : a.literal);
      }
      TakeExit("next", out);
      return;
    }
    case StepKind::kBranch: {
      const auto& p = std::get<BranchParams>(s.params);
      if (!p.queue.empty()) {
        out->effects.push_back(RequestQueueStats{p.queue});
        wait_ = Wait::kQueueStats;
        return;
      }
      Evaluate(out);
      return;
    }
    case StepKind::kHours: {
      const auto& sched =
          version_->schedules[static_cast<size_t>(std::get<HoursParams>(s.params).schedule)];
      switch (sched.At(now_)) {
        case HoursState::kOpen:
          TakeExit("open", out);
          return;
        case HoursState::kHoliday:
          if (s.ExitIndex("holiday") >= 0) {
            TakeExit("holiday", out);
            return;
          }
          [[fallthrough]];
        case HoursState::kClosed:
          TakeExit("closed", out);
          return;
      }
      return;
    }
    case StepKind::kLookup: {
      const auto& p = std::get<LookupParams>(s.params);
      ports::HttpRequest r;
      r.request_id = request_id_ = next_id_++;
      r.method = p.method;
      r.url = p.url;
      r.timeout = p.timeout;
      for (const auto& name : p.send) r.fields.emplace_back(name, Attribute(name));
      out->effects.push_back(std::move(r));
      StartInputTimer(p.timeout, out);
      wait_ = Wait::kLookup;
      return;
    }
    case StepKind::kQueue: {
      const auto& p = std::get<QueueParams>(s.params);
      out->effects.push_back(
          ports::EnqueueRequest{p.queue, p.priority, p.skills, contact_.attributes});
      if (!p.music.empty()) Play(p.music, true, out);
      if (p.max_wait > Duration{0}) StartInputTimer(p.max_wait, out);
      if (p.announce_every > Duration{0}) {
        announce_tag_ = next_id_++;
        out->effects.push_back(StartTimer{announce_tag_, now_ + p.announce_every});
      }
      wait_ = Wait::kInQueue;
      return;
    }
    case StepKind::kTransfer: {
      const auto& p = std::get<TransferParams>(s.params);
      if (p.kind == TransferParams::Kind::kFlow) {
        Emit(FlowEventKind::kStepExited, "transfer");
        stack_.assign(1, Frame{p.flow, version_->flows[static_cast<size_t>(p.flow)].start});
        moved_ = true;
        return;
      }
      static constexpr ports::TransferKind kKinds[] = {
          ports::TransferKind::kQueue, ports::TransferKind::kQueue, ports::TransferKind::kAgent,
          ports::TransferKind::kNumber};
      out->effects.push_back(
          ports::TransferRequest{kKinds[static_cast<int>(p.kind)], p.target, contact_.attributes});
      End(FlowOutcome::kTransferred, out);
      return;
    }
    case StepKind::kVoicemail: {
      const auto& p = std::get<VoicemailParams>(s.params);
      ports::VoicemailRequest request{p.mailbox, p.max_length, contact_.attributes, {}};
      // A call hears the prompt from the adapter that records the message, right before the beep.
      if (contact_.channel == Channel::kVoice) {
        request.prompt = p.prompt;
      } else if (!p.prompt.empty()) {
        Prompt(p.prompt, {}, out);
      }
      out->effects.push_back(std::move(request));
      End(FlowOutcome::kVoicemail, out);
      return;
    }
    case StepKind::kCallback: {
      const auto& p = std::get<CallbackParams>(s.params);
      out->effects.push_back(
          ports::CallbackRequest{p.queue, contact_.caller, p.keep_position, contact_.attributes});
      callback_scheduled_ = true;
      TakeExit("next", out);
      return;
    }
    case StepKind::kSurvey:
      Survey(out);
      return;
    case StepKind::kCall: {
      const int callee = std::get<CallParams>(s.params).flow;
      stack_.push_back({callee, version_->flows[static_cast<size_t>(callee)].start});
      moved_ = true;
      return;
    }
    case StepKind::kReturn:
      Emit(FlowEventKind::kStepExited, "return");
      Return(out);
      return;
    case StepKind::kHangup:
      out->effects.push_back(HangupContact{});
      End(FlowOutcome::kCompleted, out);
      return;
  }
}

void FlowSession::Evaluate(FlowOutput* out) {
  const auto& p = std::get<BranchParams>(step().params);
  const Scope scope(*this);
  for (const auto& c : p.cases) {
    if (Truthy(c.when.Evaluate(scope))) {
      TakeExit(c.exit, out);
      return;
    }
  }
  TakeExit("default", out);
}

void FlowSession::Survey(FlowOutput* out) {
  const auto& p = std::get<SurveyParams>(step().params);
  // Text questions need a text channel; voice skips them.
  while (question_ < p.questions.size() && contact_.channel == Channel::kVoice &&
         p.questions[question_].kind == SurveyParams::Kind::kText) {
    ++question_;
  }
  if (question_ >= p.questions.size()) {
    TakeExit("next", out);
    return;
  }
  Prompt(p.questions[question_].prompt, {}, out);
  if (prompt_done_) StartInputTimer(p.timeout, out);
  wait_ = Wait::kInput;
}

void FlowSession::OnSurveyAnswer(const std::string& answer, FlowOutput* out) {
  const auto& p = std::get<SurveyParams>(step().params);
  const auto& q = p.questions[question_];
  FlowEvent e;
  e.at = now_;
  e.contact = contact_.id;
  e.kind = FlowEventKind::kSurveyAnswer;
  e.flow = flow().name;
  e.version = version_->version;
  e.step = step().id;
  e.step_type = "survey";
  e.question = q.id;
  if (q.kind == SurveyParams::Kind::kText) {
    e.survey_kind = "text";
    e.text = answer;
  } else {
    const int max = q.kind == SurveyParams::Kind::kCsat ? 5 : 10;
    const int min = q.kind == SurveyParams::Kind::kCsat ? 1 : 0;
    int score = -1;
    if (!answer.empty() && answer.size() <= 2 &&
        std::all_of(answer.begin(), answer.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      score = std::stoi(answer);
    }
    if (score < min || score > max) {
      if (++attempts_ <= 1) {  // one more try, then the question is skipped
        Prompt(q.prompt, {}, out);
        if (prompt_done_) StartInputTimer(p.timeout, out);
        return;
      }
      ++question_;
      attempts_ = 0;
      Survey(out);
      return;
    }
    e.survey_kind = q.kind == SurveyParams::Kind::kCsat ? "csat" : "nps";
    e.score = score;
  }
  out->events.push_back(std::move(e));
  ++question_;
  attempts_ = 0;
  Survey(out);
}

void FlowSession::Retry(bool invalid, FlowOutput* out) {
  const Step& s = step();
  const InputRetry* r = nullptr;
  if (const auto* m = std::get_if<MenuParams>(&s.params)) r = &m->retry;
  if (const auto* c = std::get_if<CollectParams>(&s.params)) r = &c->retry;
  if (const auto* a = std::get_if<AskParams>(&s.params)) r = &a->retry;
  buffer_.clear();
  if (++attempts_ > r->retries) {
    TakeExit("failure", out);
    return;
  }
  const ports::Prompt& again = invalid ? r->invalid_prompt : r->no_input_prompt;
  if (again.empty()) {
    PromptCurrent(out);
    return;
  }
  Prompt(again, {}, out);
  if (prompt_done_) StartInputTimer(r->timeout, out);
  wait_ = Wait::kInput;
}

void FlowSession::AcceptCollected(FlowOutput* out) {
  const auto& p = std::get<CollectParams>(step().params);
  const int n = static_cast<int>(buffer_.size());
  if (n < p.min_length || n > p.max_length || (p.regex && !std::regex_match(buffer_, *p.regex))) {
    Retry(true, out);
    return;
  }
  SetAttribute(p.into, buffer_);
  TakeExit("next", out);
}

void FlowSession::OnInput(const std::string& raw, bool digits, FlowOutput* out) {
  const Step& s = step();
  if (!prompt_done_ && contact_.channel == Channel::kVoice) {
    out->effects.push_back(StopPlayback{});  // barge-in
    prompt_done_ = true;
  }
  if (const auto* m = std::get_if<MenuParams>(&s.params)) {
    const std::string choice = Trim(raw);
    for (const auto& o : m->options) {
      if (SameWord(o.choice, choice)) {
        TakeExit(o.exit, out);
        return;
      }
    }
    Retry(true, out);
    return;
  }
  if (const auto* c = std::get_if<CollectParams>(&s.params)) {
    if (!digits) {
      buffer_ = Trim(raw);
      AcceptCollected(out);
      return;
    }
    for (char ch : raw) {
      if (!c->terminator.empty() && ch == c->terminator[0]) {
        AcceptCollected(out);
        return;
      }
      buffer_.push_back(ch);
      if (static_cast<int>(buffer_.size()) >= c->max_length) {
        AcceptCollected(out);
        return;
      }
    }
    StartInputTimer(c->retry.timeout, out);  // inter-digit timeout
    return;
  }
  if (const auto* a = std::get_if<AskParams>(&s.params)) {
    std::string answer = Trim(raw);
    if (digits && !a->buttons.empty()) {
      const int n = answer.size() == 1 ? answer[0] - '0' : 0;
      answer = n >= 1 && n <= static_cast<int>(a->buttons.size())
                   ? a->buttons[static_cast<size_t>(n - 1)]
                   : "";
    }
    if (answer.empty()) {
      Retry(true, out);
      return;
    }
    SetAttribute(a->into, answer);
    TakeExit("next", out);
    return;
  }
  if (s.kind == StepKind::kSurvey) OnSurveyAnswer(Trim(raw), out);
}

void FlowSession::OnNoInput(FlowOutput* out) {
  const Step& s = step();
  timer_tag_ = 0;
  if (s.kind == StepKind::kSurvey) {
    ++question_;
    attempts_ = 0;
    Survey(out);
    return;
  }
  if (const auto* c = std::get_if<CollectParams>(&s.params)) {
    if (!buffer_.empty() && static_cast<int>(buffer_.size()) >= c->min_length) {
      AcceptCollected(out);
      return;
    }
  }
  Retry(false, out);
}

void FlowSession::Handle(const FlowInput& input, TimePoint now, FlowOutput* out) {
  if (!started_ || finished_) return;
  now_ = now;
  out_ = out;
  steps_this_input_ = 0;
  moved_ = false;
  std::visit(
      [&](const auto& in) {
        using T = std::decay_t<decltype(in)>;
        if constexpr (std::is_same_v<T, CallerHungUp>) {
          End(FlowOutcome::kAbandoned, out);
        } else if constexpr (std::is_same_v<T, DigitsReceived> || std::is_same_v<T, TextReceived>) {
          constexpr bool kDigits = std::is_same_v<T, DigitsReceived>;
          const std::string& text = [&]() -> const std::string& {
            if constexpr (kDigits) {
              return in.digits;
            } else {
              return in.text;
            }
          }();
          if (wait_ == Wait::kInput) {
            OnInput(text, kDigits, out);
          } else if (wait_ == Wait::kInQueue || (wait_ == Wait::kAnnouncement)) {
            for (const auto& o : std::get<QueueParams>(step().params).offers) {
              if (Trim(text) == o.key) {
                out->effects.push_back(StopPlayback{});
                out->effects.push_back(Dequeue{});
                TakeExit(o.exit, out);
                return;
              }
            }
          }
        } else if constexpr (std::is_same_v<T, PromptFinished>) {
          if (in.play_id != play_id_) return;
          if (wait_ == Wait::kPrompt) {
            TakeExit("next", out);
          } else if (wait_ == Wait::kInput && !prompt_done_) {
            prompt_done_ = true;
            const Step& s = step();
            Duration timeout = Seconds(5);
            if (const auto* m = std::get_if<MenuParams>(&s.params)) timeout = m->retry.timeout;
            if (const auto* c = std::get_if<CollectParams>(&s.params)) timeout = c->retry.timeout;
            if (const auto* a = std::get_if<AskParams>(&s.params)) timeout = a->retry.timeout;
            if (const auto* v = std::get_if<SurveyParams>(&s.params)) timeout = v->timeout;
            StartInputTimer(timeout, out);
          } else if (wait_ == Wait::kAnnouncement) {
            const auto& p = std::get<QueueParams>(step().params);
            if (!p.music.empty()) Play(p.music, true, out);
            announce_tag_ = next_id_++;
            out->effects.push_back(StartTimer{announce_tag_, now_ + p.announce_every});
            wait_ = Wait::kInQueue;
          }
        } else if constexpr (std::is_same_v<T, TimerFired>) {
          if (in.tag == 0) return;
          if (in.tag == timer_tag_) {
            timer_tag_ = 0;
            if (wait_ == Wait::kInput) {
              OnNoInput(out);
            } else if (wait_ == Wait::kLookup) {
              out->effects.push_back(CancelLookup{request_id_});
              TakeExit("failure", out);
            } else if (wait_ == Wait::kInQueue || wait_ == Wait::kAnnouncement) {
              out->effects.push_back(StopPlayback{});
              out->effects.push_back(Dequeue{});
              TakeExit("timeout", out);
            }
          } else if (in.tag == announce_tag_ && wait_ == Wait::kInQueue) {
            announce_tag_ = 0;
            out->effects.push_back(RequestQueueStats{std::get<QueueParams>(step().params).queue});
            announcing_ = true;
          }
        } else if constexpr (std::is_same_v<T, LookupAnswered> || std::is_same_v<T, LookupFailed>) {
          if (wait_ != Wait::kLookup || in.request_id != request_id_) return;
          if constexpr (std::is_same_v<T, LookupFailed>) {
            TakeExit("failure", out);
          } else {
            Attributes fields;
            if (in.http_status < 200 || in.http_status > 299 || !FlattenJson(in.body, &fields)) {
              TakeExit("failure", out);
              return;
            }
            const auto& p = std::get<LookupParams>(step().params);
            for (const auto& st : p.store) {
              for (const auto& [k, v] : fields) {
                if (k == st.path) SetAttribute(st.attribute, v);
              }
            }
            if (!p.store_prefix.empty()) {
              for (const auto& [k, v] : fields) SetAttribute(p.store_prefix + k, v);
            }
            TakeExit("next", out);
          }
        } else if constexpr (std::is_same_v<T, QueueStatsAnswered>) {
          if (wait_ == Wait::kQueueStats) {
            stats_ = in.stats;
            Evaluate(out);
          } else if (wait_ == Wait::kInQueue && announcing_) {
            announcing_ = false;
            stats_ = in.stats;
            const auto& p = std::get<QueueParams>(step().params);
            std::string text;
            if (p.announce_position && in.stats.position > 0) {
              text += "You are number " + std::to_string(in.stats.position) + " in the queue.";
            }
            if (p.announce_wait) {
              const int64_t minutes = std::max<int64_t>(
                  1, (std::chrono::duration_cast<std::chrono::seconds>(in.stats.estimated_wait)
                          .count() +
                      59) /
                         60);
              if (!text.empty()) text += " ";
              text += "Your estimated wait is about " + std::to_string(minutes) +
                      (minutes == 1 ? " minute." : " minutes.");
            }
            if (contact_.channel == Channel::kVoice) {
              Play(ports::Prompt{"", text, contact_.language, ""}, false, out);
              wait_ = Wait::kAnnouncement;
            } else {
              out->effects.push_back(ports::TextMessage{text, {}});
              announce_tag_ = next_id_++;
              out->effects.push_back(StartTimer{announce_tag_, now_ + p.announce_every});
            }
          }
        } else if constexpr (std::is_same_v<T, AgentConnected>) {
          if (wait_ == Wait::kInQueue || wait_ == Wait::kAnnouncement) {
            out->effects.push_back(StopPlayback{});
            Emit(FlowEventKind::kStepExited, "connected");
            End(FlowOutcome::kConnected, out);
          }
        }
      },
      input);
  Run(out);
}

}  // namespace parley::flow
