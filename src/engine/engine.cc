#include "engine/engine.h"

#include <algorithm>
#include <utility>

#include "acd/explain.h"
#include "base/log.h"
#include "config/site_time.h"
#include "engine/render.h"

namespace parley::engine {

const QueueDef* QueueDefByName(const config::Config& cfg, const std::string& name) {
  for (const QueueDef& q : cfg.routing.queues) {
    if (q.name == name) return &q;
  }
  return nullptr;
}

using ports::Caller;
using ports::ContactRecord;
using ports::Reply;
namespace {

constexpr int64_t kMicrosPerDay = int64_t{86'400} * 1'000'000;

ports::ContactState FromAcd(parley::ContactState s) {
  switch (s) {
    case parley::ContactState::kWaiting:
      return ports::ContactState::kQueued;
    case parley::ContactState::kOffered:
      return ports::ContactState::kOffered;
    case parley::ContactState::kHandling:
      return ports::ContactState::kHandling;
    case parley::ContactState::kWrapUp:
      return ports::ContactState::kWrapUp;
    case parley::ContactState::kGone:
      break;
  }
  return ports::ContactState::kClosed;
}

ports::ContactState FromStage(WorkStage s) {
  switch (s) {
    case WorkStage::kOffered:
      return ports::ContactState::kOffered;
    case WorkStage::kHandling:
      return ports::ContactState::kHandling;
    case WorkStage::kWrapUp:
      break;
  }
  return ports::ContactState::kWrapUp;
}

// Voice needs a live call; after a restart there is none. The other channels survive one.
bool Durable(Channel c) { return c != Channel::kVoice; }

// "" when `code` is allowed, else the error text naming the valid codes.
std::string CheckCode(const std::vector<config::CodeDef>& codes, const std::string& code,
                      const char* what) {
  if (codes.empty()) return {};
  std::string valid;
  for (const config::CodeDef& c : codes) {
    if (c.code == code) return {};
    valid += valid.empty() ? "" : ", ";
    valid += c.code;
  }
  return std::string(what) + " '" + code + "' is not configured; valid codes: " + valid;
}

// The journal's events with seq in (after, until], in order: kNotFound when retention purged the
// first of them, kUnavailable when they are more than `limit`.
Result<std::vector<ports::JournalEntry>> ReadJournalRange(ports::EventJournal& journal,
                                                          ports::Sequence after,
                                                          ports::Sequence until, size_t limit) {
  if (until - after > limit) {
    return Unavailable("more than " + std::to_string(limit) + " events were missed");
  }
  std::vector<ports::JournalEntry> out;
  for (ports::Sequence next = after; next < until;) {
    auto page = journal.ReadAfter(next, std::min<size_t>(4096, until - next));
    if (!page.ok()) return page.status();
    if (page->empty()) break;
    for (ports::JournalEntry& entry : *page) {
      if (entry.seq != next + 1) {
        return NotFound("the events after " + std::to_string(next) +
                        " are no longer in the journal (retention)");
      }
      next = entry.seq;
      if (entry.seq > until) break;
      out.push_back(std::move(entry));
    }
  }
  return out;
}

}  // namespace

ports::CustomerIdentity NormaliseIdentity(ports::CustomerIdentity identity) {
  std::string out;
  switch (identity.channel) {
    case Channel::kVoice:
    case Channel::kSms:
    case Channel::kCallback:
      // One phone number is one identity whichever phone channel it arrives on.
      identity.channel = Channel::kVoice;
      for (char ch : identity.address) {
        if ((ch >= '0' && ch <= '9') || (ch == '+' && out.empty())) out.push_back(ch);
      }
      if (out == "+") out.clear();
      break;
    case Channel::kEmail:
      for (char ch : identity.address) {
        if (ch == ' ' || ch == '\t') continue;
        out.push_back(ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch);
      }
      break;
    default: {
      const size_t b = identity.address.find_first_not_of(" \t");
      const size_t e = identity.address.find_last_not_of(" \t");
      if (b != std::string::npos) out = identity.address.substr(b, e - b + 1);
      break;
    }
  }
  identity.address = std::move(out);
  return identity;
}

// ---------------------------------------------------------------------------------------------
// Subscriptions

struct Engine::Subscriber {
  // Recursive: a sink may drop its own Subscription while being called on the loop.
  std::recursive_mutex mu;
  bool active = true;  // GUARDED_BY(mu)
  Caller who;
  std::function<bool(std::string_view type)> wants;  // every type when empty
  ports::EventSink sink;

  bool Wants(std::string_view type) const { return !wants || wants(type); }

  bool Active() {
    std::lock_guard lock(mu);
    return active;
  }
  void Deliver(const std::vector<ports::PublishedEvent>& events) {
    std::lock_guard lock(mu);
    if (active && !events.empty()) sink(events);
  }
};

class Engine::SubscriptionImpl final : public ports::Subscription {
 public:
  explicit SubscriptionImpl(std::shared_ptr<Subscriber> s) : s_(std::move(s)) {}
  ~SubscriptionImpl() override {
    std::lock_guard lock(s_->mu);  // waits for a delivery in progress on the loop
    s_->active = false;
  }

 private:
  std::shared_ptr<Subscriber> s_;
};

// Without an HTTP client every lookup fails at once, so flows take their failure exit.
class Engine::NoHttpClient final : public ports::HttpLookup {
 public:
  explicit NoHttpClient(Engine& engine) : engine_(engine) {}
  void Send(ContactId contact, const ports::HttpRequest& request) override {
    engine_.flow_inputs_.emplace_back(contact,
                                      flow::LookupFailed{request.request_id, "no http client"});
    engine_.ScheduleFlush();
  }
  void Cancel(ContactId, uint64_t) override {}

 private:
  Engine& engine_;
};

// ---------------------------------------------------------------------------------------------
// Construction, start, reconfiguration, shutdown

Engine::Engine(Clock& clock, TimerQueue& timers, Executor executor, ports::Store& store,
               std::shared_ptr<const config::Config> config, EngineOptions options)
    : clock_(clock),
      timers_(timers),
      executor_(std::move(executor)),
      store_(store),
      config_(std::move(config)),
      options_(std::move(options)) {
  auto day = config::SiteDayFunction(config_->routing.settings.time_zone);
  if (day.ok()) day_fn_ = std::move(*day);  // else UTC days; Start() reports the zone
  AcdOptions acd_options;
  acd_options.seed = options_.seed;
  acd_options.day_of = [this](TimePoint t) { return DayOf(t); };
  acd_ = std::make_unique<Acd>(clock_, timers_, static_cast<AcdObserver&>(*this),
                               std::move(acd_options));
  no_http_ = std::make_unique<NoHttpClient>(*this);
  live_ = std::make_unique<LiveSnapshots>(options_.render_agent);
  ports::HttpLookup& http = options_.http ? *options_.http : *no_http_;
  runner_ =
      std::make_unique<flow::FlowRunner>(clock_, timers_, static_cast<ports::ContactMedia&>(*this),
                                         static_cast<ports::ContactRouting&>(*this), http,
                                         [this](const flow::FlowEvent& fe) { OnFlowEvent(fe); });
}

Engine::~Engine() {
  for (const auto& [id, c] : contacts_) {
    if (c.consult_timer != 0) timers_.Cancel(c.consult_timer);
  }
}

int64_t Engine::DayOf(TimePoint t) const {
  if (day_fn_) return day_fn_(t);
  const int64_t us = ToMicros(t);
  return us >= 0 ? us / kMicrosPerDay : (us - kMicrosPerDay + 1) / kMicrosPerDay;
}

void Engine::ResetStats(int64_t day) {
  stats_day_ = day;
  KpiOptions o;
  for (size_t q = 0; q < acd_->queue_count(); ++q) {
    const QueueDef* def = QueueDefByName(*config_, acd_->QueueName(static_cast<QueueIndex>(q)));
    o.queue_service_level_targets.push_back(def ? def->service_level_threshold : Duration{0});
  }
  kpi_ = std::make_unique<KpiCalculator>(o);
}

Status Engine::Start() {
  PARLEY_CHECK(!started_);
  if (!day_fn_) {
    auto day = config::SiteDayFunction(config_->routing.settings.time_zone);
    if (!day.ok()) return day.status();
  }
  if (Status s = acd_->Configure(config_->routing); !s.ok()) return s;
  RebuildDirectory();
  auto flows = CompileFlowsOf(*config_, options_.config_version);
  if (!flows.ok()) return flows.status();
  flows_ = std::move(*flows);
  ResetStats(DayOf(clock_.Now()));
  Result<ports::RecoveryState> loaded = store_.LoadRecoveryState();
  if (!loaded.ok()) return loaded.status();
  ports::RecoveryState& rs = *loaded;
  last_seq_ = rs.last_seq;
  auto last_recording = store_.LastRecordingId();
  if (!last_recording.ok()) return last_recording.status();
  last_recording_id_ = *last_recording;

  // Contact ids never repeat: start after the highest one the journal or the records know.
  uint64_t max_id = 0;
  std::map<ContactId, FlowEventFields> in_flow;
  // Calls whose flow ended at a voicemail step and that were not closed yet: leaving a message.
  std::map<ContactId, FlowEventFields> leaving_message;
  for (const ContactRecord& r : rs.open_contacts) max_id = std::max(max_id, r.id.value());
  // Today's live statistics continue from the journal's events of the site's day, through the
  // same KpiCalculator (so a restart changes no figure). Events more than 26 hours old are
  // surely of an earlier day in any time zone: skipped without a time-zone lookup.
  const TimePoint surely_earlier = clock_.Now() - std::chrono::hours(26);
  size_t kpi_events = 0;
  for (ports::Sequence after = 0;;) {
    auto page = store_.ReadAfter(after, 4096);
    if (!page.ok()) return page.status();
    if (page->empty()) break;
    for (const ports::JournalEntry& e : *page) {
      max_id = std::max(max_id, e.event.contact.value());
      if (e.event.time >= surely_earlier && DayOf(e.event.time) == stats_day_) {
        ++kpi_events;
        kpi_->Add(e.event);
      }
      // Where each contact still inside a flow was last seen.
      if (e.event.type == EventType::kFlowStepEntered) {
        in_flow[e.event.contact] = ParseFlowEventFields(e.event.text);
      } else if (e.event.type == EventType::kFlowEnded) {
        in_flow.erase(e.event.contact);
        FlowEventFields f = ParseFlowEventFields(e.event.text);
        if (f.outcome == "voicemail") leaving_message[e.event.contact] = std::move(f);
      } else if (e.event.type == EventType::kContactClosed) {
        leaving_message.erase(e.event.contact);
      }
    }
    after = page->back().seq;
  }
  next_contact_ = max_id + 1;

  auto identities = store_.AllIdentities();
  if (!identities.ok()) return identities.status();
  for (auto& [identity, customer] : *identities) {
    // Stored addresses are normalised on the way in; normalising again keeps older rows found.
    ports::CustomerIdentity n = NormaliseIdentity(identity);
    identities_.emplace(IdentityKey{n.channel, std::move(n.address)}, customer);
  }

  in_step_ = true;
  const TimePoint now = clock_.Now();
  for (const ports::AgentRecord& r : rs.agents) {
    auto a = acd_->FindAgent(r.name);
    if (!a || r.presence == Presence::kOffline) continue;
    (void)acd_->SetPresence(*a, r.presence, r.reason);
  }
  // Closes a contact the Acd cannot take back (its queue or agent is gone, or it was in a flow).
  size_t closed_at_start = 0;
  auto close = [&](ContactInfo& info) {
    ++closed_at_start;
    log::Info("engine", "recovery closed a contact that cannot continue",
              {{"contact", info.record.id.value()},
               {"queue", info.record.queue},
               {"agent", info.record.agent}});
    info.record.state = ports::ContactState::kClosed;
    info.record.times.closed = now;
    closed_order_.push_back(info.record.id);
    Event e;
    e.type = EventType::kContactClosed;
    e.time = now;
    e.contact = info.record.id;
    e.channel = info.record.channel;
    e.queue = acd_->FindQueue(info.record.queue).value_or(kNone);
    OnEvent(e);
  };
  auto spec_of = [](const ContactRecord& r) {
    ContactSpec spec;
    spec.channel = r.channel;
    spec.direction = r.direction;
    spec.priority = r.priority;
    spec.attributes = r.attributes;
    if (r.customer.valid()) spec.customer = std::to_string(r.customer.value());
    return spec;
  };
  // Contacts at agents first, so they hold their capacity before waiting contacts are routed;
  // then waiting ones in the store's order, which is their queue order.
  std::vector<const ContactRecord*> held, waiting;
  for (const ContactRecord& r : rs.open_contacts) {
    enqueue_counter_ = std::max(enqueue_counter_, r.queue_order);
    const bool at_agent =
        r.state == ports::ContactState::kHandling || r.state == ports::ContactState::kWrapUp;
    (at_agent ? held : waiting).push_back(&r);
  }
  for (const ContactRecord* r : held) {
    ContactInfo& info = contacts_[r->id];
    info.record = *r;
    if (!r->agent.empty()) info.agents.insert(r->agent);
    step_contacts_.insert(r->id);
    auto q = acd_->FindQueue(r->queue);
    auto a = acd_->FindAgent(r->agent);
    if (!q) {
      close(info);
      continue;
    }
    if (!a) {
      // Nobody to wrap up or keep handling it: a durable contact waits again, voice is over.
      if (Durable(r->channel) && r->state == ports::ContactState::kHandling) {
        waiting.push_back(r);
      } else {
        close(info);
      }
      continue;
    }
    RestoredContact rc;
    rc.id = r->id;
    rc.queue = *q;
    rc.spec = spec_of(*r);
    rc.times = r->times;
    rc.agent = *a;
    rc.stage = r->state == ports::ContactState::kWrapUp ? WorkStage::kWrapUp : WorkStage::kHandling;
    if (!acd_->Restore(std::move(rc)).ok()) {
      close(info);
      continue;
    }
    if (r->state == ports::ContactState::kHandling && !Durable(r->channel)) {
      (void)acd_->EndHandling(r->id);  // the call died with the process: wrap-up (or close)
    }
  }
  // A contact inside a flow (running its steps, or waiting in a queue step) lost its flow
  // session, and its channel leg, with the process: it closes as abandoned in the flow.
  auto abandon_in_flow = [&](ContactInfo& info, std::optional<QueueIndex> q) {
    const ContactRecord& r = info.record;
    auto seen = in_flow.find(r.id);
    FlowEventFields f = seen != in_flow.end() ? seen->second : FlowEventFields{};
    f.outcome = "abandoned";
    Event e;
    e.type = EventType::kFlowEnded;
    e.time = now;
    e.contact = r.id;
    e.channel = r.channel;
    e.value = static_cast<int64_t>(f.version);
    e.text = FormatFlowEventFields(f);
    OnEvent(e);
    if (q && r.state != ports::ContactState::kInFlow) {
      e = Event{};
      e.type = EventType::kContactAbandoned;
      e.time = now;
      e.contact = r.id;
      e.channel = r.channel;
      e.queue = *q;
      OnEvent(e);
    }
    close(info);
  };
  for (const ContactRecord* r : waiting) {
    ContactInfo& info = contacts_[r->id];
    info.record = *r;
    if (!r->agent.empty()) info.agents.insert(r->agent);
    step_contacts_.insert(r->id);
    auto q = acd_->FindQueue(r->queue);
    if (auto m = leaving_message.find(r->id); m != leaving_message.end()) {
      // The caller was leaving a message (its flow had ended) when the process died: the call
      // closes, and the file the channel adapter recovers becomes the message all the same.
      info.cut_short_voicemail = VoicemailStepOf(m->second, r->attributes);
      close(info);
      continue;
    }
    if (r->state == ports::ContactState::kInFlow || in_flow.count(r->id)) {
      abandon_in_flow(info, q);
      continue;
    }
    if (!q) {
      close(info);
      continue;
    }
    if (r->state == ports::ContactState::kOffered || r->state == ports::ContactState::kHandling) {
      // The offer (or the agent) died with the process: journal that it was taken back.
      Event e;
      e.type = EventType::kOfferWithdrawn;
      e.time = now;
      e.contact = r->id;
      e.channel = r->channel;
      e.queue = *q;
      e.agent = acd_->FindAgent(r->agent).value_or(kNone);
      OnEvent(e);
    }
    RestoredContact rc;
    rc.id = r->id;
    rc.queue = *q;
    rc.spec = spec_of(*r);
    rc.times = r->times;
    if (!acd_->Restore(std::move(rc)).ok()) close(info);
  }
  in_step_ = false;
  started_ = true;
  Commit(nullptr);
  log::Info("engine", "started",
            {{"last_seq", last_seq_},
             {"open_contacts", rs.open_contacts.size()},
             {"closed_at_start", closed_at_start},
             {"today_events", kpi_events}});
  return Status::Ok();
}

Status Engine::Reconfigure(std::shared_ptr<const config::Config> config) {
  return Reconfigure(std::move(config), nullptr);
}

Status Engine::Reconfigure(std::shared_ptr<const config::Config> config,
                           std::function<void(Status)> done) {
  if (!config) return InvalidArgument("no configuration");
  auto day = config::SiteDayFunction(config->routing.settings.time_zone);
  if (!day.ok()) return day.status();
  // Flows that do not compile are refused here too, so the caller can say so (compiling is
  // pure; the loop compiles again with the version number it owns).
  if (auto flows = CompileFlowsOf(*config, 0); !flows.ok()) return flows.status();
  Post([this, config = std::move(config), day = std::move(*day), done = std::move(done)]() mutable {
    FlushStray();
    // Flows first: a configuration whose flows do not compile changes nothing.
    auto flows = CompileFlowsOf(*config, options_.config_version + 1);
    if (!flows.ok()) {
      if (done) done(flows.status());
      return;
    }
    in_step_ = true;
    Status s = acd_->Configure(config->routing);
    in_step_ = false;
    if (s.ok()) {
      config_ = std::move(config);
      day_fn_ = std::move(day);
      ++options_.config_version;
      flows_ = std::move(*flows);  // contacts already in a flow keep the version they started in
      RebuildDirectory();
      snapshot_rebuild_ = true;  // names, teams, skills and queues may all have changed
    }
    Commit([done, s](const Status&) {
      if (done) done(s);
    });
  });
  return Status::Ok();
}

void Engine::Shutdown(std::function<void()> done) {
  Post([this, done = std::move(done)]() mutable {
    FlushStray();
    shutting_down_ = true;
    shutdown_done_ = std::move(done);
    MaybeFinishShutdown();
  });
}

void Engine::MaybeFinishShutdown() {
  if (!shutting_down_ || !in_flight_.empty() || !shutdown_done_) return;
  auto done = std::move(shutdown_done_);
  shutdown_done_ = nullptr;
  done();
}

bool Engine::Accepting(const Status** refusal) {
  static const Status kShuttingDown = Unavailable("the contact center is shutting down");
  static const Status kNotStarted = Unavailable("the contact center has not started");
  if (shutting_down_) {
    *refusal = &kShuttingDown;
    return false;
  }
  if (!started_) {
    *refusal = &kNotStarted;
    return false;
  }
  return true;
}

void Engine::Post(std::function<void()> work) {
  std::weak_ptr<int> alive = alive_;
  executor_([alive, work = std::move(work)] {
    if (!alive.expired()) work();
  });
}

// ---------------------------------------------------------------------------------------------
// Steps: events in, journal, then replies and publication

void Engine::OnEvent(const Event& event) {
  Event e = event;
  if (e.type == EventType::kWrapUpEnded && wrap_disposition_ &&
      wrap_disposition_->first == e.contact) {
    e.text = wrap_disposition_->second;
  }
  Track(e);
  NotifyChannel(e);
  const bool accepted = e.type == EventType::kOfferAccepted;
  step_events_.push_back(std::move(e));
  if (accepted) RecordingOnAccept(step_events_.back());
  ScheduleFlush();
}

void Engine::ScheduleFlush() {
  if (in_step_ || flush_posted_) return;
  // Timer-driven routing (offer timeouts, escalation, wrap-up ends) and flows (input timeouts):
  // one step per burst.
  flush_posted_ = true;
  Post([this] {
    flush_posted_ = false;
    FlushStray();
  });
}

void Engine::FlushStray() {
  if (step_events_.empty() && step_contacts_.empty() && step_agents_.empty() &&
      flow_inputs_.empty() && flows_ended_.empty() && step_recordings_.empty() &&
      step_legs_.empty()) {
    return;
  }
  Commit(nullptr);
}

void Engine::Track(const Event& e) {
  if (e.contact.valid()) step_contacts_.insert(e.contact);
  if (e.type == EventType::kPresenceChanged && e.agent != kNone) step_agents_.insert(e.agent);
  ContactInfo* info = nullptr;
  if (e.contact.valid()) {
    auto it = contacts_.find(e.contact);
    if (it != contacts_.end()) info = &it->second;
  }
  if (info && e.agent != kNone && e.agent < acd_->agent_count()) {
    info->agents.insert(acd_->AgentName(e.agent));
  }
  if (e.queue != kNone && e.queue >= counters_.size()) counters_.resize(e.queue + 1);
  switch (e.type) {
    case EventType::kContactQueued:
      if (info) {
        info->record.queue_order = ++enqueue_counter_;
        info->record.times.queued = e.time;
      }
      ++counters_[e.queue].offered;
      break;
    case EventType::kOfferAccepted: {
      QueueCounters& c = counters_[e.queue];
      ++c.answered;
      if (info) {
        const Duration wait = e.time - info->record.times.queued;
        c.wait_sum += wait;
        c.buckets.resize(options_.answer_wait_bounds.size());
        for (size_t i = 0; i < options_.answer_wait_bounds.size(); ++i) {
          if (wait <= options_.answer_wait_bounds[i]) {
            ++c.buckets[i];
            break;
          }
        }
      }
      break;
    }
    case EventType::kContactAbandoned:
      ++counters_[e.queue].abandoned;
      break;
    case EventType::kContactClosed:
      if (info) info->closed_journaled = true;
      break;
    case EventType::kHoldStarted:
    case EventType::kHoldEnded:
      if (info) info->on_hold = e.type == EventType::kHoldStarted;
      break;
    case EventType::kHandlingEnded:
      if (info) info->muted = false;
      break;
    default:
      break;
  }
  const int64_t day = DayOf(e.time);
  if (day != stats_day_ && kpi_) ResetStats(day);
  if (kpi_) kpi_->Add(e);
}

void Engine::RefreshContact(ContactId id) {
  auto it = contacts_.find(id);
  if (it == contacts_.end()) return;
  ContactRecord& r = it->second.record;
  auto v = acd_->GetContact(id);
  if (v) {
    r.state = FromAcd(v->state);
    r.queue = acd_->QueueName(v->queue);
    r.priority = v->priority;
    r.times = v->times;
    if (it->second.outbound_answered != TimePoint{}) {
      r.times.answered = it->second.outbound_answered;
    }
    if (v->state == parley::ContactState::kOffered && !v->offered_to.empty()) {
      r.agent = acd_->AgentName(v->offered_to.front());
    } else if (v->agent != kNone) {
      r.agent = acd_->AgentName(v->agent);
    } else {
      r.agent.clear();
    }
    return;
  }
  if (r.state == ports::ContactState::kClosed) return;
  if (!it->second.transfer_number.empty()) {
    // Transferred to a number: out of routing, the call still up (transfer.cc).
    r.state = ports::ContactState::kHandling;
    r.agent.clear();
    return;
  }
  if (it->second.flow_pending || it->second.voicemail ||
      (!it->second.flow_done && runner_->Find(id))) {
    // In its flow (or leaving a message), not (or no longer) queued.
    r.state = ports::ContactState::kInFlow;
    r.queue.clear();
    r.agent.clear();
    return;
  }
  // Gone from routing: closed (or cancelled, abandoned); the record stays as history.
  if (r.state != ports::ContactState::kWrapUp && r.state != ports::ContactState::kHandling) {
    r.agent.clear();
  }
  r.state = ports::ContactState::kClosed;
  if (r.times.closed == TimePoint{}) r.times.closed = clock_.Now();
  closed_order_.push_back(id);
}

void Engine::Commit(std::function<void(const Status&)> finish) {
  ServeConsultWaits();  // agents this step freed ring for consultations waiting for them
  SettleFlows();
  ports::JournalBatch batch;
  for (ContactId id : step_contacts_) RefreshContact(id);
  for (ContactId id : step_contacts_) {
    auto it = contacts_.find(id);
    if (it != contacts_.end()) batch.contacts.push_back(it->second.record);
  }
  std::shared_ptr<const LiveSnapshot> snapshot = StageSnapshot();
  for (AgentIndex a : step_agents_) {
    const parley::AgentView v = acd_->GetAgent(a);
    batch.agents.push_back(ports::AgentRecord{v.name, v.presence, v.reason, v.presence_since});
  }
  batch.events = step_events_;
  batch.recordings = std::move(step_recordings_);
  batch.legs = std::move(step_legs_);
  step_recordings_.clear();
  step_legs_.clear();
  batch.config_version = options_.config_version;
  const uint64_t step = next_step_++;
  InFlight f;
  f.events = std::move(step_events_);
  f.finish = std::move(finish);
  f.snapshot = std::move(snapshot);
  in_flight_.emplace_back(step, std::move(f));
  step_events_.clear();
  step_contacts_.clear();
  step_agents_.clear();
  // Closed contacts stay answerable for a while, then only the store has them.
  while (closed_order_.size() > options_.closed_contacts_kept) {
    auto it = contacts_.find(closed_order_.front());
    if (it != contacts_.end() && it->second.record.state == ports::ContactState::kClosed) {
      contacts_.erase(it);
    }
    closed_order_.pop_front();
  }
  std::weak_ptr<int> alive = alive_;
  Executor exec = executor_;  // the store's thread may call back after the Engine is gone
  store_.AppendAsync(std::move(batch),
                     [this, alive, step, exec](Result<ports::SequenceRange> result) {
                       exec([this, alive, step, result = std::move(result)]() mutable {
                         if (!alive.expired()) OnAppended(step, std::move(result));
                       });
                     });
}

void Engine::OnAppended(uint64_t step, Result<ports::SequenceRange> result) {
  for (auto& [id, f] : in_flight_) {
    if (id != step) continue;
    f.done = true;
    f.result = std::move(result);
    break;
  }
  // Completions normally arrive in order; if not, the earlier steps still go first.
  while (!in_flight_.empty() && in_flight_.front().second.done) {
    InFlight f = std::move(in_flight_.front().second);
    in_flight_.pop_front();
    // Before the replies and events: whoever learns of the step reads it (read-your-writes).
    // Also when the journal failed: the step's changes stay in memory, as the port shows them.
    if (f.snapshot) live_->Publish(std::move(f.snapshot));
    if (f.result.ok()) {
      Publish(f.events, f.result->first);
      if (f.finish) f.finish(Status::Ok());
    } else {
      log::Error("engine", "journal write failed: " + f.result.status().message(),
                 {{"events", f.events.size()}});
      if (f.finish) f.finish(Unavailable("journal: " + f.result.status().message()));
    }
  }
  MaybeFinishShutdown();
}

void Engine::Publish(const std::vector<Event>& events, ports::Sequence first) {
  std::vector<Published> out;
  out.reserve(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    out.push_back(ToPublished(events[i], first + i));
    last_seq_ = std::max(last_seq_, out.back().p.seq);
  }
  std::erase_if(subscribers_, [](const std::shared_ptr<Subscriber>& s) { return !s->Active(); });
  for (const auto& s : subscribers_) {
    std::vector<ports::PublishedEvent> visible;
    for (Published& e : out) {
      if (s->Wants(e.p.type) && MaySeeEvent(s->who, e.p)) visible.push_back(e.Rendered());
    }
    s->Deliver(visible);
  }
  for (Published& e : out) {
    ring_.push_back(std::move(e));
    while (ring_.size() > options_.ring_size) ring_.pop_front();
  }
}

const ports::PublishedEvent& Engine::Published::Rendered() {
  if (p.json.empty()) {
    p.json =
        RenderEventJson(event, p.seq, EventNames{p.agent, p.team, p.queue, to_queue, customer});
  }
  return p;
}

Engine::Published Engine::ToPublished(const Event& e, ports::Sequence seq) const {
  Published out;
  ports::PublishedEvent& p = out.p;
  p.seq = seq;
  p.type = std::string(EventTypeName(e.type));
  p.contact = e.contact;
  if (e.agent != kNone && e.agent < acd_->agent_count()) p.agent = acd_->AgentName(e.agent);
  p.team = TeamOf(p.agent);
  if (e.queue != kNone && e.queue < acd_->queue_count()) p.queue = acd_->QueueName(e.queue);
  if (e.type == EventType::kContactQueued) {
    auto c = contacts_.find(e.contact);
    if (c != contacts_.end() && c->second.record.customer.valid()) {
      out.customer = std::to_string(c->second.record.customer.value());
    }
  }
  if (e.type == EventType::kContactOverflowed && e.value >= 0 &&
      static_cast<size_t>(e.value) < acd_->queue_count()) {
    out.to_queue = acd_->QueueName(static_cast<QueueIndex>(e.value));
  }
  out.event = e;
  return out;
}

template <class T>
void Engine::ReplyAfterCommit(Reply<T> reply, Result<T> value) {
  Commit([reply = std::move(reply), value = std::move(value)](const Status& journal) {
    if (!journal.ok()) {
      reply(journal);
    } else {
      reply(value);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Scope

const AgentDef* Engine::AgentDefByName(const std::string& name) const {
  auto i = config_->routing.FindAgent(name);
  return i ? &config_->routing.agents[*i] : nullptr;
}

std::string Engine::TeamOf(const std::string& agent) const {
  if (agent.empty()) return {};
  const AgentDef* def = AgentDefByName(agent);
  if (!def || def->team == kNone || def->team >= config_->routing.teams.size()) return {};
  return config_->routing.teams[def->team].name;
}

bool Engine::MaySeeAgent(const Caller& who, const std::string& agent) const {
  return MayReachAgent(who, agent,
                       who.reach == Caller::Reach::kTeam ? TeamOf(agent) : std::string());
}

bool Engine::MaySeeContact(const Caller& who, const ContactInfo& c) const {
  if (who.reach == Caller::Reach::kAll) return true;
  for (const std::string& a : c.agents) {
    if (MaySeeAgent(who, a)) return true;
  }
  return false;
}

bool Engine::MayReadContact(const Caller& who, const ContactInfo& c) const {
  return MaySeeContact(who, c) || (!c.consult_target.empty() && MaySeeAgent(who, c.consult_target));
}

bool Engine::MaySeeEvent(const Caller& who, const ports::PublishedEvent& p) const {
  if (who.reach == Caller::Reach::kAll) return true;
  if (!p.agent.empty() && MaySeeAgent(who, p.agent)) return true;
  if (p.contact.valid()) {
    auto it = contacts_.find(p.contact);
    if (it != contacts_.end()) return MayReadContact(who, it->second);
  }
  return false;
}

Result<Engine::ContactInfo*> Engine::FindVisibleContact(const Caller& who, ContactId id) {
  auto it = contacts_.find(id);
  if (it == contacts_.end() || !MaySeeContact(who, it->second)) {
    return NotFound("no contact " + std::to_string(id.value()));
  }
  return &it->second;
}

// ---------------------------------------------------------------------------------------------
// Views

std::vector<AgentIndex> Engine::QueueMembers(const std::string& queue) const {
  std::vector<AgentIndex> out;
  const RoutingConfig& rc = config_->routing;
  auto qi = rc.FindQueue(queue);
  if (!qi) return out;
  auto add = [&](const std::string& name) {
    auto a = acd_->FindAgent(name);
    if (a && std::find(out.begin(), out.end(), *a) == out.end()) out.push_back(*a);
  };
  for (const AgentDef& a : rc.agents) {
    for (const QueueAssignment& qa : a.queues) {
      if (qa.queue == *qi) add(a.name);
    }
  }
  for (AgentIndex m : rc.queues[*qi].members) {
    if (m < rc.agents.size()) add(rc.agents[m].name);
  }
  return out;
}

ports::AgentSnapshot Engine::AgentView(AgentIndex a) const {
  const parley::AgentView v = acd_->GetAgent(a);
  ports::AgentSnapshot s;
  s.id = v.name;
  s.presence = v.presence;
  s.reason = v.reason;
  s.presence_since = v.presence_since;
  s.handled_today = v.handled_today;
  const RoutingConfig& rc = config_->routing;
  if (const AgentDef* def = AgentDefByName(v.name)) {
    s.name = def->full_name;
    s.team = TeamOf(v.name);
    for (const SkillLevel& sk : def->skills) {
      if (sk.skill < rc.skills.size()) s.skills.emplace_back(rc.skills[sk.skill], sk.proficiency);
    }
    for (int c = 0; c < kChannelCount; ++c) {
      if (def->capacity[c] > 0) s.capacity.emplace_back(static_cast<Channel>(c), def->capacity[c]);
    }
    // The queues QueueMembers would list the agent in (its own list, or a queue's `members`),
    // in configuration order, found in one pass instead of listing every queue's members.
    std::vector<bool> serves(rc.queues.size(), false);
    for (const QueueAssignment& qa : def->queues) {
      if (qa.queue < serves.size()) serves[qa.queue] = true;
    }
    const auto self = static_cast<AgentIndex>(def - rc.agents.data());
    for (size_t q = 0; q < rc.queues.size(); ++q) {
      const auto& members = rc.queues[q].members;
      if (serves[q] || std::find(members.begin(), members.end(), self) != members.end()) {
        s.queues.push_back(rc.queues[q].name);
      }
    }
  }
  for (const WorkItem& w : v.work) {
    ports::HeldContact h;
    h.contact = w.contact;
    h.channel = w.channel;
    h.state = FromStage(w.stage);
    h.queue = w.queue < acd_->queue_count() ? acd_->QueueName(w.queue) : "";
    h.since = w.since;
    if (w.stage == WorkStage::kOffered) {
      const QueueDef* q = QueueDefByName(*config_, h.queue);
      if (q && q->offer_timeout.count() > 0) h.offer_expires = w.since + q->offer_timeout;
    }
    s.contacts.push_back(std::move(h));
  }
  return s;
}

ports::ContactSnapshot Engine::ContactView(const ContactInfo& c) const {
  ports::ContactSnapshot s;
  s.record = c.record;
  s.disposition = c.disposition;
  s.notes = c.notes;
  s.on_hold = c.on_hold;
  s.muted = c.muted;
  s.monitor_supervisor = c.monitor_user;
  s.monitor_mode = c.monitor_mode;
  s.consult_target = c.consult_target;
  s.transfer_target = c.transfer_target;
  if (c.transfer_target.empty()) s.transferred_to_number = c.transfer_number;
  s.conference = c.conference;
  s.consult_queue = c.consult_queue;
  s.consult_state = c.consult_waiting          ? "waiting"
                    : c.consult_target.empty() ? ""
                    : c.conference             ? "conference"
                    : c.consult_answered       ? "talking"
                                               : "ringing";
  if (auto v = acd_->GetContact(c.record.id); v && v->state == parley::ContactState::kOffered) {
    for (AgentIndex a : v->offered_to) s.offered_to.push_back(acd_->AgentName(a));
  }
  s.recordings = c.recordings;
  s.legs = c.legs;
  s.recording_active = c.recording_active;
  s.recording_masked = c.recording_masked;
  return s;
}

// ---------------------------------------------------------------------------------------------
// Queries

void Engine::ListAgents(const Caller& who, Reply<std::vector<ports::AgentSnapshot>> reply) {
  Post([this, who, reply = std::move(reply)] {
    std::vector<ports::AgentSnapshot> out;
    for (const AgentDef& d : config_->routing.agents) {
      auto a = acd_->FindAgent(d.name);
      if (a && MaySeeAgent(who, d.name)) out.push_back(AgentView(*a));
    }
    reply(std::move(out));
  });
}

void Engine::GetAgent(const Caller& who, std::string agent, Reply<ports::AgentSnapshot> reply) {
  Post([this, who, agent = std::move(agent), reply = std::move(reply)] {
    auto a = acd_->FindAgent(agent);
    if (!a || !MaySeeAgent(who, agent) || !AgentDefByName(agent)) {
      return reply(NotFound("no agent '" + agent + "'"));
    }
    reply(AgentView(*a));
  });
}

void Engine::ListQueues(const Caller&, Reply<std::vector<ports::QueueSnapshot>> reply) {
  Post([this, reply = std::move(reply)] {
    std::vector<ports::QueueSnapshot> out;
    for (const QueueDef& d : config_->routing.queues) {
      if (auto q = acd_->FindQueue(d.name)) out.push_back(QueueView(*q));
    }
    reply(std::move(out));
  });
}

void Engine::GetQueue(const Caller&, std::string queue, Reply<ports::QueueSnapshot> reply) {
  Post([this, queue = std::move(queue), reply = std::move(reply)] {
    auto q = acd_->FindQueue(queue);
    if (!q || !config_->routing.FindQueue(queue)) {
      return reply(NotFound("no queue '" + queue + "'"));
    }
    reply(QueueView(*q));
  });
}

void Engine::GetContact(const Caller& who, ContactId id, Reply<ports::ContactSnapshot> reply) {
  Post([this, who, id, reply = std::move(reply)] {
    auto it = contacts_.find(id);
    if (it == contacts_.end() || !MayReadContact(who, it->second)) {
      return reply(NotFound("no contact " + std::to_string(id.value())));
    }
    reply(ContactView(it->second));
  });
}

void Engine::ListContacts(const Caller& who, ports::ContactFilter filter,
                          Reply<std::vector<ports::ContactSnapshot>> reply) {
  Post([this, who, filter = std::move(filter), reply = std::move(reply)] {
    std::vector<const ContactInfo*> found;
    for (const auto& [id, c] : contacts_) {
      const ports::ContactState st = c.record.state;
      if (filter.state ? st != *filter.state : st == ports::ContactState::kClosed) continue;
      if (!filter.queue.empty() && c.record.queue != filter.queue) continue;
      if (!filter.agent.empty() && c.record.agent != filter.agent) continue;
      if (!MayReadContact(who, c)) continue;
      found.push_back(&c);
    }
    std::sort(found.begin(), found.end(), [](const ContactInfo* a, const ContactInfo* b) {
      return a->record.id < b->record.id;
    });
    if (found.size() > filter.limit) found.resize(filter.limit);
    std::vector<ports::ContactSnapshot> out;
    for (const ContactInfo* c : found) out.push_back(ContactView(*c));
    reply(std::move(out));
  });
}

void Engine::ExplainContact(const Caller& who, ContactId id, Reply<std::string> reply) {
  Post([this, who, id, reply = std::move(reply)] {
    auto c = FindVisibleContact(who, id);
    if (!c.ok()) return reply(c.status());
    Result<Explanation> e = acd_->Explain(id);
    if (!e.ok()) return reply(e.status());
    reply(FormatExplanation(*e));
  });
}

void Engine::GetMetrics(Reply<ports::MetricsSnapshot> reply) {
  Post([this, reply = std::move(reply)] {
    ports::MetricsSnapshot m;
    m.last_seq = last_seq_;
    for (const QueueDef& d : config_->routing.queues) {
      auto q = acd_->FindQueue(d.name);
      if (!q) continue;
      const ports::QueueSnapshot now = QueueView(*q);
      ports::MetricsSnapshot::Queue mq;
      mq.name = d.name;
      mq.waiting = now.waiting;
      mq.longest_wait = now.longest_wait;
      if (*q < counters_.size()) {
        const QueueCounters& c = counters_[*q];
        mq.offered_total = c.offered;
        mq.answered_total = c.answered;
        mq.abandoned_total = c.abandoned;
        mq.answer_wait_sum = c.wait_sum;
      }
      uint64_t cumulative = 0;
      for (size_t i = 0; i < options_.answer_wait_bounds.size(); ++i) {
        if (*q < counters_.size() && i < counters_[*q].buckets.size()) {
          cumulative += counters_[*q].buckets[i];
        }
        mq.answer_wait_buckets.emplace_back(options_.answer_wait_bounds[i], cumulative);
      }
      m.queues.push_back(std::move(mq));
    }
    std::array<uint32_t, 3> by{};
    for (size_t a = 0; a < acd_->agent_count(); ++a) {
      const parley::AgentView v = acd_->GetAgent(static_cast<AgentIndex>(a));
      if (!v.removed) ++by[static_cast<size_t>(v.presence)];
    }
    for (Presence p : {Presence::kOffline, Presence::kAvailable, Presence::kNotReady}) {
      m.agents_by_presence.emplace_back(p, by[static_cast<size_t>(p)]);
    }
    reply(std::move(m));
  });
}

std::unique_ptr<ports::Subscription> Engine::Subscribe(const Caller& who, ports::Sequence after,
                                                       ports::EventSink sink) {
  return Subscribe(who, after, nullptr, std::move(sink));
}

std::unique_ptr<ports::Subscription> Engine::Subscribe(
    const Caller& who, ports::Sequence after, std::function<bool(std::string_view type)> wants,
    ports::EventSink sink) {
  auto s = std::make_shared<Subscriber>();
  s->who = who;
  s->wants = std::move(wants);
  s->sink = std::move(sink);
  Post([this, s, after] { Resume(s, after); });
  return std::make_unique<SubscriptionImpl>(std::move(s));
}

void Engine::Resume(const std::shared_ptr<Subscriber>& s, ports::Sequence after) {
  if (!s->Active()) return;
  const auto reset = [&](std::string why) {
    ports::PublishedEvent r;
    r.seq = last_seq_;
    r.type = "reset";
    r.json = RenderResetJson(after, last_seq_, why);
    s->Deliver({r});
    subscribers_.push_back(s);  // live from here on: the client re-reads the state
  };
  if (after > last_seq_) {
    return reset("the event stream ends at " + std::to_string(last_seq_) + ", before " +
                 std::to_string(after));
  }
  if (after > 0 && last_seq_ - after > options_.max_resume_events) {
    return reset("more than " + std::to_string(options_.max_resume_events) + " events were missed");
  }
  const ports::Sequence first_kept = ring_.empty() ? last_seq_ + 1 : ring_.front().p.seq;
  if (after > 0 && after + 1 < first_kept) {
    // Older than the ring: the journal has them. It is read off the loop (report_worker), and
    // the subscriber joins only when caught up, so nothing live slips in between.
    const ports::Sequence until = first_kept - 1;
    ports::Store* store = &store_;
    OffLoopOn<std::vector<ports::JournalEntry>>(
        options_.report_worker,
        [store, after, until,
         limit = options_.max_resume_events]() -> Result<std::vector<ports::JournalEntry>> {
          return ReadJournalRange(*store, after, until, limit);
        },
        [this, s, after, until](Result<std::vector<ports::JournalEntry>> read) {
          if (!s->Active()) return;
          if (!read.ok()) {
            ports::PublishedEvent r;
            r.seq = last_seq_;
            r.type = "reset";
            r.json = RenderResetJson(after, last_seq_, read.status().message());
            s->Deliver({r});
            subscribers_.push_back(s);
            return;
          }
          std::vector<ports::PublishedEvent> replay;
          for (const ports::JournalEntry& entry : *read) {
            Published e = ToPublished(entry.event, entry.seq);
            if (s->Wants(e.p.type) && MaySeeEvent(s->who, e.p)) replay.push_back(e.Rendered());
          }
          s->Deliver(replay);
          Resume(s, until);  // the ring's part (it may have moved on meanwhile: read again)
        });
    return;
  }
  std::vector<ports::PublishedEvent> replay;
  if (after > 0) {
    for (Published& e : ring_) {
      if (e.p.seq > after && s->Wants(e.p.type) && MaySeeEvent(s->who, e.p)) {
        replay.push_back(e.Rendered());
      }
    }
  }
  s->Deliver(replay);
  subscribers_.push_back(s);
}

// ---------------------------------------------------------------------------------------------
// Commands

void Engine::SetPresence(const Caller& who, std::string agent, Presence presence,
                         std::string reason, Reply<ports::AgentSnapshot> reply) {
  Post([this, who, agent = std::move(agent), presence, reason = std::move(reason),
        reply = std::move(reply)]() mutable {
    if (const Status * refusal; !Accepting(&refusal)) return reply(*refusal);
    auto a = acd_->FindAgent(agent);
    if (!a || !MaySeeAgent(who, agent) || !AgentDefByName(agent)) {
      return reply(NotFound("no agent '" + agent + "'"));
    }
    if (presence == Presence::kNotReady) {
      // Parley's own reasons (an adapter's, like the ACD's "missed") need not be configured.
      const bool own = reason == kMissedReason || reason == kNoPhoneReason;
      if (std::string e = own ? "" : CheckCode(config_->reason_codes, reason, "reason code");
          !e.empty()) {
        return reply(InvalidArgument(std::move(e)));
      }
    } else {
      reason.clear();
    }
    FlushStray();
    in_step_ = true;
    Status s = acd_->SetPresence(*a, presence, reason);
    in_step_ = false;
    if (!s.ok() && step_events_.empty()) return reply(s);
    if (!s.ok()) return ReplyAfterCommit<ports::AgentSnapshot>(std::move(reply), s);
    ReplyAfterCommit<ports::AgentSnapshot>(std::move(reply), AgentView(*a));
  });
}

void Engine::CreateContact(const Caller& who, ports::NewContact nc,
                           Reply<ports::ContactSnapshot> reply) {
  Post([this, who, nc = std::move(nc), reply = std::move(reply)]() mutable {
    CreateContactOnLoop(who, std::move(nc), std::move(reply));
  });
}

void Engine::ResolveCustomer(const ports::CustomerIdentity& identity, CustomerDone done) {
  IdentityKey key{identity.channel, identity.address};
  auto [waiting, first] = pending_customers_.try_emplace(key);
  waiting->second.push_back(std::move(done));
  if (!first) return;
  ports::Customer customer;
  customer.name = identity.address;  // until someone gives the customer a name
  customer.identities = {identity};
  customer.created = customer.updated = clock_.Now();
  std::weak_ptr<int> alive = alive_;
  Executor exec = executor_;
  ports::Store* store = &store_;
  auto work = [this, alive, exec, store, key, customer = std::move(customer)]() mutable {
    // Found first: the identity may have been given to a customer since the index was loaded
    // (through the API), and (channel, address) belongs to one customer only.
    Result<ports::CustomerId> id = Status(StatusCode::kInternal, "unset");
    auto found = store->FindCustomerByIdentity(customer.identities.front());
    if (found.ok()) {
      id = found->id;
    } else if (found.status().code() == StatusCode::kNotFound) {
      id = store->CreateCustomer(customer);
    } else {
      id = found.status();
    }
    exec([this, alive, key = std::move(key), id = std::move(id)]() mutable {
      if (alive.expired()) return;
      if (id.ok()) identities_[key] = *id;
      auto node = pending_customers_.extract(key);
      if (node.empty()) return;
      for (CustomerDone& d : node.mapped()) d(id);
    });
  };
  if (options_.customer_worker) {
    options_.customer_worker(std::move(work));
  } else {
    executor_(std::move(work));
  }
}

void Engine::CreateContactOnLoop(const Caller& who, ports::NewContact nc,
                                 Reply<ports::ContactSnapshot> reply) {
  {
    if (const Status * refusal; !Accepting(&refusal)) return reply(*refusal);
    if (!nc.entry.empty()) {
      if (!nc.queue.empty()) return reply(InvalidArgument("give a queue or an entry, not both"));
      ports::ArrivingContact ac;
      ac.channel = nc.channel;
      ac.direction = nc.direction;
      ac.entry = std::move(nc.entry);
      ac.attributes = std::move(nc.attributes);
      ac.from = std::move(nc.from);
      return ContactArrivedOnLoop(std::move(ac), std::move(reply));
    }
    auto q = acd_->FindQueue(nc.queue);
    if (nc.queue.empty() || !q || !config_->routing.FindQueue(nc.queue)) {
      return reply(NotFound("no queue '" + nc.queue + "'"));
    }
    ContactSpec spec;
    spec.channel = nc.channel;
    spec.direction = nc.direction;
    spec.priority = nc.priority;
    spec.attributes = nc.attributes;
    for (const auto& [name, level] : nc.skills) {
      auto sk = config_->routing.FindSkill(name);
      if (!sk) return reply(InvalidArgument("no skill '" + name + "'"));
      if (level < 1 || level > 5) {
        return reply(InvalidArgument("skill '" + name + "': proficiency must be 1-5"));
      }
      spec.skills.push_back(SkillRequirement{*sk, static_cast<uint8_t>(level)});
    }
    ports::CustomerId customer;
    if (nc.from) {
      ports::CustomerIdentity from = NormaliseIdentity(*nc.from);
      if (from.address.empty()) {
        return reply(
            InvalidArgument("from: an empty or unusable address '" + nc.from->address + "'"));
      }
      const auto known = IndexedCustomerOr(from, reply, [&] {
        return [this, who, nc = std::move(nc)](ports::Reply<ports::ContactSnapshot> r) mutable {
          CreateContactOnLoop(who, std::move(nc), std::move(r));
        };
      });
      if (!known) return;
      customer = *known;
      spec.customer = std::to_string(customer.value());
    }
    FlushStray();
    const ContactId id(next_contact_++);
    ContactInfo& info = contacts_[id];
    info.record.id = id;
    info.record.channel = nc.channel;
    info.record.direction = nc.direction;
    info.record.state = ports::ContactState::kQueued;
    info.record.queue = nc.queue;
    info.record.priority = nc.priority;
    info.record.attributes = std::move(nc.attributes);
    info.record.customer = customer;
    info.record.times.arrived = clock_.Now();
    in_step_ = true;
    Status s = acd_->Enqueue(id, *q, std::move(spec));
    in_step_ = false;
    if (!s.ok()) {
      contacts_.erase(id);
      step_contacts_.erase(id);
      if (step_events_.empty() && step_contacts_.empty()) return reply(s);
      return ReplyAfterCommit<ports::ContactSnapshot>(std::move(reply), s);
    }
    RefreshContact(id);
    ReplyAfterCommit<ports::ContactSnapshot>(std::move(reply), ContactView(contacts_.at(id)));
  }
}

// ---------------------------------------------------------------------------------------------
// Customers: store calls on the customer worker, index and replies on the loop

template <class T>
void Engine::OffLoop(std::function<Result<T>()> work, std::function<void(Result<T>)> done) {
  OffLoopOn<T>(options_.customer_worker, std::move(work), std::move(done));
}

template <class T>
void Engine::OffLoopOn(const Executor& worker, std::function<Result<T>()> work,
                       std::function<void(Result<T>)> done) {
  std::weak_ptr<int> alive = alive_;
  Executor exec = executor_;
  auto job = [alive, exec, work = std::move(work), done = std::move(done)]() mutable {
    Result<T> r = work();
    exec([alive, done = std::move(done), r = std::move(r)]() mutable {
      if (!alive.expired()) done(std::move(r));
    });
  };
  if (worker) {
    worker(std::move(job));
  } else if (options_.customer_worker) {
    options_.customer_worker(std::move(job));
  } else {
    executor_(std::move(job));
  }
}

template void Engine::OffLoopOn<std::vector<ports::JournalEntry>>(
    const Executor&, std::function<Result<std::vector<ports::JournalEntry>>()>,
    std::function<void(Result<std::vector<ports::JournalEntry>>)>);

// Reports (reports.cc) run their journal reads through this.
template void Engine::OffLoopOn<ports::Report>(const Executor&,
                                               std::function<Result<ports::Report>()>,
                                               std::function<void(Result<ports::Report>)>);

bool Engine::MayReachCustomer(const Caller& who, ports::CustomerId id) const {
  if (who.reach == Caller::Reach::kAll) return true;
  for (const auto& [cid, info] : contacts_) {
    if (info.record.customer == id && MayReadContact(who, info)) return true;
  }
  return false;
}

void Engine::IndexCustomer(ports::CustomerId id,
                           const std::vector<ports::CustomerIdentity>& identities) {
  std::erase_if(identities_, [id](const auto& entry) { return entry.second == id; });
  for (const auto& identity : identities) {
    identities_[IdentityKey{identity.channel, identity.address}] = id;
  }
}

namespace {
Status CustomerNotFound(ports::CustomerId id) {
  return NotFound("no customer " + std::to_string(id.value()));
}
std::vector<ports::CustomerIdentity> Normalised(std::vector<ports::CustomerIdentity> identities) {
  for (auto& identity : identities) identity = NormaliseIdentity(std::move(identity));
  return identities;
}
}  // namespace

void Engine::SearchCustomers(const Caller& who, std::string prefix, size_t limit,
                             Reply<std::vector<ports::Customer>> reply) {
  Post([this, who, prefix = std::move(prefix), limit, reply = std::move(reply)]() mutable {
    ports::Store* store = &store_;
    // Narrower callers get the matches they may reach, so ask the store for more.
    const size_t ask = who.reach == Caller::Reach::kAll ? limit : std::max<size_t>(limit, 1000);
    OffLoop<std::vector<ports::Customer>>(
        [store, prefix, ask] { return store->SearchCustomers(prefix, ask); },
        [this, who, limit, reply = std::move(reply)](Result<std::vector<ports::Customer>> r) {
          if (r.ok()) {
            std::erase_if(*r,
                          [&](const ports::Customer& c) { return !MayReachCustomer(who, c.id); });
            if (r->size() > limit) r->resize(limit);
          }
          reply(std::move(r));
        });
  });
}

void Engine::GetCustomer(const Caller& who, ports::CustomerId id,
                         Reply<ports::CustomerView> reply) {
  Post([this, who, id, reply = std::move(reply)]() mutable {
    if (!MayReachCustomer(who, id)) return reply(CustomerNotFound(id));
    ports::Store* store = &store_;
    OffLoop<ports::CustomerView>(
        [store, id]() -> Result<ports::CustomerView> {
          auto c = store->GetCustomer(id);
          if (!c.ok()) return c.status();
          auto notes = store->Notes(id);
          if (!notes.ok()) return notes.status();
          return ports::CustomerView{std::move(*c), std::move(*notes)};
        },
        std::move(reply));
  });
}

void Engine::CreateCustomer(const Caller& who, ports::Customer customer,
                            Reply<ports::CustomerView> reply) {
  Post([this, who, customer = std::move(customer), reply = std::move(reply)]() mutable {
    customer.identities = Normalised(std::move(customer.identities));
    for (const auto& identity : customer.identities) {
      if (identity.address.empty()) return reply(InvalidArgument("identity: an empty address"));
    }
    customer.created = customer.updated = clock_.Now();
    ports::Store* store = &store_;
    OffLoop<ports::CustomerView>(
        [store, customer]() -> Result<ports::CustomerView> {
          auto id = store->CreateCustomer(customer);
          if (!id.ok()) return id.status();
          auto c = store->GetCustomer(*id);
          if (!c.ok()) return c.status();
          return ports::CustomerView{std::move(*c), {}};
        },
        [this, reply = std::move(reply)](Result<ports::CustomerView> r) {
          if (r.ok()) IndexCustomer(r->customer.id, r->customer.identities);
          reply(std::move(r));
        });
  });
}

void Engine::UpdateCustomer(const Caller& who, ports::Customer customer,
                            Reply<ports::CustomerView> reply) {
  Post([this, who, customer = std::move(customer), reply = std::move(reply)]() mutable {
    if (!MayReachCustomer(who, customer.id)) return reply(CustomerNotFound(customer.id));
    customer.identities = Normalised(std::move(customer.identities));
    for (const auto& identity : customer.identities) {
      if (identity.address.empty()) return reply(InvalidArgument("identity: an empty address"));
    }
    customer.updated = clock_.Now();
    ports::Store* store = &store_;
    OffLoop<ports::CustomerView>(
        [store, customer]() -> Result<ports::CustomerView> {
          if (Status s = store->UpdateCustomer(customer); !s.ok()) return s;
          auto c = store->GetCustomer(customer.id);
          if (!c.ok()) return c.status();
          auto notes = store->Notes(customer.id);
          if (!notes.ok()) return notes.status();
          return ports::CustomerView{std::move(*c), std::move(*notes)};
        },
        [this, reply = std::move(reply)](Result<ports::CustomerView> r) {
          if (r.ok()) IndexCustomer(r->customer.id, r->customer.identities);
          reply(std::move(r));
        });
  });
}

void Engine::AddCustomerNote(const Caller& who, ports::CustomerId id, std::string text,
                             Reply<ports::CustomerNote> reply) {
  Post([this, who, id, text = std::move(text), reply = std::move(reply)]() mutable {
    if (!MayReachCustomer(who, id)) return reply(CustomerNotFound(id));
    if (text.empty()) return reply(InvalidArgument("text: a note needs text"));
    ports::CustomerNote note{0, id, clock_.Now(), who.user, std::move(text)};
    ports::Store* store = &store_;
    OffLoop<ports::CustomerNote>(
        [store, note]() mutable -> Result<ports::CustomerNote> {
          auto n = store->AddNote(note);
          if (!n.ok()) return n.status();
          note.id = *n;
          return note;
        },
        std::move(reply));
  });
}

void Engine::CustomerTimeline(const Caller& who, ports::CustomerId id, size_t limit,
                              Reply<std::vector<ContactRecord>> reply) {
  Post([this, who, id, limit, reply = std::move(reply)]() mutable {
    if (!MayReachCustomer(who, id)) return reply(CustomerNotFound(id));
    ports::Store* store = &store_;
    OffLoop<std::vector<ContactRecord>>(
        [store, id, limit]() -> Result<std::vector<ContactRecord>> {
          // An unknown customer is kNotFound, not an empty timeline.
          if (auto c = store->GetCustomer(id); !c.ok()) return c.status();
          return store->Timeline(id, limit);
        },
        std::move(reply));
  });
}

void Engine::ExportCustomer(const Caller& who, ports::CustomerId id,
                            Reply<ports::CustomerExport> reply) {
  Post([this, who, id, reply = std::move(reply)]() mutable {
    if (who.reach != Caller::Reach::kAll) return reply(CustomerNotFound(id));
    ports::Store* store = &store_;
    OffLoop<ports::CustomerExport>([store, id] { return store->ExportCustomer(id); },
                                   std::move(reply));
  });
}

void Engine::EraseCustomer(const Caller& who, ports::CustomerId id,
                           Reply<ports::CustomerId> reply) {
  Post([this, who, id, reply = std::move(reply)]() mutable {
    if (who.reach != Caller::Reach::kAll) return reply(CustomerNotFound(id));
    // Unlinked in memory first, so no later batch names the customer being erased.
    for (auto& [cid, info] : contacts_) {
      if (info.record.customer != id) continue;
      info.record.customer = ports::CustomerId();
      info.record.attributes.clear();
      info.caller.clear();
    }
    std::erase_if(identities_, [id](const auto& entry) { return entry.second == id; });
    ports::Store* store = &store_;
    OffLoop<ports::CustomerId>(
        [store, id]() -> Result<ports::CustomerId> {
          if (Status s = store->EraseCustomer(id); !s.ok()) return s;
          return id;
        },
        std::move(reply));
  });
}

void Engine::ContactStep(const Caller& who, ContactId id, std::function<Status(ContactInfo&)> apply,
                         Reply<ports::ContactSnapshot> reply) {
  Post([this, who, id, apply = std::move(apply), reply = std::move(reply)]() mutable {
    if (const Status * refusal; !Accepting(&refusal)) return reply(*refusal);
    auto c = FindVisibleContact(who, id);
    if (!c.ok()) return reply(c.status());
    FlushStray();
    in_step_ = true;
    Status s = apply(**c);
    in_step_ = false;
    wrap_disposition_.reset();
    if (!s.ok()) {
      if (step_events_.empty() && step_contacts_.empty()) return reply(s);
      return ReplyAfterCommit<ports::ContactSnapshot>(std::move(reply), s);
    }
    step_contacts_.insert(id);
    SettleFlows();  // so the reply shows what the flow did with it
    RefreshContact(id);
    auto it = contacts_.find(id);
    ReplyAfterCommit<ports::ContactSnapshot>(std::move(reply), ContactView(it->second));
  });
}

void Engine::AcceptOffer(const Caller& who, ContactId id, std::string agent,
                         Reply<ports::ContactSnapshot> reply) {
  ContactStep(
      who, id,
      [this, who, id, agent = std::move(agent)](ContactInfo&) -> Status {
        auto a = acd_->FindAgent(agent);
        if (!a || !MaySeeAgent(who, agent)) return NotFound("no agent '" + agent + "'");
        return acd_->Accept(id, *a);
      },
      std::move(reply));
}

void Engine::RejectOffer(const Caller& who, ContactId id, std::string agent,
                         Reply<ports::ContactSnapshot> reply) {
  ContactStep(
      who, id,
      [this, who, id, agent = std::move(agent)](ContactInfo&) -> Status {
        auto a = acd_->FindAgent(agent);
        if (!a || !MaySeeAgent(who, agent)) return NotFound("no agent '" + agent + "'");
        return acd_->Reject(id, *a);
      },
      std::move(reply));
}

void Engine::EndHandling(const Caller& who, ContactId id, Reply<ports::ContactSnapshot> reply) {
  ContactStep(
      who, id,
      [this, id](ContactInfo& c) {
        if (!c.transfer_target.empty()) {
          return Conflict("contact " + std::to_string(id.value()) + " is being transferred to " +
                          c.transfer_target);
        }
        Status s = acd_->EndHandling(id);
        if (s.ok()) LegEnded(c);  // the agent's side ended it: the customer's leg goes too
        return s;
      },
      std::move(reply));
}

void Engine::CompleteWrapUp(const Caller& who, ContactId id, ports::WrapUp wrap_up,
                            Reply<ports::ContactSnapshot> reply) {
  ContactStep(
      who, id,
      [this, id, wrap_up = std::move(wrap_up)](ContactInfo& c) -> Status {
        if (std::string e =
                CheckCode(config_->disposition_codes, wrap_up.disposition, "disposition code");
            !e.empty()) {
          return InvalidArgument(std::move(e));
        }
        if (c.record.state == ports::ContactState::kClosed) {
          // The queue's wrap-up time ran out (or it had none): the disposition can still be given
          // once, by the agent who handled it.
          if (!c.disposition.empty())
            return Conflict("contact " + std::to_string(id.value()) + " already has a disposition");
          c.disposition = wrap_up.disposition;
          c.notes = wrap_up.notes;
          return Status::Ok();
        }
        if (c.record.state != ports::ContactState::kWrapUp) {
          return Conflict("contact " + std::to_string(id.value()) + " is not in wrap-up");
        }
        auto a = acd_->FindAgent(c.record.agent);
        if (!a) return Conflict("contact " + std::to_string(id.value()) + " has no agent");
        wrap_disposition_.emplace(id, wrap_up.disposition);
        Status s = acd_->EndWrapUp(id, *a);
        if (s.ok()) {
          c.disposition = wrap_up.disposition;
          c.notes = wrap_up.notes;
        }
        return s;
      },
      std::move(reply));
}

void Engine::CancelContact(const Caller& who, ContactId id, Reply<ports::ContactSnapshot> reply) {
  ContactStep(
      who, id,
      [this, id](ContactInfo& c) -> Status {
        const bool in_flow = c.flow_pending || (!c.flow_done && runner_->Find(id));
        if (!in_flow || acd_->GetContact(id)) {
          if (Status s = acd_->Remove(id); !s.ok()) return s;
        }
        if (in_flow) EndFlow(id, "cancelled");
        LegEnded(c);
        return Status::Ok();
      },
      std::move(reply));
}

// ---------------------------------------------------------------------------------------------
// Channels and flows

namespace {
template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

EventType FlowEventType(flow::FlowEventKind k) {
  switch (k) {
    case flow::FlowEventKind::kStepEntered:
      return EventType::kFlowStepEntered;
    case flow::FlowEventKind::kStepExited:
      return EventType::kFlowStepExited;
    case flow::FlowEventKind::kFlowEnded:
      return EventType::kFlowEnded;
    case flow::FlowEventKind::kSurveyAnswer:
      break;
  }
  return EventType::kSurveyAnswered;
}

// Whether `a` waits ahead of `b` in one queue: priority, then time queued, then call order.
bool Ahead(const ContactRecord& a, const ContactRecord& b) {
  if (a.priority != b.priority) return a.priority > b.priority;
  if (a.times.queued != b.times.queued) return a.times.queued < b.times.queued;
  return a.queue_order < b.queue_order;
}

// At most this many engine-made flow inputs run in one step; more (a flow playing prompts in a
// loop on a channel without an adapter) continue in the next step, so the loop stays responsive.
constexpr int kMaxFlowInputsPerStep = 1000;
}  // namespace

Result<std::shared_ptr<const flow::FlowVersion>> Engine::CompileFlowsOf(
    const config::Config& config, uint64_t version) {
  std::vector<flow::FlowError> errors;
  auto compiled = flow::CompileFlows(config.flows, config.routing,
                                     config.routing.settings.time_zone, version, &errors);
  if (!compiled.ok()) {
    std::string text =
        "flows: " + (errors.empty() ? compiled.status().message() : errors.front().ToString());
    if (errors.size() > 1) text += " (and " + std::to_string(errors.size() - 1) + " more)";
    return InvalidArgument(std::move(text));
  }
  for (const flow::Flow& f : (*compiled)->flows) {
    for (const flow::Step& step : f.steps) {
      const auto* t = std::get_if<flow::TransferParams>(&step.params);
      if (!t || (t->kind != flow::TransferParams::Kind::kAgent &&
                 t->kind != flow::TransferParams::Kind::kNumber)) {
        continue;
      }
      const char* to = t->kind == flow::TransferParams::Kind::kAgent ? "an agent" : "a number";
      return InvalidArgument(
          flow::FlowError{step.pos, std::string("step '") + step.id + "': transfer to " + to +
                                        " is not supported by the server yet; transfer to a "
                                        "queue or a flow"}
              .ToString());
    }
  }
  return std::move(*compiled);
}

void Engine::AttachChannel(Channel channel, ports::ChannelAdapter* adapter) {
  Post([this, channel, adapter] { adapters_[Index(channel)] = adapter; });
}

ports::ChannelAdapter* Engine::AdapterOf(ContactId contact) const {
  auto it = contacts_.find(contact);
  if (it == contacts_.end()) return nullptr;
  // A callback being dialled is a call of the voice adapter (outbound.cc, DialCallback).
  if (it->second.record.channel == Channel::kCallback && !it->second.outbound_number.empty()) {
    return adapters_[Index(Channel::kVoice)];
  }
  return adapters_[Index(it->second.record.channel)];
}

void Engine::LegEnded(ContactInfo& info) {
  if (info.leg_gone) return;
  info.leg_gone = true;
  if (ports::ChannelAdapter* a = AdapterOf(info.record.id)) a->ContactEnded(info.record.id);
}

void Engine::NotifyChannel(const Event& e) {
  if (!e.contact.valid()) return;
  switch (e.type) {
    case EventType::kContactOffered:
      if (DialCallback(e)) break;
      if (ports::ChannelAdapter* a = AdapterOf(e.contact); a && e.agent < acd_->agent_count()) {
        PlanRecording(e, *a);
        Duration timeout{0};
        if (e.queue < acd_->queue_count()) {
          if (const QueueDef* q = QueueDefByName(*config_, acd_->QueueName(e.queue))) {
            timeout = q->offer_timeout;
          }
        }
        a->OfferToAgent(e.contact, acd_->AgentName(e.agent), timeout);
      }
      break;
    case EventType::kOfferTimedOut:
    case EventType::kOfferRejected:
    case EventType::kOfferWithdrawn:
      if (ports::ChannelAdapter* a = AdapterOf(e.contact); a && e.agent < acd_->agent_count()) {
        a->OfferWithdrawn(e.contact, acd_->AgentName(e.agent));
      }
      break;
    case EventType::kOfferAccepted:
      if (runner_->Find(e.contact)) flow_inputs_.emplace_back(e.contact, flow::AgentConnected{});
      break;
    case EventType::kContactTransferred:
      // Blind transfer of a live call to a queue or a flow: the agent's leg goes, the customer
      // waits with music. An attended one (a consultation completed) has moved the legs already,
      // and one to an agent or a number released them itself (BlindTransferCall).
      if (!e.text.empty()) break;
      if (ports::ChannelAdapter* a = AdapterOf(e.contact); a && e.agent < acd_->agent_count()) {
        a->ControlCall(e.contact, ports::ReleaseAgent{acd_->AgentName(e.agent)}, nullptr);
      }
      break;
    default:
      break;
  }
}

void Engine::ContactArrived(ports::ArrivingContact contact, Reply<ports::ContactSnapshot> reply) {
  Post([this, contact = std::move(contact), reply = std::move(reply)]() mutable {
    ContactArrivedOnLoop(std::move(contact), std::move(reply));
  });
}

void Engine::ContactArrivedOnLoop(ports::ArrivingContact ac, Reply<ports::ContactSnapshot> reply) {
  if (const Status * refusal; !Accepting(&refusal)) return reply(*refusal);
  if (!flows_ || !flows_->FindEntry(ac.channel, ac.entry)) {
    return reply(NotFound("no entry point for " + std::string(ChannelName(ac.channel)) + " '" +
                          ac.entry + "'"));
  }
  ports::CustomerId customer;
  std::string caller;
  if (ac.from) {
    caller = ac.from->address;
    ports::CustomerIdentity from = NormaliseIdentity(*ac.from);
    if (from.address.empty()) {
      return reply(
          InvalidArgument("from: an empty or unusable address '" + ac.from->address + "'"));
    }
    const auto known = IndexedCustomerOr(from, reply, [&] {
      return [this, ac = std::move(ac)](ports::Reply<ports::ContactSnapshot> r) mutable {
        ContactArrivedOnLoop(std::move(ac), std::move(r));
      };
    });
    if (!known) return;
    customer = *known;
  }
  FlushStray();
  const ContactId id(next_contact_++);
  ContactInfo& info = contacts_[id];
  info.record.id = id;
  info.record.channel = ac.channel;
  info.record.direction = ac.direction;
  info.record.state = ports::ContactState::kInFlow;
  info.record.attributes = std::move(ac.attributes);
  info.record.customer = customer;
  info.record.times.arrived = clock_.Now();
  info.caller = caller;
  info.language = ac.language;
  info.flow_pending = true;
  step_contacts_.insert(id);
  ports::ContactSnapshot snapshot = ContactView(info);
  Commit([this, id, snapshot = std::move(snapshot), reply = std::move(reply),
          entry = std::move(ac.entry), caller = std::move(caller),
          language = std::move(ac.language)](const Status& journal) mutable {
    if (!journal.ok()) {
      // Not durable: the contact never existed for the adapter.
      auto it = contacts_.find(id);
      if (it != contacts_.end()) {
        it->second.flow_pending = false;
        it->second.leg_gone = true;
      }
      return reply(journal);
    }
    reply(std::move(snapshot));
    StartFlow(id, std::move(entry), std::move(caller), std::move(language));
  });
}

void Engine::StartFlow(ContactId id, std::string entry, std::string caller, std::string language) {
  auto it = contacts_.find(id);
  if (it == contacts_.end() || !it->second.flow_pending) return;
  ContactInfo& info = it->second;
  info.flow_pending = false;
  FlushStray();
  step_contacts_.insert(id);
  if (info.leg_gone) {
    // The customer left (or it was cancelled) before the flow could start.
    info.flow_done = true;
    flows_ended_.push_back(id);
    Commit(nullptr);
    return;
  }
  flow::FlowContact fc;
  fc.id = id;
  fc.channel = info.record.channel;
  fc.caller = std::move(caller);
  fc.called = std::move(entry);
  fc.language = std::move(language);
  fc.attributes = info.record.attributes;
  in_step_ = true;
  Status s = runner_->StartAtEntry(flows_, std::move(fc));
  in_step_ = false;
  if (!s.ok()) {
    // A reload removed the entry point meanwhile: nowhere to go.
    info.flow_done = true;
    flows_ended_.push_back(id);
  }
  Commit(nullptr);
}

void Engine::ChannelInputFor(ContactId contact, ports::ChannelInput input) {
  Post([this, contact, input = std::move(input)]() mutable {
    if (!started_ || shutting_down_) return;
    auto it = contacts_.find(contact);
    if (it == contacts_.end() || it->second.record.state == ports::ContactState::kClosed) return;
    FlushStray();
    in_step_ = true;
    std::visit(Overloaded{
                   [&](ports::PromptEnded& p) {
                     (void)runner_->OnInput(contact, flow::PromptFinished{p.play_id});
                   },
                   [&](ports::DigitsPressed& d) {
                     (void)runner_->OnInput(contact, flow::DigitsReceived{std::move(d.digits)});
                   },
                   [&](ports::TextArrived& t) {
                     (void)runner_->OnInput(contact, flow::TextReceived{std::move(t.text)});
                   },
                   [&](ports::CustomerLeft&) { CustomerLeft(it->second); },
               },
               input);
    in_step_ = false;
    step_contacts_.insert(contact);
    Commit(nullptr);
  });
}

void Engine::LookupDone(ContactId contact,
                        std::variant<flow::LookupAnswered, flow::LookupFailed> answer) {
  Post([this, contact, answer = std::move(answer)]() mutable {
    if (!started_ || shutting_down_) return;
    FlushStray();
    std::visit([&](auto& a) { flow_inputs_.emplace_back(contact, std::move(a)); }, answer);
    Commit(nullptr);
  });
}

void Engine::CustomerLeft(ContactInfo& info) {
  const ContactId id = info.record.id;
  info.leg_gone = true;
  if (info.flow_pending) return;  // StartFlow closes it
  if (EndBlindTransfer(info)) return;
  if (!info.flow_done && runner_->Find(id)) (void)runner_->OnInput(id, flow::CallerHungUp{});
  if (auto v = acd_->GetContact(id)) {
    switch (v->state) {
      case parley::ContactState::kWaiting:
      case parley::ContactState::kOffered:
        (void)acd_->Abandon(id);  // withdraws its offers
        break;
      case parley::ContactState::kHandling:
        (void)acd_->EndHandling(id);  // the agent wraps up
        break;
      default:
        break;
    }
  }
  if (!acd_->GetContact(id)) flows_ended_.push_back(id);  // closes it (once) if it is open
}

void SetAttribute(Attributes& attributes, const std::string& name, std::string value) {
  for (auto& [k, v] : attributes) {
    if (k == name) {
      v = std::move(value);
      return;
    }
  }
  attributes.emplace_back(name, std::move(value));
}

void Engine::EndFlow(ContactId id, std::string outcome) {
  auto it = contacts_.find(id);
  if (it == contacts_.end()) return;
  it->second.end_outcome = std::move(outcome);
  // The session sees a hang-up; OnFlowEvent journals `outcome` instead of "abandoned".
  flow_inputs_.emplace_back(id, flow::CallerHungUp{});
  ScheduleFlush();
}

void Engine::OnFlowEvent(const flow::FlowEvent& fe) {
  Event e;
  e.type = FlowEventType(fe.kind);
  e.time = fe.at;
  e.contact = fe.contact;
  FlowEventFields f;
  f.flow = fe.flow;
  f.version = fe.version;
  f.step = fe.step;
  f.step_type = fe.step_type;
  f.exit = fe.exit;
  auto it = contacts_.find(fe.contact);
  if (it != contacts_.end()) e.channel = it->second.record.channel;
  if (fe.kind == flow::FlowEventKind::kFlowEnded) {
    f.outcome = std::string(flow::FlowOutcomeName(fe.outcome));
    if (it != contacts_.end()) {
      if (!it->second.end_outcome.empty()) f.outcome = it->second.end_outcome;
      it->second.flow_done = true;
    }
    flows_ended_.push_back(fe.contact);
  }
  e.value = static_cast<int64_t>(fe.version);
  if (fe.kind == flow::FlowEventKind::kSurveyAnswer) {
    f.question = fe.question;
    f.survey_kind = fe.survey_kind;
    f.score = fe.score;
    f.answer = fe.text;
    e.value = fe.score;
  }
  e.text = FormatFlowEventFields(f);
  OnEvent(e);
}

void Engine::SettleFlows() {
  const bool was_in_step = in_step_;
  in_step_ = true;
  int budget = kMaxFlowInputsPerStep;
  while ((!flow_inputs_.empty() && budget > 0) || !flows_ended_.empty()) {
    while (!flow_inputs_.empty() && budget-- > 0) {
      auto [id, input] = std::move(flow_inputs_.front());
      flow_inputs_.pop_front();
      if (auto* q = std::get_if<flow::QueueStatsAnswered>(&input)) {
        q->stats = StatsFor(id, q->queue);
      }
      step_contacts_.insert(id);
      (void)runner_->OnInput(id, input);
    }
    std::vector<ContactId> ended;
    ended.swap(flows_ended_);
    for (ContactId id : ended) {
      auto it = contacts_.find(id);
      if (it == contacts_.end()) continue;
      ContactInfo& info = it->second;
      // Still routed (connected to an agent, queued by a transfer) or still in a flow.
      // A voicemail being recorded closes once the adapter reports it (VoicemailRecorded).
      if (acd_->GetContact(id) || info.closed_journaled || info.flow_pending || info.voicemail) {
        continue;
      }
      if (!info.flow_done && runner_->Find(id)) continue;
      LegEnded(info);
      Event e;
      e.type = EventType::kContactClosed;
      e.time = clock_.Now();
      e.contact = id;
      e.channel = info.record.channel;
      e.queue = acd_->FindQueue(info.record.queue).value_or(kNone);
      OnEvent(e);
      step_contacts_.insert(id);
    }
  }
  in_step_ = was_in_step;
  if (!flow_inputs_.empty()) {
    flush_posted_ = false;  // a step of its own, after what is queued now
    ScheduleFlush();
  }
}

flow::QueueStats Engine::StatsFor(ContactId contact, const std::string& queue) const {
  flow::QueueStats st;
  auto q = acd_->FindQueue(queue);
  if (!q || !config_->routing.FindQueue(queue)) return st;
  const ports::QueueSnapshot snap = QueueView(*q);
  st.waiting = static_cast<int>(snap.waiting);
  st.agents_available = static_cast<int>(snap.agents_available);
  auto me = contacts_.find(contact);
  if (me != contacts_.end() && me->second.record.queue == queue &&
      (me->second.record.state == ports::ContactState::kQueued ||
       me->second.record.state == ports::ContactState::kOffered)) {
    st.position = 1;
    for (const auto& [id, c] : contacts_) {
      if (id != contact && c.record.state == ports::ContactState::kQueued &&
          c.record.queue == queue && Ahead(c.record, me->second.record)) {
        ++st.position;
      }
    }
  }
  // Each contact ahead takes one handling time of one of the staffed agents.
  const Duration per = snap.aht > Duration{0} ? snap.aht : Seconds(180);
  const int64_t ahead = std::max(st.position, 1);
  const int64_t staffed = std::max<int64_t>(snap.agents_staffed, 1);
  st.estimated_wait = per * ahead / staffed;
  return st;
}

// ContactMedia: to the channel's adapter. Without one (tasks, or a channel whose adapter is not
// attached) a prompt ends at once and there is nothing to send or hang up.
void Engine::Play(ContactId contact, const ports::PlayRequest& request) {
  auto it = contacts_.find(contact);
  if (it == contacts_.end() || it->second.leg_gone) return;
  if (ports::ChannelAdapter* a = AdapterOf(contact)) return a->Play(contact, request);
  if (!request.loop) flow_inputs_.emplace_back(contact, flow::PromptFinished{request.play_id});
  ScheduleFlush();
}

void Engine::StopPlayback(ContactId contact) {
  auto it = contacts_.find(contact);
  if (it == contacts_.end() || it->second.leg_gone) return;
  if (ports::ChannelAdapter* a = AdapterOf(contact)) a->StopPlayback(contact);
}

void Engine::SendText(ContactId contact, const ports::TextMessage& message) {
  auto it = contacts_.find(contact);
  if (it == contacts_.end() || it->second.leg_gone) return;
  if (ports::ChannelAdapter* a = AdapterOf(contact)) a->SendText(contact, message);
}

void Engine::Hangup(ContactId contact) {
  auto it = contacts_.find(contact);
  if (it == contacts_.end() || it->second.leg_gone) return;
  it->second.leg_gone = true;
  if (ports::ChannelAdapter* a = AdapterOf(contact)) a->Hangup(contact);
}

// ContactRouting: the Acd.
void Engine::Enqueue(ContactId contact, const ports::EnqueueRequest& request) {
  auto it = contacts_.find(contact);
  if (it == contacts_.end()) return;
  ContactInfo& info = it->second;
  step_contacts_.insert(contact);
  auto q = acd_->FindQueue(request.queue);
  Status s = NotFound("no queue '" + request.queue + "'");
  if (q && config_->routing.FindQueue(request.queue)) {
    for (const auto& [name, value] : request.attributes) {
      SetAttribute(info.record.attributes, name, value);
    }
    info.record.priority = request.priority;
    ContactSpec spec;
    spec.channel = info.record.channel;
    spec.direction = info.record.direction;
    spec.priority = request.priority;
    spec.skills = request.skills;
    spec.attributes = info.record.attributes;
    if (info.record.customer.valid()) spec.customer = std::to_string(info.record.customer.value());
    s = acd_->Enqueue(contact, *q, std::move(spec));
  }
  if (!s.ok()) {
    // Routing refused it (a queue of another channel, a queue removed by a reload): the flow
    // cannot go on, and the caller is not left waiting for nobody.
    Hangup(contact);
    EndFlow(contact, "failed");
  }
}

void Engine::Dequeue(ContactId contact) {
  auto v = acd_->GetContact(contact);
  if (!v ||
      (v->state != parley::ContactState::kWaiting && v->state != parley::ContactState::kOffered)) {
    return;
  }
  (void)acd_->Remove(contact);  // back in the flow (RefreshContact: kInFlow)
  step_contacts_.insert(contact);
}

void Engine::Transfer(ContactId contact, const ports::TransferRequest& request) {
  // CompileFlowsOf refuses transfers to agents and numbers, so this is a queue.
  auto it = contacts_.find(contact);
  if (it == contacts_.end()) return;
  if (auto v = acd_->GetContact(contact); v && v->state == parley::ContactState::kHandling) {
    auto q = acd_->FindQueue(request.target);
    if (q && acd_->Transfer(contact, *q).ok()) return;
  }
  Enqueue(contact, ports::EnqueueRequest{
                       request.target, it->second.record.priority, {}, request.attributes});
}

Status Engine::CheckSpawnQueue(Channel channel, const std::string& queue) const {
  const QueueDef* def = QueueDefByName(*config_, queue);
  if (!acd_->FindQueue(queue) || !def) return NotFound("no queue '" + queue + "'");
  if (std::find(def->channels.begin(), def->channels.end(), channel) == def->channels.end()) {
    return InvalidArgument("queue '" + queue + "' does not take " +
                           std::string(ChannelName(channel)) + " contacts");
  }
  return Status::Ok();
}

Result<ContactId> Engine::SpawnContact(const ContactInfo& origin, Channel channel,
                                       const std::string& queue, Attributes attributes, bool keep) {
  if (Status checked = CheckSpawnQueue(channel, queue); !checked.ok()) return checked;
  auto q = acd_->FindQueue(queue);
  SetAttribute(attributes, "origin.contact", std::to_string(origin.record.id.value()));
  const TimePoint now = clock_.Now();
  const ContactId id(next_contact_++);
  ContactInfo& info = contacts_[id];
  info.record.id = id;
  info.record.channel = channel;
  info.record.direction = origin.record.direction;
  info.record.state = ports::ContactState::kQueued;
  info.record.queue = queue;
  info.record.priority = origin.record.priority;
  info.record.attributes = attributes;
  info.record.customer = origin.record.customer;
  info.record.times.arrived = keep ? origin.record.times.arrived : now;
  info.leg_gone = true;  // nothing to tear down: the leg is made when an agent takes it
  step_contacts_.insert(id);
  ContactSpec spec;
  spec.channel = channel;
  spec.direction = info.record.direction;
  spec.priority = info.record.priority;
  spec.attributes = std::move(attributes);
  if (origin.record.customer.valid()) {
    spec.customer = std::to_string(origin.record.customer.value());
  }
  Status s;
  if (keep && origin.record.times.queued != TimePoint{}) {
    // It takes the caller's place: the Acd puts it back with the original times, and the queue
    // entry is journaled here (Restore emits no event).
    Event e;
    e.type = EventType::kContactQueued;
    e.time = now;
    e.contact = id;
    e.queue = *q;
    e.channel = channel;
    e.value = spec.priority;
    OnEvent(e);
    RestoredContact rc;
    rc.id = id;
    rc.queue = *q;
    rc.spec = std::move(spec);
    rc.times.arrived = origin.record.times.arrived;
    rc.times.queued = origin.record.times.queued;
    s = acd_->Restore(std::move(rc));
  } else {
    s = acd_->Enqueue(id, *q, std::move(spec));
  }
  if (!s.ok()) {
    contacts_.erase(id);
    step_contacts_.erase(id);
    return s;
  }
  return id;
}

void Engine::ScheduleCallback(ContactId contact, const ports::CallbackRequest& request) {
  auto it = contacts_.find(contact);
  if (it == contacts_.end()) return;
  Attributes attributes = request.attributes;
  SetAttribute(attributes, "callback.number", request.number);
  if (!SpawnContact(it->second, Channel::kCallback, request.queue, std::move(attributes),
                    request.keep_position)
           .ok()) {
    Hangup(contact);
    EndFlow(contact, "failed");
  }
}

void Engine::RequestQueueStats(ContactId contact, const std::string& queue) {
  flow_inputs_.emplace_back(contact, flow::QueueStatsAnswered{queue, {}});
  ScheduleFlush();
}

}  // namespace parley::engine

namespace parley::engine {
// The recording store calls of engine_recording.cc run off the loop through OffLoop.
template void Engine::OffLoop<std::vector<ports::RecordingRecord>>(
    std::function<Result<std::vector<ports::RecordingRecord>>()>,
    std::function<void(Result<std::vector<ports::RecordingRecord>>)>);
template void Engine::OffLoop<ports::RecordingRecord>(
    std::function<Result<ports::RecordingRecord>()>,
    std::function<void(Result<ports::RecordingRecord>)>);
}  // namespace parley::engine
