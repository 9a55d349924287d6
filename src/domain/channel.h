#pragma once
// Channels a contact can arrive on, and per-channel arrays.

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace parley {

enum class Channel : uint8_t { kVoice, kChat, kEmail, kSms, kSocial, kCallback, kTask };
constexpr int kChannelCount = 7;

template <typename T>
using PerChannel = std::array<T, kChannelCount>;

std::string_view ChannelName(Channel c);
std::optional<Channel> ParseChannel(std::string_view name);
inline int Index(Channel c) { return static_cast<int>(c); }

enum class Direction : uint8_t { kInbound, kOutbound };
std::string_view DirectionName(Direction d);

}  // namespace parley
