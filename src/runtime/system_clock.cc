#include "runtime/system_clock.h"

#include <chrono>

namespace parley::runtime {

TimePoint SystemClock::Now() const {
  return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
}

}  // namespace parley::runtime
