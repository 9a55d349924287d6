#include "sim/event_clock.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/random.h"
#include "base/virtual_clock.h"

namespace parley::sim {
namespace {

// Drives a clock with timers that schedule and cancel others when they fire: at the current
// time, in the past, at a time already pending (ties), and later. Every choice comes from a
// generator consumed in firing order, so two clocks that fire in different orders diverge.
template <typename C>
class Driver : public TimerTarget {
 public:
  explicit Driver(C& clock) : clock_(clock), r_(7) {}
  void OnTimer(uint64_t tag) override {
    log.push_back(std::to_string(ToMicros(clock_.Now())) + ":" + std::to_string(tag));
    if (log.size() > 20'000) return;
    const int n = static_cast<int>(1 + r_.Below(2));
    for (int i = 0; i < n; ++i) Add();
    if (!ids_.empty() && r_.Below(5) == 0) clock_.Cancel(ids_[r_.Below(ids_.size())]);
  }
  void Add() {
    TimePoint at = clock_.Now();
    switch (r_.Below(4)) {
      case 0:  // now
        break;
      case 1:  // the past: fires at once
        at -= Seconds(5);
        break;
      case 2:  // a round time, so that many timers share it
        at += Seconds(static_cast<double>(1 + r_.Below(3)));
        break;
      default:
        at += Duration(static_cast<int64_t>(1 + r_.Below(5'000'000)));
    }
    ids_.push_back(clock_.Schedule(at, *this, next_tag_++));
  }
  std::vector<std::string> log;

 private:
  C& clock_;
  Random r_;
  std::vector<TimerId> ids_;
  uint64_t next_tag_ = 0;
};

TEST(EventClockTest, FiresInTheSameOrderAsVirtualClock) {
  const TimePoint start = FromMicros(1'000'000'000);
  VirtualClock reference(start);
  EventClock clock(start);
  Driver<VirtualClock> a(reference);
  Driver<EventClock> b(clock);
  for (int i = 0; i < 50; ++i) {
    a.Add();
    b.Add();
  }
  // Half through RunNext, then AdvanceTo, as the simulator does.
  for (int i = 0; i < 5'000; ++i) {
    ASSERT_EQ(reference.NextTime(), clock.NextTime());
    ASSERT_EQ(reference.RunNext(), clock.RunNext());
  }
  const TimePoint until = reference.Now() + Seconds(3600);
  EXPECT_EQ(reference.AdvanceTo(until), clock.AdvanceTo(until));
  EXPECT_EQ(reference.Now(), clock.Now());
  ASSERT_GT(a.log.size(), 10'000u);
  EXPECT_EQ(a.log, b.log);
}

TEST(EventClockTest, CancelledTimersNeverFire) {
  EventClock clock;
  struct Log : TimerTarget {
    void OnTimer(uint64_t tag) override { fired.push_back(tag); }
    std::vector<uint64_t> fired;
  } log;
  const TimerId now = clock.Schedule(clock.Now(), log, 1);
  const TimerId later = clock.Schedule(clock.Now() + Seconds(1), log, 2);
  clock.Schedule(clock.Now() + Seconds(1), log, 3);
  clock.Cancel(now);
  clock.Cancel(later);
  clock.Cancel(12345);  // unknown: no effect
  EXPECT_EQ(clock.AdvanceTo(clock.Now() + Seconds(2)), 1u);
  EXPECT_EQ(log.fired, std::vector<uint64_t>{3});
  EXPECT_EQ(clock.NextTime(), TimePoint::max());
}

}  // namespace
}  // namespace parley::sim
