#pragma once
// The ACD's data layout, private to src/acd. Everything here is owned by one Acd and used on its
// thread.
//
// Indices, per queue:
//  - free agents: one ordered set per (channel of the queue, eligibility class). A class groups
//    the members that are eligible at the same escalation steps; a member's node is in its set
//    exactly while the agent could take a contact of that channel now. Sets are ordered by the
//    queue strategy's score, so the best free agent of a class is the first that passes the
//    contact's own checks.
//  - waiting contacts: one ordered set per (channel, escalation step), by priority (with aging),
//    then arrival.
// A contact-side decision looks at the first node of each allowed class; an agent-side decision
// at the first contact of each allowed step of each queue the agent serves. Both are intrusive
// (boost::intrusive), so deciding allocates nothing.

#include <absl/container/flat_hash_map.h>
#include <absl/container/inlined_vector.h>

#include <algorithm>
#include <array>
#include <boost/intrusive/list.hpp>
#include <boost/intrusive/set.hpp>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "acd/acd.h"
#include "base/huge_page_allocator.h"

namespace parley::acd_internal {

namespace bi = boost::intrusive;

constexpr uint32_t kNoClass = 0xffffffffu;
constexpr uint16_t kDefaultOrder = 1000;
constexpr int64_t kRoundRobinWrap = int64_t{1} << 40;
constexpr int64_t kMicrosPerDay = int64_t{86'400} * 1'000'000;
constexpr size_t kMaxRefusals = 8;
constexpr uint32_t kAuxMask = 0xfff;

// Timer tags: kind (4 bits) | a (28 bits) | b (32 bits).
enum class TimerKind : uint8_t { kOfferClock = 1, kEscalate, kMaxWait, kRetry, kWrapUp, kDay };

inline uint64_t MakeTag(TimerKind kind, uint32_t a28, uint32_t b32) {
  return (uint64_t{static_cast<uint8_t>(kind)} << 60) | (uint64_t{a28 & 0x0fffffffu} << 32) | b32;
}
inline TimerKind TagKind(uint64_t tag) { return static_cast<TimerKind>(tag >> 60); }
inline uint32_t TagA(uint64_t tag) { return static_cast<uint32_t>(tag >> 32) & 0x0fffffffu; }
inline uint32_t TagB(uint64_t tag) { return static_cast<uint32_t>(tag); }
// Contact timers: a = aux (12 bits) << 16 | incarnation (16 bits), b = contact slot.
inline uint32_t ContactA(uint32_t aux, uint16_t incarnation) {
  return ((aux & kAuxMask) << 16) | incarnation;
}

struct StepRule {
  std::vector<SkillRequirement> skills;
  std::vector<TeamIndex> teams;  // empty: any team
};

struct MemberNode;
struct NodeCompare {
  bool operator()(const MemberNode& a, const MemberNode& b) const;
};

using CompactHook = bi::set_base_hook<bi::link_mode<bi::normal_link>, bi::optimize_size<true>>;

// One agent's membership of one queue for one of the queue's channels: exactly one cache line
// with what a tree walk, Reindex and the agent-side scan read. The rest is in MemberCold, a
// parallel array (Impl::Cold(node)).
struct alignas(64) MemberNode : CompactHook {
  int64_t key1 = 0;  // the strategy's score, lower is better; ties: lower agent index
  int64_t key2 = 0;
  // The free-agent set this node belongs to (null: never eligible); it lives in the Acd's set
  // arena, which is rebuilt only by a reload, when no node is linked.
  bi::set<MemberNode, bi::compare<NodeCompare>, bi::constant_time_size<false>>* set = nullptr;
  AgentIndex agent = 0;
  QueueIndex queue = 0;
  uint32_t pool_pos = 0;  // position in its random pool (random strategy only)
  bool linked : 1 = false;
  bool has_delay : 1 = false;  // MemberCold::delay > 0: the checks read the cold array only then
  Channel channel = Channel::kVoice;
  Strategy strategy = Strategy::kLongestIdle;
  uint8_t channel_slot = 0;
};
static_assert(sizeof(MemberNode) == 64, "one cache line");

struct MemberCold {
  std::vector<MemberNode*>* pool = nullptr;  // random strategy only
  uint16_t order = kDefaultOrder;            // the agent's routing-profile order for this queue
  uint32_t cls = kNoClass;
  uint32_t set_index = 0;
  uint32_t proficiency = 0;  // sum over the queue's skills, for best-skill
  int64_t position = 0;      // member order in the queue, for linear and round-robin
  Duration delay{0};         // routing-profile delay
};

inline bool NodeLess(const MemberNode& a, const MemberNode& b) {
  if (a.key1 != b.key1) return a.key1 < b.key1;
  if (a.key2 != b.key2) return a.key2 < b.key2;
  return a.agent < b.agent;
}
inline bool NodeCompare::operator()(const MemberNode& a, const MemberNode& b) const {
  return NodeLess(a, b);
}
using AgentSet = bi::set<MemberNode, bi::compare<NodeCompare>, bi::constant_time_size<false>>;

struct Refusal {
  AgentIndex agent;
  TimePoint until;
};

// A contact in routing. The first cache line holds what the waiting-set order and the checks
// of every call read; the spec and the lists come after.
struct alignas(64) ContactRt : CompactHook {
  double sort_score = 0;   // lower first: minus (priority - aging x arrival)
  TimePoint arrived_at{};  // first arrival; kept across overflow and transfer
  uint64_t seq = 0;
  ContactId id;
  ContactState state = ContactState::kGone;
  Channel channel = Channel::kVoice;  // spec.channel, kept here with the state
  uint8_t channel_slot = 0;
  bool linked = false;
  uint16_t incarnation = 0;  // bumped whenever pending timers must be voided
  bool ring_all = false;
  bool on_hold = false;
  // --- second line ---
  bool in_offer_list = false;
  uint16_t offer_clock = 0;  // index into Impl::offer_clocks while in_offer_list
  TimePoint offer_deadline{};
  bi::list_member_hook<bi::link_mode<bi::normal_link>> offer_hook;
  uint32_t slot = 0;
  uint32_t step = 0;
  QueueIndex queue = kNone;
  AgentIndex agent = kNone;
  int32_t priority = 0;
  uint32_t offer_seq = 0;
  uint32_t queue_visit = 0;
  TimePoint queued_at{};  // entry into the current queue
  TimePoint retry_at = TimePoint::max();
  ContactSpec spec;
  ContactTimes times;
  std::vector<AgentIndex> offered_to;
  std::vector<Refusal> refused;
  std::unique_ptr<Explanation> explanation;

  // Back to a default-constructed contact in place, except for the incarnation, and keeping the
  // lists' capacity so a reused slot allocates nothing (cheaper than assigning a ContactRt(),
  // which builds and destroys a temporary of several cache lines). The hooks are unlinked.
  void Reset() {
    sort_score = 0;
    arrived_at = {};
    seq = 0;
    id = {};
    state = ContactState::kGone;
    channel = Channel::kVoice;
    channel_slot = 0;
    linked = false;
    ring_all = false;
    on_hold = false;
    in_offer_list = false;
    offer_clock = 0;
    offer_deadline = {};
    slot = 0;
    step = 0;
    queue = kNone;
    agent = kNone;
    priority = 0;
    offer_seq = 0;
    queue_visit = 0;
    queued_at = {};
    retry_at = TimePoint::max();
    spec.channel = Channel::kVoice;
    spec.direction = Direction::kInbound;
    spec.priority = 0;
    spec.skills.clear();
    spec.attributes.clear();
    spec.customer.clear();
    times = {};
    offered_to.clear();
    refused.clear();
    explanation.reset();
  }
};
// Reset() names every field: one added to ContactRt or ContactSpec must be reset there too.
static_assert(sizeof(ContactRt) == 384 && sizeof(ContactSpec) == 88,
              "ContactRt or ContactSpec changed: update ContactRt::Reset()");

struct ContactCompare {
  bool operator()(const ContactRt& a, const ContactRt& b) const {
    if (a.sort_score != b.sort_score) return a.sort_score < b.sort_score;
    if (a.arrived_at != b.arrived_at) return a.arrived_at < b.arrived_at;
    return a.seq < b.seq;
  }
};
using ContactSet = bi::set<ContactRt, bi::compare<ContactCompare>, bi::constant_time_size<false>>;

// Offers that share a timeout expire in the order they were made, so each distinct timeout keeps
// its pending offers in a FIFO list with at most one armed timer, for the head. Accepting an
// offer unlinks it; nothing is left behind in the TimerQueue.
using OfferList =
    bi::list<ContactRt,
             bi::member_hook<ContactRt, bi::list_member_hook<bi::link_mode<bi::normal_link>>,
                             &ContactRt::offer_hook>,
             bi::constant_time_size<false>>;
struct OfferClock {
  Duration timeout{0};
  OfferList pending;
  bool armed = false;
};

// One agent's piece of work, with the id of its wrap-up timer.
struct WorkRt : WorkItem {
  uint32_t wrap_seq = 0;
};

// An agent in routing. The first cache line holds what Routable() and Reindex read, with copies
// of the definition's capacity and blocking flags; the definition itself comes last.
struct alignas(64) AgentRt {
  Presence presence = Presence::kOffline;
  bool removed = false;
  bool voice_blocks = true;        // def.voice_blocks_other_channels
  bool wrap_up_blocks = false;     // def.wrap_up_blocks_other_channels
  PerChannel<uint8_t> capacity{};  // def.capacity
  uint16_t voice_active = 0;       // voice contacts offered or in handling
  uint16_t wrap_ups = 0;
  PerChannel<uint16_t> used{};
  uint16_t linked_nodes = 0;  // nodes in a free-agent set now (0: Reindex of a busy agent is free)
  AgentIndex index = 0;
  TimePoint idle_since{};
  std::span<MemberNode> nodes;  // this agent's memberships, contiguous in Impl::node_arena
  // --- then ---
  absl::InlinedVector<WorkRt, 2> work;  // most agents hold one or two contacts
  uint32_t consecutive_misses = 0;
  uint32_t handled_today = 0;
  int64_t handled_day = 0;
  uint32_t wrap_seq = 0;
  TimePoint presence_since{};
  std::string reason;
  std::vector<uint8_t> skill_table;  // proficiency by skill index, 0 = none
  AgentDef def;

  void SetDef(const AgentDef& d) {
    def = d;
    capacity = d.capacity;
    voice_blocks = d.voice_blocks_other_channels;
    wrap_up_blocks = d.wrap_up_blocks_other_channels;
  }

  void BuildSkillTable(size_t skills) {
    skill_table.assign(skills, 0);
    for (const SkillLevel& s : def.skills) {
      if (s.skill < skills) skill_table[s.skill] = s.proficiency;
    }
  }
  uint8_t Proficiency(SkillIndex s) const { return s < skill_table.size() ? skill_table[s] : 0; }
  bool InTeams(const std::vector<TeamIndex>& teams) const {
    if (teams.empty()) return true;
    for (TeamIndex t : teams) {
      if (t == def.team) return true;
    }
    return false;
  }
  bool Meets(const StepRule& rule) const {
    for (const SkillRequirement& r : rule.skills) {
      if (Proficiency(r.skill) < r.min_proficiency) return false;
    }
    return InTeams(rule.teams);
  }
};

// One member of a queue as listed by an agent's routing profile or the queue.
struct ProfileEntry {
  AgentIndex agent;
  uint16_t order;
  Duration delay;
};

// A member as BuildQueueIndex decided it, before its nodes are laid out.
struct BuiltMember {
  ProfileEntry entry;
  uint32_t cls;
  uint32_t proficiency;
};

// A queue in routing. At 40k queues every queue an operation touches is a cache miss per line,
// so the first line holds copies of the definition's fields that enqueueing, offering and ending
// a contact read (RefreshHot), and the second the vectors of the routing decision; the rest,
// the definition included, is read on reload, explanation and rarer events.
struct alignas(64) QueueRt {
  QueueIndex index = 0;
  bool removed = false;
  bool explicit_members = false;
  Strategy strategy = Strategy::kLongestIdle;     // def.strategy
  uint8_t channel_count = 0;                      // def.channels.size()
  std::array<Channel, kChannelCount> channels{};  // def.channels: a channel's slot
  uint32_t step_count = 1;
  uint32_t class_count = 1;
  uint32_t max_size = 0;        // def.max_size
  double aging_per_minute = 0;  // def.aging_per_minute
  Duration wrap_up{0};          // def.wrap_up
  Duration max_wait{0};         // def.max_wait
  Duration offer_timeout{0};    // def.offer_timeout
  // --- second line ---
  // class -> bit set of steps at which it is eligible; inline for a queue without escalation
  // classes, which saves the decision a miss on a separate allocation.
  absl::InlinedVector<uint64_t, 1> class_masks;
  // Views into the Acd's set arenas (Impl::BuildNodeArena), all queues' sets side by side
  // rather than one small allocation each.
  std::span<AgentSet> free_agents;  // [channel slot x class]
  std::span<ContactSet> waiting;    // [channel slot x step]
  // --- then ---
  int64_t rr_last_position = -1;
  uint32_t free_set_count = 0;     // free_agents.size() at the next arena build
  uint32_t waiting_set_count = 0;  // waiting.size() at the next arena build
  QueueDef def;
  std::vector<StepRule> step_rules;
  std::vector<ProfileEntry> last_listed;  // routing-profile members at the last build
  std::vector<MemberNode*> nodes;         // in member order, all channels
  std::vector<BuiltMember> built;         // BuildQueueIndex's result, laid out by BuildNodeArena
  std::vector<AgentIndex> member_agents;
  // Random strategy: the free nodes of each free-agent set, unordered, for a uniform draw.
  std::vector<std::vector<MemberNode*>> random_pool;  // [channel slot x class]

  void RefreshHot() {
    strategy = def.strategy;
    channel_count = static_cast<uint8_t>(std::min<size_t>(def.channels.size(), kChannelCount));
    for (uint8_t i = 0; i < channel_count; ++i) channels[i] = def.channels[i];
    max_size = def.max_size;
    aging_per_minute = def.aging_per_minute;
    wrap_up = def.wrap_up;
    max_wait = def.max_wait;
    offer_timeout = def.offer_timeout;
  }
  // The slot of channel ch in def.channels, or channel_count when the queue does not take it.
  uint8_t ChannelSlot(Channel ch) const {
    uint8_t i = 0;
    while (i < channel_count && channels[i] != ch) ++i;
    return i;
  }
  uint32_t SetIndex(uint32_t channel_slot, uint32_t cls) const {
    return channel_slot * class_count + cls;
  }
  uint32_t WaitIndex(uint32_t channel_slot, uint32_t step) const {
    return channel_slot * step_count + step;
  }
};

// Contacts in stable slots (the intrusive hooks need stable addresses), reused after release,
// allocated in chunks on huge pages.
class ContactPool {
 public:
  ContactRt& Acquire(ContactId id) {
    uint32_t slot;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
    } else {
      slot = static_cast<uint32_t>(in_use_.size());
      if (slot % kChunk == 0) chunks_.emplace_back().reserve(kChunk);
      chunks_.back().emplace_back();  // within the reserved chunk: nothing moves
      in_use_.push_back(false);
    }
    ContactRt& c = At(slot);
    c.Reset();
    ++c.incarnation;
    c.id = id;
    c.slot = slot;
    in_use_[slot] = true;
    by_id_.emplace(id.value(), slot);
    return c;
  }
  void Release(ContactRt& c) {
    by_id_.erase(c.id.value());
    in_use_[c.slot] = false;
    ++c.incarnation;
    c.explanation.reset();
    free_.push_back(c.slot);
  }
  ContactRt* Find(ContactId id) {
    auto it = by_id_.find(id.value());
    return it == by_id_.end() ? nullptr : &At(it->second);
  }
  const ContactRt* Find(ContactId id) const { return const_cast<ContactPool*>(this)->Find(id); }
  ContactRt* AtSlot(uint32_t slot) {
    return slot < in_use_.size() && in_use_[slot] ? &At(slot) : nullptr;
  }
  uint64_t NextSeq() { return ++seq_; }
  template <typename F>
  void ForEachLive(F&& f) {
    for (uint32_t i = 0; i < in_use_.size(); ++i) {
      if (in_use_[i]) f(At(i));
    }
  }
  size_t MemoryBytes() const {
    return chunks_.size() * kChunk * sizeof(ContactRt) + in_use_.size() + by_id_.size() * 16;
  }

 private:
  static constexpr uint32_t kChunk = 8192;
  ContactRt& At(uint32_t slot) { return chunks_[slot / kChunk][slot % kChunk]; }

  // A deque keeps chunks in place as it grows; each chunk is reserved once and never resized.
  std::deque<std::vector<ContactRt, HugePageAllocator<ContactRt>>> chunks_;
  std::vector<bool> in_use_;
  std::vector<uint32_t> free_;
  absl::flat_hash_map<uint64_t, uint32_t> by_id_;  // open addressing: no node per contact
  uint64_t seq_ = 0;
};

}  // namespace parley::acd_internal
