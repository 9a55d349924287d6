#pragma once
// Events: every transition of a contact or an agent, with its time and ids. They are the only
// source of truth for metrics (src/analytics) and the journal. One flat struct keeps them cheap to
// copy, store and scan; `type` says which fields are meaningful.

#include <cstdint>
#include <string>
#include <string_view>

#include "base/time.h"
#include "domain/agent_state.h"
#include "domain/channel.h"
#include "domain/ids.h"

namespace parley {

enum class EventType : uint8_t {
  kContactQueued,       // contact, queue, channel, value = priority
  kContactOffered,      // contact, agent, queue, channel
  kOfferAccepted,       // contact, agent, queue
  kOfferRejected,       // contact, agent, queue
  kOfferTimedOut,       // contact, agent, queue
  kOfferWithdrawn,      // contact, agent, queue (ring-all losers, contact gone, agent logout)
  kContactAbandoned,    // contact, queue, channel (customer left while waiting or ringing)
  kContactEscalated,    // contact, queue, value = step number (1-based)
  kContactOverflowed,   // contact, queue = from, value = to-queue index
  kContactTimedOut,     // contact, queue, text = flow to run (max wait reached)
  kContactTransferred,  // contact, agent = from, queue = to
  kContactRemoved,      // contact, queue (cancelled by the system, not the customer)
  kHandlingStarted,     // contact, agent, queue, channel
  kHandlingEnded,       // contact, agent, queue, channel
  kHoldStarted,         // contact, agent
  kHoldEnded,           // contact, agent
  kWrapUpStarted,       // contact, agent, queue, channel
  kWrapUpEnded,         // contact, agent, queue, channel
  kPresenceChanged,     // agent, value = new Presence, text = reason code
  kContactClosed,       // contact, queue, channel
};
constexpr int kEventTypeCount = 20;
std::string_view EventTypeName(EventType t);

struct Event {
  EventType type{};
  TimePoint time{};
  ContactId contact{};
  AgentIndex agent = kNone;
  QueueIndex queue = kNone;
  Channel channel = Channel::kVoice;
  int64_t value = 0;
  std::string text;
};

}  // namespace parley
