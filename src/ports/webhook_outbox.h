#pragma once
// Outbound port of src/webhook: the durable outbox of webhook deliveries. The dispatcher enqueues
// one delivery per (subscription, event), claims the due ones, and marks each delivered,
// rescheduled (with its attempt count and next time) or dead; dead letters stay listable and can
// be retried by an operator. Implemented by src/store (SqliteStore, MemoryStore); both pass
// src/store/webhook_outbox_conformance.h.
//
// Contract: thread-safe; every call may block on I/O (call it from an adapter thread, never from
// the core loop); nothing throws. Times are given by the caller. Claiming is a lease: a claimed
// delivery is not due again until `lease_until`, so one that was being sent when the process died
// is sent again after the lease (at-least-once; receivers deduplicate by delivery id).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/time.h"

namespace parley::ports {

enum class DeliveryState : uint8_t {
  kPending,    // waiting for its next attempt (or being attempted under a lease)
  kDelivered,  // the receiver answered 2xx
  kDead,       // gave up; kept until an operator retries or purges it
};

struct WebhookDelivery {
  uint64_t id = 0;         // given by the outbox, > 0; the X-Parley-Delivery header
  std::string webhook;     // subscription name
  std::string url;         // where to POST, fixed at enqueue time
  uint64_t event_seq = 0;  // journal sequence of the event
  std::string body;        // the exact bytes to send (and sign)
  DeliveryState state = DeliveryState::kPending;
  int32_t attempts = 0;      // attempts made so far
  TimePoint created{};       // enqueue time
  TimePoint next_attempt{};  // due time (pending); the time it was delivered or given up
  std::string last_error;    // why the last attempt failed ("" if none)
  bool operator==(const WebhookDelivery&) const = default;
};

class WebhookOutbox {
 public:
  virtual ~WebhookOutbox() = default;
  // Stores a pending delivery due at `delivery.next_attempt` (id, state, attempts and last_error
  // are ignored) and returns its id. kConflict if (webhook, event_seq) is already in the outbox,
  // so offering the same event twice sends it once. kInvalidArgument: empty webhook or url.
  virtual Result<uint64_t> EnqueueDelivery(const WebhookDelivery& delivery) = 0;
  // Up to `limit` pending deliveries with next_attempt <= now, earliest first (then by id); each
  // gets next_attempt = lease_until, so no other claim returns it before then.
  virtual Result<std::vector<WebhookDelivery>> ClaimDueDeliveries(TimePoint now,
                                                                  TimePoint lease_until,
                                                                  size_t limit) = 0;
  // kNotFound unless `id` is pending.
  virtual Status MarkDelivered(uint64_t id, int32_t attempts, TimePoint at) = 0;
  virtual Status RescheduleDelivery(uint64_t id, int32_t attempts, TimePoint next_attempt,
                                    const std::string& error) = 0;
  virtual Status MarkDeliveryDead(uint64_t id, int32_t attempts, TimePoint at,
                                  const std::string& error) = 0;
  // Dead letters, oldest first, at most `limit`.
  virtual Result<std::vector<WebhookDelivery>> DeadDeliveries(size_t limit) = 0;
  // Makes a dead delivery pending again, due at `at`, with its attempts reset to 0; kNotFound
  // unless it is dead.
  virtual Status RetryDeadDelivery(uint64_t id, TimePoint at) = 0;
  virtual Result<WebhookDelivery> GetDelivery(uint64_t id) = 0;  // kNotFound
  // Deletes delivered and dead deliveries whose next_attempt (the time they finished) is before
  // `cutoff`, and returns how many. Pending ones are never purged.
  virtual Result<uint64_t> PurgeDeliveries(TimePoint cutoff) = 0;
};
using WebhookOutboxPtr = std::unique_ptr<WebhookOutbox>;

}  // namespace parley::ports
