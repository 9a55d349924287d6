#include "domain/routing.h"

#include <array>

namespace parley {

std::string_view StrategyName(Strategy s) {
  static constexpr std::array<std::string_view, kStrategyCount> kNames = {
      "longest-idle", "least-occupied", "fewest-contacts", "round-robin",
      "linear",       "random",         "best-skill",      "ring-all"};
  return kNames[static_cast<size_t>(s)];
}

const std::vector<StrategyAlias>& StrategyAliases() {
  static const std::vector<StrategyAlias> kAliases = {
      {"longest-idle", Strategy::kLongestIdle},
      {"leastrecent", Strategy::kLongestIdle},         // Asterisk
      {"longest-idle-agent", Strategy::kLongestIdle},  // FreeSWITCH
      {"least-occupied", Strategy::kLeastOccupied},
      {"fewest-contacts", Strategy::kFewestContacts},
      {"fewestcalls", Strategy::kFewestContacts},              // Asterisk
      {"agent-with-fewest-calls", Strategy::kFewestContacts},  // FreeSWITCH
      {"round-robin", Strategy::kRoundRobin},                  // FreeSWITCH
      {"rrmemory", Strategy::kRoundRobin},                     // Asterisk
      {"roundrobin", Strategy::kRoundRobin},                   // Asterisk (old name)
      {"linear", Strategy::kLinear},                           // Asterisk
      {"top-down", Strategy::kLinear},                         // FreeSWITCH
      {"sequentially-by-agent-order", Strategy::kLinear},      // FreeSWITCH
      {"random", Strategy::kRandom},
      {"best-skill", Strategy::kBestSkill},
      {"ring-all", Strategy::kRingAll},  // FreeSWITCH
      {"ringall", Strategy::kRingAll},   // Asterisk
  };
  return kAliases;
}

std::optional<Strategy> ParseStrategy(std::string_view name) {
  for (const auto& a : StrategyAliases()) {
    if (a.name == name) return a.strategy;
  }
  return std::nullopt;
}

namespace {
template <typename Vec, typename NameOf>
std::optional<uint32_t> FindByName(const Vec& v, std::string_view name, NameOf name_of) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (name_of(v[i]) == name) return static_cast<uint32_t>(i);
  }
  return std::nullopt;
}
}  // namespace

std::optional<SkillIndex> RoutingConfig::FindSkill(std::string_view name) const {
  auto i = FindByName(skills, name, [](const std::string& s) -> const std::string& { return s; });
  if (!i) return std::nullopt;
  return static_cast<SkillIndex>(*i);
}
std::optional<TeamIndex> RoutingConfig::FindTeam(std::string_view name) const {
  return FindByName(teams, name, [](const TeamDef& t) -> const std::string& { return t.name; });
}
std::optional<AgentIndex> RoutingConfig::FindAgent(std::string_view name) const {
  return FindByName(agents, name, [](const AgentDef& a) -> const std::string& { return a.name; });
}
std::optional<QueueIndex> RoutingConfig::FindQueue(std::string_view name) const {
  return FindByName(queues, name, [](const QueueDef& q) -> const std::string& { return q.name; });
}

}  // namespace parley

namespace parley {

std::string_view RecordingPolicyName(RecordingPolicy p) {
  switch (p) {
    case RecordingPolicy::kNever:
      return "never";
    case RecordingPolicy::kAlways:
      return "always";
    case RecordingPolicy::kOnDemand:
      return "on_demand";
  }
  return "never";
}

std::optional<RecordingPolicy> ParseRecordingPolicy(std::string_view name) {
  for (RecordingPolicy p :
       {RecordingPolicy::kNever, RecordingPolicy::kAlways, RecordingPolicy::kOnDemand}) {
    if (RecordingPolicyName(p) == name) return p;
  }
  return std::nullopt;
}

}  // namespace parley
