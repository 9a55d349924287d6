#pragma once
// The per-contact fact table: one row per contact and queue segment, with every duration, and
// its CDR-like CSV. A pure function of the event stream (src/domain/event.h); docs/metrics.md
// ("Exports") defines every column.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analytics/export_format.h"
#include "base/time.h"
#include "domain/channel.h"
#include "domain/event.h"
#include "domain/ids.h"

namespace parley {

// How a segment ended. A segment is one stay in one queue and, if answered, the agent work that
// followed: a transfer or an overflow starts a new segment of the same contact.
enum class SegmentOutcome : uint8_t {
  kWaiting,         // still waiting when the events ended
  kAnswered,        // accepted by an agent
  kAbandoned,       // the customer left with wait > short_abandon
  kShortAbandoned,  // the customer left with wait <= short_abandon
  kTransferred,     // answered, then transferred by its agent
  kOverflowed,      // moved to another queue by an overflow rule
  kTimedOut,        // maximum wait reached
  kRemoved,         // cancelled by the system, or closed while waiting
};
std::string_view SegmentOutcomeName(SegmentOutcome o);  // "answered", "short_abandoned", ...

struct ContactFact {
  ContactId contact;
  int32_t segment = 1;  // 1, 2, ... within the contact
  Channel channel = Channel::kVoice;
  QueueIndex queue = kNone;
  AgentIndex agent = kNone;  // who answered; kNone if nobody did
  SegmentOutcome outcome = SegmentOutcome::kWaiting;
  QueueIndex transferred_to = kNone;  // target queue of a transfer
  int32_t offers = 0;                 // offers made during the wait (rejected and missed included)

  TimePoint queued_at{};
  std::optional<TimePoint> offered_at;   // first offer of the segment
  std::optional<TimePoint> answered_at;  // kOfferAccepted
  std::optional<TimePoint> talk_ended_at;
  std::optional<TimePoint> ended_at;  // end of the wait if not answered; else of talk or wrap-up

  Duration wait{0};  // queued -> answered, abandoned, overflowed, timed out or removed
  Duration ring{0};  // the accepted offer (or the offer ringing at an abandon): offered -> end
  Duration talk{0};  // handling start -> end, minus hold
  Duration hold{0};
  Duration wrap_up{0};
  Duration Handle() const { return talk + hold + wrap_up; }

  bool operator==(const ContactFact&) const = default;
};

struct ContactExportOptions {
  Duration short_abandon = Seconds(5);  // as KpiOptions::short_abandon (inclusive)
};

// One fact per segment, in the order the segments started. Events must be in time order. Agent
// work on a contact that was never queued (outbound dialling) has no segment and is left out;
// events that contradict the state (an answer of a contact not waiting) are skipped.
std::vector<ContactFact> ContactFacts(const std::vector<Event>& events,
                                      const ContactExportOptions& options = {});

// The CSV header row, then one row per fact; RFC 4180 (CRLF line ends, quoted where needed),
// times ISO 8601 UTC with milliseconds, durations in seconds with milliseconds, names from
// `names` (an unnamed index is written as its number).
std::string WriteContactCsv(const std::vector<ContactFact>& facts, const ExportNames& names);

}  // namespace parley
