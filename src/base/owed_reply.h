#pragma once
// A reply that is owed even when the work that would give it never runs. An adapter that queues
// work for its own thread (the SIP server's Post) drops the queue when it stops; a caller waiting
// on the work's callback (an API request behind the engine) would then wait for ever. Wrapped
// with OweReply, the callback answers `if_dropped` when its last copy is destroyed uncalled, and
// it answers at most once. The answer comes on whichever thread destroys the last copy, so the
// callback must be safe to call from any thread (the engine's executor-posting callbacks are).

#include <functional>
#include <memory>
#include <utility>

#include "base/status.h"

namespace parley {

inline std::function<void(Status)> OweReply(std::function<void(Status)> done, Status if_dropped) {
  if (!done) return done;
  struct Owed {
    std::function<void(Status)> done;
    Status if_dropped;
    ~Owed() {
      if (done) done(std::move(if_dropped));
    }
  };
  // Shared, never copied: the last copy of the callback destroys it.
  auto owed = std::shared_ptr<Owed>(new Owed{std::move(done), std::move(if_dropped)});
  return [owed = std::move(owed)](Status s) {
    if (auto d = std::exchange(owed->done, nullptr)) d(std::move(s));
  };
}

}  // namespace parley
