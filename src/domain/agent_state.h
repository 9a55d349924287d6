#pragma once
// An agent's presence (what the agent chose) and the stage of each contact it holds (what its
// work is). They are separate: an agent handling one of three chats is Available with a chat in
// Handling, and can be offered two more.

#include <cstdint>
#include <string_view>

namespace parley {

enum class Presence : uint8_t { kOffline, kAvailable, kNotReady };
std::string_view PresenceName(Presence p);

// The stage of one contact at one agent.
enum class WorkStage : uint8_t { kOffered, kHandling, kWrapUp };
std::string_view WorkStageName(WorkStage s);

// Reason given when the ACD itself makes an agent Not Ready after consecutive missed offers.
inline constexpr std::string_view kMissedReason = "missed";
// Reason given when a voice offer finds no registered phone of the agent (src/sip).
inline constexpr std::string_view kNoPhoneReason = "no_phone";

}  // namespace parley
