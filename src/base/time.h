#pragma once
// Time as the core sees it: microseconds since the Unix epoch, from an injected Clock.

#include <chrono>
#include <cstdint>

namespace parley {

using Duration = std::chrono::microseconds;
using TimePoint = std::chrono::sys_time<Duration>;

constexpr Duration Seconds(double s) { return Duration(static_cast<int64_t>(s * 1'000'000.0)); }
constexpr double ToSeconds(Duration d) { return static_cast<double>(d.count()) / 1e6; }
constexpr TimePoint FromMicros(int64_t us) { return TimePoint(Duration(us)); }
constexpr int64_t ToMicros(TimePoint t) { return t.time_since_epoch().count(); }

}  // namespace parley
