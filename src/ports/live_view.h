#pragma once
// The live view port: the cheap reads of ports::ContactCenter (GetAgent, ListQueues, GetQueue)
// answered on the caller's own thread from an immutable snapshot the implementation publishes,
// instead of a round trip through its loop. src/engine implements it; src/api calls it from its
// I/O threads.
//
// Threading contract: every method may be called from any thread, concurrently; it returns at
// once and never waits for the implementation's loop (at most a short lock).
//
// What the answers promise, for every implementation:
// - The same answer, scope and refusals (kNotFound, so nothing is enumerated) as the matching
//   ContactCenter query asked at the same moment, `now` being that moment.
// - Read-your-writes: a snapshot at least as new as a command's effect is published before the
//   command's reply is sent (and before its events are published), so a client that got the
//   reply (or saw the event) and then reads, on any connection, sees the change.
// - kUnavailable while nothing has been published yet (before the first durable step): the
//   caller then asks ContactCenter instead.

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "ports/contact_center.h"

namespace parley::ports {

// An agent as ContactCenter::GetAgent answers it, and that answer's JSON text as the publisher
// rendered it ("" when it renders none: the caller renders `view`).
struct LiveAgent {
  AgentSnapshot view;
  std::string json;
};

class LiveView {
 public:
  virtual ~LiveView() = default;

  virtual Result<std::shared_ptr<const LiveAgent>> Agent(const Caller& who,
                                                         const std::string& agent,
                                                         TimePoint now) const = 0;
  virtual Result<QueueSnapshot> Queue(const Caller& who, const std::string& queue,
                                      TimePoint now) const = 0;
  virtual Result<std::vector<QueueSnapshot>> Queues(const Caller& who, TimePoint now) const = 0;
};

}  // namespace parley::ports
