#pragma once
// Opening hours evaluated in a time zone of the system tz database (through date/tz), so
// daylight-saving changes follow the database, not hand-written rules. Immutable after Make;
// safe to share between threads.

#include <string>

#include "base/status.h"
#include "base/time.h"
#include "domain/flow_def.h"

namespace date {
class time_zone;
}

namespace parley::flow {

// Local calendar time at an instant in a zone.
struct LocalTime {
  int year = 0, month = 0, day = 0;  // month 1-12, day 1-31
  int weekday = 0;                   // 0 Monday .. 6 Sunday
  int minute_of_day = 0;             // 0-1439
};

// The zone named `name`, or nullptr when the database does not know it.
const date::time_zone* FindZone(const std::string& name);
LocalTime ToLocal(const date::time_zone& zone, TimePoint t);

enum class HoursState { kOpen, kClosed, kHoliday };

class Schedule {
 public:
  // NotFound when the time zone is unknown.
  static Result<Schedule> Make(const ScheduleDef& def);
  const std::string& name() const { return def_.name; }
  const date::time_zone& zone() const { return *zone_; }
  // Open or closed at `t`: an exception for the local date replaces the weekly hours; an
  // exception without hours is a holiday (kHoliday).
  HoursState At(TimePoint t) const;

 private:
  ScheduleDef def_;
  const date::time_zone* zone_ = nullptr;
};

}  // namespace parley::flow
