#pragma once
// VirtualClock: a Clock and TimerQueue whose time moves only when told to. Single-threaded; owned
// by the test or simulation that drives it. Timers fire in time order, ties in scheduling order;
// a timer scheduled in the past fires at the current time; cancelled timers never fire.
//
// It is also the simulator's clock, where popping timers is most of the work, so it is built for
// that cost without changing the order:
//  - pending timers sit in a 4-ary heap (half the levels of a binary heap, and the four children
//    of a node share a cache line pair), ordered by (time, sequence);
//  - a timer scheduled for the current time or earlier (an agent answering at once, a flow input
//    delivered now) skips the heap: it joins a FIFO that fires after the heap's timers of the
//    current time, which were all scheduled earlier, so the order is still (time, sequence).

#include <cstdint>
#include <new>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "base/clock.h"

namespace parley {

class VirtualClock final : public Clock, public TimerQueue {
 public:
  explicit VirtualClock(TimePoint start = TimePoint{}) : now_(start) {}

  TimePoint Now() const override { return now_; }
  TimerId Schedule(TimePoint at, TimerTarget& target, uint64_t tag) override;
  void Cancel(TimerId id) override;

  // Fires every timer due at or before `until`, advancing Now() to each timer's time, then sets
  // Now() to `until` (if later). Returns the number of timers fired.
  uint64_t AdvanceTo(TimePoint until);
  uint64_t AdvanceBy(Duration d) { return AdvanceTo(now_ + d); }
  // Fires the next pending timer (advancing time to it). Returns false when none is pending.
  bool RunNext();
  // Fires the next pending timer if it is due at or before `limit` (advancing time to it);
  // otherwise fires nothing and returns false. NextTime() and RunNext() in one look at the fronts.
  bool RunNextBy(TimePoint limit);
  // Time of the next pending timer, or TimePoint::max() when none.
  TimePoint NextTime();
  // Timers scheduled and neither fired nor cancelled (counts them: for tests and diagnostics).
  size_t pending() const;
  // Cancelled ids still remembered (bounded by the timers left, plus slack).
  size_t cancellations_held() const { return cancelled_.size(); }

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
  // The heap's array starts kPad unused entries early on a 128-byte boundary, so the four
  // children of a node (4 x 32 bytes) always fill exactly one aligned pair of cache lines.
  static constexpr size_t kPad = 3;
  template <typename T>
  struct LineAligned {
    using value_type = T;
    LineAligned() = default;
    template <typename U>
    LineAligned(const LineAligned<U>&) noexcept {}  // NOLINT(google-explicit-constructor)
    T* allocate(size_t n) {
      return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(128)));
    }
    void deallocate(T* p, size_t) noexcept { ::operator delete(p, std::align_val_t(128)); }
    bool operator==(const LineAligned&) const noexcept { return true; }
  };
  // A FIFO on a ring that doubles when full and never shrinks, so a steady flow of timers due
  // now allocates nothing (a std::deque allocates and frees a block every 16 entries).
  class DueRing {
   public:
    bool empty() const { return size_ == 0; }
    size_t size() const { return size_; }
    const Entry& front() const { return ring_[head_]; }
    const Entry& operator[](size_t i) const { return ring_[(head_ + i) & (ring_.size() - 1)]; }
    void push_back(const Entry& e) {
      if (size_ == ring_.size()) Grow();
      ring_[(head_ + size_) & (ring_.size() - 1)] = e;
      ++size_;
    }
    void pop_front() {
      head_ = (head_ + 1) & (ring_.size() - 1);
      --size_;
    }

   private:
    void Grow();
    std::vector<Entry> ring_;  // size 0 or a power of two
    size_t head_ = 0;
    size_t size_ = 0;
  };

  bool HeapEmpty() const { return heap_.size() == kPad; }
  const Entry& HeapTop() const { return heap_[kPad]; }
  void Push(const Entry& e);
  Entry PopHeap();
  // Drops cancelled timers from the fronts; returns whether the next timer is in `due_`.
  bool NextIsDue();

  TimePoint now_;
  uint64_t next_seq_ = 1;
  std::vector<Entry, LineAligned<Entry>> heap_ =
      std::vector<Entry, LineAligned<Entry>>(kPad);  // 4-ary min-heap by (at, seq) after kPad
  DueRing due_;                                      // at == now_, in scheduling order
  // Ids cancelled while still pending, dropped when they reach a front. Cancelling an id that
  // already fired adds a stale one; DropStaleCancellations keeps those from piling up.
  absl::flat_hash_set<TimerId> cancelled_;
  void DropStaleCancellations();
};

}  // namespace parley
