#pragma once
// Ids of the things a contact center routes. Agents, queues, skills and teams have names in the
// configuration and dense numeric ids (their index in the configuration snapshot's tables) inside
// the core; contacts have 64-bit ids given by whoever creates them.

#include <cstdint>

#include "base/strong_id.h"

namespace parley {

struct ContactTag {};
using ContactId = StrongId<ContactTag, uint64_t>;

// Dense indices. kNone marks "no such thing" where an index is optional.
using AgentIndex = uint32_t;
using QueueIndex = uint32_t;
using SkillIndex = uint16_t;
using TeamIndex = uint32_t;
constexpr uint32_t kNone = 0xffffffffu;

}  // namespace parley
