#pragma once
// WebhookDispatcher: signed POSTs of journal events to the subscribed URLs, through the durable
// outbox (ports::WebhookOutbox), with retries, exponential backoff with jitter, and dead letters.
//
// Ownership and threads: the dispatcher owns one worker thread (Start/Stop); the outbox, poster
// and clock are borrowed and must outlive it. Offer may be called from any thread (the engine's
// core loop included): it only queues the event in memory under a short lock, never touching the
// outbox or the network. The worker writes each offered event to the outbox (one delivery per
// matching subscription), claims due deliveries, posts them one at a time and records the
// outcome. Time comes only from the injected Clock and jitter from the injected Random, so tests
// drive retries with a virtual clock and Wake(); the worker's own idle wait is real time, bounded
// by `idle_poll`, and only decides when it looks again.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/random.h"
#include "base/status.h"
#include "base/time.h"
#include "ports/webhook_outbox.h"
#include "webhook/http_client.h"

namespace parley::webhook {

// One subscription, from the configuration's WebhookDef with its secret resolved (the
// composition root reads the environment variable `secret_env` names).
struct WebhookSubscription {
  std::string name;
  std::string url;
  std::vector<std::string> events;  // event type names (EventTypeName); empty = every type
  std::string secret;
  bool operator==(const WebhookSubscription&) const = default;
};

struct DispatcherOptions {
  int32_t max_attempts = 10;              // then the delivery is dead
  Duration initial_backoff = Seconds(5);  // before the second attempt
  Duration max_backoff = Seconds(3600);
  double jitter = 0.2;  // each delay is scaled by a uniform factor in [1-j, 1+j]
  Duration request_timeout = Seconds(10);
  Duration lease = Seconds(120);  // > request_timeout x claim_batch
  size_t claim_batch = 8;
  Duration idle_poll = Seconds(5);     // longest real-time sleep between looks at the outbox
  size_t max_queued_offers = 100'000;  // beyond: dropped and counted
};

// Validates the options (positive durations, jitter in [0, 1), max_attempts >= 1, lease >
// request_timeout) and subscriptions (names unique and not empty, URLs parse).
[[nodiscard]] Status ValidateDispatcher(const std::vector<WebhookSubscription>& subscriptions,
                                        const DispatcherOptions& options);

struct DispatcherCounters {
  uint64_t offered = 0;        // events offered
  uint64_t considered = 0;     // offers the worker has matched against the subscriptions
  uint64_t enqueued = 0;       // deliveries written to the outbox
  uint64_t delivered = 0;      // 2xx received
  uint64_t failed = 0;         // attempts that failed (non-2xx, no response)
  uint64_t retried = 0;        // failed attempts rescheduled
  uint64_t dead = 0;           // deliveries given up
  uint64_t dropped = 0;        // offers lost: queue full, invalid JSON, outbox error
  uint64_t outbox_errors = 0;  // outbox calls that failed (the delivery is retried after its lease)
  bool operator==(const DispatcherCounters&) const = default;
};

// The wait before attempt `attempts + 1` after `attempts` failures (attempts >= 1):
// min(max_backoff, initial_backoff x 2^(attempts-1)) x uniform[1 - jitter, 1 + jitter].
Duration RetryDelay(const DispatcherOptions& options, int32_t attempts, Random& random);

// The JSON body of one delivery: {"seq":N,"type":"...","webhook":"...","event":<event_json>}.
// kInvalidArgument if event_json is not JSON.
[[nodiscard]] Result<std::string> DeliveryBody(const std::string& event_json,
                                               const std::string& type, uint64_t seq,
                                               const std::string& webhook);

class WebhookDispatcher {
 public:
  // CHECK-fails unless ValidateDispatcher(subscriptions, options) is ok.
  WebhookDispatcher(std::vector<WebhookSubscription> subscriptions, ports::WebhookOutbox& outbox,
                    HttpPoster& poster, const Clock& clock, Random random,
                    DispatcherOptions options);
  ~WebhookDispatcher();  // Stop()
  WebhookDispatcher(const WebhookDispatcher&) = delete;
  WebhookDispatcher& operator=(const WebhookDispatcher&) = delete;

  // Starts the worker. Deliveries left pending by an earlier run are sent once their lease ends.
  void Start();
  // Finishes the attempt in progress, writes queued offers to the outbox, and joins the worker.
  void Stop();

  // Queues one journal event for the subscriptions whose types include `type`. Never blocks on
  // I/O. `seq` is the journal sequence: offering the same seq again sends nothing new.
  void Offer(std::string event_json, std::string type, uint64_t seq);
  // Whether a subscription takes events of `type` (any thread): the engine renders and offers
  // only those.
  bool Wants(std::string_view type) const;
  // Makes the worker look at the outbox now (after a virtual clock moved, or an operator retried
  // a dead letter).
  void Wake();
  // Replaces the subscriptions (configuration reload). Deliveries already in the outbox keep
  // their URL; a delivery whose subscription is gone is dead at its next attempt.
  void SetSubscriptions(std::vector<WebhookSubscription> subscriptions);

  DispatcherCounters counters() const;
  // Waits (real time, at most `timeout`) until `done(counters())` holds; returns whether it did.
  bool WaitFor(const std::function<bool(const DispatcherCounters&)>& done,
               std::chrono::milliseconds timeout) const;

 private:
  struct PendingOffer {
    std::string event_json;
    std::string type;
    uint64_t seq = 0;
  };

  void Run();
  // True when at least one delivery went into the outbox.
  bool EnqueueOffers(std::deque<PendingOffer>& offers);
  // Claims and attempts the due deliveries; returns when none is due.
  void DeliverDue();
  void Attempt(const ports::WebhookDelivery& delivery);
  void Count(uint64_t DispatcherCounters::*counter);
  void Record(const Status& outbox_result);

  ports::WebhookOutbox& outbox_;
  HttpPoster& poster_;
  const Clock& clock_;
  const DispatcherOptions options_;
  Random random_;  // worker thread only

  mutable std::mutex mu_;
  std::condition_variable wake_cv_;
  mutable std::condition_variable counters_cv_;
  std::vector<WebhookSubscription> subscriptions_;  // GUARDED_BY(mu_)
  std::deque<PendingOffer> offers_;                 // GUARDED_BY(mu_)
  bool wake_ = false;                               // GUARDED_BY(mu_)
  bool stopping_ = false;                           // GUARDED_BY(mu_)
  TimePoint next_due_ = TimePoint::max();           // GUARDED_BY(mu_); worker's earliest retry
  DispatcherCounters counters_;                     // GUARDED_BY(mu_)
  std::thread worker_;
};

}  // namespace parley::webhook
