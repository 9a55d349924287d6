#pragma once
// Acd::Impl: the ACD's state and algorithms, shared by acd.cc (decisions) and explain.cc
// (explanations). Private to src/acd. See acd_internal.h for the data layout.

#include <algorithm>
#include <deque>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "acd/acd.h"
#include "acd/acd_internal.h"
#include "base/huge_page_allocator.h"

namespace parley {

using namespace acd_internal;  // NOLINT(google-build-using-namespace): src/acd's own internals

struct Acd::Impl {
  Impl(Acd& owner, Clock& c, TimerQueue& t, AcdObserver& o, AcdOptions opts)
      : self(owner),
        clock(c),
        timers(t),
        observer(o),
        options(std::move(opts)),
        random(options.seed) {}

  Acd& self;
  Clock& clock;
  TimerQueue& timers;
  AcdObserver& observer;
  AcdOptions options;
  Random random;
  RoutingSettings settings;

  // Large tables live on transparent huge pages (base/huge_page_allocator.h): at 50k agents
  // they span tens of megabytes, accessed at random.
  std::vector<AgentRt, HugePageAllocator<AgentRt>> agents;
  std::vector<QueueRt, HugePageAllocator<QueueRt>> queues;
  std::vector<std::string> skill_names;
  std::unordered_map<std::string, AgentIndex> agent_by_name;
  std::unordered_map<std::string, QueueIndex> queue_by_name;

  ContactPool contacts;
  int64_t current_day = std::numeric_limits<int64_t>::min();
  bool day_timer_armed = false;
  Event scratch;  // reused for every emitted event

  // ----- time helpers -----
  TimePoint Now() const { return clock.Now(); }
  int64_t DayOf(TimePoint t) const {
    if (options.day_of) return options.day_of(t);
    const int64_t us = ToMicros(t);  // UTC days
    return us >= 0 ? us / kMicrosPerDay : (us - kMicrosPerDay + 1) / kMicrosPerDay;
  }

  // ----- events -----
  void Emit(EventType type, ContactId contact, Channel channel, AgentIndex agent, QueueIndex queue,
            int64_t value = 0, std::string_view text = {}) {
    scratch.type = type;
    scratch.time = Now();
    scratch.contact = contact;
    scratch.agent = agent;
    scratch.queue = queue;
    scratch.channel = channel;
    scratch.value = value;
    if (!text.empty() || !scratch.text.empty()) scratch.text.assign(text);
    observer.OnEvent(scratch);
  }
  void Emit(EventType type, const ContactRt* c, AgentIndex agent, QueueIndex queue,
            int64_t value = 0, std::string_view text = {}) {
    Emit(type, c ? c->id : ContactId{}, c ? c->channel : Channel::kVoice, agent, queue, value,
         text);
  }

  // ----- agent routability -----
  bool Routable(const AgentRt& a, Channel ch) const {
    if (a.removed || a.presence != Presence::kAvailable) return false;
    const int i = Index(ch);
    if (a.capacity[i] == 0 || a.used[i] >= a.capacity[i]) return false;
    if (a.voice_blocks && ch != Channel::kVoice && a.voice_active > 0) {
      return false;
    }
    if (a.wrap_up_blocks && a.wrap_ups > 0) return false;
    return true;
  }

  // Occupancy for least-occupied: the share of each channel's capacity in use, summed, in ppm.
  int64_t LoadPpm(const AgentRt& a) const {
    int64_t load = 0;
    for (int i = 0; i < kChannelCount; ++i) {
      if (a.capacity[i] > 0) load += int64_t{a.used[i]} * 1'000'000 / a.capacity[i];
    }
    return load;
  }

  uint32_t HandledToday(const AgentRt& a) const {
    return a.handled_day == current_day ? a.handled_today : 0;
  }

  void ComputeKey(const AgentRt& a, MemberNode& n) const {
    const int64_t idle = ToMicros(a.idle_since);
    switch (n.strategy) {
      case Strategy::kLongestIdle:
      case Strategy::kRingAll:
        n.key1 = idle;
        n.key2 = 0;
        break;
      case Strategy::kLeastOccupied:
        n.key1 = LoadPpm(a);
        n.key2 = idle;
        break;
      case Strategy::kFewestContacts:
        n.key1 = HandledToday(a);
        n.key2 = idle;
        break;
      case Strategy::kRoundRobin:
      case Strategy::kLinear:
        n.key2 = 0;  // key1, the member's position, is StaticKey1: written once
        break;
      case Strategy::kRandom:  // drawn at decision time from random_pool
        n.key1 = 0;
        n.key2 = 0;
        break;
      case Strategy::kBestSkill:
        n.key2 = idle;  // key1, minus the proficiency, is StaticKey1: the cold line stays unread
        break;
    }
  }
  // The first score of the strategies whose first score never changes (a member's position,
  // its proficiency), which BuildNodeArena writes once; the others' is written by ComputeKey.
  static int64_t StaticKey1(Strategy s, const MemberCold& cold) {
    switch (s) {
      case Strategy::kRoundRobin:
      case Strategy::kLinear:
        return cold.position;
      case Strategy::kBestSkill:
        return -int64_t{cold.proficiency};
      default:
        return 0;
    }
  }

  // Asks for the agent's membership nodes, which Reindex and FindContactFor are about to walk,
  // while the caller does other work.
  static void PrefetchNodes(const AgentRt& a) {
    for (const MemberNode& node : a.nodes) __builtin_prefetch(&node);
  }
  // The channels the agent could take a contact of now, one bit per Channel index.
  uint32_t RoutableChannels(const AgentRt& a) const {
    uint32_t mask = 0;
    for (int i = 0; i < kChannelCount; ++i) {
      if (Routable(a, static_cast<Channel>(i))) mask |= 1u << i;
    }
    return mask;
  }
  // Whether node n belongs in its free-agent set for an agent routable on `routable`.
  static bool Wanted(const MemberNode& n, uint32_t routable) {
    return n.set && ((routable >> Index(n.channel)) & 1u) != 0;
  }

  // Puts every membership node of the agent into or out of its queue's free-agent index,
  // according to what the agent can take now, with fresh scores.
  void Reindex(AgentRt& a) {
    const uint32_t routable = RoutableChannels(a);
    // An agent who can take nothing and is in no set (a single-channel agent accepting its
    // offer) has nothing to move: skip the walk and its cache misses on the sets.
    if (routable == 0 && a.linked_nodes == 0) return;
    // The node carries its set, channel and strategy, so this loop touches no QueueRt: at 40k
    // queues those are cold, and reading them was most of the cost of a decision. The sets'
    // headers and roots are other cache lines, one per node: ask for all of them first, so the
    // misses overlap instead of following one another. Nodes that stay out of their sets need
    // neither.
    for (const MemberNode& node : a.nodes) {
      if (node.linked || Wanted(node, routable)) __builtin_prefetch(node.set);
    }
    for (const MemberNode& node : a.nodes) {
      if ((node.linked || Wanted(node, routable)) && !node.set->empty()) {
        __builtin_prefetch(&*node.set->root());
      }
    }
    for (MemberNode& node : a.nodes) {
      MemberNode* n = &node;
      if (n->linked) {
        n->set->erase(n->set->iterator_to(*n));
        n->linked = false;
        --a.linked_nodes;
        if (n->strategy == Strategy::kRandom) {
          auto& pool = *Cold(*n).pool;
          pool[n->pool_pos] = pool.back();
          pool[n->pool_pos]->pool_pos = n->pool_pos;
          pool.pop_back();
        }
      }
      if (!Wanted(*n, routable)) continue;
      ComputeKey(a, *n);
      // Hinted at the end: an agent who just finished has the newest idle time, so for
      // longest-idle it usually goes last, which the hint finds with one comparison (a wrong
      // hint costs that comparison and a normal search).
      n->set->insert(n->set->end(), *n);
      n->linked = true;
      ++a.linked_nodes;
      if (n->strategy == Strategy::kRandom) {
        auto& pool = *Cold(*n).pool;
        n->pool_pos = static_cast<uint32_t>(pool.size());
        pool.push_back(n);
      }
    }
  }

  // ----- eligibility of one agent for one contact beyond the index -----
  enum class Block { kNone, kSkill, kRefused, kDelay };

  Block CheckPair(const AgentRt& a, const MemberNode& n, const ContactRt& c, TimePoint now,
                  TimePoint* retry_at) const {
    for (const SkillRequirement& r : c.spec.skills) {
      if (a.Proficiency(r.skill) < r.min_proficiency) return Block::kSkill;
    }
    for (const Refusal& r : c.refused) {
      if (r.agent == a.index && now < r.until) {
        if (retry_at) *retry_at = std::min(*retry_at, r.until);
        return Block::kRefused;
      }
    }
    const Duration delay = n.has_delay ? Cold(n).delay : Duration{0};
    if (delay.count() > 0 && now - c.queued_at < delay) {
      if (retry_at) *retry_at = std::min(*retry_at, c.queued_at + delay);
      return Block::kDelay;
    }
    return Block::kNone;
  }

  // ----- contact-side decision: best free agent for contact c -----
  // Returns the chosen node (or nullptr); for ring-all fills `all` with every eligible node.
  MemberNode* FindAgentFor(ContactRt& c, std::vector<MemberNode*>* all, TimePoint* retry_at) {
    QueueRt& q = queues[c.queue];
    const TimePoint now = Now();
    const uint64_t step_bit = uint64_t{1} << c.step;
    MemberNode* best = nullptr;
    int64_t best_rr = 0;
    const bool rr = q.strategy == Strategy::kRoundRobin;
    if (q.strategy == Strategy::kRandom && !all) return DrawRandom(c, q, retry_at);
    for (uint32_t cls = 0; cls < q.class_masks.size(); ++cls) {
      if ((q.class_masks[cls] & step_bit) == 0) continue;
      AgentSet& set = q.free_agents[q.SetIndex(c.channel_slot, cls)];
      if (set.empty()) continue;
      // Round-robin with memory starts after the last position served and wraps around.
      auto start = set.begin();
      if (rr) {
        MemberNode probe;
        probe.key1 = q.rr_last_position + 1;
        probe.key2 = std::numeric_limits<int64_t>::min();
        probe.agent = 0;
        start = set.lower_bound(probe);
      }
      // Scan [start, end) then [begin, start): the first node that passes is this class's best,
      // because the set is in the strategy's order.
      MemberNode* found = nullptr;
      auto scan = [&](AgentSet::iterator from, AgentSet::iterator to) {
        for (auto it = from; it != to; ++it) {
          ++self.stats_.candidates_scanned;
          MemberNode& n = *it;
          if (CheckPair(agents[n.agent], n, c, now, retry_at) != Block::kNone) continue;
          if (all) {
            all->push_back(&n);
            continue;
          }
          found = &n;
          return true;
        }
        return false;
      };
      if (!scan(start, set.end()) && start != set.begin()) scan(set.begin(), start);
      if (!found) continue;
      if (rr) {
        const int64_t dist = found->key1 > q.rr_last_position ? found->key1 - q.rr_last_position
                                                              : found->key1 + kRoundRobinWrap;
        if (!best || dist < best_rr) {
          best = found;
          best_rr = dist;
        }
      } else if (!best || NodeLess(*found, *best)) {
        best = found;
      }
    }
    return best;
  }

  // Random: a uniform draw over the free agents of every allowed class; an agent that fails the
  // contact's own checks is passed over by walking on from the draw.
  MemberNode* DrawRandom(ContactRt& c, QueueRt& q, TimePoint* retry_at) {
    const TimePoint now = Now();
    const uint64_t step_bit = uint64_t{1} << c.step;
    uint64_t total = 0;
    for (uint32_t cls = 0; cls < q.class_masks.size(); ++cls) {
      if (q.class_masks[cls] & step_bit)
        total += q.random_pool[q.SetIndex(c.channel_slot, cls)].size();
    }
    if (total == 0) return nullptr;
    const uint64_t first = random.Below(total);
    for (uint64_t k = 0; k < total; ++k) {
      uint64_t r = (first + k) % total;
      for (uint32_t cls = 0; cls < q.class_masks.size(); ++cls) {
        if ((q.class_masks[cls] & step_bit) == 0) continue;
        const auto& pool = q.random_pool[q.SetIndex(c.channel_slot, cls)];
        if (r >= pool.size()) {
          r -= pool.size();
          continue;
        }
        ++self.stats_.candidates_scanned;
        MemberNode* n = pool[r];
        if (CheckPair(agents[n->agent], *n, c, now, retry_at) == Block::kNone) return n;
        break;
      }
    }
    return nullptr;
  }

  // Effective priority for cross-queue comparison: priority plus aging at `now`.
  double EffectiveScore(const ContactRt& c, const QueueRt& q, TimePoint now) const {
    double s = c.priority;
    if (q.aging_per_minute != 0) {
      s += q.aging_per_minute * ToSeconds(now - c.arrived_at) / 60.0;
    }
    return s;
  }

  // ----- agent-side decision: best waiting contact for agent a across its queues -----
  struct ContactPick {
    ContactRt* contact = nullptr;
    const MemberNode* node = nullptr;
  };

  bool PickBetter(const ContactPick& cand, const ContactPick& best, TimePoint now) const {
    if (!best.contact) return true;
    const QueueRt& qc = queues[cand.node->queue];
    const QueueRt& qb = queues[best.node->queue];
    const uint16_t oc = Cold(*cand.node).order, ob = Cold(*best.node).order;
    if (oc != ob) return oc < ob;
    if (qc.def.priority != qb.def.priority) return qc.def.priority > qb.def.priority;
    const double sc = EffectiveScore(*cand.contact, qc, now);
    const double sb = EffectiveScore(*best.contact, qb, now);
    if (sc != sb) return sc > sb;
    if (cand.contact->arrived_at != best.contact->arrived_at) {
      return cand.contact->arrived_at < best.contact->arrived_at;
    }
    return cand.contact->seq < best.contact->seq;
  }

  ContactPick FindContactFor(AgentRt& a, TimePoint* retry_at) {
    ContactPick best;
    const TimePoint now = Now();
    // From the agent's state, not the nodes' links, so that it also serves an agent whose
    // nodes Reindex has not moved yet (ReindexAndRoute).
    const uint32_t routable = RoutableChannels(a);
    // Every queue's waiting count first, then both lines of each queue with contacts waiting,
    // so that the misses of all the agent's queues overlap instead of following one another.
    for (const MemberNode& node : a.nodes) __builtin_prefetch(&waiting_counts[node.queue]);
    for (const MemberNode& node : a.nodes) {
      if (Wanted(node, routable) && waiting_counts[node.queue] != 0) {
        const char* q = reinterpret_cast<const char*>(&queues[node.queue]);
        __builtin_prefetch(q);
        __builtin_prefetch(q + 64);
      }
    }
    for (MemberNode& node : a.nodes) {
      MemberNode* n = &node;
      if (!Wanted(*n, routable)) continue;          // not routable for this queue's channel now
      if (waiting_counts[n->queue] == 0) continue;  // dense array: no QueueRt miss
      QueueRt& q = queues[n->queue];
      // The node's class from its set's place (set index = channel slot x classes + class):
      // the cold array would be one more miss per queue.
      const auto cls = static_cast<uint32_t>(n->set - q.free_agents.data()) -
                       uint32_t{n->channel_slot} * q.class_count;
      const uint64_t mask = q.class_masks[cls];
      for (uint32_t step = 0; step < q.step_count; ++step) {
        if ((mask & (uint64_t{1} << step)) == 0) continue;
        ContactSet& set = q.waiting[q.WaitIndex(n->channel_slot, step)];
        for (ContactRt& c : set) {
          ++self.stats_.candidates_scanned;
          TimePoint wake = TimePoint::max();
          if (CheckPair(a, *n, c, now, &wake) != Block::kNone) {
            // Skipped for this agent's queue delay or refusal: look again when that ends.
            ArmRetry(c, wake);
            if (retry_at) *retry_at = std::min(*retry_at, wake);
            continue;
          }
          ContactPick cand{&c, n};
          if (PickBetter(cand, best, now)) best = cand;
          break;
        }
      }
    }
    return best;
  }

  // ----- waiting sets -----
  void InsertWaiting(ContactRt& c) {
    QueueRt& q = queues[c.queue];
    q.waiting[q.WaitIndex(c.channel_slot, c.step)].insert(c);
    c.linked = true;
    ++waiting_counts[c.queue];
  }
  void EraseWaiting(ContactRt& c) {
    if (!c.linked) return;
    QueueRt& q = queues[c.queue];
    ContactSet& set = q.waiting[q.WaitIndex(c.channel_slot, c.step)];
    set.erase(set.iterator_to(c));
    c.linked = false;
    --waiting_counts[c.queue];
  }
  void ComputeContactKey(ContactRt& c) {
    const QueueRt& q = queues[c.queue];
    // Aging grows every waiting contact's score at the same rate, so ordering by priority minus
    // aging times arrival is the same as ordering by the aged score at any moment.
    c.sort_score = -(static_cast<double>(c.priority) -
                     q.aging_per_minute * static_cast<double>(ToMicros(c.arrived_at)) / 6e7);
  }

  // ----- timers -----
  void ArmTimer(TimerKind kind, ContactRt& c, uint32_t aux, TimePoint at) {
    timers.Schedule(at, self, MakeTag(kind, ContactA(aux, c.incarnation), c.slot));
  }
  void ArmQueueTimers(ContactRt& c) {
    const QueueRt& q = queues[c.queue];
    // step_count is the escalation's length + 1: the definition is read only when a step exists.
    if (c.step + 1 < q.step_count) {
      ArmTimer(TimerKind::kEscalate, c, c.step, c.queued_at + q.def.escalation[c.step].after);
    }
    if (q.max_wait.count() > 0) {
      ArmTimer(TimerKind::kMaxWait, c, c.queue_visit & kAuxMask, c.queued_at + q.max_wait);
    }
  }
  void ArmRetry(ContactRt& c, TimePoint at) {
    if (at == TimePoint::max()) return;
    if (c.retry_at <= at && c.retry_at > Now()) return;  // an earlier retry is pending
    c.retry_at = at;
    ArmTimer(TimerKind::kRetry, c, 0, at);
  }
  void ArmDayTimer() {
    if (day_timer_armed) return;
    // The next local midnight: search forward an hour at a time, then by the minute. Cheap, and
    // right for any day_of function (time zones with DST included).
    const int64_t today = current_day;
    TimePoint t = Now();
    while (DayOf(t) == today) t += std::chrono::hours(1);
    t -= std::chrono::hours(1);
    while (DayOf(t) == today) t += std::chrono::minutes(1);
    timers.Schedule(t, self, MakeTag(TimerKind::kDay, 0, 0));
    day_timer_armed = true;
  }

  // ----- routing entry points -----
  // Offers waiting contact c if an agent can take it. A new contact may come here before it is
  // in its waiting set: it joins the set only when nobody takes it, which saves two operations
  // on a cold set for every contact answered at once.
  void RouteContact(ContactRt& c) {
    ++self.stats_.decisions;
    QueueRt& q = queues[c.queue];
    TimePoint retry = TimePoint::max();
    if (q.strategy == Strategy::kRingAll) {
      std::vector<MemberNode*>& all = ring_scratch;
      all.clear();
      FindAgentFor(c, &all, &retry);
      if (!all.empty()) {
        OfferRingAll(c, all);
        return;
      }
    } else if (MemberNode* n = FindAgentFor(c, nullptr, &retry)) {
      Offer(c, agents[n->agent], *n);
      return;
    }
    if (!c.linked) InsertWaiting(c);
    ArmRetry(c, retry);
  }

  void RouteAgent(AgentRt& a) { RouteAgent(a, /*indexed=*/true); }
  // After the agent freed capacity: the same as Reindex(a) then RouteAgent(a) when available,
  // but an agent who takes a waiting contact at once skips putting its nodes into the free sets
  // only for Offer to take them out again (at 90% occupancy most completions find one waiting).
  // Explanations read the links of every member, so with them on the index comes first.
  void ReindexAndRoute(AgentRt& a) {
    if (a.presence != Presence::kAvailable || options.explain_offers) {
      Reindex(a);
      if (a.presence == Presence::kAvailable) RouteAgent(a);
      return;
    }
    RouteAgent(a, /*indexed=*/false);
  }
  // With `indexed` false the agent's nodes may not reflect its state yet; FindContactFor does
  // not read them, and they are brought up to date before anything that does.
  void RouteAgent(AgentRt& a, bool indexed) {
    // An agent with capacity on several channels may take several contacts in a row.
    for (int guard = 0; guard < 64; ++guard) {
      ++self.stats_.decisions;
      TimePoint retry = TimePoint::max();
      ContactPick pick = FindContactFor(a, &retry);
      if (!pick.contact) {
        // Contacts skipped because of this agent's queue delay or a refusal wake up later.
        if (!indexed) Reindex(a);
        return;
      }
      ContactRt& c = *pick.contact;
      QueueRt& q = queues[c.queue];
      if (q.strategy == Strategy::kRingAll) {
        // Ring-all offers the contact to every eligible agent, not just this one.
        if (!indexed) Reindex(a);
        indexed = true;
        RouteContact(c);
      } else {
        Offer(c, a, *pick.node);  // reindexes the agent
        indexed = true;
      }
    }
    if (!indexed) Reindex(a);
  }

  void RouteWaitingAfterChange(QueueRt& q) {
    // After a reload or a retry: offer what can be offered, oldest first per waiting set.
    std::vector<ContactRt*> list;
    for (ContactSet& set : q.waiting) {
      for (ContactRt& c : set) list.push_back(&c);
    }
    for (ContactRt* c : list) {
      if (c->state == ContactState::kWaiting) RouteContact(*c);
    }
  }

  // ----- offers -----
  void TakeSlot(AgentRt& a, ContactRt& c, WorkStage stage, bool ring_all) {
    WorkRt w;
    w.contact = c.id;
    w.channel = c.channel;
    w.queue = c.queue;
    w.stage = stage;
    w.since = Now();
    w.ring_all = ring_all;
    a.work.push_back(w);
    ++a.used[Index(c.channel)];
    if (c.channel == Channel::kVoice) ++a.voice_active;
  }
  // Releases the agent's slot for c; returns false if the agent held nothing for c.
  bool ReleaseSlot(AgentRt& a, ContactId id) {
    for (size_t i = 0; i < a.work.size(); ++i) {
      if (a.work[i].contact != id) continue;
      const WorkRt w = a.work[i];
      a.work[i] = a.work.back();
      a.work.pop_back();
      --a.used[Index(w.channel)];
      if (w.channel == Channel::kVoice && w.stage != WorkStage::kWrapUp) --a.voice_active;
      if (w.stage == WorkStage::kWrapUp) --a.wrap_ups;
      return true;
    }
    return false;
  }
  WorkRt* FindWork(AgentRt& a, ContactId id) {
    for (WorkRt& w : a.work) {
      if (w.contact == id) return &w;
    }
    return nullptr;
  }

  void Offer(ContactRt& c, AgentRt& a, const MemberNode& n) {
    ++self.stats_.offers;
    EraseWaiting(c);
    QueueRt& q = queues[c.queue];
    if (q.strategy == Strategy::kRoundRobin) q.rr_last_position = Cold(n).position;
    c.state = ContactState::kOffered;
    c.offered_to.assign(1, a.index);
    c.ring_all = false;
    if (c.times.offered == TimePoint{}) c.times.offered = Now();
    ++c.offer_seq;
    if (options.explain_offers) CaptureExplanation(c, a.index);
    TakeSlot(a, c, WorkStage::kOffered, false);
    Reindex(a);
    Emit(EventType::kContactOffered, &c, a.index, c.queue);
    StartOfferClock(c, q.offer_timeout);
  }

  void OfferRingAll(ContactRt& c, const std::vector<MemberNode*>& nodes) {
    ++self.stats_.offers;
    EraseWaiting(c);
    QueueRt& q = queues[c.queue];
    c.state = ContactState::kOffered;
    c.ring_all = true;
    c.offered_to.clear();
    if (c.times.offered == TimePoint{}) c.times.offered = Now();
    ++c.offer_seq;
    // Copy first: reindexing agents changes the sets the nodes came from.
    std::vector<AgentIndex> chosen;
    for (MemberNode* n : nodes) {
      if (std::find(chosen.begin(), chosen.end(), n->agent) == chosen.end()) {
        chosen.push_back(n->agent);
      }
    }
    if (options.explain_offers) CaptureExplanation(c, chosen.front());
    for (AgentIndex ai : chosen) {
      AgentRt& a = agents[ai];
      c.offered_to.push_back(ai);
      TakeSlot(a, c, WorkStage::kOffered, true);
      Reindex(a);
      Emit(EventType::kContactOffered, &c, ai, c.queue);
    }
    StartOfferClock(c, q.offer_timeout);
  }

  // Takes back the offer of c from agent ai (not the agent's fault): withdrawn event, slot freed.
  void WithdrawFrom(ContactRt& c, AgentIndex ai, std::vector<AgentIndex>* freed) {
    AgentRt& a = agents[ai];
    if (ReleaseSlot(a, c.id)) {
      Emit(EventType::kOfferWithdrawn, &c, ai, c.queue);
      Reindex(a);
      if (freed) freed->push_back(ai);
    }
  }

  // The contact `id` as offered to agent `ai`, or why it is not.
  Result<ContactRt*> FindOffered(ContactId id, AgentIndex ai) {
    ContactRt* c = contacts.Find(id);
    if (!c) return NotFound("no contact " + std::to_string(id.value()));
    if (c->state != ContactState::kOffered ||
        std::find(c->offered_to.begin(), c->offered_to.end(), ai) == c->offered_to.end()) {
      return Conflict("contact " + std::to_string(id.value()) + " is not offered to this agent");
    }
    return c;
  }

  // ----- offer timeouts -----
  void StartOfferClock(ContactRt& c, Duration timeout) {
    StopOfferClock(c);
    size_t k = 0;
    while (k < offer_clocks.size() && offer_clocks[k].timeout != timeout) ++k;
    if (k == offer_clocks.size()) {
      offer_clocks.emplace_back();
      offer_clocks.back().timeout = timeout;
    }
    OfferClock& oc = offer_clocks[k];
    c.offer_deadline = Now() + timeout;
    c.offer_clock = static_cast<uint16_t>(k);
    oc.pending.push_back(c);
    c.in_offer_list = true;
    if (!oc.armed) {
      timers.Schedule(c.offer_deadline, self,
                      MakeTag(TimerKind::kOfferClock, 0, static_cast<uint32_t>(k)));
      oc.armed = true;
    }
  }
  void StopOfferClock(ContactRt& c) {
    if (!c.in_offer_list) return;
    OfferList& list = offer_clocks[c.offer_clock].pending;
    list.erase(list.iterator_to(c));
    c.in_offer_list = false;
  }
  // Every contact leaves routing through here.
  void ReleaseContact(ContactRt& c) {
    StopOfferClock(c);
    contacts.Release(c);
  }
  void OfferTimedOut(ContactRt& c);
  void OnOfferClock(uint32_t k);
  std::deque<OfferClock> offer_clocks;  // deque: lists stay put as clocks are added

  void ReturnToQueue(ContactRt& c) {
    StopOfferClock(c);
    c.state = ContactState::kWaiting;
    c.offered_to.clear();
    c.ring_all = false;
    InsertWaiting(c);
  }

  // The agent did not take the offer (rejected or timed out).
  void Missed(ContactRt& c, AgentRt& a, EventType why) {
    ReleaseSlot(a, c.id);
    Emit(why, &c, a.index, c.queue);
    c.offered_to.erase(std::remove(c.offered_to.begin(), c.offered_to.end(), a.index),
                       c.offered_to.end());
    c.refused.push_back(Refusal{a.index, Now() + settings.reoffer_delay});
    if (c.refused.size() > kMaxRefusals) c.refused.erase(c.refused.begin());
    if (!c.ring_all) {
      ++a.consecutive_misses;
      if (settings.max_consecutive_misses > 0 &&
          a.consecutive_misses >= settings.max_consecutive_misses &&
          a.presence == Presence::kAvailable) {
        ChangePresence(a, Presence::kNotReady, kMissedReason);
      }
    }
    Reindex(a);
  }

  void ChangePresence(AgentRt& a, Presence p, std::string_view reason) {
    if (p == Presence::kAvailable && a.presence != Presence::kAvailable) {
      a.idle_since = std::max(a.idle_since, Now());
      a.consecutive_misses = 0;
    }
    a.presence = p;
    a.reason.assign(reason);
    a.presence_since = Now();
    Emit(EventType::kPresenceChanged, nullptr, a.index, kNone, static_cast<int64_t>(p), reason);
  }

  // The agent's part of contact c moves to wrap-up, with a timer when the queue sets a time.
  void StartWrapUp(AgentRt& a, WorkRt& w, ContactRt& c, Duration wrap) {
    w.stage = WorkStage::kWrapUp;
    w.since = Now();
    if (w.channel == Channel::kVoice) --a.voice_active;
    ++a.wrap_ups;
    w.wrap_seq = ++a.wrap_seq & 0x0fffffffu;
    Emit(EventType::kWrapUpStarted, &c, a.index, c.queue);
    timers.Schedule(Now() + wrap, self, MakeTag(TimerKind::kWrapUp, w.wrap_seq, a.index));
  }

  void CloseContact(ContactRt& c) {
    c.state = ContactState::kGone;
    c.times.closed = Now();
    Emit(EventType::kContactClosed, &c, c.agent, c.queue);
    ReleaseContact(c);
  }

  void FinishWork(AgentRt& a) {
    a.idle_since = Now();
    const int64_t today = DayOf(Now());
    if (a.handled_day != today) {
      a.handled_day = today;
      a.handled_today = 0;
    }
    ++a.handled_today;
    if (today != current_day) {
      current_day = today;
      day_timer_armed = false;
      ArmDayTimer();
    }
  }

  // ----- explanation -----
  std::string DescribeStep(const QueueRt& q, uint32_t step) const;
  std::string DescribeIneligible(const AgentRt& a, const MemberNode& n, const ContactRt& c,
                                 TimePoint now) const;
  std::string DescribeScore(const QueueRt& q, const MemberNode& n) const;
  Explanation BuildExplanation(const ContactRt& c, AgentIndex chosen) const;
  void CaptureExplanation(ContactRt& c, AgentIndex chosen) {
    if (!c.explanation) c.explanation = std::make_unique<Explanation>();
    *c.explanation = BuildExplanation(c, chosen);
  }

  Status Configure(const RoutingConfig& config);
  Status TakeOut(ContactId id, EventType why, std::string_view verb);
  // Shared by Transfer and TransferOut: the handling agent's part of a handled contact ends
  // (hold, handling, kContactTransferred to `to`, wrap-up or done); returns that agent.
  AgentRt& HandOver(ContactRt& c, QueueIndex to, std::string_view how = {});
  void WaitAgain(ContactRt& c, QueueIndex qi, uint8_t slot);
  void BuildQueueIndex(QueueRt& q, const std::vector<ProfileEntry>& listed);
  void BuildNodeArena();
  std::vector<AgentSet, HugePageAllocator<AgentSet>> free_set_arena;         // by queue
  std::vector<ContactSet, HugePageAllocator<ContactSet>> waiting_set_arena;  // by queue
  std::vector<MemberNode, HugePageAllocator<MemberNode>> node_arena;         // grouped by agent
  std::vector<MemberCold, HugePageAllocator<MemberCold>> node_cold;  // parallel to node_arena
  MemberCold& Cold(const MemberNode& n) { return node_cold[&n - node_arena.data()]; }
  const MemberCold& Cold(const MemberNode& n) const { return node_cold[&n - node_arena.data()]; }
  std::vector<uint32_t> waiting_counts;  // by queue: contacts waiting
  std::vector<uint32_t> member_seen;     // BuildQueueIndex's per-agent stamps
  uint32_t member_stamp = 0;
  std::vector<MemberNode*> ring_scratch;
};

}  // namespace parley
