#include "config/site_time.h"

#include <date/tz.h>

#include <string>

namespace parley::config {

Result<std::function<int64_t(TimePoint)>> SiteDayFunction(std::string_view time_zone) {
  const date::time_zone* zone = nullptr;
  try {  // date::locate_zone throws for an unknown name; nothing crosses this boundary
    zone = date::locate_zone(std::string(time_zone));
  } catch (const std::exception&) {
    return InvalidArgument("unknown time zone '" + std::string(time_zone) + "'");
  }
  return std::function<int64_t(TimePoint)>([zone](TimePoint t) -> int64_t {
    const auto local = zone->to_local(date::sys_time<Duration>(t.time_since_epoch()));
    return date::floor<date::days>(local).time_since_epoch().count();
  });
}

}  // namespace parley::config
