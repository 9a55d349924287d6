#include "domain/channel.h"

namespace parley {

namespace {
constexpr std::array<std::string_view, kChannelCount> kNames = {
    "voice", "chat", "email", "sms", "social", "callback", "task"};
}

std::string_view ChannelName(Channel c) { return kNames[static_cast<size_t>(c)]; }

std::optional<Channel> ParseChannel(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<Channel>(i);
  }
  return std::nullopt;
}

std::string_view DirectionName(Direction d) {
  return d == Direction::kInbound ? "inbound" : "outbound";
}

}  // namespace parley
