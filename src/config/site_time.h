#pragma once
// The site's calendar: which local day a moment falls on, in the configured time zone (IANA
// name, from the system tz database through Howard Hinnant's date/tz, daylight saving included).
// The ACD counts "handled today" with it (AcdOptions::day_of).

#include <cstdint>
#include <functional>
#include <string_view>

#include "base/status.h"
#include "base/time.h"

namespace parley::config {

// Days since 1970-01-01 in `time_zone`'s local calendar. Error for an unknown zone.
Result<std::function<int64_t(TimePoint)>> SiteDayFunction(std::string_view time_zone);

// The same days, remembering the span of UTC time over which the last answer holds (its local
// day within one UTC offset), so that calls within that span cost two comparisons instead of a
// time zone lookup. The function keeps that memory: call each copy from one thread only (the
// simulator's ACD, which asks at every finished contact).
Result<std::function<int64_t(TimePoint)>> CachingSiteDayFunction(std::string_view time_zone);

}  // namespace parley::config
