#include "base/virtual_clock.h"

#include <cstdint>
#include <utility>

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
  // More cancellations than timers left means some name timers that already fired: sweep them
  // out (amortised: the set at least halves each time).
  if (cancelled_.size() > 2 * (heap_.size() - kPad + due_.size()) + 64) DropStaleCancellations();
}

void VirtualClock::DropStaleCancellations() {
  absl::flat_hash_set<TimerId> live;
  for (size_t i = kPad; i < heap_.size(); ++i) {
    if (cancelled_.contains(heap_[i].seq)) live.insert(heap_[i].seq);
  }
  for (size_t i = 0; i < due_.size(); ++i) {
    if (cancelled_.contains(due_[i].seq)) live.insert(due_[i].seq);
  }
  cancelled_ = std::move(live);
}

size_t VirtualClock::pending() const {
  size_t n = 0;
  for (size_t i = kPad; i < heap_.size(); ++i) n += cancelled_.contains(heap_[i].seq) ? 0 : 1;
  for (size_t i = 0; i < due_.size(); ++i) n += cancelled_.contains(due_[i].seq) ? 0 : 1;
  return n;
}

void VirtualClock::DueRing::Grow() {
  std::vector<Entry> bigger(ring_.empty() ? 16 : 2 * ring_.size());
  for (size_t i = 0; i < size_; ++i) bigger[i] = (*this)[i];
  ring_ = std::move(bigger);
  head_ = 0;
}

void VirtualClock::Push(const Entry& e) {
  heap_.push_back(e);
  Entry* h = heap_.data() + kPad;
  size_t i = heap_.size() - kPad - 1;
  while (i > 0) {
    const size_t parent = (i - 1) / 4;
    if (!Before(e, h[parent])) break;
    h[i] = h[parent];
    i = parent;
  }
  h[i] = e;
}

VirtualClock::Entry VirtualClock::PopHeap() {
  const Entry top = HeapTop();
  const Entry last = heap_.back();
  heap_.pop_back();
  const size_t n = heap_.size() - kPad;
  if (n == 0) return top;
  // Bottom-up: move the hole at the root down along the smaller children to a leaf, then sift
  // `last` up from there. `last` came from the bottom, so it rarely climbs, and the way down
  // skips comparing it at every level.
  Entry* h = heap_.data() + kPad;
  size_t i = 0;
  while (4 * i + 4 < n) {  // all four children exist
    const size_t c = 4 * i + 1;
    // The next level's candidates are the children of one of these four: ask for all four
    // groups (an aligned pair of lines each) now, so their misses overlap this level's work.
    // Without a bound per group (a test per group cost more than it saved): the address is
    // computed as an integer, and a prefetch past the array's end is harmless, it never faults.
    if (4 * c + 4 < n) {
      const uintptr_t next = reinterpret_cast<uintptr_t>(h) + (4 * c + 1) * sizeof(Entry);
      for (uintptr_t k = 0; k < 4; ++k) {
        __builtin_prefetch(reinterpret_cast<const void*>(next + k * 4 * sizeof(Entry)));
        __builtin_prefetch(reinterpret_cast<const void*>(next + k * 4 * sizeof(Entry) + 64));
      }
    }
    // A tournament (two independent comparisons, then one) instead of a chain of three.
    const size_t a = Before(h[c + 1], h[c]) ? c + 1 : c;
    const size_t b = Before(h[c + 3], h[c + 2]) ? c + 3 : c + 2;
    const size_t best = Before(h[b], h[a]) ? b : a;
    h[i] = h[best];
    i = best;
  }
  if (4 * i + 1 < n) {  // one to three children
    size_t best = 4 * i + 1;
    for (size_t c = best + 1; c < n && c <= 4 * i + 4; ++c) {
      if (Before(h[c], h[best])) best = c;
    }
    h[i] = h[best];
    i = best;
  }
  while (i > 0) {
    const size_t parent = (i - 1) / 4;
    if (!Before(last, h[parent])) break;
    h[i] = h[parent];
    i = parent;
  }
  h[i] = last;
  return top;
}

bool VirtualClock::NextIsDue() {
  while (true) {
    // Heap timers at the current time were scheduled before anything in due_.
    const bool due = !due_.empty() && (HeapEmpty() || HeapTop().at > now_);
    if (cancelled_.empty()) return due;
    if (due) {
      auto it = cancelled_.find(due_.front().seq);
      if (it == cancelled_.end()) return true;
      cancelled_.erase(it);
      due_.pop_front();
    } else {
      if (HeapEmpty()) return false;
      auto it = cancelled_.find(HeapTop().seq);
      if (it == cancelled_.end()) return false;
      cancelled_.erase(it);
      PopHeap();
    }
  }
}

TimePoint VirtualClock::NextTime() {
  if (NextIsDue()) return now_;
  return HeapEmpty() ? TimePoint::max() : HeapTop().at;
}

bool VirtualClock::RunNext() { return RunNextBy(TimePoint::max()); }

bool VirtualClock::RunNextBy(TimePoint limit) {
  Entry e;
  if (NextIsDue()) {
    if (now_ > limit) return false;
    e = due_.front();
    due_.pop_front();
  } else if (!HeapEmpty() && HeapTop().at <= limit) {
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
  while (RunNextBy(until)) ++fired;
  if (until > now_) now_ = until;
  return fired;
}

}  // namespace parley
