#include "sim/simulator.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "base/virtual_clock.h"
#include "config/site_time.h"
#include "flow/runner.h"
#include "traffic/arrivals.h"

namespace parley::sim {
namespace {

// Timer tags: the kind in the top four bits, an index or id below.
enum class Kind : uint64_t {
  kPresence,
  kStep,
  kArrival,
  kAccept,
  kHandleEnd,
  kWrapUpEnd,
  kPatience,
  kSnapshot,
  kFlowInput,    // a caller's or port's answer to a flow (payload: index into inputs_)
  kFlowStart,    // a post-contact survey flow starts (payload: contact id)
  kIvrPatience,  // a caller gives up in the flow before reaching a queue (payload: contact id)
};
constexpr uint64_t kKindShift = 60;
constexpr uint64_t kPayloadMask = (uint64_t{1} << kKindShift) - 1;
constexpr uint64_t Tag(Kind k, uint64_t payload) {
  return (static_cast<uint64_t>(k) << kKindShift) | payload;
}

// A contact's id packs its slot + 1 (low 32 bits) and the slot's generation - 1 (bits 32-59), so
// ids start at 1, events
// find the slot without a hash lookup and stale timers see a different generation.
constexpr uint64_t kSlotMask = 0xffffffffu;
constexpr uint32_t kGenMask = 0x0fffffffu;

constexpr size_t kReuseAfter = 4096;
constexpr Duration kDefaultHandle = Seconds(180);

class Simulation final : public AcdObserver,
                         public TimerTarget,
                         public ports::ContactMedia,
                         public ports::ContactRouting,
                         public ports::HttpLookup {
 public:
  Simulation(const Scenario& s, const RunOptions& o)
      : s_(s),
        o_(o),
        clock_(s.start),
        kpi_(MakeKpiOptions(s)),
        agents_rng_(o.seed * 0x9e3779b97f4a7c15ull + 1),
        contacts_rng_(o.seed * 0x9e3779b97f4a7c15ull + 2),
        callers_rng_(o.seed * 0x9e3779b97f4a7c15ull + 3) {}

  Result<RunResult> Run() {
    AcdOptions ao;
    ao.seed = o_.seed;
    ao.explain_offers = o_.explain || NeedsExplanations();
    // Days (fewest-contacts counts) follow the site's time zone, as in the server.
    auto day_of = config::CachingSiteDayFunction(s_.config->routing.settings.time_zone);
    if (!day_of.ok()) return day_of.status();
    ao.day_of = std::move(*day_of);
    acd_ = std::make_unique<Acd>(clock_, clock_, *this, ao);
    if (Status st = acd_->Configure(s_.config->routing); !st.ok()) return st;
    if (s_.flows) {
      runner_ = std::make_unique<flow::FlowRunner>(clock_, clock_, *this, *this, *this,
                                                   [this](const flow::FlowEvent& e) {
                                                     flow_kpi_.Add(e);
                                                     if (e.kind == flow::FlowEventKind::kFlowEnded)
                                                       ended_.push_back(e.contact);
                                                   });
    }
    const RoutingConfig& rc = s_.config->routing;
    presence_.assign(rc.agents.size(), Presence::kOffline);
    end_ = s_.start + s_.duration;
    SchedulePresence();
    for (size_t i = 0; i < s_.timeline.size(); ++i) {
      clock_.Schedule(s_.start + s_.timeline[i].at, *this, Tag(Kind::kStep, i));
    }
    for (size_t i = 0; i < s_.traffic.size(); ++i) StartStream(i);
    if (o_.interval_agent_stats) {
      for (TimePoint t = s_.start + s_.interval; t <= end_; t += s_.interval) {
        snapshot_times_.push_back(t);
      }
      if (!snapshot_times_.empty())
        clock_.Schedule(snapshot_times_.front(), *this, Tag(Kind::kSnapshot, 0));
    }
    RunLoop();
    if (stopped_) return Unavailable("the simulation was stopped before its end");
    return Finish();
  }

  // --- AcdObserver ---
  void OnEvent(const Event& e) override {
    kpi_.Add(e);
    switch (e.type) {
      case EventType::kContactOffered:
        if (s_.agents[e.agent].automatic) Respond(e.contact, e.agent);
        break;
      case EventType::kOfferAccepted:
        if (Slot* c = Find(e.contact)) {
          c->answered = true;
          KillOffers(*c, e.contact, kNone);
          if (c->in_flow) Input(e.contact, flow::AgentConnected{}, clock_.Now());
        }
        break;
      case EventType::kOfferRejected:
      case EventType::kOfferTimedOut:
      case EventType::kOfferWithdrawn:
        if (Slot* c = Find(e.contact)) KillOffers(*c, e.contact, e.agent);
        break;
      case EventType::kHandlingStarted:
        if (s_.agents[e.agent].automatic) {
          const Slot* c = Find(e.contact);
          const Duration handle = c ? c->handle : kDefaultHandle;
          clock_.Schedule(clock_.Now() + handle, *this,
                          Tag(Kind::kHandleEnd, NewPending(e.contact, e.agent)));
        }
        break;
      case EventType::kWrapUpStarted:
        if (s_.agents[e.agent].automatic) {
          const Slot* c = Find(e.contact);
          if (c && c->wrap_up.count() >= 0) {
            clock_.Schedule(clock_.Now() + c->wrap_up, *this,
                            Tag(Kind::kWrapUpEnd, NewPending(e.contact, e.agent)));
          }
        }
        break;
      case EventType::kPresenceChanged:
        presence_[e.agent] = static_cast<Presence>(e.value);
        break;
      case EventType::kContactClosed:
      case EventType::kContactAbandoned:
      case EventType::kContactTimedOut:
      case EventType::kContactRemoved:
        if (Slot* c = Find(e.contact)) {
          c->in_acd = false;
          if (c->in_flow && e.type == EventType::kContactTimedOut) {
            // The queue's own max_wait ended the wait: the caller leaves the flow with it.
            // Only if it is still in the queue step then (the flow's own max_wait may act first).
            Input(e.contact, flow::CallerHungUp{}, clock_.Now(), CurrentStep(e.contact));
          }
          if (e.type == EventType::kContactClosed && !c->in_flow && MaybeSurvey(*c, e.contact)) {
            break;
          }
          if (!c->in_flow) Free(*c, e.contact);
        }
        break;
      default:
        break;
    }
    if (o_.listener) o_.listener->OnEvent(e, *acd_, NameOf(e.contact));
  }

  // --- TimerTarget ---
  void OnTimer(uint64_t tag) override {
    const uint64_t payload = tag & kPayloadMask;
    switch (static_cast<Kind>(tag >> kKindShift)) {
      case Kind::kPresence:
        OnPresence(presence_plan_[payload]);
        break;
      case Kind::kStep:
        RunStep(s_.timeline[payload]);
        break;
      case Kind::kArrival:
        OnArrival(payload);
        break;
      case Kind::kAccept:
        OnAccept(static_cast<uint32_t>(payload));
        break;
      case Kind::kHandleEnd: {
        const Pending p = TakePending(static_cast<uint32_t>(payload));
        (void)acd_->EndHandling(p.contact);  // fails only if a timeline step ended it first
        break;
      }
      case Kind::kWrapUpEnd: {
        const Pending p = TakePending(static_cast<uint32_t>(payload));
        (void)acd_->EndWrapUp(p.contact, p.agent);  // the queue's timer may have ended it
        break;
      }
      case Kind::kPatience: {
        const ContactId id(payload);
        const Slot* c = Find(id);
        if (c && !c->answered && (c->stream < 0 || !FlowStream(*c) || c->in_acd)) {
          const bool in_flow = c->in_flow;
          (void)acd_->Abandon(id);
          if (in_flow) (void)runner_->OnInput(id, flow::CallerHungUp{});
        }
        break;
      }
      case Kind::kFlowInput:
        DeliverInput(static_cast<uint32_t>(payload));
        break;
      case Kind::kFlowStart:
        StartSurvey(ContactId(payload));
        break;
      case Kind::kIvrPatience: {
        const ContactId id(payload);
        const Slot* c = Find(id);
        const flow::Step* st = c && c->in_flow && !c->queued ? CurrentStep(id) : nullptr;
        if (st && st->kind != flow::StepKind::kQueue) {
          (void)runner_->OnInput(id, flow::CallerHungUp{});
        }
        break;
      }
      case Kind::kSnapshot:
        OnSnapshot(payload);
        break;
    }
  }

 private:
  struct Slot {
    uint32_t gen = 0;
    bool live = false;
    bool answered = false;
    Duration handle{0};
    Duration wrap_up{-1};          // < 0: the queue's wrap-up timer ends it
    int32_t name = -1;             // index into names_, for scripted contacts
    std::vector<uint32_t> offers;  // pending accept/reject responses
    // Contacts of traffic streams, and those running flows.
    int32_t stream = -1;
    bool in_flow = false;   // a flow session runs (or is about to start) for it
    bool in_acd = false;    // the Acd holds it (waiting, offered, handling, wrap-up)
    Duration patience{-1};  // in a queue, for flow contacts (< 0: never abandons)
    uint64_t play_id = 0;   // the prompt playing now (0: none)
    int announcements = 0;  // heard in the current queue step
    int offer_after = 0;    // presses offer_key after this many announcements (0: never)
    std::string offer_key;
    size_t question = 0;  // the survey question being asked
    bool surveyed = false;
    bool queued = false;  // a flow's queue step enqueued it at least once
  };
  struct Pending {
    ContactId contact;
    AgentIndex agent = kNone;
    bool alive = false;
    bool reject = false;
  };
  struct PresenceChange {
    TimePoint at;
    AgentIndex agent;
    Presence presence;
    std::string reason;
    bool only_from_break = false;  // a break's end: only if still on that break
  };
  struct AgentSnapshot {
    Duration busy{0}, idle{0}, logged_in{0};
  };

  static KpiOptions MakeKpiOptions(const Scenario& s) {
    KpiOptions k;
    k.live_longest_wait = false;  // nothing reads KpiCalculator::Live in a simulation
    k.interval = s.interval;
    k.origin = s.start;
    for (const QueueDef& q : s.config->routing.queues) {
      k.queue_service_level_targets.push_back(q.service_level_threshold);
    }
    return k;
  }

  bool NeedsExplanations() const {
    for (const Step& st : s_.timeline) {
      for (const StepExpectation& x : st.expects) {
        if (!x.contains.empty()) return true;
      }
    }
    return false;
  }

  // --- contacts ---
  Slot* Find(ContactId id) {
    const uint64_t v = id.value();
    const uint64_t slot = (v & kSlotMask) - 1;  // id 0 wraps to a huge slot
    if (slot >= slots_.size()) return nullptr;
    Slot& c = slots_[slot];
    return c.live && c.gen == ((v >> 32) & kGenMask) + 1 ? &c : nullptr;
  }
  ContactId NewContact() {
    uint32_t slot;
    // Small runs never reuse a slot, so their contacts have small ids (1, 2, ...) in
    // explanations; large runs recycle to keep the table compact.
    if (!free_slots_.empty() && slots_.size() >= kReuseAfter) {
      slot = free_slots_.back();
      free_slots_.pop_back();
    } else {
      slot = static_cast<uint32_t>(slots_.size());
      slots_.emplace_back();
    }
    Slot& c = slots_[slot];
    c.gen = c.gen >= kGenMask ? 1 : c.gen + 1;
    c.live = true;
    c.answered = false;
    c.handle = kDefaultHandle;
    c.wrap_up = Duration(-1);
    c.name = -1;
    c.offers.clear();
    c.stream = -1;
    c.in_flow = c.in_acd = c.surveyed = c.queued = false;
    c.patience = Duration(-1);
    c.play_id = 0;
    c.announcements = c.offer_after = 0;
    c.offer_key.clear();
    ++active_;
    ++contacts_;
    return ContactId((uint64_t{c.gen - 1} << 32) | (uint64_t{slot} + 1));
  }
  void Free(Slot& c, ContactId id) {
    KillOffers(c, id, kNone);
    c.live = false;
    --active_;
    free_slots_.push_back(static_cast<uint32_t>((id.value() & kSlotMask) - 1));
  }
  std::string NameOf(ContactId id) const {
    if (!id.valid()) return {};
    const uint64_t slot = (id.value() & kSlotMask) - 1;
    if (slot < slots_.size() && slots_[slot].name >= 0) return names_[slots_[slot].name];
    auto it =
        std::find_if(named_.begin(), named_.end(), [&](const auto& p) { return p.second == id; });
    if (it != named_.end()) return it->first;
    return "#" + std::to_string(id.value());
  }

  // --- offers ---
  uint32_t NewPending(ContactId id, AgentIndex a) {
    uint32_t i;
    if (!free_pending_.empty()) {
      i = free_pending_.back();
      free_pending_.pop_back();
    } else {
      i = static_cast<uint32_t>(pending_.size());
      pending_.emplace_back();
    }
    pending_[i] = Pending{id, a, true, false};
    return i;
  }
  Pending TakePending(uint32_t i) {
    const Pending p = pending_[i];
    free_pending_.push_back(i);
    return p;
  }
  void Respond(ContactId id, AgentIndex a) {
    const AgentBehaviour& b = s_.agents[a];
    const uint32_t p = NewPending(id, a);
    pending_[p].reject = b.reject_probability > 0 && agents_rng_.Uniform() < b.reject_probability;
    const double delay = b.accept_delay ? b.accept_delay->Sample(agents_rng_) : 0.0;
    if (Slot* c = Find(id)) c->offers.push_back(p);
    // Through the clock even when the delay is 0: the ACD is inside a call now.
    clock_.Schedule(clock_.Now() + Seconds(delay), *this, Tag(Kind::kAccept, p));
  }
  // Voids the pending responses of `agent` (all agents for kNone) to contact `id`.
  void KillOffers(Slot& c, ContactId id, AgentIndex agent) {
    for (size_t i = 0; i < c.offers.size();) {
      Pending& p = pending_[c.offers[i]];
      if (p.contact == id && (agent == kNone || p.agent == agent)) {
        p.alive = false;
        c.offers[i] = c.offers.back();
        c.offers.pop_back();
      } else {
        ++i;
      }
    }
  }
  void OnAccept(uint32_t i) {
    const Pending p = TakePending(i);
    if (!p.alive) return;
    if (Slot* c = Find(p.contact)) {
      auto it = std::find(c->offers.begin(), c->offers.end(), i);
      if (it != c->offers.end()) {
        *it = c->offers.back();
        c->offers.pop_back();
      }
    }
    if (p.reject) {
      (void)acd_->Reject(p.contact, p.agent);
    } else {
      (void)acd_->Accept(p.contact, p.agent);
    }
  }

  // --- traffic ---
  void StartStream(size_t i) {
    const Stream& st = s_.traffic[i];
    streams_.emplace_back();
    StreamRt& rt = streams_.back();
    rt.rng.Seed(o_.seed * 0x9e3779b97f4a7c15ull + 101 + i);
    if (st.times) {
      rt.process = std::make_unique<traffic::ArrivalList>(*st.times);
    } else {
      auto p = traffic::PiecewisePoisson::Create(s_.start, st.arrival_interval, st.per_interval);
      if (!p.ok()) return;  // validated by the scenario parser
      rt.process = std::move(*p);
    }
    rt.spec.channel = st.channel;
    rt.spec.priority = st.priority;
    ScheduleArrival(i, s_.start);
  }
  void ScheduleArrival(size_t i, TimePoint after) {
    StreamRt& rt = streams_[i];
    if (!rt.process) return;
    auto next = rt.process->NextArrival(after, rt.rng);
    if (!next || *next >= end_) return;
    clock_.Schedule(*next, *this, Tag(Kind::kArrival, i));
  }
  void OnArrival(size_t i) {
    const Stream& st = s_.traffic[i];
    StreamRt& rt = streams_[i];
    const ContactId id = NewContact();
    Slot& c = slots_[(id.value() & kSlotMask) - 1];
    c.stream = static_cast<int32_t>(i);
    // Drawn at arrival, in a fixed order, so what-if runs share the same customers.
    c.handle = Seconds(st.handle_time.Sample(contacts_rng_));
    if (st.wrap_up) c.wrap_up = Seconds(st.wrap_up->Sample(contacts_rng_));
    std::optional<Duration> patience;
    if (st.patience) patience = Seconds(st.patience->Sample(contacts_rng_));
    ScheduleArrival(i, clock_.Now());
    if (st.flow.empty()) {
      Enter(id, st.queue, rt.spec, patience);
      return;
    }
    if (patience) c.patience = *patience;
    c.in_flow = true;
    if (st.caller.patience) {
      clock_.Schedule(clock_.Now() + Seconds(st.caller.patience->Sample(callers_rng_)), *this,
                      Tag(Kind::kIvrPatience, id.value()));
    }
    StartFlow(id, st.flow);
  }

  // --- contact flows ---
  bool FlowStream(const Slot& c) const {
    return c.stream >= 0 && !s_.traffic[static_cast<size_t>(c.stream)].flow.empty();
  }
  const Stream* StreamOf(ContactId id) {
    const Slot* c = Find(id);
    return c && c->stream >= 0 ? &s_.traffic[static_cast<size_t>(c->stream)] : nullptr;
  }
  void StartFlow(ContactId id, const std::string& flow_name) {
    const Stream& st = *StreamOf(id);
    flow::FlowContact fc;
    fc.id = id;
    fc.channel = st.channel;
    fc.caller = "sim-" + std::to_string(id.value());
    fc.called = st.entry;
    if (!runner_->Start(s_.flows, flow_name, std::move(fc)).ok()) ended_.push_back(id);
  }
  // A handled contact of a stream with a survey flow: a share of them answer it.
  bool MaybeSurvey(Slot& c, ContactId id) {
    if (!FlowStream(c) || c.surveyed) return false;
    const Stream& st = s_.traffic[static_cast<size_t>(c.stream)];
    if (st.survey_flow.empty() || !c.answered) return false;
    if (!(callers_rng_.Uniform() < st.survey_share)) return false;
    c.surveyed = true;
    c.in_flow = true;
    clock_.Schedule(clock_.Now(), *this, Tag(Kind::kFlowStart, id.value()));
    return true;
  }
  void StartSurvey(ContactId id) {
    if (const Stream* st = StreamOf(id)) StartFlow(id, st->survey_flow);
  }
  // The step the contact's session waits in, or nullptr.
  const flow::Step* CurrentStep(ContactId id) const {
    const flow::FlowSession* s = runner_ ? runner_->Find(id) : nullptr;
    if (!s || s->finished()) return nullptr;
    const flow::Flow* f = s->version().FindFlow(s->current_flow());
    if (!f) return nullptr;
    const int i = f->FindStep(s->current_step());
    return i < 0 ? nullptr : &f->steps[static_cast<size_t>(i)];
  }
  // Delivers `input` to the contact's flow at `at`, through the clock (never from inside an Acd
  // or runner call). With `step`, only if the session still waits in that step then.
  void Input(ContactId id, flow::FlowInput input, TimePoint at, const flow::Step* step = nullptr,
             uint64_t play_id = 0) {
    uint32_t i;
    if (!free_inputs_.empty()) {
      i = free_inputs_.back();
      free_inputs_.pop_back();
    } else {
      i = static_cast<uint32_t>(inputs_.size());
      inputs_.emplace_back();
    }
    inputs_[i] = PendingInput{id, std::move(input), step, play_id};
    clock_.Schedule(at, *this, Tag(Kind::kFlowInput, i));
  }
  void DeliverInput(uint32_t i) {
    const PendingInput p = std::move(inputs_[i]);
    free_inputs_.push_back(i);
    Slot* c = Find(p.contact);
    if (!c || !c->in_flow || !runner_->Find(p.contact)) return;
    if (p.step && CurrentStep(p.contact) != p.step) return;
    if (p.play_id) {
      if (c->play_id != p.play_id) return;  // stopped or replaced
      c->play_id = 0;
    }
    (void)runner_->OnInput(p.contact, p.input);
    if (p.play_id && p.step && CurrentStep(p.contact) == p.step) React(p.contact, *p.step);
  }
  Duration ThinkTime(const Stream& st) {
    return st.caller.think_time ? Seconds(st.caller.think_time->Sample(callers_rng_)) : Seconds(1);
  }
  static std::optional<std::string> Draw(const std::vector<CallerChoice>& choices, double u) {
    for (const auto& ch : choices) {
      if (u < ch.share) return ch.input;
      u -= ch.share;
    }
    return std::nullopt;
  }
  // What the caller does when the prompt of `step` has ended (or its text was sent): choose a
  // menu option, answer a survey question, or press an in-queue offer's key.
  void React(ContactId id, const flow::Step& step) {
    Slot* c = Find(id);
    const Stream* st = StreamOf(id);
    if (!c || !st) return;
    const CallerBehaviour& b = st->caller;
    std::optional<std::string> answer;
    if (step.kind == flow::StepKind::kMenu) {
      const flow::FlowSession* session = runner_->Find(id);
      for (const auto& m : b.menus) {
        if (m.step == step.id && (m.flow.empty() || m.flow == session->current_flow())) {
          answer = Draw(m.choices, callers_rng_.Uniform());
          break;
        }
      }
    } else if (step.kind == flow::StepKind::kSurvey) {
      const auto& sp = std::get<flow::SurveyParams>(step.params);
      if (c->question < sp.questions.size()) {
        const auto& q = sp.questions[c->question];
        const std::string kind = q.kind == flow::SurveyParams::Kind::kCsat  ? "csat"
                                 : q.kind == flow::SurveyParams::Kind::kNps ? "nps"
                                                                            : "text";
        const CallerBehaviour::Survey* by_id = nullptr;
        const CallerBehaviour::Survey* by_kind = nullptr;
        for (const auto& sv : b.surveys) {
          if (sv.question == q.id) by_id = &sv;
          if (sv.question == kind) by_kind = &sv;
        }
        if (const auto* sv = by_id ? by_id : by_kind) {
          answer = Draw(sv->scores, callers_rng_.Uniform());
        }
      }
    } else if (step.kind == flow::StepKind::kQueue) {
      if (c->offer_after > 0 && ++c->announcements == c->offer_after) answer = c->offer_key;
    }
    if (!answer) return;
    const TimePoint at = clock_.Now() + ThinkTime(*st);
    if (*answer == kHangupChoice) {
      Input(id, flow::CallerHungUp{}, at, &step);
    } else if (st->channel == Channel::kVoice) {
      Input(id, flow::DigitsReceived{*answer}, at, &step);
    } else {
      Input(id, flow::TextReceived{*answer}, at, &step);
    }
  }
  // Finishes the contacts whose flows ended during the last event (after the runner applied
  // their last effects, such as a transfer into a queue).
  void FlushEnded() {
    for (const ContactId id : ended_) {
      if (Slot* c = Find(id); c && c->in_flow && !runner_->Find(id)) {
        c->in_flow = false;
        if (!c->in_acd) Free(*c, id);
      }
    }
    ended_.clear();
  }
  Duration PromptLength(const Stream& st, const ports::Prompt& p) const {
    if (!p.recording.empty()) {
      for (const auto& [name, d] : st.caller.prompts) {
        if (name == p.recording) return d;
      }
      return st.caller.recording;
    }
    return Seconds(static_cast<double>(p.text.size()) / st.caller.speaking_rate);
  }

  // --- ports::ContactMedia ---
  void Play(ContactId id, const ports::PlayRequest& r) override {
    Slot* c = Find(id);
    const Stream* st = StreamOf(id);
    if (!c || !st || r.loop) return;  // music plays until stopped
    c->play_id = r.play_id;
    const flow::Step* step = CurrentStep(id);
    if (step && step->kind == flow::StepKind::kSurvey) {
      const auto& sp = std::get<flow::SurveyParams>(step->params);
      for (size_t q = 0; q < sp.questions.size(); ++q) {
        if (sp.questions[q].prompt == r.prompt) c->question = q;
      }
    }
    Input(id, flow::PromptFinished{r.play_id}, clock_.Now() + PromptLength(*st, r.prompt), step,
          r.play_id);
  }
  void StopPlayback(ContactId id) override {
    if (Slot* c = Find(id)) c->play_id = 0;
  }
  void SendText(ContactId id, const ports::TextMessage& m) override {
    Slot* c = Find(id);
    const flow::Step* step = CurrentStep(id);
    if (!c || !step) return;
    if (step->kind == flow::StepKind::kSurvey) {
      const auto& sp = std::get<flow::SurveyParams>(step->params);
      for (size_t q = 0; q < sp.questions.size(); ++q) {
        if (sp.questions[q].prompt.text == m.text) c->question = q;
      }
    }
    React(id, *step);
  }
  void Hangup(ContactId) override {}

  // --- ports::ContactRouting ---
  void Enqueue(ContactId id, const ports::EnqueueRequest& r) override {
    Slot* c = Find(id);
    const Stream* st = StreamOf(id);
    const auto q = acd_->FindQueue(r.queue);
    if (!c || !st || !q) return;
    c->announcements = 0;
    c->offer_after = 0;
    if (const flow::Step* step = CurrentStep(id); step && step->kind == flow::StepKind::kQueue) {
      for (const auto& o : std::get<flow::QueueParams>(step->params).offers) {
        for (const auto& use : st->caller.offers) {
          if (step->exits[static_cast<size_t>(o.exit)].name == use.exit &&
              callers_rng_.Uniform() < use.share) {
            c->offer_after = use.after;
            c->offer_key = o.key;
          }
        }
      }
    }
    ContactSpec spec;
    spec.channel = st->channel;
    spec.priority = r.priority;
    spec.skills = r.skills;
    spec.attributes = r.attributes;
    c->in_acd = c->queued = true;
    if (!acd_->Enqueue(id, *q, std::move(spec)).ok()) {
      c->in_acd = false;
      ++refused_;
      Input(id, flow::CallerHungUp{}, clock_.Now(), CurrentStep(id));
      return;
    }
    if (c->patience.count() >= 0) {
      clock_.Schedule(clock_.Now() + c->patience, *this, Tag(Kind::kPatience, id.value()));
    }
  }
  void Dequeue(ContactId id) override { (void)acd_->Remove(id); }
  void Transfer(ContactId id, const ports::TransferRequest& r) override {
    if (r.kind == ports::TransferKind::kQueue) {
      Enqueue(id, ports::EnqueueRequest{r.target, 0, {}, r.attributes});
    }
  }
  void StartVoicemail(ContactId, const ports::VoicemailRequest&) override {}
  void ScheduleCallback(ContactId, const ports::CallbackRequest&) override {}
  void RequestQueueStats(ContactId id, const std::string& queue) override {
    flow::QueueStats stats;
    if (const auto q = acd_->FindQueue(queue)) {
      const QueueView v = acd_->GetQueue(*q);
      stats.waiting = static_cast<int>(v.waiting);
      stats.position = static_cast<int>(v.waiting);
      stats.agents_available = static_cast<int>(v.agents_free);
    }
    Input(id, flow::QueueStatsAnswered{queue, stats}, clock_.Now());
  }

  // --- ports::HttpLookup: lookups are not simulated; the flow takes its failure exit ---
  void Send(ContactId id, const ports::HttpRequest& r) override {
    Input(id, flow::LookupFailed{r.request_id, "lookups are not simulated"}, clock_.Now());
  }
  void Cancel(ContactId, uint64_t) override {}
  void Enter(ContactId id, QueueIndex q, const ContactSpec& spec,
             std::optional<Duration> patience) {
    if (patience)
      clock_.Schedule(clock_.Now() + *patience, *this, Tag(Kind::kPatience, id.value()));
    Status st = acd_->Enqueue(id, q, spec);
    if (!st.ok()) {
      ++refused_;
      if (Slot* c = Find(id)) Free(*c, id);
    }
  }

  // --- agents ---
  void SchedulePresence() {
    for (AgentIndex a = 0; a < s_.agents.size(); ++a) {
      const AgentBehaviour& b = s_.agents[a];
      if (!b.automatic) continue;
      const TimePoint on = s_.start + b.shift_start.value_or(Duration{0});
      presence_plan_.push_back({on, a, Presence::kAvailable, "", false});
      if (b.shift_end) {
        presence_plan_.push_back({s_.start + *b.shift_end, a, Presence::kOffline, "", false});
      }
      for (const auto& br : b.breaks) {
        presence_plan_.push_back({s_.start + br.at, a, Presence::kNotReady, "break", false});
        presence_plan_.push_back({s_.start + br.at + br.length, a, Presence::kAvailable, "", true});
      }
    }
    std::stable_sort(presence_plan_.begin(), presence_plan_.end(),
                     [](const PresenceChange& x, const PresenceChange& y) { return x.at < y.at; });
    for (size_t i = 0; i < presence_plan_.size(); ++i) {
      clock_.Schedule(presence_plan_[i].at, *this, Tag(Kind::kPresence, i));
    }
  }
  void OnPresence(const PresenceChange& p) {
    if (p.only_from_break && presence_[p.agent] != Presence::kNotReady) return;
    (void)acd_->SetPresence(p.agent, p.presence, p.reason);
  }

  // --- timeline ---
  std::optional<ContactId> Named(const std::string& name) const {
    for (const auto& [n, id] : named_) {
      if (n == name) return id;
    }
    return std::nullopt;
  }
  void Fail(const Where& where, std::string message) {
    failures_.push_back({where, std::move(message)});
    if (o_.listener) o_.listener->OnFailure(failures_.back());
  }
  const std::string& AgentName(AgentIndex a) const { return s_.config->routing.agents[a].name; }

  void RunStep(const Step& st) {
    if (o_.listener) o_.listener->OnStep(st);
    using A = Step::Action;
    std::optional<ContactId> id;
    if (st.action != A::kNone && st.action != A::kPresence) {
      if (st.action == A::kArrive) {
        if (Named(st.contact)) {
          Fail(st.where, "contact '" + st.contact + "' has already arrived");
          return;
        }
        id = NewContact();
        named_.emplace_back(st.contact, *id);
        Slot& c = slots_[(id->value() & kSlotMask) - 1];
        c.name = static_cast<int32_t>(names_.size());
        names_.push_back(st.contact);
        if (st.handle) c.handle = *st.handle;
        if (st.wrap_up) c.wrap_up = *st.wrap_up;
      } else {
        id = Named(st.contact);
        if (!id) {
          Fail(st.where, "no contact '" + st.contact + "' has arrived");
          return;
        }
      }
    }
    Status result;
    std::string verb;
    switch (st.action) {
      case A::kNone:
        break;
      case A::kPresence:
        for (AgentIndex a : st.agents) {
          Status s = acd_->SetPresence(a, st.presence, st.reason);
          if (!s.ok()) Fail(st.where, "presence of " + AgentName(a) + " failed: " + s.message());
        }
        break;
      case A::kArrive: {
        const size_t before = refused_;
        Enter(*id, st.queue, st.spec, st.patience);
        if (refused_ != before) Fail(st.where, "arrival of '" + st.contact + "' was refused");
        break;
      }
      case A::kAccept:
      case A::kReject: {
        AgentIndex a = st.agents.empty() ? kNone : st.agents.front();
        if (a == kNone) {
          auto v = acd_->GetContact(*id);
          if (v && !v->offered_to.empty()) a = v->offered_to.front();
        }
        verb = st.action == A::kAccept ? "accept" : "reject";
        if (a == kNone) {
          Fail(st.where, "expected '" + st.contact + "' to be offered (to " + verb + " it), got " +
                             Describe(*id));
          return;
        }
        result = st.action == A::kAccept ? acd_->Accept(*id, a) : acd_->Reject(*id, a);
        verb += " by " + AgentName(a);
        break;
      }
      case A::kEnd:
        verb = "end";
        result = acd_->EndHandling(*id);
        break;
      case A::kWrapUpEnd: {
        AgentIndex a = st.agents.empty() ? kNone : st.agents.front();
        if (a == kNone) {
          auto v = acd_->GetContact(*id);
          if (v) a = v->agent;
        }
        verb = "wrap_up_end";
        result = a == kNone ? NotFound("no agent is wrapping it up") : acd_->EndWrapUp(*id, a);
        break;
      }
      case A::kAbandon:
        verb = "abandon";
        result = acd_->Abandon(*id);
        break;
      case A::kTransfer:
        verb = "transfer";
        result = acd_->Transfer(*id, st.queue);
        break;
    }
    if (!result.ok()) {
      Fail(st.where, verb + " of '" + st.contact + "' failed: " + result.message());
    }
    for (const StepExpectation& x : st.expects) Check(x);
  }

  std::string Describe(ContactId id) const {
    auto v = acd_->GetContact(id);
    if (!v || v->state == ContactState::kGone) return "gone";
    std::string out(ContactStateName(v->state));
    if (v->state == ContactState::kOffered) {
      out += " to ";
      for (size_t i = 0; i < v->offered_to.size(); ++i) {
        out += (i ? "," : "") + AgentName(v->offered_to[i]);
      }
    } else if ((v->state == ContactState::kHandling || v->state == ContactState::kWrapUp) &&
               v->agent != kNone) {
      out += " by " + AgentName(v->agent);
    }
    out += " in " + acd_->QueueName(v->queue);
    return out;
  }

  static std::string Missing(const std::string& text, const std::vector<std::string>& fragments) {
    std::string missing;
    for (const auto& f : fragments) {
      if (text.find(f) == std::string::npos) missing += (missing.empty() ? "'" : ", '") + f + "'";
    }
    return missing;
  }

  void Check(const StepExpectation& x) {
    using K = StepExpectation::Kind;
    std::optional<ContactId> id;
    if (x.kind == K::kOffer || x.kind == K::kState || x.kind == K::kExplain) {
      id = Named(x.contact);
      if (!id) {
        Fail(x.where, "expected contact '" + x.contact + "' to have arrived, got no such contact");
        return;
      }
    }
    switch (x.kind) {
      case K::kOffer: {
        auto v = acd_->GetContact(*id);
        const auto a = acd_->FindAgent(x.agent);
        const bool ok =
            v && v->state == ContactState::kOffered && a &&
            std::find(v->offered_to.begin(), v->offered_to.end(), *a) != v->offered_to.end();
        if (!ok) {
          Fail(x.where,
               "expected '" + x.contact + "' offered to " + x.agent + ", got " + Describe(*id));
          return;
        }
        if (!x.contains.empty()) {
          const Explanation* e = acd_->LastOfferExplanation(*id);
          const std::string text = e ? FormatExplanation(*e) : "";
          if (auto m = Missing(text, x.contains); !m.empty()) {
            Fail(x.where, "expected the explanation of the offer of '" + x.contact +
                              "' to contain " + m + ", got:\n" + text);
          }
        }
        break;
      }
      case K::kState: {
        auto v = acd_->GetContact(*id);
        const std::string state(v ? ContactStateName(v->state) : "gone");
        bool ok = state == x.is;
        if (ok && !x.agent.empty()) ok = v && v->agent != kNone && AgentName(v->agent) == x.agent;
        if (!ok) {
          Fail(x.where, "expected '" + x.contact + "' " + x.is +
                            (x.agent.empty() ? "" : " by " + x.agent) + ", got " + Describe(*id));
        }
        break;
      }
      case K::kPresence: {
        const auto a = acd_->FindAgent(x.agent);
        if (!a) return;
        const AgentView v = acd_->GetAgent(*a);
        const std::string got(PresenceName(v.presence));
        if (got != x.is || (x.reason && *x.reason != v.reason)) {
          Fail(x.where, "expected " + x.agent + " " + x.is +
                            (x.reason ? " (" + *x.reason + ")" : "") + ", got " + got +
                            (v.reason.empty() ? "" : " (" + v.reason + ")"));
        }
        break;
      }
      case K::kExplain: {
        auto e = acd_->Explain(*id);
        const std::string text = e.ok() ? FormatExplanation(*e) : e.status().message();
        if (auto m = Missing(text, x.contains); !m.empty()) {
          Fail(x.where, "expected the explanation of '" + x.contact + "' to contain " + m +
                            ", got:\n" + text);
        }
        break;
      }
      case K::kQueue: {
        const QueueView q = acd_->GetQueue(x.queue);
        if (x.waiting && *x.waiting != q.waiting) {
          Fail(x.where, "expected " + std::to_string(*x.waiting) + " waiting in " + q.name +
                            ", got " + std::to_string(q.waiting));
        }
        break;
      }
    }
  }

  // --- snapshots and results ---
  void OnSnapshot(size_t i) {
    const KpiReport r = kpi_.Report(clock_.Now());
    std::vector<AgentSnapshot> snap(s_.agents.size());
    for (size_t a = 0; a < snap.size() && a < r.agents.size(); ++a) {
      snap[a] = {r.agents[a].busy, r.agents[a].available_idle, r.agents[a].logged_in};
    }
    snapshots_.push_back(std::move(snap));
    if (i + 1 < snapshot_times_.size()) {
      clock_.Schedule(snapshot_times_[i + 1], *this, Tag(Kind::kSnapshot, i + 1));
    }
  }

  void RunLoop() {
    const TimePoint hard_end = s_.drain ? end_ + s_.drain_limit : end_;
    const double span = std::max(1.0, ToSeconds(s_.duration));
    // Nothing fires at TimePoint::max() (no timer), nor after the hard end, nor after the end
    // once no contact is active.
    const TimePoint last = std::min(hard_end, TimePoint::max() - Duration(1));
    while (true) {
      if (!clock_.RunNextBy(active_ == 0 ? std::min(end_, last) : last)) break;
      ++events_;
      if (!ended_.empty()) FlushEnded();
      if ((events_ & 0xffff) == 0) {
        if (o_.progress) o_.progress(std::min(1.0, ToSeconds(clock_.Now() - s_.start) / span));
        if (o_.should_stop && o_.should_stop()) {
          stopped_ = true;
          return;
        }
      }
    }
    clock_.AdvanceTo(std::max(clock_.Now(), end_));
  }

  // Occupancy and utilisation over agents `members` (all when null) between two snapshots.
  static void AgentFigures(const std::vector<AgentSnapshot>& to,
                           const std::vector<AgentSnapshot>* from,
                           const std::vector<AgentIndex>* members, KpiRow* row) {
    double busy = 0, idle = 0, logged = 0;
    const auto add = [&](AgentIndex a) {
      if (a >= to.size()) return;
      busy += ToSeconds(to[a].busy - (from ? (*from)[a].busy : Duration{0}));
      idle += ToSeconds(to[a].idle - (from ? (*from)[a].idle : Duration{0}));
      logged += ToSeconds(to[a].logged_in - (from ? (*from)[a].logged_in : Duration{0}));
    };
    if (members) {
      for (AgentIndex a : *members) add(a);
    } else {
      for (AgentIndex a = 0; a < to.size(); ++a) add(a);
    }
    if (busy + idle > 0) (*row)[Metric::kOccupancy] = busy / (busy + idle);
    if (logged > 0) (*row)[Metric::kUtilisation] = busy / logged;
  }

  static KpiRow RowOf(const ContactStats& c) {
    KpiRow r;
    const auto secs = [](std::optional<Duration> d) -> std::optional<double> {
      return d ? std::optional<double>(ToSeconds(*d)) : std::nullopt;
    };
    r[Metric::kOffered] = static_cast<double>(c.offered);
    r[Metric::kAnswered] = static_cast<double>(c.answered);
    r[Metric::kAbandoned] = static_cast<double>(c.abandoned);
    r[Metric::kTimedOut] = static_cast<double>(c.timed_out);
    r[Metric::kOverflowed] = static_cast<double>(c.overflowed);
    r[Metric::kHandled] = static_cast<double>(c.handled);
    r[Metric::kServiceLevel] = c.ServiceLevel();
    r[Metric::kAbandonRate] = c.AbandonRate(false);
    r[Metric::kAsa] = secs(c.Asa());
    r[Metric::kAverageWait] = secs(c.AverageWait());
    if (c.Finished() > 0) {
      r[Metric::kWaitP90] = ToSeconds(c.wait_p90);
      r[Metric::kLongestWait] = ToSeconds(c.longest_wait);
    }
    r[Metric::kAht] = secs(c.Aht());
    r[Metric::kTransferRate] = c.TransferRate();
    r[Metric::kMaxQueue] = static_cast<double>(c.max_waiting);
    return r;
  }

  Result<RunResult> Finish() {
    RunResult out;
    out.seed = o_.seed;
    out.end = clock_.Now();
    out.report = kpi_.Report(out.end);
    out.events = events_;
    out.contacts = contacts_;
    out.refused = refused_;
    out.flows = flow_kpi_.Report();
    out.failures = std::move(failures_);
    const RoutingConfig& rc = s_.config->routing;
    // Members of each queue, for per-queue occupancy.
    std::vector<std::vector<AgentIndex>> members(rc.queues.size());
    for (AgentIndex a = 0; a < rc.agents.size(); ++a) {
      for (const QueueAssignment& qa : rc.agents[a].queues) {
        if (qa.queue < members.size()) members[qa.queue].push_back(a);
      }
    }
    for (QueueIndex q = 0; q < rc.queues.size(); ++q) {
      for (AgentIndex a : rc.queues[q].members) {
        if (std::find(members[q].begin(), members[q].end(), a) == members[q].end())
          members[q].push_back(a);
      }
    }
    std::vector<AgentSnapshot> final_snap(s_.agents.size());
    for (size_t a = 0; a < final_snap.size() && a < out.report.agents.size(); ++a) {
      const AgentStats& st = out.report.agents[a];
      final_snap[a] = {st.busy, st.available_idle, st.logged_in};
    }
    out.overall = RowOf(out.report.overall.total);
    AgentFigures(final_snap, nullptr, nullptr, &out.overall);
    for (QueueIndex q = 0; q < rc.queues.size(); ++q) {
      // A queue nothing reached still reports zero counts (rates stay undefined).
      KpiRow row =
          RowOf(q < out.report.queues.size() ? out.report.queues[q].total : ContactStats{});
      AgentFigures(final_snap, nullptr, &members[q], &row);
      out.queues.push_back(row);
    }
    for (int ch = 0; ch < kChannelCount; ++ch)
      out.channels.push_back(RowOf(out.report.channels[ch].total));
    // Intervals: the calculator's, with agent figures from the snapshot at each boundary.
    for (const IntervalStats& is : out.report.overall.intervals) {
      IntervalRow row;
      row.start = is.start;
      row.overall = RowOf(is.stats);
      for (QueueIndex q = 0; q < rc.queues.size(); ++q) {
        KpiRow qr = RowOf(ContactStats{});
        if (q < out.report.queues.size()) {
          for (const IntervalStats& qi : out.report.queues[q].intervals) {
            if (qi.start == is.start) qr = RowOf(qi.stats);
          }
        }
        row.queues.push_back(qr);
      }
      if (o_.interval_agent_stats && s_.interval.count() > 0) {
        const auto k = (is.start - s_.start) / s_.interval;  // snapshot k ends interval k
        if (k >= 0) {
          const size_t ki = static_cast<size_t>(k);
          const std::vector<AgentSnapshot>* to =
              ki < snapshots_.size() ? &snapshots_[ki]
                                     : (ki == snapshots_.size() ? &final_snap : nullptr);
          const std::vector<AgentSnapshot>* from = ki == 0 ? nullptr : &snapshots_[ki - 1];
          if (to && (ki == 0 || ki - 1 < snapshots_.size())) {
            AgentFigures(*to, from, nullptr, &row.overall);
            for (QueueIndex q = 0; q < rc.queues.size(); ++q)
              AgentFigures(*to, from, &members[q], &row.queues[q]);
          }
        }
      }
      out.intervals.push_back(std::move(row));
    }
    return out;
  }

  struct PendingInput {
    ContactId contact;
    flow::FlowInput input;
    const flow::Step* step = nullptr;
    uint64_t play_id = 0;
  };
  struct StreamRt {
    std::unique_ptr<traffic::ArrivalProcess> process;
    Random rng;
    ContactSpec spec;
  };

  const Scenario& s_;
  const RunOptions& o_;
  VirtualClock clock_;
  KpiCalculator kpi_;
  Random agents_rng_;
  Random contacts_rng_;
  Random callers_rng_;  // choices of callers inside flows
  FlowKpiCalculator flow_kpi_;
  std::unique_ptr<Acd> acd_;
  std::unique_ptr<flow::FlowRunner> runner_;  // when the scenario runs flows
  std::vector<PendingInput> inputs_;
  std::vector<uint32_t> free_inputs_;
  std::vector<ContactId> ended_;
  TimePoint end_{};
  std::vector<Presence> presence_;
  std::vector<PresenceChange> presence_plan_;
  std::vector<StreamRt> streams_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  std::vector<Pending> pending_;
  std::vector<uint32_t> free_pending_;
  std::vector<std::string> names_;
  std::vector<std::pair<std::string, ContactId>> named_;
  std::vector<Failure> failures_;
  std::vector<TimePoint> snapshot_times_;
  std::vector<std::vector<AgentSnapshot>> snapshots_;
  int64_t active_ = 0;
  uint64_t events_ = 0;
  bool stopped_ = false;  // should_stop said so
  uint64_t contacts_ = 0;
  uint64_t refused_ = 0;
};

}  // namespace

std::string Failure::ToString() const { return where.ToString() + ": " + message; }

Result<RunResult> Run(const Scenario& scenario, const RunOptions& options) {
  if (!scenario.config) return InvalidArgument("scenario has no configuration");
  Simulation sim(scenario, options);
  return sim.Run();
}

std::optional<double> FlowBoundValue(const FlowReport& r, const KpiBound& b) {
  const auto count = [](uint64_t n) { return std::optional<double>(static_cast<double>(n)); };
  const std::string& m = b.metric_name;
  if (!b.step.empty()) {
    const FlowStepStats* st = r.FindStep(b.flow, b.step);
    if (m.rfind("share_", 0) == 0) return st ? st->ExitShare(m.substr(6)) : std::nullopt;
    if (m == "entered") return count(st ? st->entered : 0);
    if (m == "abandoned") return count(st ? st->abandoned : 0);
    return st ? st->DropOff() : std::nullopt;
  }
  static const FlowStats kNone;
  const FlowStats* fp = r.FindFlow(b.flow);
  const FlowStats& f = fp ? *fp : kNone;
  if (m == "entered") return count(f.entered);
  if (m == "ended") return count(f.ended);
  if (m == "contained") return count(f.completed);
  if (m == "containment_rate") return f.ContainmentRate();
  if (m == "abandoned_in_ivr") return count(f.abandoned_in_ivr);
  if (m == "abandoned_in_queue") return count(f.abandoned_in_queue);
  if (m == "abandon_rate") return f.AbandonRate();
  if (m == "queued") return count(f.queued);
  if (m == "connected") return count(f.connected);
  if (m == "transferred") return count(f.transferred);
  if (m == "voicemail") return count(f.voicemail);
  if (m == "callback") return count(f.callback);
  if (m == "failed") return count(f.failed);
  if (m == "average_ivr_time") {
    const auto d = f.AverageIvrTime();
    return d ? std::optional<double>(ToSeconds(*d)) : std::nullopt;
  }
  if (m == "csat") return f.surveys.Csat();
  if (m == "csat_mean") return f.surveys.CsatMean();
  if (m == "nps") return f.surveys.Nps();
  return std::nullopt;
}

std::optional<double> BoundValue(const RunResult& r, const KpiBound& b) {
  if (b.agent_metric) {
    if (b.index >= r.report.agents.size()) return std::nullopt;
    const AgentStats& a = r.report.agents[b.index];
    switch (b.agent_metric_kind) {
      case AgentMetric::kOffers:
        return static_cast<double>(a.offers);
      case AgentMetric::kAccepted:
        return static_cast<double>(a.accepted);
      case AgentMetric::kRejected:
        return static_cast<double>(a.rejected);
      case AgentMetric::kOfferTimeouts:
        return static_cast<double>(a.offer_timeouts);
      case AgentMetric::kHandled:
        return static_cast<double>(a.handled);
      case AgentMetric::kOccupancy:
        return a.Occupancy();
      case AgentMetric::kUtilisation:
        return a.Utilisation();
    }
    return std::nullopt;
  }
  if (b.scope == KpiBound::Scope::kFlow) return FlowBoundValue(r.flows, b);
  switch (b.scope) {
    case KpiBound::Scope::kFlow:
      break;
    case KpiBound::Scope::kOverall:
      return r.overall[b.metric];
    case KpiBound::Scope::kQueue:
      return b.index < r.queues.size() ? r.queues[b.index][b.metric] : std::nullopt;
    case KpiBound::Scope::kChannel:
      return b.index < r.channels.size() ? r.channels[b.index][b.metric] : std::nullopt;
    case KpiBound::Scope::kAgent:
      break;
  }
  return std::nullopt;
}

namespace {
std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}
}  // namespace

std::vector<Failure> CheckBounds(
    const Scenario& scenario, const std::function<std::optional<double>(const KpiBound&)>& value) {
  std::vector<Failure> out;
  for (const KpiBound& b : scenario.expect) {
    const std::optional<double> v = value(b);
    const bool ok = v && (!b.min || *v >= *b.min - 1e-9) && (!b.max || *v <= *b.max + 1e-9);
    if (ok) continue;
    std::string want;
    if (b.min && b.max && *b.min == *b.max) {
      want = Num(*b.min);
    } else {
      want = std::string(b.min ? "[" + Num(*b.min) : "(-inf") + ", " +
             (b.max ? Num(*b.max) + "]" : "+inf)");
      want = "in " + want;
    }
    out.push_back({b.where, "expected " + b.scope_name + " " + b.metric_name + " " + want +
                                ", got " + (v ? Num(*v) : std::string("undefined"))});
  }
  return out;
}

double StudentT975(int df) {
  static constexpr double kTable[] = {0,     12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365,
                                      2.306, 2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
                                      2.120, 2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069,
                                      2.064, 2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
  if (df < 1) return 0;
  if (df <= 30) return kTable[df];
  // Cornish-Fisher expansion around the normal quantile; within 1e-3 above 30 degrees.
  const double z = 1.959964, d = df;
  return z + (z * z * z + z) / (4 * d) +
         (5 * std::pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * d * d);
}

Estimate Summarise(const std::vector<double>& samples) {
  Estimate e;
  e.n = static_cast<int>(samples.size());
  if (samples.empty()) return e;
  double sum = 0;
  for (double v : samples) sum += v;
  e.mean = sum / e.n;
  if (e.n < 2) return e;
  double ss = 0;
  for (double v : samples) ss += (v - e.mean) * (v - e.mean);
  const double sd = std::sqrt(ss / (e.n - 1));
  e.half_width = StudentT975(e.n - 1) * sd / std::sqrt(static_cast<double>(e.n));
  return e;
}

}  // namespace parley::sim
