#include "webhook/dispatcher.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "base/check.h"
#include "base/thread_name.h"
#include "webhook/signature.h"

namespace parley::webhook {

Status ValidateDispatcher(const std::vector<WebhookSubscription>& subscriptions,
                          const DispatcherOptions& options) {
  if (options.max_attempts < 1) return InvalidArgument("max_attempts: must be at least 1");
  if (options.initial_backoff <= Duration(0) || options.max_backoff < options.initial_backoff) {
    return InvalidArgument("initial_backoff: must be positive and at most max_backoff");
  }
  if (!(options.jitter >= 0 && options.jitter < 1)) {
    return InvalidArgument("jitter: must be in [0, 1)");
  }
  if (options.request_timeout <= Duration(0) || options.lease <= options.request_timeout) {
    return InvalidArgument("lease: must be longer than request_timeout, which must be positive");
  }
  if (options.claim_batch == 0 || options.idle_poll <= Duration(0)) {
    return InvalidArgument("claim_batch and idle_poll: must be positive");
  }
  std::set<std::string> names;
  for (const auto& s : subscriptions) {
    if (s.name.empty()) return InvalidArgument("webhook: name must not be empty");
    if (!names.insert(s.name).second) {
      return InvalidArgument("webhook " + s.name + ": name used twice");
    }
    if (auto url = ParseHttpUrl(s.url); !url.ok()) {
      return InvalidArgument("webhook " + s.name + ": " + url.status().message());
    }
  }
  return Status::Ok();
}

Duration RetryDelay(const DispatcherOptions& options, int32_t attempts, Random& random) {
  double delay = static_cast<double>(options.initial_backoff.count());
  const double cap = static_cast<double>(options.max_backoff.count());
  for (int32_t i = 1; i < attempts && delay < cap; ++i) delay *= 2;
  delay = std::min(delay, cap);
  const double factor = 1.0 - options.jitter + 2.0 * options.jitter * random.Uniform();
  return Duration(static_cast<int64_t>(delay * factor));
}

Result<std::string> DeliveryBody(const std::string& event_json, const std::string& type,
                                 uint64_t seq, const std::string& webhook) {
  auto event = nlohmann::ordered_json::parse(event_json, nullptr, /*allow_exceptions=*/false);
  if (event.is_discarded()) {
    return InvalidArgument("event " + std::to_string(seq) + ": not valid JSON");
  }
  nlohmann::ordered_json body;
  body["seq"] = seq;
  body["type"] = type;
  body["webhook"] = webhook;
  body["event"] = std::move(event);
  return body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

WebhookDispatcher::WebhookDispatcher(std::vector<WebhookSubscription> subscriptions,
                                     ports::WebhookOutbox& outbox, HttpPoster& poster,
                                     const Clock& clock, Random random, DispatcherOptions options)
    : outbox_(outbox),
      poster_(poster),
      clock_(clock),
      options_(std::move(options)),
      random_(std::move(random)),
      subscriptions_(std::move(subscriptions)) {
  const Status valid = ValidateDispatcher(subscriptions_, options_);
  PARLEY_CHECK(valid.ok());
}

WebhookDispatcher::~WebhookDispatcher() { Stop(); }

void WebhookDispatcher::Start() {
  std::lock_guard lock(mu_);
  if (worker_.joinable()) return;
  stopping_ = false;
  worker_ = std::thread([this] {
    NameThisThread("webhooks");
    ScheduleThisThreadAsBatch();
    Run();
  });
}

void WebhookDispatcher::Stop() {
  {
    std::lock_guard lock(mu_);
    if (!worker_.joinable()) return;
    stopping_ = true;
  }
  wake_cv_.notify_all();
  worker_.join();
  worker_ = std::thread();
}

void WebhookDispatcher::Offer(std::string event_json, std::string type, uint64_t seq) {
  {
    std::lock_guard lock(mu_);
    ++counters_.offered;
    if (subscriptions_.empty()) {
      // Nothing to deliver, nothing to wake the worker for (a webhook configured later gets the
      // events from then on, as it would if it had been offered and matched nothing).
      ++counters_.considered;
      counters_cv_.notify_all();
      return;
    }
    if (offers_.size() >= options_.max_queued_offers) {
      ++counters_.dropped;
      counters_cv_.notify_all();
      return;
    }
    offers_.push_back({std::move(event_json), std::move(type), seq});
  }
  wake_cv_.notify_one();
}

bool WebhookDispatcher::Wants(std::string_view type) const {
  std::lock_guard lock(mu_);
  return std::any_of(subscriptions_.begin(), subscriptions_.end(),
                     [type](const WebhookSubscription& s) {
                       return s.events.empty() ||
                              std::find(s.events.begin(), s.events.end(), type) != s.events.end();
                     });
}

void WebhookDispatcher::Wake() {
  {
    std::lock_guard lock(mu_);
    wake_ = true;
  }
  wake_cv_.notify_one();
}

void WebhookDispatcher::SetSubscriptions(std::vector<WebhookSubscription> subscriptions) {
  const Status valid = ValidateDispatcher(subscriptions, options_);
  PARLEY_CHECK(valid.ok());
  std::lock_guard lock(mu_);
  subscriptions_ = std::move(subscriptions);
}

DispatcherCounters WebhookDispatcher::counters() const {
  std::lock_guard lock(mu_);
  return counters_;
}

bool WebhookDispatcher::WaitFor(const std::function<bool(const DispatcherCounters&)>& done,
                                std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return counters_cv_.wait_for(lock, timeout, [&] { return done(counters_); });
}

void WebhookDispatcher::Count(uint64_t DispatcherCounters::*counter) {
  {
    std::lock_guard lock(mu_);
    ++(counters_.*counter);
  }
  counters_cv_.notify_all();
}

void WebhookDispatcher::Record(const Status& outbox_result) {
  if (!outbox_result.ok()) Count(&DispatcherCounters::outbox_errors);
}

void WebhookDispatcher::Run() {
  std::unique_lock lock(mu_);
  // The outbox is read when something may be due: at the first turn (what a previous run left),
  // after a Wake(), when offers became deliveries, at a retry's time, and at each idle poll.
  // Events no webhook subscribes to do not read it (that was a store query per engine step).
  bool poll = true;
  for (;;) {
    std::deque<PendingOffer> offers;
    offers.swap(offers_);
    const bool woken = wake_;
    wake_ = false;
    const bool stopping = stopping_;
    const TimePoint next_due = next_due_;
    lock.unlock();
    const bool enqueued = EnqueueOffers(offers);
    if (!stopping && (poll || woken || enqueued || next_due <= clock_.Now())) DeliverDue();
    poll = false;
    lock.lock();
    if (stopping_) {
      if (offers_.empty() && stopping) return;
      continue;  // one more turn writes the offers that came meanwhile
    }
    if (wake_ || !offers_.empty()) continue;
    // Sleep until the earliest retry this worker scheduled, at most idle_poll. The clock may be
    // virtual: the wait is only a hint, and Wake() cuts it short.
    Duration wait = options_.idle_poll;
    if (next_due_ != TimePoint::max()) {
      wait = std::clamp<Duration>(next_due_ - clock_.Now(), Duration(0), options_.idle_poll);
    }
    poll = !wake_cv_.wait_for(lock, wait, [&] { return stopping_ || wake_ || !offers_.empty(); });
  }
}

bool WebhookDispatcher::EnqueueOffers(std::deque<PendingOffer>& offers) {
  bool enqueued = false;
  if (offers.empty()) return enqueued;
  std::vector<WebhookSubscription> subscriptions;
  {
    std::lock_guard lock(mu_);
    subscriptions = subscriptions_;
  }
  for (const PendingOffer& offer : offers) {
    for (const WebhookSubscription& s : subscriptions) {
      if (!s.events.empty() &&
          std::find(s.events.begin(), s.events.end(), offer.type) == s.events.end()) {
        continue;
      }
      auto body = DeliveryBody(offer.event_json, offer.type, offer.seq, s.name);
      if (!body.ok()) {
        Count(&DispatcherCounters::dropped);
        break;  // the same JSON fails for every subscription
      }
      const TimePoint now = clock_.Now();
      auto id = outbox_.EnqueueDelivery({.webhook = s.name,
                                         .url = s.url,
                                         .event_seq = offer.seq,
                                         .body = std::move(body).value(),
                                         .created = now,
                                         .next_attempt = now});
      if (id.ok()) {
        enqueued = true;
        Count(&DispatcherCounters::enqueued);
      } else if (id.status().code() != StatusCode::kConflict) {  // kConflict: offered before
        Count(&DispatcherCounters::dropped);
        Record(id.status());
      }
    }
  }
  {
    std::lock_guard lock(mu_);
    counters_.considered += offers.size();
  }
  counters_cv_.notify_all();
  return enqueued;
}

void WebhookDispatcher::DeliverDue() {
  for (;;) {
    const TimePoint now = clock_.Now();
    auto due = outbox_.ClaimDueDeliveries(now, now + options_.lease, options_.claim_batch);
    if (!due.ok()) Record(due.status());
    if (!due.ok() || due->empty()) {
      std::lock_guard lock(mu_);
      if (next_due_ <= now) next_due_ = TimePoint::max();
      return;
    }
    for (size_t i = 0; i < due->size(); ++i) {
      bool stopping = false;
      {
        std::lock_guard lock(mu_);
        stopping = stopping_;
      }
      if (stopping) {
        // Hand the rest back rather than leave them leased until the next run's lease expiry.
        for (size_t j = i; j < due->size(); ++j) {
          const auto& d = (*due)[j];
          Record(outbox_.RescheduleDelivery(d.id, d.attempts, clock_.Now(), d.last_error));
        }
        return;
      }
      Attempt((*due)[i]);
    }
  }
}

void WebhookDispatcher::Attempt(const ports::WebhookDelivery& delivery) {
  std::optional<WebhookSubscription> subscription;
  {
    std::lock_guard lock(mu_);
    for (const auto& s : subscriptions_) {
      if (s.name == delivery.webhook) subscription = s;
    }
  }
  if (!subscription) {
    Record(outbox_.MarkDeliveryDead(delivery.id, delivery.attempts, clock_.Now(),
                                    "webhook " + delivery.webhook + " is no longer configured"));
    Count(&DispatcherCounters::dead);
    return;
  }
  const int32_t attempts = delivery.attempts + 1;
  const TimePoint now = clock_.Now();
  HttpRequest request;
  request.url = delivery.url;
  request.body = delivery.body;
  request.headers = {
      {"Content-Type", "application/json"},
      {std::string(kSignatureHeader), SignatureHeaderValue(subscription->secret, delivery.body)},
      {std::string(kTimestampHeader),
       std::to_string(std::chrono::floor<std::chrono::seconds>(now).time_since_epoch().count())},
      {std::string(kDeliveryHeader), std::to_string(delivery.id)},
  };
  const Result<int> response = poster_.Post(request, options_.request_timeout);
  const TimePoint after = clock_.Now();
  if (response.ok() && *response >= 200 && *response < 300) {
    Record(outbox_.MarkDelivered(delivery.id, attempts, after));
    Count(&DispatcherCounters::delivered);
    return;
  }
  const std::string error =
      response.ok() ? "HTTP " + std::to_string(*response) : response.status().message();
  if (attempts >= options_.max_attempts) {
    Record(outbox_.MarkDeliveryDead(delivery.id, attempts, after, error));
    std::lock_guard lock(mu_);
    ++counters_.failed;
    ++counters_.dead;
  } else {
    const TimePoint next = after + RetryDelay(options_, attempts, random_);
    Record(outbox_.RescheduleDelivery(delivery.id, attempts, next, error));
    std::lock_guard lock(mu_);
    next_due_ = std::min(next_due_, next);
    ++counters_.failed;
    ++counters_.retried;
  }
  counters_cv_.notify_all();
}

}  // namespace parley::webhook
