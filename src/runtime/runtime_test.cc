#include <gtest/gtest.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/event_loop.h"
#include "runtime/system_clock.h"

namespace parley::runtime {
namespace {

constexpr auto kWait = std::chrono::seconds(10);  // bound for every wait; never reached

class Recorder final : public TimerTarget {
 public:
  void OnTimer(uint64_t tag) override {
    std::lock_guard lock(mu);
    tags.push_back(tag);
    threads.push_back(std::this_thread::get_id());
    if (tags.size() == expected) done.set_value();
  }
  std::mutex mu;
  std::vector<uint64_t> tags;
  std::vector<std::thread::id> threads;
  size_t expected = 1;
  std::promise<void> done;
};

TEST(SystemClockTest, ReadsTheWallClockInMicroseconds) {
  SystemClock clock;
  const auto before = std::chrono::system_clock::now();
  const TimePoint now = clock.Now();
  const auto after = std::chrono::system_clock::now();
  EXPECT_GE(now, std::chrono::time_point_cast<Duration>(before));
  EXPECT_LE(now, std::chrono::time_point_cast<Duration>(after));
}

TEST(EventLoopTest, RunsPostedWorkInOrderOnItsThread) {
  SystemClock clock;
  EventLoop loop(clock);
  std::vector<int> seen;
  std::promise<std::thread::id> where;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(loop.Post([&seen, i] { seen.push_back(i); }));
  }
  ASSERT_TRUE(loop.Post([&] { where.set_value(std::this_thread::get_id()); }));
  auto f = where.get_future();
  ASSERT_EQ(f.wait_for(kWait), std::future_status::ready);
  const std::thread::id loop_thread = f.get();
  EXPECT_NE(loop_thread, std::this_thread::get_id());
  loop.Stop();
  ASSERT_EQ(seen.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(seen[i], i);
}

// The loop's thread is SCHED_BATCH: work handed to it does not preempt the thread that posts it
// (base/thread_name.h).
TEST(EventLoopTest, ItsThreadIsScheduledAsBatch) {
  SystemClock clock;
  EventLoop loop(clock, "batch-test");
  std::promise<int> policy;
  ASSERT_TRUE(loop.Post([&] { policy.set_value(sched_getscheduler(0)); }));
  auto f = policy.get_future();
  ASSERT_EQ(f.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(f.get(), SCHED_BATCH);
  EXPECT_EQ(sched_getscheduler(0), SCHED_OTHER);  // the poster's own is untouched
}

TEST(EventLoopTest, PostFromManyThreadsRunsEverything) {
  SystemClock clock;
  EventLoop loop(clock);
  std::atomic<int> count{0};
  std::vector<std::thread> posters;
  for (int t = 0; t < 4; ++t) {
    posters.emplace_back([&] {
      for (int i = 0; i < 250; ++i) ASSERT_TRUE(loop.Post([&] { ++count; }));
    });
  }
  for (auto& t : posters) t.join();
  loop.Stop();
  EXPECT_EQ(count.load(), 1000);
}

TEST(EventLoopTest, StopDrainsWorkPostedBeforeAndByWork) {
  SystemClock clock;
  EventLoop loop(clock);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::vector<int> seen;
  // The first piece blocks the loop until Stop() has begun, so the rest is drained by Stop.
  ASSERT_TRUE(loop.Post([gate] { gate.wait(); }));
  ASSERT_TRUE(loop.Post([&] {
    seen.push_back(1);
    loop.Post([&] { seen.push_back(3); });  // dropped: Stop has begun
  }));
  ASSERT_TRUE(loop.Post([&] { seen.push_back(2); }));
  std::thread stopper([&] { loop.Stop(); });
  // Stop() sets the flag before joining; Post then fails. Wait for that, bounded.
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  std::atomic<bool> refused{false};
  while (!refused && std::chrono::steady_clock::now() < deadline) {
    if (!loop.Post([] {})) refused = true;
    std::this_thread::yield();
  }
  release.set_value();
  stopper.join();
  EXPECT_TRUE(refused.load());
  EXPECT_EQ(seen, (std::vector<int>{1, 2}));
  EXPECT_FALSE(loop.Post([] {}));
}

TEST(EventLoopTest, TimersFireOnTheLoopInTimeOrderTiesInScheduleOrder) {
  SystemClock clock;
  EventLoop loop(clock);
  Recorder r;
  r.expected = 4;
  const TimePoint base = clock.Now() + std::chrono::milliseconds(20);
  loop.Schedule(base + std::chrono::milliseconds(10), r, 4);
  loop.Schedule(base, r, 1);
  loop.Schedule(base, r, 2);
  loop.Schedule(base + std::chrono::milliseconds(5), r, 3);
  std::promise<std::thread::id> where;
  loop.Post([&] { where.set_value(std::this_thread::get_id()); });
  auto done = r.done.get_future();
  ASSERT_EQ(done.wait_for(kWait), std::future_status::ready);
  const std::thread::id loop_thread = where.get_future().get();
  std::lock_guard lock(r.mu);
  EXPECT_EQ(r.tags, (std::vector<uint64_t>{1, 2, 3, 4}));
  for (auto id : r.threads) EXPECT_EQ(id, loop_thread);
  EXPECT_GE(clock.Now(), base + std::chrono::milliseconds(10));
}

TEST(EventLoopTest, PastTimerFiresAtOnceAndCancelledNever) {
  SystemClock clock;
  EventLoop loop(clock);
  Recorder r;
  r.expected = 1;
  // Scheduled and cancelled in one piece of work on the loop: from another thread, a timer due
  // already may fire before Cancel is called (Cancel stops only what has not fired).
  loop.Post([&] {
    const TimerId cancelled = loop.Schedule(clock.Now() - std::chrono::seconds(1), r, 7);
    loop.Cancel(cancelled);
    loop.Cancel(cancelled);  // again: no-op
    loop.Cancel(12345);      // unknown: no-op
    loop.Schedule(clock.Now() - std::chrono::seconds(1), r, 8);
  });
  auto done = r.done.get_future();
  ASSERT_EQ(done.wait_for(kWait), std::future_status::ready);
  // Anything still pending runs before this posted marker is seen after a second round trip.
  std::promise<void> marker;
  loop.Post([&] { marker.set_value(); });
  ASSERT_EQ(marker.get_future().wait_for(kWait), std::future_status::ready);
  std::lock_guard lock(r.mu);
  EXPECT_EQ(r.tags, (std::vector<uint64_t>{8}));
}

TEST(EventLoopTest, StopDropsPendingTimers) {
  SystemClock clock;
  Recorder r;
  {
    EventLoop loop(clock);
    loop.Schedule(clock.Now() + std::chrono::hours(1), r, 1);
    loop.Stop();
    loop.Stop();  // idempotent
  }
  EXPECT_TRUE(r.tags.empty());
}

TEST(EventLoopTest, ThrowingWorkIsSkipped) {
  SystemClock clock;
  EventLoop loop(clock);
  std::promise<void> after;
  loop.Post([] { throw std::runtime_error("boom"); });
  loop.Post([&] { after.set_value(); });
  EXPECT_EQ(after.get_future().wait_for(kWait), std::future_status::ready);
}

}  // namespace
}  // namespace parley::runtime
