#pragma once
// EventLoop: one thread that runs posted work and fires timers, in order. It owns its thread;
// Post, Schedule and Cancel may be called from any thread. Timers fire on the loop thread, at
// their time as read from the Clock given at construction (timers with equal times in the order
// they were scheduled). It is the production TimerQueue for the core loop (src/engine).
//
// Stop() (also run by the destructor) stops taking work, runs every piece of work already
// posted (and whatever that work posts in turn), drops pending timers and joins the thread. Work
// posted after Stop() began is dropped. A piece of work that throws is logged and skipped.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>

#include "base/clock.h"

namespace parley::runtime {

class EventLoop final : public TimerQueue {
 public:
  // `clock` must outlive the loop. The thread starts at once, named `name` (docs/operations.md).
  explicit EventLoop(const Clock& clock, std::string name = "loop");
  ~EventLoop() override;
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs `work` on the loop thread after the work posted before it. Returns false (and drops the
  // work) once Stop() has begun.
  bool Post(std::function<void()> work);

  TimerId Schedule(TimePoint at, TimerTarget& target, uint64_t tag) override;
  void Cancel(TimerId id) override;

  // Drains posted work, drops timers, joins. Idempotent; must not be called on the loop thread.
  void Stop();

  bool InLoopThread() const { return std::this_thread::get_id() == thread_id_; }

 private:
  struct Timer {
    TimerTarget* target;
    uint64_t tag;
  };
  void Run();

  const Clock& clock_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> work_;                 // GUARDED_BY(mu_)
  std::map<std::pair<TimePoint, TimerId>, Timer> timers_;  // GUARDED_BY(mu_): by (time, id)
  std::unordered_map<TimerId, TimePoint> timer_times_;     // GUARDED_BY(mu_)
  TimerId next_timer_ = 1;                                 // GUARDED_BY(mu_)
  bool stopping_ = false;                                  // GUARDED_BY(mu_)
  std::mutex stop_mu_;                                     // serialises Stop() callers
  std::thread thread_;
  std::thread::id thread_id_;
};

}  // namespace parley::runtime
