#pragma once
// Routing definitions as plain data: skills, teams, agents, queues, strategies and escalation.
// src/config fills these from YAML and validates them; src/acd reads them. Names are the
// configuration's; indices are positions in RoutingConfig's vectors.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/time.h"
#include "domain/channel.h"
#include "domain/ids.h"

namespace parley {

enum class Strategy : uint8_t {
  kLongestIdle,
  kLeastOccupied,
  kFewestContacts,
  kRoundRobin,
  kLinear,
  kRandom,
  kBestSkill,
  kRingAll,
};
constexpr int kStrategyCount = 8;

std::string_view StrategyName(Strategy s);
// Accepts Parley's names and the Asterisk / FreeSWITCH names with the same meaning
// (leastrecent, longest-idle-agent, rrmemory, round-robin, fewestcalls, ringall, ring-all,
// linear, top-down, random, ...).
std::optional<Strategy> ParseStrategy(std::string_view name);
// Every accepted name with its canonical strategy, for documentation and error messages.
struct StrategyAlias {
  std::string_view name;
  Strategy strategy;
};
const std::vector<StrategyAlias>& StrategyAliases();

struct SkillRequirement {
  SkillIndex skill = 0;
  uint8_t min_proficiency = 1;  // 1-5
  bool operator==(const SkillRequirement&) const = default;
};

struct SkillLevel {
  SkillIndex skill = 0;
  uint8_t proficiency = 1;  // 1-5
  bool operator==(const SkillLevel&) const = default;
};

// One entry of an agent's routing profile: serve `queue`, in this order, optionally only for
// contacts that have waited at least `delay` there (Amazon Connect's queue delay).
struct QueueAssignment {
  QueueIndex queue = 0;
  uint16_t order = 0;  // lower is served first; equal orders compare by queue priority
  Duration delay{0};
  bool operator==(const QueueAssignment&) const = default;
};

struct AgentDef {
  std::string name;       // unique id, e.g. "alice"
  std::string full_name;  // display name
  TeamIndex team = kNone;
  std::vector<SkillLevel> skills;
  PerChannel<uint8_t> capacity{};  // 0: does not take this channel
  bool voice_blocks_other_channels = true;
  bool wrap_up_blocks_other_channels = false;
  std::vector<QueueAssignment> queues;  // explicit routing profile (may be empty)
  bool operator==(const AgentDef&) const = default;
};

struct TeamDef {
  std::string name;
  std::string lead;  // agent or user name of the team lead
  bool operator==(const TeamDef&) const = default;
};

// What a waiting contact may do after it has waited `after` in the queue. Each step replaces the
// eligibility rule of the one before (so steps can widen and narrow); unset fields keep the
// previous step's value.
struct EscalationStep {
  Duration after{0};
  // Replaces the queue's skill requirements (relax or tighten proficiency, add or drop skills).
  std::optional<std::vector<SkillRequirement>> skills;
  // Replaces the set of teams that may take the contact (empty vector: any team).
  std::optional<std::vector<TeamIndex>> teams;
  // Adds to the contact's priority.
  int32_t priority_boost = 0;
  // Moves the contact to another queue (it keeps its arrival time).
  QueueIndex overflow_queue = kNone;
  // Hands the contact to a flow (voicemail, callback offer); the ACD only reports it.
  std::string flow;
  bool operator==(const EscalationStep&) const = default;
};

// Call recording (issue 6): whether a queue's calls are recorded from the moment the agent is
// connected until hang-up.
enum class RecordingPolicy : uint8_t {
  kNever,     // never (the default)
  kAlways,    // every call, without being asked
  kOnDemand,  // only when an agent or a supervisor starts it through the API
};
std::string_view RecordingPolicyName(RecordingPolicy p);
std::optional<RecordingPolicy> ParseRecordingPolicy(std::string_view name);

// "This call may be recorded": played to the caller before the agent is connected. A recorded
// prompt (file, as flow prompts) or text to speech; both empty: no announcement.
struct RecordingAnnouncement {
  std::string recording;
  std::string text;
  bool empty() const { return recording.empty() && text.empty(); }
  bool operator==(const RecordingAnnouncement&) const = default;
};

struct QueueDef {
  std::string name;
  std::vector<Channel> channels;
  Strategy strategy = Strategy::kLongestIdle;
  double service_level_fraction = 0.8;
  Duration service_level_threshold = Seconds(20);
  int32_t priority = 0;   // higher is served first
  Duration max_wait{0};   // 0: unlimited
  uint32_t max_size = 0;  // 0: unlimited
  Duration offer_timeout = Seconds(20);
  Duration wrap_up = Seconds(0);
  // Priority aging: a waiting contact's score grows by this many priority points per minute.
  double aging_per_minute = 0;
  std::vector<SkillRequirement> skills;  // base requirement
  std::vector<TeamIndex> teams;          // base team restriction (empty: any team)
  std::vector<AgentIndex> members;       // explicit members besides agents' own queue lists
  std::vector<EscalationStep> escalation;
  std::string timeout_flow;  // where a contact goes at max_wait (reported, not run, by the ACD)
  RecordingPolicy recording = RecordingPolicy::kNever;
  RecordingAnnouncement recording_announcement;
  bool operator==(const QueueDef&) const = default;
};

struct RoutingSettings {
  uint32_t max_consecutive_misses = 3;  // then the agent goes Not Ready "missed"; 0: never
  Duration reoffer_delay = Seconds(5);  // an agent who refused a contact is skipped this long
  std::string time_zone = "UTC";
  bool operator==(const RoutingSettings&) const = default;
};

struct RoutingConfig {
  std::vector<std::string> skills;  // SkillIndex -> name
  std::vector<TeamDef> teams;
  std::vector<AgentDef> agents;
  std::vector<QueueDef> queues;
  RoutingSettings settings;

  std::optional<SkillIndex> FindSkill(std::string_view name) const;
  std::optional<TeamIndex> FindTeam(std::string_view name) const;
  std::optional<AgentIndex> FindAgent(std::string_view name) const;
  std::optional<QueueIndex> FindQueue(std::string_view name) const;
};

}  // namespace parley
