#include "flow/schedule.h"

#include <date/tz.h>

namespace parley::flow {

const date::time_zone* FindZone(const std::string& name) {
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    return nullptr;
  }
}

LocalTime ToLocal(const date::time_zone& zone, TimePoint t) {
  const auto local = zone.to_local(std::chrono::time_point_cast<std::chrono::seconds>(t));
  const auto days = date::floor<date::days>(local);
  const date::year_month_day ymd{days};
  LocalTime out;
  out.year = static_cast<int>(ymd.year());
  out.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  out.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
  out.weekday = static_cast<int>(date::weekday(days).iso_encoding()) - 1;
  out.minute_of_day =
      static_cast<int>(std::chrono::duration_cast<std::chrono::minutes>(local - days).count());
  return out;
}

Result<Schedule> Schedule::Make(const ScheduleDef& def) {
  Schedule s;
  s.def_ = def;
  s.zone_ = FindZone(def.time_zone);
  if (!s.zone_) return NotFound("unknown time zone '" + def.time_zone + "'");
  return s;
}

HoursState Schedule::At(TimePoint t) const {
  const LocalTime lt = ToLocal(*zone_, t);
  const auto open_in = [&](const std::vector<TimeRange>& ranges) {
    for (const auto& r : ranges) {
      if (lt.minute_of_day >= r.begin && lt.minute_of_day < r.end) return true;
    }
    return false;
  };
  for (const auto& e : def_.exceptions) {
    if (e.year == lt.year && e.month == lt.month && e.day == lt.day) {
      if (e.hours.empty()) return HoursState::kHoliday;
      return open_in(e.hours) ? HoursState::kOpen : HoursState::kClosed;
    }
  }
  return open_in(def_.week[lt.weekday]) ? HoursState::kOpen : HoursState::kClosed;
}

}  // namespace parley::flow
