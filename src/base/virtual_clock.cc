#include "base/virtual_clock.h"

namespace parley {

TimerId VirtualClock::Schedule(TimePoint at, TimerTarget& target, uint64_t tag) {
  const TimerId id = next_seq_++;
  if (at <= now_) {
    due_.push_back(Entry{now_, id, &target, tag});
  } else {
    Push(Entry{at, id, &target, tag});
  }
  return id;
}

void VirtualClock::Cancel(TimerId id) {
  if (id == 0 || id >= next_seq_) return;
  cancelled_.insert(id);
}

void VirtualClock::Push(const Entry& e) {
  size_t i = heap_.size();
  heap_.push_back(e);
  while (i > 0) {
    const size_t parent = (i - 1) / 4;
    if (!Before(e, heap_[parent])) break;
    heap_[i] = heap_[parent];
    i = parent;
  }
  heap_[i] = e;
}

VirtualClock::Entry VirtualClock::PopHeap() {
  const Entry top = heap_.front();
  const Entry last = heap_.back();
  heap_.pop_back();
  const size_t n = heap_.size();
  if (n == 0) return top;
  size_t i = 0;
  while (true) {
    const size_t first = 4 * i + 1;
    if (first >= n) break;
    size_t best = first;
    const size_t end = first + 4 < n ? first + 4 : n;
    for (size_t c = first + 1; c < end; ++c) {
      if (Before(heap_[c], heap_[best])) best = c;
    }
    if (!Before(heap_[best], last)) break;
    heap_[i] = heap_[best];
    i = best;
  }
  heap_[i] = last;
  return top;
}

bool VirtualClock::NextIsDue() {
  while (true) {
    // Heap timers at the current time were scheduled before anything in due_.
    const bool due = !due_.empty() && (heap_.empty() || heap_.front().at > now_);
    if (cancelled_.empty()) return due;
    if (due) {
      auto it = cancelled_.find(due_.front().seq);
      if (it == cancelled_.end()) return true;
      cancelled_.erase(it);
      due_.pop_front();
    } else {
      if (heap_.empty()) return false;
      auto it = cancelled_.find(heap_.front().seq);
      if (it == cancelled_.end()) return false;
      cancelled_.erase(it);
      PopHeap();
    }
  }
}

TimePoint VirtualClock::NextTime() {
  if (NextIsDue()) return now_;
  return heap_.empty() ? TimePoint::max() : heap_.front().at;
}

bool VirtualClock::RunNext() {
  Entry e;
  if (NextIsDue()) {
    e = due_.front();
    due_.pop_front();
  } else if (!heap_.empty()) {
    e = PopHeap();
    now_ = e.at;
  } else {
    return false;
  }
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
