#include "webhook/lookup_client.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/log.h"

namespace parley::webhook {

namespace {

using SteadyClock = std::chrono::steady_clock;

// A flow that gives up at its timeout cancels the request at about the time the client's own
// deadline would pass (the engine's timer and the client's are started in the same step): such a
// cancellation counts as a timeout.
constexpr Duration kTimeoutSlack = std::chrono::milliseconds(100);

std::string DurationText(Duration d) {
  if (d.count() % 1'000'000 == 0) return fmt::format("{}s", d.count() / 1'000'000);
  return fmt::format("{}ms", (d.count() + 999) / 1000);
}

bool Unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

void PercentEncode(const std::string& text, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (Unreserved(c)) {
      out->push_back(ch);
    } else {
      out->push_back('%');
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    }
  }
}

const char* OutcomeName(int outcome) {
  static constexpr const char* kNames[] = {"ok", "http_error", "timeout", "failed", "cancelled"};
  return kNames[outcome];
}

}  // namespace

std::string EncodeQuery(const Attributes& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out.push_back('&');
    PercentEncode(name, &out);
    out.push_back('=');
    PercentEncode(value, &out);
  }
  return out;
}

std::string EncodeJsonObject(const Attributes& fields) {
  nlohmann::json object = nlohmann::json::object();
  for (const auto& [name, value] : fields) object[name] = value;
  return object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

HttpRequest LookupHttpRequest(const ports::HttpRequest& request) {
  HttpRequest out;
  out.method = request.method == "POST" ? "POST" : "GET";
  out.url = request.url.substr(0, request.url.find('#'));
  out.headers.emplace_back("Accept", "application/json");
  if (out.method == "POST") {
    out.headers.emplace_back("Content-Type", "application/json");
    out.body = EncodeJsonObject(request.fields);
  } else if (!request.fields.empty()) {
    const size_t query = out.url.find('?');
    if (query == std::string::npos) {
      out.url.push_back('?');
    } else if (query + 1 < out.url.size() && out.url.back() != '&') {
      out.url.push_back('&');
    }
    out.url += EncodeQuery(request.fields);
  }
  return out;
}

HttpLookupClient::HttpLookupClient(LookupSink sink, LookupOptions options)
    : options_(std::move(options)), sink_(std::move(sink)), poster_(options_.tls) {
  const size_t n = std::max<size_t>(1, options_.workers);
  workers_.reserve(n);
  for (size_t i = 0; i < n; ++i) workers_.emplace_back([this] { Run(); });
}

HttpLookupClient::~HttpLookupClient() { Stop(); }

void HttpLookupClient::Send(ContactId contact, const ports::HttpRequest& request) {
  auto job = std::make_shared<Job>();
  job->contact = contact;
  job->request_id = request.request_id;
  job->timeout = request.timeout > Duration{0} ? request.timeout : options_.default_timeout;
  job->sent_at = SteadyClock::now();
  job->deadline = job->sent_at + job->timeout;
  auto url = ParseHttpUrl(request.url);
  if (url.ok()) job->host = url->host;
  job->http = LookupHttpRequest(request);

  LookupResult refused{.request_id = request.request_id};
  uint64_t LookupCounters::*reason = nullptr;
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      refused.reason = "lookups stopped";
      reason = &LookupCounters::stopped;
    } else if (!url.ok() || (request.method != "GET" && request.method != "POST")) {
      if (url.ok()) {
        refused.reason = "method must be GET or POST, got '" + request.method + "'";
      } else {  // ParseHttpUrl's message never repeats the URL, which may carry a key
        refused.reason = "bad url: " + url.status().message();
      }
      reason = &LookupCounters::bad_url;
    } else if (queue_.size() >= options_.max_queued) {
      refused.reason = fmt::format("too many lookups in progress ({} running, {} waiting)",
                                   counters_.in_flight, queue_.size());
      reason = &LookupCounters::overloaded;
    } else {
      const Key key{contact.value(), request.request_id};
      if (auto old = jobs_.find(key); old != jobs_.end()) {  // a session never reuses an id
        old->second->cancel.Cancel();
        std::erase(queue_, old->second);
        jobs_.erase(old);
      }
      jobs_.emplace(key, job);
      queue_.push_back(job);
      counters_.queued = queue_.size();
      work_cv_.notify_one();
      return;
    }
    CountLocked(Outcome::kFailed, reason);
    if (sink_) sink_(contact, refused);
  }
  log::Warn("lookup", "lookup failed: " + refused.reason,
            {{"contact", contact.value()}, {"host", job->host}, {"outcome", "failed"}});
}

void HttpLookupClient::Cancel(ContactId contact, uint64_t request_id) {
  std::shared_ptr<Job> job;
  Outcome outcome = Outcome::kCancelled;
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(Key{contact.value(), request_id});
    if (it == jobs_.end()) return;  // answered already, or never sent
    job = it->second;
    jobs_.erase(it);
    if (std::erase(queue_, job) > 0) counters_.queued = queue_.size();
    job->cancel.Cancel();  // a worker performing it stops; it finds the job gone and is silent
    const Duration waited = std::chrono::duration_cast<Duration>(SteadyClock::now() - job->sent_at);
    if (waited + kTimeoutSlack >= job->timeout) outcome = Outcome::kTimeout;
    CountLocked(outcome, nullptr);
  }
  if (outcome == Outcome::kTimeout) {
    log::Warn("lookup", "lookup failed: timed out after " + DurationText(job->timeout),
              {{"contact", contact.value()}, {"host", job->host}, {"outcome", "timeout"}});
  }
}

void HttpLookupClient::Stop() {
  std::lock_guard stop_lock(stop_mu_);
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (auto& [key, job] : jobs_) job->cancel.Cancel();
    jobs_.clear();
    queue_.clear();
    counters_.queued = 0;
  }
  work_cv_.notify_all();
  for (auto& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
}

void HttpLookupClient::Run() {
  for (;;) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      counters_.queued = queue_.size();
      ++counters_.in_flight;
    }
    Perform(job);
  }
}

void HttpLookupClient::Perform(const std::shared_ptr<Job>& job) {
  HttpExchange x;
  const auto now = SteadyClock::now();
  if (now >= job->deadline) {
    x.failure = HttpFailure::kTimeout;
    x.stage = "queue";
  } else {
    x = poster_.Exchange(
        job->http, std::chrono::duration_cast<Duration>(job->deadline - now),
        ExchangeOptions{.max_body_bytes = options_.max_response_bytes, .cancel = &job->cancel});
  }

  LookupResult result{.request_id = job->request_id};
  Outcome outcome = Outcome::kFailed;
  uint64_t LookupCounters::*reason = nullptr;
  switch (x.failure) {
    case HttpFailure::kNone:
      result.http_status = x.status;
      if (x.status >= 200 && x.status <= 299) {
        result.answered = true;
        result.body = std::move(x.body);
        outcome = Outcome::kOk;
      } else {
        result.reason = fmt::format("HTTP {}", x.status);
        outcome = Outcome::kHttpError;
      }
      break;
    case HttpFailure::kTimeout:
      result.reason = "timed out after " + DurationText(job->timeout) +
                      (x.stage == "queue" ? " (waiting for a free worker)" : " (" + x.stage + ")");
      outcome = Outcome::kTimeout;
      break;
    case HttpFailure::kTooLarge:
      result.reason =
          fmt::format("response too large (over {} bytes)", options_.max_response_bytes);
      reason = &LookupCounters::too_large;
      break;
    case HttpFailure::kBadUrl:
      result.reason = x.error;
      reason = &LookupCounters::bad_url;
      break;
    case HttpFailure::kResolve:
      result.reason = x.Describe();
      reason = &LookupCounters::resolve;
      break;
    case HttpFailure::kConnect:
      result.reason = x.Describe();
      reason = &LookupCounters::connect;
      break;
    case HttpFailure::kTls:
      result.reason = x.Describe();
      reason = &LookupCounters::tls;
      break;
    case HttpFailure::kTransfer:
      result.reason = x.Describe();
      reason = &LookupCounters::transfer;
      break;
    case HttpFailure::kCancelled:
      outcome = Outcome::kCancelled;  // counted by Cancel or dropped by Stop
      break;
  }

  bool delivered = false;
  {
    std::lock_guard lock(mu_);
    --counters_.in_flight;
    auto it = jobs_.find(Key{job->contact.value(), job->request_id});
    if (it != jobs_.end() && it->second == job && outcome != Outcome::kCancelled) {
      jobs_.erase(it);
      CountLocked(outcome, reason);
      if (sink_) sink_(job->contact, result);
      delivered = true;
    }
  }
  if (delivered && outcome != Outcome::kOk) {
    log::Warn("lookup", "lookup failed: " + result.reason,
              {{"contact", job->contact.value()},
               {"host", job->host},
               {"outcome", OutcomeName(static_cast<int>(outcome))}});
  }
}

void HttpLookupClient::CountLocked(Outcome outcome, uint64_t LookupCounters::*reason) {
  switch (outcome) {
    case Outcome::kOk:
      ++counters_.ok;
      break;
    case Outcome::kHttpError:
      ++counters_.http_error;
      break;
    case Outcome::kTimeout:
      ++counters_.timeout;
      break;
    case Outcome::kFailed:
      ++counters_.failed;
      break;
    case Outcome::kCancelled:
      ++counters_.cancelled;
      break;
  }
  if (reason != nullptr) ++(counters_.*reason);
}

LookupCounters HttpLookupClient::counters() const {
  std::lock_guard lock(mu_);
  return counters_;
}

std::vector<ports::MetricFamily> HttpLookupClient::MetricFamilies() const {
  const LookupCounters c = counters();
  std::vector<ports::MetricFamily> out;
  out.push_back({"parley_lookups_total",
                 "counter",
                 "Contact-flow HTTP lookups, by outcome.",
                 {{"outcome=\"ok\"", c.ok},
                  {"outcome=\"http_error\"", c.http_error},
                  {"outcome=\"timeout\"", c.timeout},
                  {"outcome=\"failed\"", c.failed},
                  {"outcome=\"cancelled\"", c.cancelled}}});
  out.push_back({"parley_lookup_failures_total",
                 "counter",
                 "Lookups that got no response (outcome failed), by reason.",
                 {{"reason=\"bad_url\"", c.bad_url},
                  {"reason=\"resolve\"", c.resolve},
                  {"reason=\"connect\"", c.connect},
                  {"reason=\"tls\"", c.tls},
                  {"reason=\"transfer\"", c.transfer},
                  {"reason=\"too_large\"", c.too_large},
                  {"reason=\"overloaded\"", c.overloaded},
                  {"reason=\"stopped\"", c.stopped}}});
  out.push_back(
      {"parley_lookups_in_flight", "gauge", "Lookups being performed now.", {{"", c.in_flight}}});
  out.push_back({"parley_lookups_queued",
                 "gauge",
                 "Lookups waiting for a free worker now.",
                 {{"", c.queued}}});
  return out;
}

}  // namespace parley::webhook
