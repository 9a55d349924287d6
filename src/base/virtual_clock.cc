#include "base/virtual_clock.h"

namespace parley {

TimerId VirtualClock::Schedule(TimePoint at, TimerTarget& target, uint64_t tag) {
  if (at < now_) at = now_;
  TimerId id = next_seq_++;
  heap_.push(Entry{at, id, &target, tag});
  return id;
}

void VirtualClock::Cancel(TimerId id) {
  if (id == 0 || id >= next_seq_) return;
  cancelled_.insert(id);
}

void VirtualClock::DropCancelledTop() {
  while (!heap_.empty() && !cancelled_.empty()) {
    auto it = cancelled_.find(heap_.top().seq);
    if (it == cancelled_.end()) return;
    cancelled_.erase(it);
    heap_.pop();
  }
}

TimePoint VirtualClock::NextTime() {
  DropCancelledTop();
  return heap_.empty() ? TimePoint::max() : heap_.top().at;
}

bool VirtualClock::RunNext() {
  DropCancelledTop();
  if (heap_.empty()) return false;
  Entry e = heap_.top();
  heap_.pop();
  if (e.at > now_) now_ = e.at;
  e.target->OnTimer(e.tag);
  return true;
}

uint64_t VirtualClock::AdvanceTo(TimePoint until) {
  uint64_t fired = 0;
  while (NextTime() <= until) {
    RunNext();
    ++fired;
  }
  if (until > now_) now_ = until;
  return fired;
}

}  // namespace parley
