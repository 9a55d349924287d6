#pragma once
// HttpLookupClient: the contact flows' HTTP client (ports::HttpLookup) in `parley serve`. A flow's
// `lookup` step (docs/flows.md) becomes one GET (its `send` attributes as URL-encoded query
// parameters) or POST (a JSON object of them) through BeastHttpPoster, off the engine's thread,
// with the step's timeout and a cap on the response body.
//
// Ownership and threads: the client owns `LookupOptions::workers` worker threads (started by the
// constructor, joined by Stop). Send and Cancel may be called from any thread (the engine's core
// loop calls them) and never block on the network: Send queues the request under a short lock.
// A worker takes one request at a time and performs it; beyond `workers` requests in flight up to
// `max_queued` wait, and more fail at once ("too many lookups in progress"), so a slow server
// holds at most the workers, never the engine. Each request's answer goes to the sink, on a
// worker thread (or, for a request refused at once, on the thread that called Send), with the
// client's lock held: the sink must be quick (the engine's posts to its loop) and must not call
// back into the client.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/time.h"
#include "domain/contact.h"
#include "domain/ids.h"
#include "ports/contact_center.h"
#include "ports/flow_ports.h"
#include "webhook/http_client.h"

namespace parley::webhook {

struct LookupOptions {
  size_t workers = 8;                      // requests in flight at once
  size_t max_queued = 256;                 // requests waiting for a worker; more fail at once
  size_t max_response_bytes = 256 * 1024;  // a longer body fails ("response too large")
  Duration default_timeout = Seconds(5);   // for a request whose timeout is 0
  TlsOptions tls;                          // extra trusted CAs for https://
};

// The answer to one Send. `answered`: a 2xx response, whose status and body (JSON, as received)
// are here; otherwise `reason` says why there is none ("HTTP 503", "timed out after 5s",
// "connect: Connection refused", "response too large (over 262144 bytes)", ...).
struct LookupResult {
  uint64_t request_id = 0;
  bool answered = false;
  int http_status = 0;
  std::string body;
  std::string reason;
};
using LookupSink = std::function<void(ContactId contact, LookupResult result)>;

// How requests ended, since the client started.
struct LookupCounters {
  uint64_t ok = 0;          // a 2xx response within the limits
  uint64_t http_error = 0;  // a response with another status
  uint64_t timeout = 0;     // no answer in time (also: cancelled by the flow at its timeout)
  uint64_t failed = 0;      // no response otherwise: the failures below
  uint64_t cancelled = 0;   // the flow stopped waiting before the timeout (the contact left)
  // `failed`, by reason.
  uint64_t bad_url = 0;     // not an http:// or https:// URL
  uint64_t resolve = 0;     // the host name did not resolve
  uint64_t connect = 0;     // refused or unreachable
  uint64_t tls = 0;         // TLS handshake or certificate verification
  uint64_t transfer = 0;    // the connection broke, or a malformed response
  uint64_t too_large = 0;   // the response body was over max_response_bytes
  uint64_t overloaded = 0;  // refused at once: workers busy and the queue full
  uint64_t stopped = 0;     // sent after Stop
  uint64_t in_flight = 0;   // now: requests a worker is performing
  uint64_t queued = 0;      // now: requests waiting for a worker
  bool operator==(const LookupCounters&) const = default;
};

// The query string of a GET: each field as name=value, percent-encoded (RFC 3986: every byte but
// A-Z a-z 0-9 - . _ ~), joined by '&'. "" for no fields.
std::string EncodeQuery(const Attributes& fields);
// The body of a POST: a JSON object of the fields as strings (invalid UTF-8 replaced by U+FFFD; of
// repeated names the last wins).
std::string EncodeJsonObject(const Attributes& fields);
// The webhook::HttpRequest for one lookup: the URL with the query appended (GET), or the JSON
// body and its Content-Type (POST); Accept: application/json either way.
HttpRequest LookupHttpRequest(const ports::HttpRequest& request);

class HttpLookupClient final : public ports::HttpLookup {
 public:
  // Starts the workers. `sink` gets every answer (see above).
  HttpLookupClient(LookupSink sink, LookupOptions options = {});
  ~HttpLookupClient() override;  // Stop()
  HttpLookupClient(const HttpLookupClient&) = delete;
  HttpLookupClient& operator=(const HttpLookupClient&) = delete;

  // kInternal if `options.tls.extra_ca_pem` did not parse (https:// lookups then fail).
  Status tls_status() const { return poster_.tls_status(); }

  // ports::HttpLookup. Send queues the request; its answer follows through the sink (exactly
  // one, unless cancelled). Cancel drops a queued request and stops one in flight (its
  // connection is closed); once Cancel returns no answer for it reaches the sink. Requests are
  // named by (contact, request_id).
  void Send(ContactId contact, const ports::HttpRequest& request) override;
  void Cancel(ContactId contact, uint64_t request_id) override;

  // Drops the queued requests and stops those in flight without answering them, and joins the
  // workers: once it returns, no answer to a request sent before reaches the sink. A later Send
  // is answered at once, on its caller's thread ("lookups stopped"). Idempotent; not from a sink.
  void Stop();

  LookupCounters counters() const;
  // The counters as /metrics families: parley_lookups_total{outcome},
  // parley_lookup_failures_total{reason}, parley_lookups_in_flight, parley_lookups_queued.
  std::vector<ports::MetricFamily> MetricFamilies() const;

 private:
  using Key = std::pair<uint64_t, uint64_t>;  // contact, request id
  struct Job {
    ContactId contact;
    uint64_t request_id = 0;
    HttpRequest http;
    std::string host;  // for the log: the URL's host only (its path or query may hold secrets)
    Duration timeout{0};
    std::chrono::steady_clock::time_point sent_at;
    std::chrono::steady_clock::time_point deadline;
    HttpCancel cancel;
  };
  enum class Outcome { kOk, kHttpError, kTimeout, kFailed, kCancelled };

  void Run();
  void Perform(const std::shared_ptr<Job>& job);
  // Counts, logs a failure, and delivers unless the job was cancelled. Called with mu_ held.
  void Finish(const Job& job, LookupResult result, Outcome outcome,
              uint64_t LookupCounters::*reason);
  void CountLocked(Outcome outcome, uint64_t LookupCounters::*reason);

  const LookupOptions options_;
  const LookupSink sink_;
  BeastHttpPoster poster_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;
  std::deque<std::shared_ptr<Job>> queue_;    // GUARDED_BY(mu_)
  std::map<Key, std::shared_ptr<Job>> jobs_;  // GUARDED_BY(mu_): queued and in flight
  LookupCounters counters_;                   // GUARDED_BY(mu_)
  bool stopping_ = false;                     // GUARDED_BY(mu_)
  std::mutex stop_mu_;                        // serialises Stop() callers
  std::vector<std::thread> workers_;
};

}  // namespace parley::webhook
