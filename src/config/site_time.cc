#include "config/site_time.h"

#include <date/tz.h>

#include <algorithm>
#include <string>

namespace parley::config {

namespace {

Result<const date::time_zone*> Zone(std::string_view time_zone) {
  try {  // date::locate_zone throws for an unknown name; nothing crosses this boundary
    return date::locate_zone(std::string(time_zone));
  } catch (const std::exception&) {
    return InvalidArgument("unknown time zone '" + std::string(time_zone) + "'");
  }
}

}  // namespace

Result<std::function<int64_t(TimePoint)>> SiteDayFunction(std::string_view time_zone) {
  auto found = Zone(time_zone);
  if (!found.ok()) return found.status();
  const date::time_zone* zone = *found;
  return std::function<int64_t(TimePoint)>([zone](TimePoint t) -> int64_t {
    const auto local = zone->to_local(date::sys_time<Duration>(t.time_since_epoch()));
    return date::floor<date::days>(local).time_since_epoch().count();
  });
}

Result<std::function<int64_t(TimePoint)>> CachingSiteDayFunction(std::string_view time_zone) {
  auto found = Zone(time_zone);
  if (!found.ok()) return found.status();
  struct Memory {
    TimePoint from = TimePoint::max();  // the last answer holds for [from, until)
    TimePoint until = TimePoint::min();
    int64_t day = 0;
  };
  return std::function<int64_t(TimePoint)>(
      [zone = *found, m = Memory{}](TimePoint t) mutable -> int64_t {
        if (t >= m.from && t < m.until) return m.day;
        const date::sys_time<Duration> sys(t.time_since_epoch());
        const date::sys_info info = zone->get_info(sys);  // the offset in force at t
        const Duration offset = info.offset;
        const auto local_day = date::floor<date::days>(sys + offset);
        m.day = local_day.time_since_epoch().count();
        // UTC span of that local day under this offset, cut to the span of the offset.
        const TimePoint day_start(local_day.time_since_epoch() - offset);
        m.from = std::max(day_start, TimePoint(info.begin.time_since_epoch()));
        m.until = std::min(day_start + date::days(1), TimePoint(info.end.time_since_epoch()));
        return m.day;
      });
}

}  // namespace parley::config
