#pragma once
// Small text helpers shared by the parsers of the project's own formats (forecast and arrival
// CSV, distribution specs): trimming, whole-string numbers, ISO 8601 times. Calendar parsing is
// Howard Hinnant's date library (date::parse), not hand-written.

#include <optional>
#include <string_view>

#include "base/time.h"

namespace parley {

// `s` without leading and trailing white space.
std::string_view Trim(std::string_view s);

// Whether `a` and `b` are equal ignoring ASCII case (protocol tokens: SIP header and parameter
// names, tags).
bool EqualsIgnoringCase(std::string_view a, std::string_view b);

// The whole of `text` (after trimming) as a finite number; nullopt otherwise.
std::optional<double> ParseFiniteNumber(std::string_view text);
// The same, storing the number in `*out`; false (and `*out` untouched) when it is not one.
bool ParseFiniteNumber(std::string_view text, double* out);

// YYYY-MM-DD[T| ]HH:MM[:SS[.fraction]][Z|+HH:MM|-HH:MM|+HHMM|-HHMM]; without an offset the time
// is UTC. Invalid dates (2026-02-30) and trailing text are rejected.
std::optional<TimePoint> ParseIsoDateTime(std::string_view text);

// HH:MM[:SS] as a time since midnight.
std::optional<Duration> ParseTimeOfDay(std::string_view text);

}  // namespace parley
