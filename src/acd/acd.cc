#include "acd/acd.h"

#include <algorithm>
#include <boost/intrusive/set.hpp>
#include <cmath>
#include <limits>
#include <tuple>

#include "acd/acd_impl.h"

namespace parley {

std::string_view ContactStateName(ContactState s) {
  switch (s) {
    case ContactState::kWaiting:
      return "waiting";
    case ContactState::kOffered:
      return "offered";
    case ContactState::kHandling:
      return "handling";
    case ContactState::kWrapUp:
      return "wrap-up";
    case ContactState::kGone:
      return "gone";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

namespace {

Status CheckIndices(const RoutingConfig& config) {
  const size_t nq = config.queues.size(), na = config.agents.size(), ns = config.skills.size(),
               nt = config.teams.size();
  auto check_skills = [&](const std::vector<SkillRequirement>& v, const std::string& where) {
    for (const auto& r : v) {
      if (r.skill >= ns) return InvalidArgument(where + ": skill index out of range");
    }
    return Status::Ok();
  };
  for (const AgentDef& a : config.agents) {
    for (const auto& s : a.skills) {
      if (s.skill >= ns) return InvalidArgument("agent " + a.name + ": skill index out of range");
    }
    for (const auto& qa : a.queues) {
      if (qa.queue >= nq) return InvalidArgument("agent " + a.name + ": queue out of range");
    }
    if (a.team != kNone && a.team >= nt) return InvalidArgument("agent " + a.name + ": bad team");
  }
  for (const QueueDef& q : config.queues) {
    if (q.channels.empty()) return InvalidArgument("queue " + q.name + ": no channel");
    if (q.escalation.size() + 1 > 63)
      return InvalidArgument("queue " + q.name + ": too many steps");
    Status s = check_skills(q.skills, "queue " + q.name);
    if (!s.ok()) return s;
    for (AgentIndex m : q.members) {
      if (m >= na) return InvalidArgument("queue " + q.name + ": member out of range");
    }
    for (const auto& e : q.escalation) {
      if (e.skills) {
        s = check_skills(*e.skills, "queue " + q.name + " escalation");
        if (!s.ok()) return s;
      }
      if (e.overflow_queue != kNone && e.overflow_queue >= nq) {
        return InvalidArgument("queue " + q.name + ": overflow queue out of range");
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Status Acd::Impl::Configure(const RoutingConfig& config) {
  Status s = CheckIndices(config);
  if (!s.ok()) return s;
  settings = config.settings;
  skill_names = config.skills;
  if (current_day == std::numeric_limits<int64_t>::min()) {
    current_day = DayOf(Now());
    ArmDayTimer();
  }

  // Unlink everything from the indices; contacts are relinked after the queues are rebuilt.
  std::vector<ContactRt*> waiting;
  for (QueueRt& q : queues) {
    for (ContactSet& set : q.waiting) {
      while (!set.empty()) {
        ContactRt& c = *set.begin();
        set.erase(set.begin());
        c.linked = false;
        waiting.push_back(&c);
      }
    }
    for (AgentSet& set : q.free_agents) set.clear();
    for (auto& pool : q.random_pool) pool.clear();
  }
  for (AgentRt& a : agents) {
    a.nodes = {};
    a.linked_nodes = 0;
  }
  std::fill(waiting_counts.begin(), waiting_counts.end(), 0);

  // Agents, matched by name; config index -> stable index.
  agents.reserve(agents.size() + config.agents.size());
  queues.reserve(queues.size() + config.queues.size());
  std::vector<AgentIndex> agent_map(config.agents.size());
  for (AgentRt& a : agents) a.removed = true;
  for (size_t i = 0; i < config.agents.size(); ++i) {
    const AgentDef& def = config.agents[i];
    auto it = agent_by_name.find(def.name);
    AgentIndex idx;
    if (it == agent_by_name.end()) {
      idx = static_cast<AgentIndex>(agents.size());
      agents.emplace_back();
      agents.back().index = idx;
      agents.back().idle_since = Now();
      agent_by_name.emplace(def.name, idx);
    } else {
      idx = it->second;
    }
    AgentRt& a = agents[idx];
    a.SetDef(def);
    a.removed = false;
    a.BuildSkillTable(config.skills.size());
    agent_map[i] = idx;
  }
  // Queues, matched by name.
  std::vector<QueueIndex> queue_map(config.queues.size());
  for (QueueRt& q : queues) q.removed = true;
  for (size_t i = 0; i < config.queues.size(); ++i) {
    const QueueDef& def = config.queues[i];
    auto it = queue_by_name.find(def.name);
    QueueIndex idx;
    if (it == queue_by_name.end()) {
      idx = static_cast<QueueIndex>(queues.size());
      queues.emplace_back();
      queues.back().index = idx;
      queue_by_name.emplace(def.name, idx);
    } else {
      idx = it->second;
    }
    queues[idx].removed = false;
    queue_map[i] = idx;
  }
  // Translate config indices to stable indices inside the copies we keep.
  for (AgentRt& a : agents) {
    if (a.removed) continue;
    for (QueueAssignment& qa : a.def.queues) qa.queue = queue_map[qa.queue];
  }
  // Routing profiles by queue, in one pass over the agents.
  std::vector<std::vector<ProfileEntry>> listed(queues.size());
  for (AgentRt& a : agents) {
    if (a.removed) continue;
    for (const QueueAssignment& qa : a.def.queues) {
      listed[qa.queue].push_back(ProfileEntry{a.index, qa.order, qa.delay});
    }
  }
  for (size_t i = 0; i < config.queues.size(); ++i) {
    QueueRt& q = queues[queue_map[i]];
    const bool had_def = !q.def.name.empty();
    const Strategy old_strategy = q.def.strategy;
    q.def = config.queues[i];
    for (AgentIndex& m : q.def.members) m = agent_map[m];
    for (EscalationStep& e : q.def.escalation) {
      if (e.overflow_queue != kNone) e.overflow_queue = queue_map[e.overflow_queue];
    }
    if (had_def && old_strategy != q.def.strategy) q.rr_last_position = -1;
    q.last_listed = std::move(listed[q.index]);
    BuildQueueIndex(q, q.last_listed);
  }
  // Removed queues keep their old definition and drain: they hold their waiting contacts and
  // route them to their former members who are still configured.
  for (QueueRt& q : queues) {
    if (q.removed && !q.def.name.empty()) BuildQueueIndex(q, q.last_listed);
  }
  BuildNodeArena();
  waiting_counts.resize(queues.size(), 0);

  // Relink waiting contacts: each keeps its place (its key is unchanged); its step is clamped to
  // the new escalation list and timers re-armed from the time it entered the queue.
  for (ContactRt* c : waiting) {
    QueueRt& q = queues[c->queue];
    const auto slot = std::find(q.def.channels.begin(), q.def.channels.end(), c->channel);
    if (slot == q.def.channels.end()) {
      // The queue no longer takes this channel: keep the contact in the first channel's set,
      // where only an explanation will show it; it still abandons or times out normally.
      c->channel_slot = 0;
    } else {
      c->channel_slot = static_cast<uint8_t>(slot - q.def.channels.begin());
    }
    c->step = std::min<uint32_t>(c->step, q.step_count - 1);
    ComputeContactKey(*c);
    InsertWaiting(*c);
    ++c->incarnation;  // old timers are void
    ArmQueueTimers(*c);
  }
  contacts.ForEachLive([&](ContactRt& c) {
    if (c.state != ContactState::kOffered) return;
    c.step = std::min<uint32_t>(c.step, queues[c.queue].step_count - 1);
    ++c.incarnation;
    ArmQueueTimers(c);
    StartOfferClock(c, queues[c.queue].offer_timeout);
  });

  for (AgentRt& a : agents) {
    if (a.removed && a.presence != Presence::kOffline) {
      // Pending offers of a removed agent go back to their queues.
      ChangePresence(a, Presence::kOffline, "removed");
    }
    Reindex(a);
  }
  for (AgentRt& a : agents) {
    if (a.removed) {
      std::vector<ContactId> offered;
      for (const WorkRt& w : a.work) {
        if (w.stage == WorkStage::kOffered) offered.push_back(w.contact);
      }
      for (ContactId id : offered) {
        ContactRt* c = contacts.Find(id);
        if (!c) continue;
        WithdrawFrom(*c, a.index, nullptr);
        c->offered_to.erase(std::remove(c->offered_to.begin(), c->offered_to.end(), a.index),
                            c->offered_to.end());
        if (c->offered_to.empty()) ReturnToQueue(*c);
      }
    }
  }
  for (QueueRt& q : queues) RouteWaitingAfterChange(q);
  for (AgentRt& a : agents) {
    if (!a.removed && a.presence == Presence::kAvailable) RouteAgent(a);
  }
  return Status::Ok();
}

void Acd::Impl::BuildQueueIndex(QueueRt& q, const std::vector<ProfileEntry>& listed) {
  q.RefreshHot();
  // Steps: step 0 is the queue's own rule; step i applies escalation[i-1] on top.
  q.step_count = static_cast<uint32_t>(q.def.escalation.size()) + 1;
  q.step_rules.assign(q.step_count, StepRule{});
  q.step_rules[0] = StepRule{q.def.skills, q.def.teams};
  for (uint32_t i = 1; i < q.step_count; ++i) {
    q.step_rules[i] = q.step_rules[i - 1];
    const EscalationStep& e = q.def.escalation[i - 1];
    if (e.skills) q.step_rules[i].skills = *e.skills;
    if (e.teams) q.step_rules[i].teams = *e.teams;
  }

  // Members: explicit (agents listing the queue, the queue's member list) or, when there are
  // none, every agent who meets one of the queue's step rules (skills-based routing).
  std::vector<ProfileEntry> members;
  // Each agent once: the stamp marks agents already added for this queue.
  const uint32_t stamp = ++member_stamp;
  if (member_seen.size() < agents.size()) member_seen.resize(agents.size(), 0);
  auto add = [&](AgentIndex ai, uint16_t order, Duration delay) {
    if (agents[ai].removed || member_seen[ai] == stamp) return;
    member_seen[ai] = stamp;
    members.push_back(ProfileEntry{ai, order, delay});
  };
  for (const ProfileEntry& e : listed) add(e.agent, e.order, e.delay);
  for (AgentIndex m : q.def.members) add(m, kDefaultOrder, Duration{0});
  q.explicit_members = !members.empty();
  if (!q.explicit_members) {
    for (AgentRt& a : agents) add(a.index, kDefaultOrder, Duration{0});
  }

  // Eligibility classes: agents eligible at the same set of steps share one index per channel.
  q.class_masks.clear();
  q.built.clear();
  q.member_agents.clear();
  for (size_t pos = 0; pos < members.size(); ++pos) {
    const ProfileEntry& m = members[pos];
    AgentRt& a = agents[m.agent];
    uint64_t mask = 0;
    for (uint32_t s = 0; s < q.step_count; ++s) {
      if (a.Meets(q.step_rules[s])) mask |= uint64_t{1} << s;
    }
    if (!q.explicit_members && mask == 0) continue;
    q.member_agents.push_back(m.agent);
    uint32_t cls = kNoClass;
    if (mask != 0) {
      auto it = std::find(q.class_masks.begin(), q.class_masks.end(), mask);
      cls = static_cast<uint32_t>(it - q.class_masks.begin());
      if (it == q.class_masks.end()) q.class_masks.push_back(mask);
    }
    uint32_t proficiency = 0;
    for (const SkillRequirement& r : q.def.skills) proficiency += a.Proficiency(r.skill);
    q.built.push_back(BuiltMember{m, cls, proficiency});
  }
  const size_t classes = std::max<size_t>(q.class_masks.size(), 1);
  q.class_count = static_cast<uint32_t>(classes);
  q.free_set_count = static_cast<uint32_t>(classes * q.def.channels.size());
  q.random_pool.assign(classes * q.def.channels.size(), {});
  // Waiting sets: one per channel and step, made by BuildNodeArena; existing contacts are
  // relinked by the caller.
  q.waiting_set_count = static_cast<uint32_t>(q.def.channels.size() * q.step_count);
}

// Lays out every queue's members as nodes in one arena, grouped by agent: Reindex and the
// agent-side decision walk one agent's nodes, which then share cache lines and prefetch.
void Acd::Impl::BuildNodeArena() {
  // The sets first, every queue's side by side: at 40k queues one small allocation each put
  // every set header on a cache line and a page of its own. Every set is empty by now.
  size_t free_total = 0, waiting_total = 0;
  for (const QueueRt& q : queues) {
    free_total += q.free_set_count;
    waiting_total += q.waiting_set_count;
  }
  free_set_arena.clear();
  free_set_arena.resize(free_total);
  waiting_set_arena.clear();
  waiting_set_arena.resize(waiting_total);
  size_t free_at = 0, waiting_at = 0;
  for (QueueRt& q : queues) {
    q.free_agents = std::span<AgentSet>(free_set_arena.data() + free_at, q.free_set_count);
    q.waiting = std::span<ContactSet>(waiting_set_arena.data() + waiting_at, q.waiting_set_count);
    free_at += q.free_set_count;
    waiting_at += q.waiting_set_count;
  }
  std::vector<uint32_t> offset(agents.size() + 1, 0);
  for (const QueueRt& q : queues) {
    for (const BuiltMember& m : q.built) {
      offset[m.entry.agent + 1] += static_cast<uint32_t>(q.def.channels.size());
    }
  }
  for (size_t i = 1; i < offset.size(); ++i) offset[i] += offset[i - 1];
  node_arena.clear();  // every set was cleared by the caller, so no node is linked
  node_arena.resize(offset.back());
  node_cold.assign(offset.back(), MemberCold{});
  for (AgentRt& a : agents) {
    a.nodes = std::span<MemberNode>(node_arena.data() + offset[a.index],
                                    offset[a.index + 1] - offset[a.index]);
  }
  std::vector<uint32_t> next(offset.begin(), offset.end() - 1);
  for (QueueRt& q : queues) {
    q.nodes.clear();
    for (size_t pos = 0; pos < q.built.size(); ++pos) {
      const BuiltMember& m = q.built[pos];
      for (uint8_t ch = 0; ch < q.def.channels.size(); ++ch) {
        MemberNode& n = node_arena[next[m.entry.agent]++];
        n.agent = m.entry.agent;
        n.queue = q.index;
        n.channel_slot = ch;
        n.channel = q.def.channels[ch];
        n.strategy = q.def.strategy;
        MemberCold& cold = Cold(n);
        cold.cls = m.cls;
        cold.position = static_cast<int64_t>(pos);
        cold.order = m.entry.order;
        cold.delay = m.entry.delay;
        n.has_delay = m.entry.delay.count() > 0;
        cold.proficiency = m.proficiency;
        n.key1 = StaticKey1(n.strategy, cold);
        if (cold.cls != kNoClass) {
          cold.set_index = q.SetIndex(ch, cold.cls);
          n.set = &q.free_agents[cold.set_index];
          if (q.def.strategy == Strategy::kRandom) cold.pool = &q.random_pool[cold.set_index];
        }
        q.nodes.push_back(&n);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

Acd::Acd(Clock& clock, TimerQueue& timers, AcdObserver& observer, AcdOptions options)
    : impl_(std::make_unique<Impl>(*this, clock, timers, observer, std::move(options))) {}

Acd::~Acd() {
  // Unlink intrusive hooks before the containers die.
  for (OfferClock& oc : impl_->offer_clocks) oc.pending.clear();
  for (QueueRt& q : impl_->queues) {
    for (auto& set : q.waiting) set.clear();
    for (auto& set : q.free_agents) set.clear();
  }
}

Status Acd::Configure(const RoutingConfig& config) { return impl_->Configure(config); }

std::optional<AgentIndex> Acd::FindAgent(std::string_view name) const {
  auto it = impl_->agent_by_name.find(std::string(name));
  if (it == impl_->agent_by_name.end()) return std::nullopt;
  return it->second;
}
std::optional<QueueIndex> Acd::FindQueue(std::string_view name) const {
  auto it = impl_->queue_by_name.find(std::string(name));
  if (it == impl_->queue_by_name.end()) return std::nullopt;
  return it->second;
}
const std::string& Acd::AgentName(AgentIndex a) const { return impl_->agents.at(a).def.name; }
const std::string& Acd::QueueName(QueueIndex q) const { return impl_->queues.at(q).def.name; }
size_t Acd::agent_count() const { return impl_->agents.size(); }
size_t Acd::queue_count() const { return impl_->queues.size(); }

Status Acd::SetPresence(AgentIndex ai, Presence p, std::string_view reason) {
  Impl& m = *impl_;
  if (ai >= m.agents.size()) return NotFound("no agent with index " + std::to_string(ai));
  AgentRt& a = m.agents[ai];
  if (a.removed && p != Presence::kOffline) {
    return NotFound("agent '" + a.def.name + "' is no longer configured");
  }
  if (a.presence == p && a.reason == reason) return Status::Ok();
  m.ChangePresence(a, p, reason);
  if (p == Presence::kOffline) {
    std::vector<ContactId> offered;
    for (const WorkItem& w : a.work) {
      if (w.stage == WorkStage::kOffered) offered.push_back(w.contact);
    }
    for (ContactId id : offered) {
      ContactRt* c = m.contacts.Find(id);
      if (!c) continue;
      m.WithdrawFrom(*c, ai, nullptr);
      c->offered_to.erase(std::remove(c->offered_to.begin(), c->offered_to.end(), ai),
                          c->offered_to.end());
      if (c->offered_to.empty()) {
        m.ReturnToQueue(*c);
        m.RouteContact(*c);
      }
    }
  }
  m.Reindex(a);
  if (p == Presence::kAvailable) m.RouteAgent(a);
  return Status::Ok();
}

Status Acd::Enqueue(ContactId id, QueueIndex qi, ContactSpec spec) {
  Impl& m = *impl_;
  if (!id.valid()) return InvalidArgument("contact id must be non-zero");
  if (qi >= m.queues.size()) return NotFound("no queue with index " + std::to_string(qi));
  // The routing decision reads the queue's second line too; ask for it with the first.
  __builtin_prefetch(reinterpret_cast<const char*>(&m.queues[qi]) + 64);
  if (m.queues[qi].removed) return NotFound("no queue with index " + std::to_string(qi));
  if (m.contacts.Find(id)) return Conflict("contact " + std::to_string(id.value()) + " exists");
  QueueRt& q = m.queues[qi];
  const uint8_t slot = q.ChannelSlot(spec.channel);
  if (slot == q.channel_count) {
    return InvalidArgument("queue '" + q.def.name + "' does not take " +
                           std::string(ChannelName(spec.channel)) + " contacts");
  }
  for (const SkillRequirement& r : spec.skills) {
    if (r.skill >= m.skill_names.size()) return InvalidArgument("unknown skill index");
  }
  if (q.max_size > 0 && m.waiting_counts[qi] >= q.max_size) {
    return Unavailable("queue '" + q.def.name + "' is full (" + std::to_string(q.def.max_size) +
                       " waiting)");
  }
  ContactRt& c = m.contacts.Acquire(id);
  c.spec = std::move(spec);
  c.channel = c.spec.channel;
  c.queue = qi;
  c.channel_slot = slot;
  c.step = 0;
  c.priority = c.spec.priority;
  c.state = ContactState::kWaiting;
  c.times = ContactTimes{};
  c.times.arrived = c.times.queued = m.Now();
  c.arrived_at = c.queued_at = m.Now();
  c.seq = m.contacts.NextSeq();
  c.queue_visit = 0;
  m.ComputeContactKey(c);
  m.Emit(EventType::kContactQueued, &c, kNone, qi, c.priority);
  m.ArmQueueTimers(c);
  m.RouteContact(c);  // joins the waiting set unless an agent takes it now
  return Status::Ok();
}

Status Acd::Restore(RestoredContact r) {
  Impl& m = *impl_;
  if (!r.id.valid()) return InvalidArgument("contact id must be non-zero");
  if (r.queue >= m.queues.size() || m.queues[r.queue].removed) {
    return NotFound("no queue with index " + std::to_string(r.queue));
  }
  if (m.contacts.Find(r.id)) {
    return Conflict("contact " + std::to_string(r.id.value()) + " exists");
  }
  QueueRt& q = m.queues[r.queue];
  const auto slot = std::find(q.def.channels.begin(), q.def.channels.end(), r.spec.channel);
  if (slot == q.def.channels.end()) {
    return InvalidArgument("queue '" + q.def.name + "' does not take " +
                           std::string(ChannelName(r.spec.channel)) + " contacts");
  }
  for (const SkillRequirement& req : r.spec.skills) {
    if (req.skill >= m.skill_names.size()) return InvalidArgument("unknown skill index");
  }
  if (r.agent != kNone) {
    if (r.agent >= m.agents.size() || m.agents[r.agent].removed) {
      return NotFound("no agent with index " + std::to_string(r.agent));
    }
    if (r.stage == WorkStage::kOffered) {
      return InvalidArgument("an offer is not restored: the contact waits again");
    }
  }
  const TimePoint now = m.Now();
  ContactRt& c = m.contacts.Acquire(r.id);
  c.spec = std::move(r.spec);
  c.channel = c.spec.channel;
  c.queue = r.queue;
  c.channel_slot = static_cast<uint8_t>(slot - q.def.channels.begin());
  c.step = 0;
  c.priority = c.spec.priority;
  c.times = r.times;
  if (c.times.arrived == TimePoint{}) c.times.arrived = now;
  if (c.times.queued == TimePoint{}) c.times.queued = c.times.arrived;
  c.arrived_at = c.times.arrived;
  c.queued_at = c.times.queued;
  c.seq = m.contacts.NextSeq();
  c.queue_visit = 0;
  m.ComputeContactKey(c);
  if (r.agent == kNone) {
    c.state = ContactState::kWaiting;
    m.ArmQueueTimers(c);
    m.RouteContact(c);
    return Status::Ok();
  }
  AgentRt& a = m.agents[r.agent];
  c.state = ContactState::kHandling;
  c.agent = r.agent;
  c.offered_to.assign(1, r.agent);
  m.TakeSlot(a, c, WorkStage::kHandling, false);
  WorkRt* w = m.FindWork(a, c.id);
  w->since = c.times.answered != TimePoint{} ? c.times.answered : now;
  if (r.stage == WorkStage::kWrapUp) {
    c.state = ContactState::kWrapUp;
    if (c.times.wrap_up == TimePoint{}) c.times.wrap_up = now;
    w->stage = WorkStage::kWrapUp;
    w->since = c.times.wrap_up;
    if (w->channel == Channel::kVoice) --a.voice_active;
    ++a.wrap_ups;
    w->wrap_seq = ++a.wrap_seq & 0x0fffffffu;
    const Duration wrap = q.wrap_up;
    if (wrap.count() > 0) {
      m.timers.Schedule(std::max(now, w->since + wrap), *this,
                        MakeTag(TimerKind::kWrapUp, w->wrap_seq, a.index));
    }
  }
  m.Reindex(a);
  return Status::Ok();
}

Status Acd::Accept(ContactId id, AgentIndex ai) {
  Impl& m = *impl_;
  Result<ContactRt*> offered = m.FindOffered(id, ai);
  if (!offered.ok()) return offered.status();
  ContactRt* c = *offered;
  AgentRt& a = m.agents[ai];
  // Ring-all: everyone else loses the offer.
  std::vector<AgentIndex> freed;
  for (AgentIndex other : c->offered_to) {  // WithdrawFrom leaves offered_to alone
    if (other != ai) m.WithdrawFrom(*c, other, &freed);
  }
  c->offered_to.assign(1, ai);
  WorkItem* w = m.FindWork(a, id);
  w->stage = WorkStage::kHandling;
  w->since = m.Now();
  a.consecutive_misses = 0;
  c->state = ContactState::kHandling;
  c->agent = ai;
  c->times.answered = m.Now();
  ++c->incarnation;  // voids the queue timers
  m.StopOfferClock(*c);
  m.Emit(EventType::kOfferAccepted, c, ai, c->queue);
  m.Emit(EventType::kHandlingStarted, c, ai, c->queue);
  m.Reindex(a);
  for (AgentIndex f : freed) m.RouteAgent(m.agents[f]);
  return Status::Ok();
}

Status Acd::Reject(ContactId id, AgentIndex ai) {
  Impl& m = *impl_;
  Result<ContactRt*> offered = m.FindOffered(id, ai);
  if (!offered.ok()) return offered.status();
  ContactRt* c = *offered;
  AgentRt& a = m.agents[ai];
  m.Missed(*c, a, EventType::kOfferRejected);
  if (c->offered_to.empty()) {
    m.ReturnToQueue(*c);
    m.RouteContact(*c);
  }
  if (a.presence == Presence::kAvailable) m.RouteAgent(a);
  return Status::Ok();
}

Status Acd::EndHandling(ContactId id) {
  Impl& m = *impl_;
  ContactRt* c = m.contacts.Find(id);
  if (!c) return NotFound("no contact " + std::to_string(id.value()));
  if (c->state != ContactState::kHandling) {
    return Conflict("contact " + std::to_string(id.value()) + " is not being handled");
  }
  AgentRt& a = m.agents[c->agent];
  Impl::PrefetchNodes(a);
  if (c->on_hold) {
    c->on_hold = false;
    m.Emit(EventType::kHoldEnded, c, a.index, c->queue);
  }
  m.Emit(EventType::kHandlingEnded, c, a.index, c->queue);
  const Duration wrap = m.queues[c->queue].wrap_up;
  WorkRt* w = m.FindWork(a, id);
  if (wrap.count() > 0) {
    c->state = ContactState::kWrapUp;
    c->times.wrap_up = m.Now();
    m.StartWrapUp(a, *w, *c, wrap);
    m.ReindexAndRoute(a);
    return Status::Ok();
  }
  m.ReleaseSlot(a, id);
  m.FinishWork(a);
  m.CloseContact(*c);
  m.ReindexAndRoute(a);
  return Status::Ok();
}

Status Acd::EndWrapUp(ContactId id, AgentIndex ai) {
  Impl& m = *impl_;
  if (ai >= m.agents.size()) return NotFound("no agent with index " + std::to_string(ai));
  AgentRt& a = m.agents[ai];
  Impl::PrefetchNodes(a);
  WorkRt* w = m.FindWork(a, id);
  if (!w || w->stage != WorkStage::kWrapUp) {
    return Conflict("agent '" + a.def.name + "' is not wrapping up contact " +
                    std::to_string(id.value()));
  }
  const QueueIndex queue = w->queue;
  const Channel channel = w->channel;
  m.ReleaseSlot(a, id);
  ContactRt* c = m.contacts.Find(id);
  // Without the contact (it moved on after a transfer), the event names the queue of this part.
  m.Emit(EventType::kWrapUpEnded, id, channel, ai, queue);
  m.FinishWork(a);
  if (c && c->state == ContactState::kWrapUp && c->agent == ai) m.CloseContact(*c);
  m.ReindexAndRoute(a);
  return Status::Ok();
}

// Shared by Abandon and Remove: takes a waiting or offered contact out of routing.
Status Acd::Impl::TakeOut(ContactId id, EventType why, std::string_view verb) {
  Impl& m = *this;
  ContactRt* c = m.contacts.Find(id);
  if (!c) return NotFound("no contact " + std::to_string(id.value()));
  if (c->state != ContactState::kWaiting && c->state != ContactState::kOffered) {
    return Conflict("contact " + std::to_string(id.value()) + " cannot be " + std::string(verb) +
                    " while " + std::string(ContactStateName(c->state)));
  }
  std::vector<AgentIndex> freed;
  if (c->state == ContactState::kOffered) {
    for (AgentIndex ai : c->offered_to) m.WithdrawFrom(*c, ai, &freed);
  }
  m.EraseWaiting(*c);
  m.Emit(why, c, kNone, c->queue);
  c->state = ContactState::kGone;
  m.ReleaseContact(*c);
  for (AgentIndex f : freed) {
    if (m.agents[f].presence == Presence::kAvailable) m.RouteAgent(m.agents[f]);
  }
  return Status::Ok();
}

Status Acd::Abandon(ContactId id) {
  return impl_->TakeOut(id, EventType::kContactAbandoned, "abandoned");
}
Status Acd::Remove(ContactId id) {
  return impl_->TakeOut(id, EventType::kContactRemoved, "removed");
}

Status Acd::Transfer(ContactId id, QueueIndex qi) {
  Impl& m = *impl_;
  ContactRt* c = m.contacts.Find(id);
  if (!c) return NotFound("no contact " + std::to_string(id.value()));
  if (c->state != ContactState::kHandling) {
    return Conflict("only a contact being handled can be transferred");
  }
  if (qi >= m.queues.size() || m.queues[qi].removed) {
    return NotFound("no queue with index " + std::to_string(qi));
  }
  QueueRt& q = m.queues[qi];
  const auto slot = std::find(q.def.channels.begin(), q.def.channels.end(), c->channel);
  if (slot == q.def.channels.end()) {
    return InvalidArgument("queue '" + q.def.name + "' does not take " +
                           std::string(ChannelName(c->channel)) + " contacts");
  }
  AgentRt& a = m.HandOver(*c, qi);
  m.WaitAgain(*c, qi, static_cast<uint8_t>(slot - q.def.channels.begin()));
  if (a.presence == Presence::kAvailable) m.RouteAgent(a);
  return Status::Ok();
}

// The contact waits again, in queue `qi` (channel slot `slot` there), keeping its arrival.
void Acd::Impl::WaitAgain(ContactRt& c, QueueIndex qi, uint8_t slot) {
  c.queue = qi;
  c.channel_slot = slot;
  c.step = 0;
  c.agent = kNone;
  c.offered_to.clear();
  c.refused.clear();
  c.state = ContactState::kWaiting;
  c.queued_at = Now();
  c.times.queued = Now();
  ++c.queue_visit;
  ++c.incarnation;
  ComputeContactKey(c);
  InsertWaiting(c);
  Emit(EventType::kContactQueued, &c, kNone, qi, c.priority);
  ArmQueueTimers(c);
  RouteContact(c);
}

AgentRt& Acd::Impl::HandOver(ContactRt& c, QueueIndex to, std::string_view how) {
  AgentRt& a = agents[c.agent];
  PrefetchNodes(a);
  if (c.on_hold) {
    c.on_hold = false;
    Emit(EventType::kHoldEnded, &c, a.index, c.queue);
  }
  // The transfer before the end of handling, as the exports read them (queue_log: a handling
  // that ends in BLINDTRANSFER is not also a COMPLETECALLER).
  Emit(EventType::kContactTransferred, &c, a.index, to, 0, how);
  Emit(EventType::kHandlingEnded, &c, a.index, c.queue);
  // The agent wraps up its part (or is done at once without wrap-up time); the wrap-up's end
  // may find the contact elsewhere or gone (EndWrapUp).
  WorkRt* w = FindWork(a, c.id);
  const Duration wrap = queues[c.queue].wrap_up;
  if (wrap.count() > 0) {
    StartWrapUp(a, *w, c, wrap);
  } else {
    ReleaseSlot(a, c.id);
    FinishWork(a);
  }
  Reindex(a);
  return a;
}

Status Acd::TransferOut(ContactId id, std::string_view how) {
  Impl& m = *impl_;
  ContactRt* c = m.contacts.Find(id);
  if (!c) return NotFound("no contact " + std::to_string(id.value()));
  if (c->state != ContactState::kHandling) {
    return Conflict("only a contact being handled can be transferred");
  }
  AgentRt& a = m.HandOver(*c, kNone, how);
  c->state = ContactState::kGone;
  c->agent = kNone;
  m.ReleaseContact(*c);
  if (a.presence == Presence::kAvailable) m.RouteAgent(a);
  return Status::Ok();
}

Status Acd::Reserve(ContactId id, AgentIndex b) {
  Impl& m = *impl_;
  ContactRt* c = m.contacts.Find(id);
  if (!c || c->state != ContactState::kHandling) return Conflict("contact is not being handled");
  if (b >= m.agents.size() || m.agents[b].removed) {
    return NotFound("no agent with index " + std::to_string(b));
  }
  AgentRt& a = m.agents[b];
  if (c->agent == b || m.FindWork(a, id) != nullptr) {
    return InvalidArgument("agent '" + a.def.name + "' already holds this contact");
  }
  if (!m.Routable(a, c->channel)) {
    return Conflict("agent '" + a.def.name + "' is not Available with a free " +
                    std::string(ChannelName(c->channel)) + " slot");
  }
  m.TakeSlot(a, *c, WorkStage::kHandling, false);
  m.Reindex(a);
  return Status::Ok();
}

Status Acd::Unreserve(ContactId id, AgentIndex b) {
  Impl& m = *impl_;
  if (b >= m.agents.size()) return NotFound("no agent with index " + std::to_string(b));
  AgentRt& a = m.agents[b];
  ContactRt* c = m.contacts.Find(id);
  if (c != nullptr && c->agent == b) return Conflict("the agent handles this contact");
  if (!m.ReleaseSlot(a, id)) return NotFound("agent '" + a.def.name + "' holds nothing for it");
  m.Reindex(a);
  if (a.presence == Presence::kAvailable) m.RouteAgent(a);
  return Status::Ok();
}

Status Acd::HandTo(ContactId id, AgentIndex b) {
  if (Status s = PassTo(id, b, "attended"); !s.ok()) return s;
  return StartPending(id);
}

Status Acd::PassTo(ContactId id, AgentIndex b, std::string_view how) {
  Impl& m = *impl_;
  ContactRt* c = m.contacts.Find(id);
  if (!c || c->state != ContactState::kHandling) return Conflict("contact is not being handled");
  if (b >= m.agents.size() || c->agent == b) return InvalidArgument("not another agent");
  AgentRt& to = m.agents[b];
  if (m.FindWork(to, id) == nullptr) {
    return Conflict("agent '" + to.def.name + "' did not reserve this contact");
  }
  AgentRt& from = m.HandOver(*c, c->queue, how);
  c->agent = b;
  c->offered_to.assign(1, b);
  ++c->incarnation;
  if (from.presence == Presence::kAvailable) m.RouteAgent(from);
  return Status::Ok();
}

Status Acd::StartPending(ContactId id) {
  Impl& m = *impl_;
  ContactRt* c = m.contacts.Find(id);
  if (!c || c->state != ContactState::kHandling) return Conflict("contact is not being handled");
  AgentRt& to = m.agents[c->agent];
  WorkRt* w = m.FindWork(to, id);
  if (w == nullptr) return Conflict("agent '" + to.def.name + "' holds nothing for it");
  w->since = m.Now();
  m.Emit(EventType::kHandlingStarted, c, c->agent, c->queue);
  m.Reindex(to);
  return Status::Ok();
}

Status Acd::ReturnPending(ContactId id, bool close) {
  Impl& m = *impl_;
  ContactRt* c = m.contacts.Find(id);
  if (!c || c->state != ContactState::kHandling) return Conflict("contact is not being handled");
  AgentRt& b = m.agents[c->agent];
  if (!m.ReleaseSlot(b, id)) return Conflict("agent '" + b.def.name + "' holds nothing for it");
  m.Reindex(b);
  if (close) {
    c->on_hold = false;
    c->agent = kNone;
    m.CloseContact(*c);
  } else {
    const QueueRt& q = m.queues[c->queue];
    if (q.removed) {
      m.CloseContact(*c);
    } else {
      m.WaitAgain(*c, c->queue, c->channel_slot);
    }
  }
  if (b.presence == Presence::kAvailable) m.RouteAgent(b);
  return Status::Ok();
}

std::optional<AgentIndex> Acd::BestFreeMember(QueueIndex qi, Channel channel, TimePoint since,
                                              const std::vector<AgentIndex>& excluded) {
  Impl& m = *impl_;
  if (qi >= m.queues.size() || m.queues[qi].removed) return std::nullopt;
  const uint8_t slot = m.queues[qi].ChannelSlot(channel);
  if (slot == m.queues[qi].channel_count) return std::nullopt;
  // The contact-side decision for a contact that is not in routing: excluded agents count as
  // refusals that never expire.
  ContactRt probe;
  probe.queue = qi;
  probe.channel = channel;
  probe.spec.channel = channel;
  probe.channel_slot = slot;
  probe.queued_at = probe.arrived_at = since;
  for (AgentIndex a : excluded) probe.refused.push_back(Refusal{a, TimePoint::max()});
  MemberNode* n = m.FindAgentFor(probe, nullptr, nullptr);
  if (n == nullptr) return std::nullopt;
  return n->agent;
}

Status Acd::StartHold(ContactId id) {
  Impl& m = *impl_;
  ContactRt* c = m.contacts.Find(id);
  if (!c || c->state != ContactState::kHandling) return Conflict("contact is not being handled");
  if (c->on_hold) return Status::Ok();
  c->on_hold = true;
  m.Emit(EventType::kHoldStarted, c, c->agent, c->queue);
  return Status::Ok();
}

Status Acd::EndHold(ContactId id) {
  Impl& m = *impl_;
  ContactRt* c = m.contacts.Find(id);
  if (!c || c->state != ContactState::kHandling) return Conflict("contact is not being handled");
  if (!c->on_hold) return Status::Ok();
  c->on_hold = false;
  m.Emit(EventType::kHoldEnded, c, c->agent, c->queue);
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Timers
// ---------------------------------------------------------------------------------------------

void Acd::OnTimer(uint64_t tag) {
  Impl& m = *impl_;
  const TimerKind kind = TagKind(tag);
  const uint32_t aux = TagA(tag) >> 16;
  if (kind == TimerKind::kDay) {
    m.day_timer_armed = false;
    m.current_day = m.DayOf(m.Now());
    for (AgentRt& a : m.agents) {
      if (a.presence == Presence::kAvailable) m.Reindex(a);
    }
    m.ArmDayTimer();
    return;
  }
  if (kind == TimerKind::kWrapUp) {
    const AgentIndex ai = TagB(tag);
    if (ai >= m.agents.size()) return;
    for (const WorkRt& w : m.agents[ai].work) {
      if (w.stage == WorkStage::kWrapUp && w.wrap_seq == TagA(tag)) {
        Status s = EndWrapUp(w.contact, ai);
        PARLEY_DCHECK(s.ok());
        (void)s;
        return;
      }
    }
    return;
  }
  if (kind == TimerKind::kOfferClock) {
    m.OnOfferClock(TagB(tag));
    return;
  }
  ContactRt* c = m.contacts.AtSlot(TagB(tag));
  if (!c || c->incarnation != static_cast<uint16_t>(TagA(tag) & 0xffff)) return;
  switch (kind) {
    case TimerKind::kEscalate: {
      if (c->state != ContactState::kWaiting && c->state != ContactState::kOffered) return;
      if (c->step != aux) return;
      QueueRt& q = m.queues[c->queue];
      if (aux >= q.def.escalation.size()) return;
      const EscalationStep& e = q.def.escalation[aux];
      const bool waiting = c->state == ContactState::kWaiting;
      if (waiting) m.EraseWaiting(*c);
      c->step = aux + 1;
      c->priority += e.priority_boost;
      m.ComputeContactKey(*c);
      m.Emit(EventType::kContactEscalated, c, kNone, c->queue, c->step);
      if (!e.flow.empty() || e.overflow_queue != kNone) {
        // Leaving the queue: an offer in progress is taken back first.
        if (!waiting) {
          std::vector<AgentIndex> freed;
          for (AgentIndex ai : c->offered_to) {
            m.WithdrawFrom(*c, ai, &freed);
          }
          c->offered_to.clear();
          for (AgentIndex f : freed) {
            if (m.agents[f].presence == Presence::kAvailable) m.RouteAgent(m.agents[f]);
          }
        }
        if (!e.flow.empty()) {
          m.Emit(EventType::kContactTimedOut, c, kNone, c->queue, c->step, e.flow);
          c->state = ContactState::kGone;
          m.ReleaseContact(*c);
          return;
        }
        const QueueIndex to = e.overflow_queue;
        QueueRt& tq = m.queues[to];
        const auto slot = std::find(tq.def.channels.begin(), tq.def.channels.end(), c->channel);
        m.Emit(EventType::kContactOverflowed, c, kNone, c->queue, to);
        c->queue = to;
        c->channel_slot = slot == tq.def.channels.end()
                              ? 0
                              : static_cast<uint8_t>(slot - tq.def.channels.begin());
        c->step = 0;
        c->queued_at = m.Now();
        c->times.queued = m.Now();
        c->state = ContactState::kWaiting;
        ++c->queue_visit;
        ++c->incarnation;
        m.ComputeContactKey(*c);
        m.InsertWaiting(*c);
        m.Emit(EventType::kContactQueued, c, kNone, to, c->priority);
        m.ArmQueueTimers(*c);
        m.RouteContact(*c);
        return;
      }
      if (waiting) {
        m.InsertWaiting(*c);
      }
      if (c->step < q.def.escalation.size()) {
        m.ArmTimer(TimerKind::kEscalate, *c, c->step,
                   c->queued_at + q.def.escalation[c->step].after);
      }
      if (waiting) m.RouteContact(*c);
      return;
    }
    case TimerKind::kMaxWait: {
      if (c->state != ContactState::kWaiting && c->state != ContactState::kOffered) return;
      if ((c->queue_visit & kAuxMask) != aux) return;
      std::vector<AgentIndex> freed;
      if (c->state == ContactState::kOffered) {
        for (AgentIndex ai : c->offered_to) {
          m.WithdrawFrom(*c, ai, &freed);
        }
      }
      m.EraseWaiting(*c);
      m.Emit(EventType::kContactTimedOut, c, kNone, c->queue, 0,
             m.queues[c->queue].def.timeout_flow);
      c->state = ContactState::kGone;
      m.ReleaseContact(*c);
      for (AgentIndex f : freed) {
        if (m.agents[f].presence == Presence::kAvailable) m.RouteAgent(m.agents[f]);
      }
      return;
    }
    case TimerKind::kRetry: {
      if (c->state != ContactState::kWaiting) return;
      c->retry_at = TimePoint::max();
      m.RouteContact(*c);
      return;
    }
    default:
      return;
  }
}

void Acd::Impl::OfferTimedOut(ContactRt& c) {
  std::vector<AgentIndex> missed(c.offered_to);
  for (AgentIndex ai : missed) Missed(c, agents[ai], EventType::kOfferTimedOut);
  ReturnToQueue(c);
  RouteContact(c);
  for (AgentIndex ai : missed) {
    if (agents[ai].presence == Presence::kAvailable) RouteAgent(agents[ai]);
  }
}

void Acd::Impl::OnOfferClock(uint32_t k) {
  OfferClock& oc = offer_clocks[k];
  oc.armed = false;
  // Expired offers leave the list before they are handled, which may add new offers to it.
  while (!oc.pending.empty() && oc.pending.front().offer_deadline <= Now()) {
    ContactRt& c = oc.pending.front();
    StopOfferClock(c);
    OfferTimedOut(c);
  }
  if (!oc.pending.empty() && !oc.armed) {
    timers.Schedule(oc.pending.front().offer_deadline, self, MakeTag(TimerKind::kOfferClock, 0, k));
    oc.armed = true;
  }
}

// ---------------------------------------------------------------------------------------------
// Queries
// ---------------------------------------------------------------------------------------------

std::optional<ContactView> Acd::GetContact(ContactId id) const {
  const ContactRt* c = impl_->contacts.Find(id);
  if (!c) return std::nullopt;
  ContactView v;
  v.id = c->id;
  v.state = c->state;
  v.queue = c->queue;
  v.channel = c->channel;
  v.priority = c->priority;
  v.step = c->step;
  v.offered_to = c->offered_to;
  v.agent = c->agent;
  v.times = c->times;
  v.attributes = c->spec.attributes;
  v.customer = c->spec.customer;
  return v;
}

AgentView Acd::GetAgent(AgentIndex ai) const {
  const AgentRt& a = impl_->agents.at(ai);
  AgentView v;
  v.index = ai;
  v.name = a.def.name;
  v.removed = a.removed;
  v.presence = a.presence;
  v.reason = a.reason;
  v.presence_since = a.presence_since;
  v.idle_since = a.idle_since;
  v.handled_today = impl_->HandledToday(a);
  v.consecutive_misses = a.consecutive_misses;
  v.work.assign(a.work.begin(), a.work.end());
  return v;
}

QueueView Acd::GetQueue(QueueIndex qi) const {
  const QueueRt& q = impl_->queues.at(qi);
  QueueView v;
  v.index = qi;
  v.name = q.def.name;
  v.removed = q.removed;
  v.waiting = impl_->waiting_counts[qi];
  for (const ContactSet& set : q.waiting) {
    for (const ContactRt& c : set) v.oldest_arrival = std::min(v.oldest_arrival, c.arrived_at);
  }
  v.members = static_cast<uint32_t>(q.member_agents.size());
  for (AgentIndex ai : q.member_agents) {
    const AgentRt& a = impl_->agents[ai];
    for (Channel ch : q.def.channels) {
      if (impl_->Routable(a, ch)) {
        ++v.agents_free;
        break;
      }
    }
  }
  return v;
}

Result<Explanation> Acd::Explain(ContactId id) const {
  const ContactRt* c = impl_->contacts.Find(id);
  if (!c) return NotFound("no contact " + std::to_string(id.value()));
  return impl_->BuildExplanation(*c, c->state == ContactState::kWaiting ? kNone
                                     : c->agent != kNone                ? c->agent
                                     : c->offered_to.empty()            ? kNone
                                                                        : c->offered_to.front());
}

const Explanation* Acd::LastOfferExplanation(ContactId id) const {
  const ContactRt* c = impl_->contacts.Find(id);
  return c ? c->explanation.get() : nullptr;
}

size_t Acd::MemoryBytes() const {
  const Impl& m = *impl_;
  size_t bytes = sizeof(Impl);
  for (const AgentRt& a : m.agents) {
    bytes += sizeof(AgentRt) + a.def.name.capacity() + a.def.full_name.capacity() +
             a.def.skills.capacity() * sizeof(SkillLevel) +
             a.def.queues.capacity() * sizeof(QueueAssignment) +
             a.nodes.size() * (sizeof(MemberNode) + sizeof(MemberCold)) + a.skill_table.capacity() +
             a.work.capacity() * sizeof(WorkItem);
  }
  for (const QueueRt& q : m.queues) {
    bytes += sizeof(QueueRt) + q.nodes.capacity() * sizeof(void*) +
             q.built.capacity() * sizeof(BuiltMember) + q.free_agents.size() * sizeof(AgentSet) +
             q.waiting.size() * sizeof(ContactSet) +
             q.member_agents.capacity() * sizeof(AgentIndex) +
             q.def.members.capacity() * sizeof(AgentIndex);
  }
  bytes += m.agent_by_name.size() * 64 + m.queue_by_name.size() * 64;
  bytes += m.contacts.MemoryBytes();
  return bytes;
}

}  // namespace parley
