#include "runtime/event_loop.h"

#include <exception>

#include "base/log.h"
#include "base/thread_name.h"

namespace parley::runtime {

EventLoop::EventLoop(const Clock& clock, std::string name) : clock_(clock) {
  thread_ = std::thread([this, name = std::move(name)] {
    NameThisThread(name);
    ScheduleThisThreadAsBatch();
    Run();
  });
  thread_id_ = thread_.get_id();
}

EventLoop::~EventLoop() { Stop(); }

bool EventLoop::Post(std::function<void()> work) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    work_.push_back(std::move(work));
  }
  wake_.notify_one();
  return true;
}

TimerId EventLoop::Schedule(TimePoint at, TimerTarget& target, uint64_t tag) {
  TimerId id;
  {
    std::lock_guard lock(mu_);
    id = next_timer_++;
    timers_.emplace(std::make_pair(at, id), Timer{&target, tag});
    timer_times_.emplace(id, at);
  }
  wake_.notify_one();
  return id;
}

void EventLoop::Cancel(TimerId id) {
  std::lock_guard lock(mu_);
  auto it = timer_times_.find(id);
  if (it == timer_times_.end()) return;
  timers_.erase(std::make_pair(it->second, id));
  timer_times_.erase(it);
}

void EventLoop::Stop() {
  std::lock_guard stop_lock(stop_mu_);
  {
    std::lock_guard lock(mu_);
    if (!thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

namespace {

void RunGuarded(const std::function<void()>& work) {
  try {
    work();
  } catch (const std::exception& e) {
    log::Error("runtime", std::string("posted work threw: ") + e.what());
  } catch (...) {
    log::Error("runtime", "posted work threw a non-standard exception");
  }
}

}  // namespace

void EventLoop::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (!work_.empty()) {
      std::function<void()> work = std::move(work_.front());
      work_.pop_front();
      lock.unlock();
      RunGuarded(work);
      lock.lock();
      continue;
    }
    if (stopping_) break;  // work drained: timers are dropped
    if (!timers_.empty()) {
      auto first = timers_.begin();
      const Duration left = first->first.first - clock_.Now();
      if (left.count() <= 0) {
        const Timer timer = first->second;
        const uint64_t tag = timer.tag;
        timer_times_.erase(first->first.second);
        timers_.erase(first);
        lock.unlock();
        RunGuarded([&] { timer.target->OnTimer(tag); });
        lock.lock();
        continue;
      }
      wake_.wait_for(lock, left);
      continue;
    }
    wake_.wait(lock);
  }
  timers_.clear();
  timer_times_.clear();
}

}  // namespace parley::runtime
