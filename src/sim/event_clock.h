#pragma once
// EventClock: the simulator's Clock and TimerQueue. It fires timers in exactly the order
// VirtualClock does (time order, ties in scheduling order; cancelled timers never fire) and
// differs only in cost, because a simulation does little else than pop timers:
//  - pending timers sit in a 4-ary heap (half the levels of a binary heap, and the four
//    children of a node share a cache line pair), ordered by (time, sequence);
//  - a timer scheduled for the current time (an agent answering at once, a flow input
//    delivered now) skips the heap: it goes to a FIFO that fires after the heap's timers of the
//    same time, which all were scheduled earlier.
// Single-threaded; owned by the simulation that drives it.

#include <cstdint>
#include <deque>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "base/clock.h"

namespace parley::sim {

class EventClock final : public Clock, public TimerQueue {
 public:
  explicit EventClock(TimePoint start = TimePoint{}) : now_(start) {}

  TimePoint Now() const override { return now_; }
  TimerId Schedule(TimePoint at, TimerTarget& target, uint64_t tag) override;
  void Cancel(TimerId id) override;

  // Fires the next pending timer (advancing time to it). Returns false when none is pending.
  bool RunNext();
  // Time of the next pending timer, or TimePoint::max() when none.
  TimePoint NextTime();
  // Fires every timer due at or before `until`, then sets Now() to `until` (if later).
  uint64_t AdvanceTo(TimePoint until);

 private:
  struct Entry {
    TimePoint at;
    uint64_t seq;
    TimerTarget* target;
    uint64_t tag;
  };
  static bool Before(const Entry& a, const Entry& b) {
    return a.at != b.at ? a.at < b.at : a.seq < b.seq;
  }
  void Push(const Entry& e);
  Entry PopHeap();
  // Drops cancelled timers from the fronts; returns whether the next timer is in `due_`.
  bool NextIsDue();

  TimePoint now_;
  uint64_t next_seq_ = 1;
  std::vector<Entry> heap_;  // 4-ary min-heap by (at, seq)
  std::deque<Entry> due_;    // at == now_, in scheduling order
  absl::flat_hash_set<TimerId> cancelled_;
};

}  // namespace parley::sim
