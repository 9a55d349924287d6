#include "domain/event.h"

#include <array>

namespace parley {

std::string_view EventTypeName(EventType t) {
  static constexpr std::array<std::string_view, kEventTypeCount> kNames = {
      "contact.queued",     "contact.offered",   "offer.accepted",         "offer.rejected",
      "offer.timed_out",    "offer.withdrawn",   "contact.abandoned",      "contact.escalated",
      "contact.overflowed", "contact.timed_out", "contact.transferred",    "contact.removed",
      "handling.started",   "handling.ended",    "hold.started",           "hold.ended",
      "wrap_up.started",    "wrap_up.ended",     "agent.presence_changed", "contact.closed"};
  return kNames[static_cast<size_t>(t)];
}

}  // namespace parley
