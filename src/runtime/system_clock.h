#pragma once
// SystemClock: the wall clock (std::chrono::system_clock), in microseconds since the Unix epoch.
// Stateless and thread-safe; production passes it wherever core code takes a Clock.

#include "base/clock.h"

namespace parley::runtime {

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override;
};

}  // namespace parley::runtime
