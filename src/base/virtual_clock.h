#pragma once
// VirtualClock: a Clock and TimerQueue whose time moves only when told to. Single-threaded; owned
// by the test or simulator that drives it. Timers fire in time order, ties in scheduling order.

#include <cstdint>
#include <queue>
#include <unordered_set>
#include <vector>

#include "base/clock.h"

namespace parley {

class VirtualClock final : public Clock, public TimerQueue {
 public:
  explicit VirtualClock(TimePoint start = TimePoint{}) : now_(start) {}

  TimePoint Now() const override { return now_; }
  TimerId Schedule(TimePoint at, TimerTarget& target, uint64_t tag) override;
  void Cancel(TimerId id) override;

  // Fires every timer due at or before `until`, advancing Now() to each timer's time, then sets
  // Now() to `until`. Returns the number of timers fired.
  uint64_t AdvanceTo(TimePoint until);
  uint64_t AdvanceBy(Duration d) { return AdvanceTo(now_ + d); }
  // Fires the next pending timer (advancing time to it). Returns false when none is pending.
  bool RunNext();
  // Time of the next pending timer, or TimePoint::max() when none.
  TimePoint NextTime();
  size_t pending() const { return heap_.size() - cancelled_.size(); }

 private:
  struct Entry {
    TimePoint at;
    uint64_t seq;
    TimerTarget* target;
    uint64_t tag;
    bool operator>(const Entry& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  void DropCancelledTop();

  TimePoint now_;
  uint64_t next_seq_ = 1;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap_;
  std::unordered_set<TimerId> cancelled_;
};

}  // namespace parley
