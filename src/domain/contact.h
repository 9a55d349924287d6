#pragma once
// A contact as routing sees it: what arrived, on which channel, what it needs, and when each
// stage of its life began.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/time.h"
#include "domain/channel.h"
#include "domain/ids.h"
#include "domain/routing.h"

namespace parley {

// Key/value data collected on the way (flow answers, CRM lookups), shown to the agent.
using Attributes = std::vector<std::pair<std::string, std::string>>;

struct ContactSpec {
  Channel channel = Channel::kVoice;
  Direction direction = Direction::kInbound;
  int32_t priority = 0;                  // higher is served first
  std::vector<SkillRequirement> skills;  // on top of the queue's requirement
  Attributes attributes;
  std::string customer;  // customer reference, if known
};

// When each lifecycle stage began (TimePoint{} when it has not happened).
struct ContactTimes {
  TimePoint arrived{};
  TimePoint queued{};
  TimePoint offered{};
  TimePoint answered{};
  TimePoint wrap_up{};
  TimePoint closed{};
  bool operator==(const ContactTimes&) const = default;
};

}  // namespace parley
