#pragma once
// Clock and TimerQueue: the only way core code learns the time or waits. Production passes the
// wall clock and a real event loop; tests and the simulator pass VirtualClock.

#include <cstdint>

#include "base/time.h"

namespace parley {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

// Receives fired timers. `tag` is whatever the scheduler passed, so a target can multiplex many
// timers without allocating a closure per timer.
class TimerTarget {
 public:
  virtual ~TimerTarget() = default;
  virtual void OnTimer(uint64_t tag) = 0;
};

using TimerId = uint64_t;

class TimerQueue {
 public:
  virtual ~TimerQueue() = default;
  // Fires target.OnTimer(tag) at `at` (or at once on the next turn if `at` is past). Timers with
  // equal times fire in the order they were scheduled.
  virtual TimerId Schedule(TimePoint at, TimerTarget& target, uint64_t tag) = 0;
  // Cancelling a fired or unknown timer is a no-op.
  virtual void Cancel(TimerId id) = 0;
};

}  // namespace parley
