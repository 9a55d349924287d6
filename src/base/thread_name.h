#pragma once

// Names the calling thread as `top -H`, `ps -L` and perf show it (Linux keeps 15 characters),
// and sets the scheduling policy of threads that others hand work to.

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <string>
#include <string_view>

namespace parley {

inline void NameThisThread(std::string_view name) {
  const std::string shortened(name.substr(0, 15));
  pthread_setname_np(pthread_self(), shortened.c_str());
}

// Makes the calling thread SCHED_BATCH (sched(7)): the same share of the CPU and nice value, but
// its wake-ups do not preempt the thread that is running; it runs when that one waits or its
// time slice ends (a millisecond or so). For the threads that others hand work to (the engine's
// loops, the journal writer, the media workers, the webhook worker): otherwise each hand-off
// from the SIP thread switched threads at once, both ways, for one piece of work each time.
// docs/operations.md, "Threads". Best effort: on failure the thread keeps its policy.
inline void ScheduleThisThreadAsBatch() {
  sched_param param{};
  param.sched_priority = 0;
  (void)pthread_setschedparam(pthread_self(), SCHED_BATCH, &param);
}

// Raises the calling thread's nice value to `nice` (setpriority(2) on its thread id): under CPU
// contention it gets a smaller share than the threads at nice 0 (at 10, about a tenth). For work
// that may lag as long as it is done, such as writing recordings that the media threads have
// already buffered. Best effort.
inline void LowerThisThreadsPriority(int nice) {
  (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), nice);
}

}  // namespace parley
